/* Internal definitions shared by the library's sources. Never installed. */
#ifndef GSGD_INTERNAL_H
#define GSGD_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "gsgd.h"

#define GSGD_ERROR_LEN 1024

struct gsgd_context {
    gsgd_device device;
    int device_index;
    const gsgd_backend *be;
    void *be_state;      /* backend-private (cuBLAS handle, stream, ...) */
    size_t bytes_in_use; /* backend memory allocated through gsgd_mem_alloc */
    size_t bytes_peak;
    size_t mem_limit;        /* caller's cap on backend memory; 0 = none */
    size_t fail_alloc_above; /* tests: allocations that would bring bytes_in_use
                                above this fail as out of memory; 0 = off */
    void *stream;            /* caller's stream (cudaStream_t on CUDA); NULL = default */
    gsgd_log_fn log;         /* gsgd_context_set_log; NULL = silent */
    void *log_user;
    char last_error[GSGD_ERROR_LEN];
};

/* Records "message [file:line]" as the context's last error and returns
 * status. ctx may be NULL: the message then goes to the calling thread's
 * buffer, which gsgd_last_error(NULL) returns. */
gsgd_status gsgd_error_at(gsgd_context *ctx, gsgd_status status, const char *file, int line,
                          const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Sends one formatted line to the context's log callback, if any. */
void gsgd_log(gsgd_context *ctx, gsgd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fails with status and a formatted message. */
#define GSGD_ERROR(ctx, status, ...) gsgd_error_at((ctx), (status), __FILE__, __LINE__, __VA_ARGS__)

/* Returns status with a formatted message when cond holds. */
#define RETURN_ERROR_IF(cond, ctx, status, ...)                                                    \
    do {                                                                                           \
        if (cond) return GSGD_ERROR((ctx), (status), __VA_ARGS__);                                 \
    } while (0)

/* Evaluates expr (a gsgd_status) and returns it when it is not OK; the
 * callee already recorded the detail. */
#define FORWARD_IF_ERROR(expr)                                                                     \
    do {                                                                                           \
        gsgd_status forward_status_ = (expr);                                                      \
        if (forward_status_ != GSGD_STATUS_OK) return forward_status_;                             \
    } while (0)

/* Like FORWARD_IF_ERROR, but jumps to a cleanup label keeping the status in
 * the variable st. */
#define CHECK_GOTO(st, expr, label)                                                                \
    do {                                                                                           \
        (st) = (expr);                                                                             \
        if ((st) != GSGD_STATUS_OK) goto label;                                                    \
    } while (0)

/* Backend memory with accounting (in_use/peak feed the planner's checks).
 * Fails with DEVICE_OUT_OF_MEMORY, before asking the backend, when the
 * allocation would take bytes_in_use past ctx->mem_limit (or past
 * ctx->fail_alloc_above, the tests' injected failure). */
gsgd_status gsgd_mem_alloc(gsgd_context *ctx, size_t bytes, void **p);
void gsgd_mem_free(gsgd_context *ctx, void *p, size_t bytes);

/* Host allocation that records an OUT_OF_MEMORY error on failure. */
gsgd_status gsgd_host_alloc(gsgd_context *ctx, size_t bytes, void **p);

/* Checked size arithmetic: returns 0 on overflow. */
static inline int gsgd_mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

/* Monotonic wall clock in seconds (train.c): rates, time to target, the
 * planner's and the bench's timings. */
double gsgd_now_seconds(void);

/* Number of OpenMP threads the CPU backend uses. */
int gsgd_cpu_threads(void);

/* ---- datasets ---------------------------------------------------------- */
struct gsgd_dataset {
    gsgd_context *ctx;
    size_t n, d;
    int n_classes;   /* 0 = regression */
    gsgd_xtype xt;   /* how X stores the features (backend.h) */
    void *X;         /* backend memory, n x d values of type xt */
    float *y;        /* backend memory, n */
    int borrowed;    /* X and y are the caller's (gsgd_dataset_from_device):
                        never freed, never counted as gsgd's memory */
    int host_mapped; /* X did not fit the device's memory: it is in mapped
                        pinned host memory (be->alloc_host_mapped), read by
                        the gather over the bus; not counted as device
                        memory */
};

/* Bytes of backend memory the dataset's X takes. */
static inline size_t gsgd_dataset_x_bytes(const gsgd_dataset *ds) {
    return ds->n * ds->d * gsgd_xtype_size(ds->xt);
}

/* Copies rows [start, start + count) of ds's features to host floats out
 * (count x d), converting stored bytes exactly as the gather does. */
gsgd_status gsgd_dataset_read_rows(const gsgd_dataset *ds, size_t start, size_t count, float *out);

/* Host-side data as produced by the loaders before upload. */
typedef struct {
    float *X;    /* n x d, malloc'd; NULL when X8 holds the features */
    uint8_t *X8; /* n x d ubyte pixels (GSGD_XTYPE_U8), malloc'd, or NULL */
    float *y;    /* n, malloc'd */
    size_t n, d;
    int n_classes;
} gsgd_host_data;

void gsgd_host_data_free(gsgd_host_data *h);
/* Uploads h into a dataset (h keeps ownership of its arrays). */
gsgd_status gsgd_dataset_from_host_data(gsgd_context *ctx, const gsgd_host_data *h,
                                        gsgd_dataset **out);

/* ---- models ------------------------------------------------------------ */
#define GSGD_MAX_LAYERS 16
#define GSGD_SPEC_LEN 128

typedef struct {
    size_t in, out;
    size_t w_off; /* offset of the in x out weight matrix in the flat buffer */
    size_t b_off; /* offset of the out biases */
} gsgd_layer;

struct gsgd_model {
    gsgd_context *ctx;
    char spec[GSGD_SPEC_LEN];
    gsgd_loss loss;
    int n_classes;
    size_t n_features, n_outputs;
    int n_layers;
    gsgd_layer layers[GSGD_MAX_LAYERS];
    size_t n_params, n_decay; /* weights occupy [0, n_decay) */
    float *params;            /* backend memory */
    float *mean, *inv_std;    /* backend memory (n_features each) or NULL */
};

/* Parses spec and fills the layout (layers, sizes); allocates nothing. */
gsgd_status gsgd_model_layout(gsgd_context *ctx, const char *spec, size_t n_features, int n_classes,
                              gsgd_model *m);
/* Fills host buffer p (n_params) with PyTorch nn.Linear's init from seed. */
void gsgd_model_init_host(const gsgd_model *m, uint64_t seed, float *p);
/* Allocates the parameter buffer of a laid-out model. */
gsgd_status gsgd_model_alloc(gsgd_model *m);

/* Buffers for forward/backward of up to B rows. */
typedef struct {
    size_t B;
    float *Xb, *yb;               /* B x d input, B targets */
    float *act[GSGD_MAX_LAYERS];  /* B x out_l: layer outputs (post-ReLU) */
    float *dact[GSGD_MAX_LAYERS]; /* B x out_l: gradients w.r.t. pre-activations */
    double *acc;                  /* [loss sum, correct count] */
} gsgd_step_buffers;

/* Bytes of backend memory gsgd_step_buffers_alloc takes for B rows. */
size_t gsgd_step_buffers_bytes(const gsgd_model *m, size_t B);
gsgd_status gsgd_step_buffers_alloc(gsgd_model *m, size_t B, gsgd_step_buffers *sb);
void gsgd_step_buffers_free(gsgd_model *m, gsgd_step_buffers *sb);

/* Forward pass of rows already gathered in sb->Xb (B <= sb->B); logits end
 * in sb->act[n_layers-1]. */
gsgd_status gsgd_model_forward(gsgd_model *m, gsgd_step_buffers *sb, size_t B);
/* Loss + backward: writes the gradient of the mean loss over the B rows
 * into grads (flat, same layout as params); adds loss/correct to sb->acc. */
gsgd_status gsgd_model_backward(gsgd_model *m, gsgd_step_buffers *sb, size_t B, float *grads);
/* The same with the loss gradient scaled by grad_scale instead of 1/B: a
 * data-parallel replica scales by 1/(global batch) so that the sum over
 * replicas is the global mean, with no extra pass over the buffer. */
gsgd_status gsgd_model_backward_scaled(gsgd_model *m, gsgd_step_buffers *sb, size_t B,
                                       float grad_scale, float *grads);
/* Loss and accuracy counts only (evaluation). */
gsgd_status gsgd_model_score(gsgd_model *m, gsgd_step_buffers *sb, size_t B);

/* An on/off switch from the environment: "0" off (0), any other value on
 * (1), unset or empty dflt (GSGD_CUDA_GRAPHS, GSGD_FUSED_GRADIENT). */
static inline int gsgd_env_switch(const char *name, int dflt) {
    const char *v = getenv(name);
    return v && *v ? strcmp(v, "0") != 0 : dflt;
}

/* The smallest batch from which steps of m over ds take the fused gradient
 * (backend.h's linear_grad), or 0 when none do and steps compose gather,
 * forward and backward: a model with hidden layers, a backend that does not
 * fuse this shape, or GSGD_FUSED_GRADIENT=0. GSGD_FUSED_GRADIENT=1 makes
 * it 1; unset, it is the backend's linear_grad_min_batch. */
size_t gsgd_model_fused_from(const gsgd_model *m, const gsgd_dataset *ds);
/* Bytes of scratch the fused gradient needs for steps of `batch` rows of m
 * over ds, or 0 when those steps compose the ops (gsgd_model_fused_from). */
size_t gsgd_model_fused_bytes(const gsgd_model *m, const gsgd_dataset *ds, size_t batch);
/* What gather, gsgd_model_forward and gsgd_model_backward_scaled compute
 * for rows perm[start, start + B) of ds, in one fused op: the gradient into
 * grads, loss and correct count added to acc. scratch holds
 * gsgd_model_fused_bytes(m, ds, B) bytes (scratch_bytes), which must be
 * nonzero. */
gsgd_status gsgd_model_fused_gradient(gsgd_model *m, const gsgd_dataset *ds, const uint32_t *perm,
                                      size_t start, size_t B, float grad_scale, float *grads,
                                      double *acc, void *scratch, size_t scratch_bytes);

/* Evaluates with given buffers (reused by the trainer). */
gsgd_status gsgd_evaluate_with(gsgd_model *m, gsgd_step_buffers *sb, const gsgd_dataset *ds,
                               gsgd_eval_result *out);

/* ---- trainer internals the planner builds on (train.c) ------------------- */

/* Checks that a model and a training set can train together. */
gsgd_status gsgd_trainer_check(const gsgd_model *m, const gsgd_dataset *train);
/* Creates a trainer with every buffer for batch B (clamped to the data),
 * without planning: what gsgd_trainer_create does for a fixed BATCH. */
gsgd_status gsgd_trainer_alloc(gsgd_model *m, const gsgd_dataset *train, const gsgd_options *opts,
                               size_t B, gsgd_trainer **out);
/* Runs steps steps of b <= B rows at learning rate 0, which leaves the
 * parameters as they are, then clears the optimizer state the steps left.
 * With seconds not NULL, times each step (synchronised) into seconds[s]. */
gsgd_status gsgd_trainer_probe(gsgd_trainer *tr, size_t b, int steps, double *seconds);
/* Evaluates one batch of the training data on the trainer's buffers. */
gsgd_status gsgd_trainer_probe_eval(gsgd_trainer *tr);

/* ---- planner (plan.c) ---------------------------------------------------- */

/* Plans as gsgd_plan does. With keep not NULL, *keep receives the trainer
 * at the planned batch with its verified buffers (gsgd_trainer_create). */
gsgd_status gsgd_plan_run(gsgd_model *m, const gsgd_dataset *data, const gsgd_options *opts,
                          gsgd_batch_plan **out, gsgd_trainer **keep);

/* ---- options ----------------------------------------------------------- */
#define GSGD_N_PARAMS 38
struct gsgd_options {
    double v[GSGD_N_PARAMS];
};

/* A copy of in with every automatic value (-1 for MOMENTUM, WEIGHT_DECAY
 * and EPS, 0 for LR) replaced by the optimizer's own default. */
void gsgd_resolve_options(const gsgd_options *in, gsgd_options *out);
/* The update rule described by opts, automatic values resolved, with the
 * segments and weight prefix of model m (m NULL: one segment of n floats,
 * all decayed). */
gsgd_update_rule gsgd_rule_from_options(const gsgd_options *o, const gsgd_model *m, size_t n);
/* The learning rate before any schedule, with LR = 0 resolved to the
 * automatic default. */
double gsgd_base_lr(const gsgd_options *o);
/* Whether the schedule changes the rate within every epoch. */
int gsgd_schedule_per_step(const gsgd_options *o);
/* Whether the schedule (or a warmup) changes the rate within an epoch, so
 * that the trainer keeps one rate per step. */
int gsgd_lr_per_step(const gsgd_options *o);
/* The schedule's rate (before LR_SCALING and warmup) at step `step` of
 * 0-based epoch `epoch` with steps_per_epoch steps per epoch. */
double gsgd_schedule_lr(const gsgd_options *o, int epoch, size_t step, size_t steps_per_epoch);
/* Learning rate of a 0-based epoch's first step under opts' schedule. */
double gsgd_lr_at_epoch(const gsgd_options *o, int epoch);
/* Factor LR_SCALING applies for a (global) batch B: 1, B / LR_REF_BATCH or
 * sqrt(B / LR_REF_BATCH). */
double gsgd_lr_scale(const gsgd_options *o, size_t B);
/* Learning rate of step `step` (0-based, within the epoch) of 0-based epoch
 * `epoch`, for batch B with steps_per_epoch steps per epoch: the schedule's
 * rate times gsgd_lr_scale, ramped during WARMUP. */
double gsgd_lr_at_step(const gsgd_options *o, size_t B, size_t steps_per_epoch, int epoch,
                       size_t step);
/* Steps of warmup for steps_per_epoch steps per epoch (0 without). */
size_t gsgd_warmup_steps(const gsgd_options *o, size_t steps_per_epoch);

#endif
