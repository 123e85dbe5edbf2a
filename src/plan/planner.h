/*
 * The batch-size planner's pure parts (planner.c): the memory model, the
 * budget and the choice of B, none of which touch a device, so every rule
 * is testable with made-up numbers. plan.c checks the result against
 * reality (real allocation and one step) and implements gsgd_plan.
 *
 * The model is linear in the batch size B:
 *     bytes(B) = fixed + B * per_sample
 * counted in the unit gsgdi_mem_alloc accounts (requested bytes), so that on
 * the CPU backend the prediction equals ctx->bytes_peak exactly. What the
 * device's allocator adds on top (rounding) is kept out of the items and
 * reserved in the headroom instead.
 */
#ifndef GSGD_PLANNER_H
#define GSGD_PLANNER_H

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/options.h"
#include "data/dataset.h"
#include "model/model.h"

/* 15 fixed items + batch input and targets + 3 per layer (activations,
 * their gradients, ReLU masks), and the sparse batch's items. */
#define GSGD_PLAN_MAX_ITEMS (22 + 3 * GSGD_MAX_LAYERS)
#define GSGD_PLAN_NAME_LEN 48

typedef struct {
    char name[GSGD_PLAN_NAME_LEN];
    size_t bytes;   /* the whole buffer (fixed), bytes per batch row (per_sample
                       1) or per nonzero of the batch (per_sample 2) */
    int per_sample; /* 1: scales with B; 2: with the batch's nonzeros */
    int resident;   /* allocated before planning (model, dataset): counted, not made */
} gsgdi_mem_item;

/* Everything that sizes a buffer of a training run. */
typedef struct {
    const gsgd_model *m;       /* layout; m->mean != NULL means a standardiser */
    size_t n_train;            /* training samples */
    gsgdi_xtype x_type;        /* storage of the training X (F32 = 0) */
    gsgd_optim optim;          /* names the optimizer state */
    int n_state;               /* optimizer state buffers, n_params floats each */
    size_t work_floats;        /* the update's scratch (norms, LAMB's direction) */
    int average;               /* averaged SGD keeps a second parameter buffer */
    int lr_table;              /* warmup or schedule: one learning rate per step */
    int model_resident;        /* parameters and standardiser already allocated */
    int data_resident;         /* dataset X and y already allocated */
    int data_borrowed;         /* ... by the caller (gsgd_dataset_from_device):
                                  listed at 0 bytes, outside gsgd's budget */
    int x_host_mapped;         /* X in mapped pinned host memory: listed at 0
                                  device bytes */
    size_t other_in_use;       /* other gsgd memory already allocated (a test set) */
    size_t perm_scratch_bytes; /* be->perm_scratch_bytes(n_train) */
    size_t fused_bytes;        /* the fused gradient's scratch (gsgdi_model_fused_bytes) */
    size_t workspace_bytes;    /* library workspace outside gsgdi_mem_alloc (cuBLAS) */
    /* Sparse training data (CSR): the batch holds its rows' nonzeros, at
     * most top_nnz[B] for B rows (those of the B densest). */
    int sparse;
    size_t nnz;                             /* nonzeros of the training set */
    const uint64_t *top_nnz;                /* n_train + 1 entries */
    size_t compact_scratch;                 /* be->csr_compact_scratch at the largest batch */
    int lazy_decay;                         /* lazy plain SGD with weight decay: its state */
    size_t mask_row_bytes[GSGD_MAX_LAYERS]; /* per layer, its ReLU mask's bytes per
                                               batch row (fused epilogues); 0: none */
} gsgdi_mem_inputs;

typedef struct {
    gsgdi_mem_item items[GSGD_PLAN_MAX_ITEMS];
    int n_items;
    size_t fixed;            /* sum of the fixed items, resident ones included */
    size_t per_sample;       /* sum of the per-sample items */
    size_t per_nnz;          /* sum of the per-nonzero items (sparse data; else 0) */
    const uint64_t *top_nnz; /* the inputs' bound on a batch's nonzeros */
    size_t n_top;            /* n_train: top_nnz has n_top + 1 entries */
    int n_buffers;           /* buffers the trainer allocates (for the rounding bound) */
} gsgdi_mem_model;

/* Fills mm with one line item per buffer a training run holds, in the
 * order the trainer allocates them. Allocates nothing. */
void gsgdi_mem_model_build(const gsgdi_mem_inputs *in, gsgdi_mem_model *mm);

/* fixed + B * per_sample (+ per_nnz * the nonzeros of B rows, at most),
 * saturating at SIZE_MAX. */
size_t gsgdi_mem_model_bytes(const gsgdi_mem_model *mm, size_t B);
/* The nonzeros a batch of B rows holds at most (0 for dense data). */
size_t gsgdi_mem_model_batch_nnz(const gsgdi_mem_model *mm, size_t B);
/* The largest B with bytes(B) <= budget: (budget - fixed) / per_sample
 * for dense data (unclamped), a search over [1, n_top] for sparse data;
 * 0 when not even one row fits. */
size_t gsgdi_mem_model_fit(const gsgdi_mem_model *mm, size_t budget);

/* What the budget is derived from. Limits of 0 mean "none". */
typedef struct {
    size_t free_bytes, total_bytes; /* be->mem_info of the device */
    size_t in_use;                  /* gsgd's allocations now: already out of free_bytes */
    size_t ctx_limit;               /* gsgd_context_set_mem_limit */
    size_t opt_limit;               /* GSGD_MEM_LIMIT */
    double opt_fraction;            /* GSGD_MEM_FRACTION of total_bytes */
    double margin;                  /* GSGD_MEM_HEADROOM: fraction of the cap kept free */
    size_t reserve;                 /* bytes kept free besides (the CUDA context) */
    size_t rounding;                /* bound on what the allocator's rounding adds */
} gsgdi_budget_inputs;

typedef struct {
    size_t cap;             /* smallest of free_bytes + in_use and the limits */
    const char *cap_source; /* which one: "free memory", "context limit", ... */
    size_t headroom;        /* margin * cap + reserve + rounding */
    size_t budget;          /* cap - headroom (0 when headroom exceeds cap) */
} gsgdi_budget;

/* The budget for the whole footprint bytes(B), resident items included.
 * Free memory is turned into such a cap by adding back what gsgd already
 * holds (in_use), since those bytes are already missing from free_bytes
 * but are part of bytes(B); the limits cap gsgd's total use directly. */
void gsgdi_budget_compute(const gsgdi_budget_inputs *in, gsgdi_budget *out);

/* Why the planner settled on its batch. */
typedef enum {
    GSGD_WHY_MEMORY = 0,    /* the largest that fits the budget */
    GSGD_WHY_N_TRAIN = 1,   /* every training sample fits: one step per epoch */
    GSGD_WHY_MAX_BATCH = 2, /* capped at the max useful batch */
    GSGD_WHY_FIXED = 3,     /* given by the caller (GSGD_BATCH > 0) */
    GSGD_WHY_BISECTED = 4,  /* the planned batch failed to allocate; bisected */
    GSGD_WHY_FASTEST = 5,   /* highest measured samples/s */
    GSGD_WHY_MIN_STEPS = 6  /* capped so an epoch takes MIN_EPOCH_STEPS steps */
} gsgdi_plan_why;

/* Rounds a batch down to a multiple of 32 above 32 (warp and GEMM tile
 * friendly); batches up to 32 stay as they are. */
size_t gsgdi_plan_round(size_t B);

/* B* = the largest B with fixed + B * per_sample <= budget, rounded by
 * gsgdi_plan_round, then clamped to n_train and to max_batch (0 = no cap).
 * The clamps are taken as they are, not rounded: a batch of all n_train
 * rows gives one full step per epoch where n_train rounded down would
 * leave a tiny last batch. *max_fit receives the memory bound before any
 * clamp or rounding. GSGD_STATUS_DEVICE_OUT_OF_MEMORY with "model does not
 * fit: needs X, has Y" (on ctx) when not even one row fits. */
gsgd_status gsgdi_plan_choose(gsgd_context *ctx, size_t fixed, size_t per_sample, size_t budget,
                              size_t n_train, size_t max_batch, size_t *batch, size_t *max_fit,
                              gsgdi_plan_why *why);

/* Caps a planned batch so that an epoch of n_train rows takes at least
 * min_steps steps (0: no cap): at most max(1, floor(n_train / min_steps))
 * rows, rounded by gsgdi_plan_round (both keep ceil(n_train / B) >=
 * min_steps when n_train >= min_steps). Sets *why to GSGD_WHY_MIN_STEPS
 * when it lowers *batch. */
void gsgdi_plan_min_steps(size_t n_train, size_t min_steps, size_t *batch, gsgdi_plan_why *why);

/* gsgdi_plan_choose over a memory model, sparse or dense: for sparse data
 * bytes(B) grows with the nonzeros of the B densest rows, so B* is found
 * by search rather than division; the rounding and the clamps are the
 * same. */
gsgd_status gsgdi_plan_choose_mm(gsgd_context *ctx, const gsgdi_mem_model *mm, size_t budget,
                                 size_t n_train, size_t max_batch, size_t *batch, size_t *max_fit,
                                 gsgdi_plan_why *why);

/* Bisection over the planner's grid of batches (1..32, then multiples of
 * 32), for when the planned batch failed to allocate: try(B) returns OK,
 * an allocation failure (OUT_OF_MEMORY or DEVICE_OUT_OF_MEMORY), or any
 * other error, which stops the search. Knowing that hi_fail failed and
 * that lo_ok succeeded (0: nothing known), finds the largest grid batch
 * below hi_fail that succeeds, assuming success is monotone in B. *tries
 * counts the calls. DEVICE_OUT_OF_MEMORY when even B = 1 fails. */
typedef gsgd_status (*gsgdi_plan_try_fn)(size_t B, void *user);
gsgd_status gsgdi_plan_bisect(gsgd_context *ctx, size_t lo_ok, size_t hi_fail,
                              gsgdi_plan_try_fn try_batch, void *user, size_t *best, int *tries);

/* Formats bytes for messages: "1.50 GiB", "512 B". Returns buf. */
const char *gsgdi_fmt_bytes(size_t bytes, char *buf, size_t size);

/* Plans as gsgd_plan does. With keep not NULL, *keep receives the trainer
 * at the planned batch with its verified buffers (gsgd_trainer_create). */
gsgd_status gsgdi_plan_run(gsgd_model *m, const gsgd_dataset *data, const gsgd_options *opts,
                           gsgd_batch_plan **out, gsgd_trainer **keep);

#endif
