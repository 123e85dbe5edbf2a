/*
 * The backend vtable: the only seam between models and a device.
 *
 * All float/uint32 pointers passed to these ops are backend memory (device
 * memory on CUDA, host memory on the CPU backend), except where a parameter
 * says "host". Matrices are row-major. Ops enqueue work and may return
 * before it finishes (CUDA); only download() and sync() wait.
 *
 * The CPU backend is the numerical reference: every op of another backend is
 * tested against it.
 */
#ifndef GSGD_BACKEND_H
#define GSGD_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "backend/sparse.h"
#include "gsgd.h"

typedef struct gsgd_context gsgd_context;

typedef enum {
    GSGD_LOSS_SQUARED,
    GSGD_LOSS_LOGISTIC,
    GSGD_LOSS_SOFTMAX_CE,
    GSGD_LOSS_HINGE
} gsgdi_loss;

/* How a dataset stores its features X. F32 holds the features as they are;
 * U8 holds ubyte IDX pixels, one byte each, and the feature is
 * GSGD_U8_FEATURE(byte): a quarter of the memory, and bitwise the floats
 * the IDX loader would have produced, so training is the same either way. */
typedef enum { GSGD_XTYPE_F32 = 0, GSGD_XTYPE_U8 = 1 } gsgdi_xtype;

/* The feature a stored byte stands for: the IDX loader's scaling of ubyte
 * pixels to [0, 1]. One expression for the loader, the CPU gather and the
 * CUDA kernels; a correctly rounded division (no fast math anywhere), so
 * every one of them gives the same float. */
#define GSGD_U8_FEATURE(b) ((float)(b) / 255.0f)

/* Bytes per stored feature. */
static inline size_t gsgdi_xtype_size(gsgdi_xtype xt) { return xt == GSGD_XTYPE_U8 ? 1 : 4; }

/* Layer-wise rules (LARS, LAMB) take norms per segment of the flat buffer:
 * each weight matrix and each bias vector. */
#define GSGD_MAX_SEGMENTS 32
/* Layout of an update's work buffer (gsgdi_rule_work_floats floats):
 *   work[0]                   sum of squares of the whole gradient
 *   work[1 + k]               |w|^2 of segment k            (lars, lamb)
 *   work[1 + S + k]           |g|^2 (lars) or |u|^2 (lamb)  (S = n_segments)
 *   work[GSGD_WORK_HEAD + i]  lamb's direction u, n floats (16-byte aligned
 *                             when work is) */
#define GSGD_WORK_HEAD 68

/* One in-place update rule over a flat buffer: the formulas of gsgd.h's
 * gsgd_optim, with every automatic value already resolved. In order, per
 * element i (w = params, g = grads):
 *   1. clip:   g *= min(1, clip_norm / (|grads| + 1e-6))   (clip_norm > 0)
 *   2. the rule's step, weight decay on i < n_decay only
 *   3. prox:   w = sign(w) max(|w| - lr l1, 0)              (l1 > 0, i < n_decay)
 *   4. average: avg += avg_rate (w - avg)                   (average != NULL)
 * The learning rate is read from backend memory (times guard->lr_factor
 * when there is a guard) so a step needs no host sync. */
typedef struct {
    gsgd_optim kind;
    float momentum;     /* momentum, nesterov, rmsprop, lars */
    float weight_decay; /* coupled, or decoupled for AdamW and LAMB */
    float beta1, beta2; /* adam, adamw, lamb */
    float eps;          /* adam, adamw, adagrad, rmsprop, lars, lamb */
    float alpha;        /* rmsprop's smoothing constant */
    float trust_coef;   /* lars's eta */
    float clip_norm;    /* > 0: global-norm clipping */
    float l1;           /* > 0: proximal L1 step on the weights */
    int skip_nonfinite; /* with a guard: a step whose gradient is not finite
                           changes nothing and halves guard->lr_factor */
    size_t n_decay;     /* weights occupy [0, n_decay) */
    int n_segments;     /* lars, lamb: segments [seg[k], seg[k+1]) */
    size_t seg[GSGD_MAX_SEGMENTS + 1];
} gsgdi_update_rule;

/* Device-side health of a run, in backend memory, zeroed but for
 * lr_factor = 1 at the start. The update writes it; the host reads it every
 * CHECK_EVERY steps. */
typedef struct {
    float lr_factor;    /* multiplies every learning rate (halved per skip) */
    uint32_t bad_steps; /* steps whose gradient or result was not finite */
    uint64_t first_bad; /* t of the first of them; 0 = none */
    uint64_t t_base;    /* steps before this epoch, for updates whose t counts
                           within the epoch (t_in_epoch), written by the host */
} gsgdi_guard;

/* Everything one update touches besides the rule. */
typedef struct {
    const float *lr; /* backend memory: this step's learning rate */
    float *params;
    const float *grads;
    size_t n;
    float *state[2];    /* optimizer state, n floats each, zeroed at the
                           start; gsgdi_rule_state_count says how many:
                           momentum/nesterov/lars v; adam/adamw/lamb m, s;
                           adagrad s; rmsprop s and, with momentum, v */
    float *work;        /* backend memory of gsgdi_rule_work_floats floats */
    float *average;     /* averaged parameters, or NULL */
    float avg_rate;     /* 1 / (iterates averaged including this one) */
    uint64_t t;         /* 1-based step: Adam's bias correction, the guard */
    gsgdi_guard *guard; /* backend memory, or NULL: no checks */
    int t_in_epoch;     /* with a guard: t counts within the epoch and the guard
                           records guard->t_base + t, so that a step captured in
                           a CUDA Graph replays right in any epoch; only for
                           rules whose scalars do not depend on t (not the Adam
                           family, no average) */
} gsgdi_update_args;

/* Optimizer state buffers (n floats each) the rule needs: 0, 1 or 2. */
int gsgdi_rule_state_count(const gsgdi_update_rule *rule);
/* Whether the rule's per-step scalars depend on the step number t (the
 * Adam family's bias correction): such steps cannot be recorded once and
 * replayed (gsgdi_update_args.t_in_epoch). */
int gsgdi_rule_uses_t(const gsgdi_update_rule *rule);
/* Floats of scratch an update with this rule needs (norms, LAMB's
 * direction). */
size_t gsgdi_rule_work_floats(const gsgdi_update_rule *rule, size_t n);

/* The gradient of a one-layer model (weights W, d x K row-major, then bias
 * b, K) over rows row_i = perm[start + i] (start + i when perm is NULL),
 * i < B, of a dataset: what gather, the forward GEMM and bias, the loss,
 * and the backward GEMM and column sum compute one after another, fused so
 * that no batch matrix, logits or logit gradients go through memory:
 *   x_i = standardise(feature(X[row_i]))      (as gather)
 *   z_i = x_i W + b                           (as gemm, then bias_act)
 *   acc[0] += sum_i loss(z_i, y[row_i]); acc[1] += correct (classify)
 *   dz_i = grad_scale * dloss/dz_i            (as the loss op)
 *   dW = sum_i x_i^T dz_i, db = sum_i dz_i    (written, not added)
 * Agrees with the composed ops to float rounding (another summation
 * order), not bitwise. */
typedef struct {
    gsgdi_loss kind;
    int classify;
    const void *X; /* n x d values of type xt */
    gsgdi_xtype xt;
    const float *y;
    size_t d, K;
    const uint32_t *perm; /* or NULL */
    size_t start, B;
    const float *mean, *inv_std; /* or NULL: no standardisation */
    const float *W, *b;
    float grad_scale;
    gsgd_precision precision; /* of the two products, as gemm's prec */
    float *dW, *db;
    double *acc;          /* 2 doubles */
    void *scratch;        /* linear_grad_scratch bytes, */
    size_t scratch_bytes; /* that many */
} gsgdi_linear_grad_args;

/* The row-sparse update of one weight matrix W (d rows of K, a view of
 * the flat buffer at offset w_off, every element a weight that decays):
 * the rule's step on the rows of the batch's distinct features only
 * (gsgdi_csr_batch), with their compact gradient gW (n_feat rows of K).
 * Rows absent from the batch are not touched. For plain SGD that is the
 * dense update exactly, once the lazy decay (decay != NULL) has caught the
 * rows up (csr_catch_up before the forward pass, csr_flush at the end);
 * for Adagrad without weight decay it is the dense update; for Adam and
 * AdamW it is PyTorch's SparseAdam (absent rows keep their weights and
 * moments; t is the global step). */
typedef struct {
    const float *lr; /* this step's rate */
    float *W;        /* the matrix's rows */
    float *state[2]; /* the same rows of the optimizer state, or NULL */
    const float *gW; /* n_feat x K */
    const gsgdi_csr_batch *batch;
    size_t K;
    uint64_t t;
    int t_in_epoch;
    gsgdi_guard *guard;
    size_t step;                   /* this step's index in the epoch */
    const gsgdi_lazy_decay *decay; /* plain SGD with weight decay; else NULL */
} gsgdi_rows_update_args;

/* What the bench reports of the machine a context runs on. */
typedef struct {
    char device_name[256]; /* "NVIDIA H100 80GB HBM3", or the CPU backend's "cpu" */
    size_t device_memory;  /* total bytes of the device (RAM on the CPU) */
    char cuda_runtime[32]; /* "12.4", or "" on the CPU backend */
    char cuda_driver[32];
    char blas[256]; /* OpenBLAS's configuration string */
    int threads;    /* OpenMP threads of the CPU backend */
} gsgdi_machine;

typedef struct gsgdi_backend {
    const char *name;

    /* ---- lifetime: what context.c reaches through the registry ---------- */

    /* Readies device device_index of this backend for ctx, a context on no
     * device yet (be_state NULL): on CUDA selects the device, checks that
     * this build's kernels run on it and creates the cuBLAS handle (on
     * ctx->stream) and the backend's workspaces in ctx->be_state; nothing
     * on the CPU. The registry (registry.c), its one caller, then points
     * ctx->be, ctx->device and ctx->device_index at it.
     * GSGD_STATUS_NO_DEVICE, with the runtime's reason in ctx's last error,
     * when the device is missing or unusable; ctx is then left as it was. */
    gsgd_status (*open)(gsgd_context *ctx, int device_index);
    /* Frees what open created. */
    void (*close)(gsgd_context *ctx);
    /* Points the backend's library handles at stream (a cudaStream_t on
     * CUDA; NULL is the default stream). Ops read ctx->stream, which the
     * caller sets once this succeeds. Nothing to point on the CPU, whose
     * ops are synchronous. */
    gsgd_status (*set_stream)(gsgd_context *ctx, void *stream);
    /* The lines gsgd_info prints for this backend, whatever ctx's backend
     * (on CUDA: the device of a CUDA context, or else whether devices are
     * present, "cuda backend: built, no device (...)"; on the CPU: its
     * OpenMP threads). Always NUL-terminates. */
    void (*describe)(gsgd_context *ctx, char *buf, size_t size);
    /* Fills m, zeroed by the caller, for ctx on this backend: the device,
     * its memory, the CUDA runtime and driver where there are, and the
     * host's BLAS and threads, which every backend shares. */
    gsgd_status (*machine)(gsgd_context *ctx, gsgdi_machine *m);

    /* ---- timers: the bench's clock ------------------------------------- */

    /* n_marks time stamps on this backend's own clock (timer_clock names
     * it). timer_mark stamps mark i once the work enqueued so far has run
     * and never waits: on CUDA an event recorded on ctx->stream, so timing
     * a phase adds no host synchronisation; on the CPU, whose ops are
     * synchronous, the monotonic clock now. timer_seconds gives the seconds
     * from mark i to mark j, waiting for mark j. Marks are in range (the
     * caller, bench/support.c, checks). */
    const char *timer_clock; /* "cuda events" or "monotonic clock" */
    gsgd_status (*timer_create)(gsgd_context *ctx, int n_marks, void **timer);
    gsgd_status (*timer_mark)(gsgd_context *ctx, void *timer, int i);
    gsgd_status (*timer_seconds)(gsgd_context *ctx, void *timer, int i, int j, double *seconds);
    void (*timer_free)(gsgd_context *ctx, void *timer);

    /* ---- facts of the device, which the planner (plan.c) reads --------- */

    /* The default cap on an automatic batch (GSGD_MAX_BATCH unset). */
    size_t default_max_batch;
    /* Bytes kept free for the device's runtime, lazily loaded kernels and
     * library handles (GSGD_MEM_RESERVE's default). */
    size_t mem_reserve;
    /* What one allocation may be rounded up to. */
    size_t alloc_granularity;
    /* Bytes a library may still allocate itself, beyond what the planner
     * counts buffer by buffer. */
    size_t library_workspace;

    /* memory */
    gsgd_status (*alloc)(gsgd_context *ctx, size_t bytes, void **p);
    void (*release)(gsgd_context *ctx, void *p);
    gsgd_status (*upload)(gsgd_context *ctx, void *dst, const void *host_src, size_t bytes);
    gsgd_status (*download)(gsgd_context *ctx, void *host_dst, const void *src, size_t bytes);
    gsgd_status (*copy)(gsgd_context *ctx, void *dst, const void *src, size_t bytes);
    gsgd_status (*zero)(gsgd_context *ctx, void *p, size_t bytes);
    gsgd_status (*sync)(gsgd_context *ctx);
    /* Host memory the device reads in place (pinned and mapped, on CUDA):
     * where a dataset whose features do not fit the device's memory is
     * kept, each batch's gather reading its rows over the bus. The pointer
     * is valid on the host and in kernels (unified addressing). NULL on
     * backends whose memory is host memory already. */
    gsgd_status (*alloc_host_mapped)(gsgd_context *ctx, size_t bytes, void **p);
    void (*release_host_mapped)(gsgd_context *ctx, void *p);
    /* Optional (NULL where launches cost nothing, on the CPU): between
     * graph_begin and graph_end the ops of this context are recorded into a
     * graph instead of run (on CUDA: stream capture into a CUDA Graph);
     * graph_end always ends the recording and, when graph is not NULL,
     * instantiates what was recorded into *graph. graph_launch runs it on
     * the context's stream; graph_free releases it. */
    gsgd_status (*graph_begin)(gsgd_context *ctx);
    gsgd_status (*graph_end)(gsgd_context *ctx, void **graph);
    gsgd_status (*graph_launch)(gsgd_context *ctx, void *graph);
    void (*graph_free)(gsgd_context *ctx, void *graph);
    /* Free and total bytes of the memory this backend allocates from
     * (device memory on CUDA, available RAM on the CPU). */
    gsgd_status (*mem_info)(gsgd_context *ctx, size_t *free_bytes, size_t *total_bytes);

    /* C = alpha * op(A) op(B) + beta * C, C is M x N, op(A) M x K, row-major;
     * trans_a/trans_b nonzero transpose A/B. The products in precision
     * prec (gsgd.h's gsgd_precision): each element of op(A) and op(B)
     * rounded as precision.h's gsgdi_round_input does, sums in FP32; the
     * CPU's FP32 is OpenBLAS's SGEMM as it always was. */
    gsgd_status (*gemm)(gsgd_context *ctx, gsgd_precision prec, int trans_a, int trans_b, size_t M,
                        size_t N, size_t K, float alpha, const float *A, size_t lda, const float *B,
                        size_t ldb, float beta, float *C, size_t ldc);

    /* ---- dense layers with fused epilogues: optional (NULL on the CPU,
     * whose reference is the composed ops below). rows x in inputs X, a
     * layer's in x out weights W and out biases b, row-major, the products
     * in precision prec. Each sets *taken to 0 and does nothing (returning
     * OK) where the backend does not fuse that call (its shape, its
     * pointers' alignment, the precision); the caller then composes gemm,
     * bias_act, relu_backward and col_sum as it would without them. */

    /* Y = X W + b, and max(Y, 0) when relu; with relu and mask not NULL,
     * also one bit per element of Y > 0 into mask, rows of
     * relu_mask_row_bytes(out) bytes: what dense_backward_data reads. */
    gsgd_status (*dense_forward)(gsgd_context *ctx, gsgd_precision prec, size_t rows, size_t in,
                                 size_t out, const float *X, const float *W, const float *b,
                                 int relu, float *Y, void *mask, int *taken);
    /* dX = (dY W^T) where mask's bit is set, else 0 (mask: the forward's of
     * the layer whose output dX is the gradient of, so relu_backward's
     * A > 0); db = sum over rows of dX: that layer's bias gradient. dY is
     * rows x out, dX rows x in. */
    gsgd_status (*dense_backward_data)(gsgd_context *ctx, gsgd_precision prec, size_t rows,
                                       size_t in, size_t out, const float *dY, const float *W,
                                       const void *mask, float *dX, float *db, int *taken);
    /* dW = X^T dY (in x out) and db = sum over rows of dY (out). */
    gsgd_status (*dense_backward_weights)(gsgd_context *ctx, gsgd_precision prec, size_t rows,
                                          size_t in, size_t out, const float *X, const float *dY,
                                          float *dW, float *db, int *taken);
    /* Bytes of one row of dense_forward's mask for cols columns. */
    size_t (*relu_mask_row_bytes)(size_t cols);

    /* Y[r][c] += b[c]; then Y = max(Y, 0) when relu is nonzero. */
    gsgd_status (*bias_act)(gsgd_context *ctx, float *Y, const float *b, size_t rows, size_t cols,
                            int relu);
    /* dY[i] = A[i] > 0 ? dY[i] : 0 (A is the ReLU output). */
    gsgd_status (*relu_backward)(gsgd_context *ctx, float *dY, const float *A, size_t n);
    /* db[c] = sum_r dY[r][c]. */
    gsgd_status (*col_sum)(gsgd_context *ctx, const float *dY, size_t rows, size_t cols, float *db);

    /* Xb[i] = standardise(feature(X[row_i])), yb[i] = y[row_i],
     * row_i = perm[start+i] (or start+i when perm is NULL), for i < B. X
     * holds n x d values of type xt: floats as they are, or bytes b read as
     * GSGD_U8_FEATURE(b). mean/inv_std may be NULL (no standardisation):
     * x' = (x - mean) * inv_std. */
    gsgd_status (*gather)(gsgd_context *ctx, const void *X, gsgdi_xtype xt, const float *y,
                          size_t d, const uint32_t *perm, size_t start, size_t B, const float *mean,
                          const float *inv_std, float *Xb, float *yb);
    /* Copies height rows of width bytes from src (rows spitch bytes apart)
     * to dst (rows dpitch bytes apart): strided rows of a dataset, of
     * any storage type, without a trip through the host. */
    gsgd_status (*copy_2d)(gsgd_context *ctx, void *dst, size_t dpitch, const void *src,
                           size_t spitch, size_t width, size_t height);

    /* ---- sparse (CSR) data: backend/sparse.h ---------------------------- */

    /* Rows row_i = perm[start + i] (start + i when perm is NULL), i < B,
     * of the CSR X into out: out->ptr, col, row and val (val times
     * inv_std[col] when inv_std is not NULL: scaling only, a sparse row
     * is never centred), and yb[i] = y[row_i]. The caller guarantees that
     * the B rows hold at most out->cap nonzeros (the planner's bound). */
    gsgd_status (*csr_gather)(gsgd_context *ctx, const gsgdi_csr *X, const float *y,
                              const uint32_t *perm, size_t start, size_t B, const float *inv_std,
                              gsgdi_csr_batch *out, float *yb);
    /* Bytes of scratch csr_compact needs for batches of up to cap
     * nonzeros over d features. */
    size_t (*csr_compact_scratch)(gsgd_context *ctx, size_t d, size_t cap);
    /* Groups a gathered batch of B rows by feature: feat, n_feat, fptr,
     * order (gsgdi_csr_batch). Deterministic. */
    gsgd_status (*csr_compact)(gsgd_context *ctx, gsgdi_csr_batch *b, size_t B, size_t d);
    /* Z[i] = sum over row i's nonzeros p of val[p] W[col[p]] (W d x K
     * row-major), plus bias[k], then max(., 0) when relu: the forward of a
     * dense layer on sparse input, the order of the row's nonzeros kept. */
    gsgd_status (*csr_matmul)(gsgd_context *ctx, const gsgdi_csr_batch *b, size_t B, const float *W,
                              size_t K, const float *bias, int relu, float *Z);
    /* The compact weight gradient gW[i] = sum over feat[i]'s nonzeros p,
     * in batch order, of val[p] dZ[row[p]] (n_feat x K), accumulated in
     * double: X^T dZ on the rows X touches. Deterministic. */
    gsgd_status (*csr_weight_grad)(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *dZ,
                                   size_t K, float *gW);
    /* dW[feat[i]] = gW[i] for i < n_feat; other rows of dW untouched (the
     * caller zeroed them): the compact gradient as a dense one. */
    gsgd_status (*csr_scatter)(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *gW,
                               size_t K, float *dW);
    /* The lazy decay before step `step`'s forward pass: each row feat[i]
     * of W caught up to that step (sparse.h's gsgdi_lazy_decay). */
    gsgd_status (*csr_catch_up)(gsgd_context *ctx, const gsgdi_csr_batch *b, float *W, size_t K,
                                const gsgdi_lazy_decay *decay, size_t step);
    /* Every one of the d rows of W caught up to step `step`, then upto and
     * logf zeroed: W holds the true weights, nothing is pending. */
    gsgd_status (*csr_flush)(gsgd_context *ctx, float *W, size_t d, size_t K,
                             const gsgdi_lazy_decay *decay, size_t step);
    /* The row-sparse update (gsgdi_rows_update_args); with a decay, also
     * writes logf[step + 1]. Rules: SGD, Adagrad, Adam, AdamW; no clipping,
     * L1 step, average or skipping guard (the trainer updates densely
     * then). A stop-mode guard records a weight that went non-finite. */
    gsgd_status (*update_rows)(gsgd_context *ctx, const gsgdi_update_rule *rule,
                               const gsgdi_rows_update_args *a);

    /* Loss of B rows of logits Z (B x K) against targets y. Adds the sum of
     * per-sample losses to acc[0] and the number of correct predictions to
     * acc[1] (classification). When dZ is not NULL writes
     * dZ = grad_scale * dloss_i/dZ (grad_scale is 1/B_batch for a mean loss).
     * Per-sample losses:
     *   SQUARED:    0.5 * sum_k (z_k - t_k)^2, t = y (K=1) or one-hot(y)
     *   LOGISTIC:   log(1 + exp(z)) - y z   (K=1, y in {0,1})
     *   SOFTMAX_CE: logsumexp(z) - z_y
     *   HINGE:      sum_{k != y} max(0, z_k - z_y + 1)  */
    gsgd_status (*loss)(gsgd_context *ctx, gsgdi_loss kind, const float *Z, const float *y,
                        size_t B, size_t K, int classify, float grad_scale, float *dZ, double *acc);

    /* Writes a uniformly random permutation of 0..n-1 for (seed, epoch):
     * the stable argsort of keys perm_key(seed, epoch, i), identical on every
     * backend. scratch holds perm_scratch_bytes(n) bytes. */
    gsgd_status (*permutation)(gsgd_context *ctx, uint64_t seed, uint64_t epoch, size_t n,
                               uint32_t *perm, void *scratch);
    size_t (*perm_scratch_bytes)(size_t n);

    /* Optional (NULL where not offered): bytes of scratch linear_grad
     * needs over features X (n x d of type xt) with K outputs; 0 when this
     * backend does not fuse that shape or layout (the model then composes
     * the ops above). */
    size_t (*linear_grad_scratch)(gsgd_context *ctx, const void *X, gsgdi_xtype xt, size_t d,
                                  size_t K);
    gsgd_status (*linear_grad)(gsgd_context *ctx, const gsgdi_linear_grad_args *a);
    /* The smallest batch at which models use linear_grad unless
     * GSGD_FUSED_GRADIENT says otherwise (0: at none), from where it was
     * measured to be faster than the composed ops. */
    size_t linear_grad_min_batch;

    /* The in-place update of gsgdi_update_rule over a->n floats: one fused
     * pass, preceded by one norm reduction when the rule clips, skips
     * non-finite steps or is layer-wise (LAMB takes a second pass). */
    gsgd_status (*update)(gsgd_context *ctx, const gsgdi_update_rule *rule,
                          const gsgdi_update_args *a);

    /* out[k] = sum of x[i]^2 over segment k, i in [seg[k], seg[k+1]),
     * k < n_segments, accumulated in double (out is backend memory). */
    gsgd_status (*sumsq)(gsgd_context *ctx, const float *x, const size_t *seg, int n_segments,
                         float *out);
} gsgdi_backend;

/* The backends' vtables. Only the registry (registry.c) names them: a
 * context carries its own in ctx->be. gsgdi_backend_cuda exists in CUDA
 * builds alone. */
const gsgdi_backend *gsgdi_backend_cpu(void);
const gsgdi_backend *gsgdi_backend_cuda(void);

#endif
