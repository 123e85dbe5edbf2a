/*
 * Launchers of the CUDA kernels: the only door from host C code into
 * kernels/. Plain C on purpose (no CUDA header), so backend_cuda.c decides
 * how errors become gsgd_status values. Each launcher enqueues its work on
 * `stream` (a cudaStream_t; NULL is the default stream), never
 * synchronises, and returns the cudaError_t of the launch as an int
 * (0 = cudaSuccess). Pointers are device memory unless marked "host".
 *
 * Every launcher computes exactly what the op of the same name in
 * src/backend_cpu.c (the update and sumsq: backend_cpu_update.c) computes;
 * the kernel files name their reference.
 */
#ifndef GSGD_KERNELS_H
#define GSGD_KERNELS_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "backend/update_math.h"

#ifdef __cplusplus
extern "C" {
#endif

/* gather.cu: Xb[i] = standardise(feature(X[row_i])), yb[i] = y[row_i] with
 * row_i = perm[start + i] (start + i when perm is NULL), i < B; X holds
 * floats or bytes (xt, see backend.h's gsgdi_xtype). */
int gsgdi_k_gather(const void *X, gsgdi_xtype xt, const float *y, size_t d, const uint32_t *perm,
                   size_t start, size_t B, const float *mean, const float *inv_std, float *Xb,
                   float *yb, void *stream);

/* activation.cu: Y[r][c] = act(Y[r][c] + b[c]); dY[i] = A[i] > 0 ? dY[i] : 0. */
int gsgdi_k_bias_act(float *Y, const float *b, size_t rows, size_t cols, int relu, void *stream);
int gsgdi_k_relu_backward(float *dY, const float *A, size_t n, void *stream);

/* col_sum.cu: db[c] = sum_r dY[r][c], accumulated in double. scratch holds
 * scratch_doubles doubles for per-block partial sums (GSGD_K_COLSUM_SCRATCH
 * is enough); n_sm is the device's multiprocessor count (sizes the grid).
 * The result is deterministic for a given device. */
#define GSGD_K_COLSUM_SCRATCH ((size_t)1 << 16)
int gsgdi_k_col_sum(const float *dY, size_t rows, size_t cols, float *db, double *scratch,
                    size_t scratch_doubles, int n_sm, void *stream);

/* loss.cu: per-sample losses of B rows of K logits, summed into acc[0] and
 * correct predictions into acc[1] (both double, added atomically); dZ (may
 * be NULL) = grad_scale * dloss/dZ. */
int gsgdi_k_loss(gsgdi_loss kind, const float *Z, const float *y, size_t B, size_t K, int classify,
                 float grad_scale, float *dZ, double *acc, void *stream);

/* linear_grad.cu: backend.h's linear_grad, in versions 1 to
 * GSGD_K_LINEAR_GRAD_VERSIONS kept side by side (linear_grad_v1.cu, ...);
 * GSGD_K_LINEAR_GRAD_BEST is the measured best, which the backend runs
 * unless GSGD_LINEAR_GRAD_VERSION names another. gsgdi_k_linear_grad_scratch
 * gives the bytes of scratch a version needs on the current device, of n_sm
 * multiprocessors (into host *bytes), or 0 where it does not take the
 * shape: d not a multiple of 4, X not aligned to 4 features, more than 16
 * outputs, or weights too large for shared memory. It prepares that
 * version's kernel for gsgdi_k_linear_grad of the same version, which must
 * come after it on that device, and which fails with cudaErrorInvalidValue
 * on a shape not taken. Both fail so on a version out of range. */
#define GSGD_K_LINEAR_GRAD_VERSIONS 2
#define GSGD_K_LINEAR_GRAD_BEST 2
int gsgdi_k_linear_grad_scratch(int version, const void *X, gsgdi_xtype xt, size_t d, size_t K,
                                int n_sm, size_t *bytes);
int gsgdi_k_linear_grad(int version, const gsgdi_linear_grad_args *a, void *stream);

/* permutation.cu: bytes of scratch gsgdi_k_permutation needs for n samples
 * (into host *bytes); then perm = stable argsort of gsgdi_perm_key(seed,
 * epoch, i), i < n (n <= UINT32_MAX). */
int gsgdi_k_perm_scratch_bytes(size_t n, size_t *bytes);
int gsgdi_k_permutation(uint64_t seed, uint64_t epoch, size_t n, uint32_t *perm, void *scratch,
                        size_t scratch_bytes, void *stream);

/* sumsq.cu: out[k] = sum of x[i]^2 over i in [seg[k], seg[k+1]) for
 * k < n_segments (<= GSGD_MAX_SEGMENTS), accumulated in double, reduced in
 * a fixed order (bitwise reproducible) and rounded to float once. seg is
 * host memory; scratch holds GSGD_K_SUMSQ_SCRATCH doubles. */
#define GSGD_K_SUMSQ_BLOCKS 512
#define GSGD_K_SUMSQ_SCRATCH ((size_t)GSGD_MAX_SEGMENTS * GSGD_K_SUMSQ_BLOCKS)
int gsgdi_k_sumsq(const float *x, const size_t *seg, int n_segments, float *out, double *scratch,
                  void *stream);

/* update.cu: one pass of backend.h's update, everything by value; the
 * norms it reads are already in work (gsgdi_k_sumsq on the same stream). */
typedef struct {
    gsgdi_step_consts c;
    int pass;           /* 0: the rule (LAMB: its direction); 1: LAMB's step */
    int n_state;        /* gsgdi_rule_state_count */
    int needs_total;    /* work[0] holds the gradient's sum of squares */
    int skip_nonfinite; /* with a guard: skip a step whose work[0] is not finite */
    const float *lr;    /* the rate */
    gsgdi_guard *guard; /* or NULL */
    float *params;
    const float *grads;
    float *s0, *s1, *average, *work;
    size_t n;
    uint64_t t;
    int t_in_epoch;     /* the guard records guard->t_base + t (backend.h) */
    unsigned *bad_flag; /* stop mode: set when a w is not finite; else NULL */
    int n_segments;     /* lars, lamb: seg as in the rule; else 0 */
    size_t seg[GSGD_MAX_SEGMENTS + 1];
} gsgdi_k_update_args;
int gsgdi_k_update(const gsgdi_k_update_args *a, void *stream);
/* Stop mode, after a step's passes: when *flag is set, clears it and
 * records step t (guard->t_base + t when t_in_epoch) in the guard
 * (bad_steps, first_bad). */
int gsgdi_k_update_finish(unsigned *flag, gsgdi_guard *guard, uint64_t t, int t_in_epoch,
                          void *stream);

/* csr.cu: the sparse ops of backend.h (csr_gather, csr_compact, ...), each
 * the CPU's gsgdi_cpu_csr_* of the same name. Every kernel is sized by the
 * batch's cap and reads its counts from device memory. */
int gsgdi_k_csr_gather(const gsgdi_csr *X, const float *y, const uint32_t *perm, size_t start,
                       size_t B, const float *inv_std, const gsgdi_csr_batch *out, float *yb,
                       void *stream);
/* Bytes of scratch csr_compact needs for batches of up to cap nonzeros. */
int gsgdi_k_csr_compact_scratch(size_t cap, size_t *bytes);
int gsgdi_k_csr_compact(const gsgdi_csr_batch *b, size_t B, void *stream);
int gsgdi_k_csr_matmul(const gsgdi_csr_batch *b, size_t B, const float *W, size_t K,
                       const float *bias, int relu, float *Z, void *stream);
int gsgdi_k_csr_weight_grad(const gsgdi_csr_batch *b, const float *dZ, size_t K, float *gW,
                            void *stream);
int gsgdi_k_csr_scatter(const gsgdi_csr_batch *b, const float *gW, size_t K, float *dW,
                        void *stream);
int gsgdi_k_csr_catch_up(const gsgdi_csr_batch *b, float *W, size_t K, uint32_t *upto,
                         const double *logf_, size_t step, void *stream);
int gsgdi_k_csr_flush(float *W, size_t d, size_t K, const uint32_t *upto, const double *logf_,
                      size_t step, void *stream);
/* The row-sparse update, everything by value (backend.h's update_rows). */
typedef struct {
    gsgdi_step_consts c;
    const float *lr;
    gsgdi_guard *guard; /* or NULL */
    float *W, *s0, *s1;
    const float *gW;
    gsgdi_csr_batch batch;
    size_t K, step;
    uint32_t *upto;     /* lazy decay (plain SGD with decay), or NULL */
    double *logf;       /* the same */
    unsigned *bad_flag; /* stop mode, as gsgdi_k_update_args */
} gsgdi_k_rows_args;
int gsgdi_k_update_rows(const gsgdi_k_rows_args *a, void *stream);

/* Whether this build's kernels can run on the current device: the error
 * of loading one of them (cudaErrorNoKernelImageForDevice when the device's
 * architecture is not in CMAKE_CUDA_ARCHITECTURES). */
int gsgdi_k_probe(void);

#ifdef __cplusplus
}
#endif
#endif
