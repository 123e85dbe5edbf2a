/*
 * gsgd_plan: the memory model checked against reality. The pure rules live
 * in planner.c; this file reads the device (free memory, limits), verifies
 * the planned batch by allocating every buffer and running one step and one
 * evaluation batch, bisects when that fails, times candidate batches for
 * BATCH_POLICY = FASTEST, and hands the trainer its verified buffers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plan/planner.h"
#include "optim/rule.h"
#include "optim/schedule.h"
#include "core/util.h"
#include "train/step.h"
#include "backend/update_math.h"
#include "core/error.h"

#define MAX_CURVE 40
/* What the planner's small-data cap was chosen on (explain()): iris's 105
 * training rows, softmax, epochs auto, seeds 0-2, one thread. */
#define GSGD_MIN_STEPS_EVIDENCE                                                                    \
    "measured on iris, 105 rows: at batch 64, 2 steps an epoch, epochs auto ran into "             \
    "max_epochs 1000 with 2000 of its min_steps 5000 steps; at batch 6, 18 steps, it converged "   \
    "after 334 epochs, 0.25 s"
#define FASTEST_WARMUP_STEPS 2
#define FASTEST_TIMED_STEPS 5

struct gsgd_batch_plan {
    gsgd_device device;
    gsgdi_mem_model mm;
    gsgdi_budget budget;
    size_t free_bytes, total_bytes;
    size_t batch, max_fit, predicted, measured;
    size_t batch_nnz; /* sparse data: nonzeros of the planned batch, at most */
    gsgdi_plan_why why;
    double lr, seconds;
    char reason[768];
    int n_curve;
    size_t curve_batch[MAX_CURVE];
    double curve_sps[MAX_CURVE];
};

/* ---- verification ------------------------------------------------------ */

typedef struct {
    gsgd_model *m;
    const gsgd_dataset *data;
    const gsgd_options *opts;
    size_t measured; /* peak footprint of the last successful try */
} verify_ctx;

/* Allocates a trainer at B and runs one step (learning rate 0, so the
 * model is unchanged) and one evaluation batch: every buffer is touched,
 * and a backend that allocates lazily (cuBLAS) does so now, not in the
 * step loop. Measures gsgd's peak footprint meanwhile. On success *out
 * holds the trainer when out is not NULL, else it is freed. */
static gsgd_status verify(verify_ctx *v, size_t B, gsgd_trainer **out) {
    gsgd_context *ctx = v->m->ctx;
    const size_t saved_peak = ctx->bytes_peak;
    ctx->bytes_peak = ctx->bytes_in_use;
    gsgd_trainer *tr = NULL;
    gsgd_status st = gsgdi_trainer_alloc(v->m, v->data, v->opts, B, &tr);
    if (st == GSGD_STATUS_OK) st = gsgdi_trainer_probe(tr, B, 1, NULL);
    if (st == GSGD_STATUS_OK) st = gsgdi_trainer_probe_eval(tr);
    if (st == GSGD_STATUS_OK) st = ctx->be->sync(ctx);
    const size_t peak = ctx->bytes_peak;
    if (st != GSGD_STATUS_OK || !out) gsgdi_trainer_release(tr);
    ctx->bytes_peak = peak > saved_peak ? peak : saved_peak;
    if (st != GSGD_STATUS_OK) return st;
    v->measured = peak;
    if (out) *out = tr;
    return GSGD_STATUS_OK;
}

static gsgd_status verify_try(size_t B, void *user) { return verify(user, B, NULL); }

/* ---- --batch fastest --------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Times powers of two from 32 up to tr's batch B (and B itself) on tr's
 * buffers, which serve any smaller batch; records the curve and returns
 * the batch with the highest samples/s (median step, warm-up excluded). */
static gsgd_status time_candidates(gsgd_batch_plan *p, gsgd_trainer *tr, size_t B, size_t *best) {
    size_t c = B < 32 ? B : 32;
    double best_sps = -1.0;
    *best = B;
    p->n_curve = 0;
    while (p->n_curve < MAX_CURVE) {
        double t[FASTEST_WARMUP_STEPS + FASTEST_TIMED_STEPS];
        GSGD_FORWARD_IF_ERROR(
            gsgdi_trainer_probe(tr, c, FASTEST_WARMUP_STEPS + FASTEST_TIMED_STEPS, t));
        qsort(t + FASTEST_WARMUP_STEPS, FASTEST_TIMED_STEPS, sizeof *t, cmp_double);
        double median = t[FASTEST_WARMUP_STEPS + FASTEST_TIMED_STEPS / 2];
        double sps = median > 0.0 ? (double)c / median : INFINITY;
        p->curve_batch[p->n_curve] = c;
        p->curve_sps[p->n_curve++] = sps;
        if (sps > best_sps) {
            best_sps = sps;
            *best = c;
        }
        if (c == B) break;
        c = c * 2 <= B ? c * 2 : B;
    }
    return GSGD_STATUS_OK;
}

/* ---- planning ---------------------------------------------------------- */

static size_t resident_bytes(const gsgd_model *m, const gsgd_dataset *data) {
    size_t b = m->n_params * sizeof(float);
    if (!data->borrowed) {
        b += data->n * sizeof(float);
        if (!data->host_mapped) b += gsgdi_dataset_x_bytes(data);
    }
    if (m->mean) b += 2 * m->n_features * sizeof(float);
    return b;
}

/* Memory model and budget from the options and the device. */
static gsgd_status measure_device(gsgd_batch_plan *p, gsgd_model *m, const gsgd_dataset *data,
                                  const gsgd_options *o) {
    gsgd_context *ctx = m->ctx;
    const gsgdi_backend *be = ctx->be;
    const size_t res = resident_bytes(m, data);
    p->device = ctx->device;
    const gsgdi_update_rule rule = gsgdi_rule_from_options(o, m, m->n_params);
    gsgdi_mem_inputs in = {
        .m = m,
        .n_train = data->n,
        .x_type = data->xt,
        .optim = rule.kind,
        .n_state = gsgdi_rule_state_count(&rule),
        .work_floats = gsgdi_rule_work_floats(&rule, m->n_params),
        .average = o->v[GSGD_AVERAGE] > 0.0,
        .lr_table = gsgdi_lr_per_step(o),
        .model_resident = 1,
        .data_resident = 1,
        .data_borrowed = data->borrowed,
        .x_host_mapped = data->host_mapped,
        .other_in_use = ctx->bytes_in_use > res ? ctx->bytes_in_use - res : 0,
        .perm_scratch_bytes = be->perm_scratch_bytes(data->n),
        /* Counted at any batch the op may take (a few MB, conservative
         * below the backend's smallest fused batch). */
        .fused_bytes = gsgdi_model_fused_bytes(m, data, SIZE_MAX),
        .workspace_bytes = be->library_workspace,
        .sparse = data->sparse,
        .nnz = data->nnz,
        .top_nnz = data->top_nnz,
        .compact_scratch =
            data->sparse ? be->csr_compact_scratch(ctx, m->n_features, data->nnz) : 0,
        .lazy_decay = gsgdi_trainer_lazy(&rule, o, data) && rule.kind == GSGD_OPTIM_SGD &&
                      rule.weight_decay > 0.0f,
    };
    for (int l = 0; l < m->n_layers; l++) in.mask_row_bytes[l] = gsgdi_model_mask_row_bytes(m, l);
    gsgdi_mem_model_build(&in, &p->mm);
    GSGD_FORWARD_IF_ERROR(be->mem_info(ctx, &p->free_bytes, &p->total_bytes));
    double reserve = o->v[GSGD_MEM_RESERVE];
    gsgdi_budget_inputs bi = {
        .free_bytes = p->free_bytes,
        .total_bytes = p->total_bytes,
        .in_use = ctx->bytes_in_use,
        .ctx_limit = ctx->mem_limit,
        .opt_limit = (size_t)o->v[GSGD_MEM_LIMIT],
        .opt_fraction = o->v[GSGD_MEM_FRACTION],
        .margin = o->v[GSGD_MEM_HEADROOM],
        .reserve = reserve < 0.0 ? be->mem_reserve : (size_t)reserve,
        .rounding = (size_t)p->mm.n_buffers * (be->alloc_granularity - 1),
    };
    gsgdi_budget_compute(&bi, &p->budget);
    return GSGD_STATUS_OK;
}

/* Says where the budget came from: the cap less the headroom, which on a
 * GPU includes the reserve for the runtime, and can be all of a small cap. */
static void explain_budget(gsgd_batch_plan *p, gsgd_context *ctx) {
    char a[32], b[32], msg[GSGD_ERROR_LEN];
    snprintf(msg, sizeof msg, "%s", gsgd_last_error(ctx));
    (void)GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                     "%s; the budget is the %s, %s, less %s of headroom (the margin "
                     "GSGD_MEM_HEADROOM, the reserve GSGD_MEM_RESERVE for the device's runtime "
                     "and libraries, allocation rounding)",
                     msg, p->budget.cap_source, gsgdi_fmt_bytes(p->budget.cap, a, sizeof a),
                     gsgdi_fmt_bytes(p->budget.headroom, b, sizeof b));
}

/* When the resident dataset is what leaves no room, says so, and how to
 * keep it in pinned host memory where the backend can (dataset.c). */
static void explain_no_fit(gsgd_batch_plan *p, const gsgd_dataset *data) {
    gsgd_context *ctx = data->ctx;
    const size_t data_bytes = gsgdi_dataset_x_bytes(data) + data->n * sizeof(float);
    if (p->mm.fixed - data_bytes + p->mm.per_sample +
            p->mm.per_nnz * gsgdi_mem_model_batch_nnz(&p->mm, 1) >
        p->budget.budget)
        return;
    char a[32], msg[GSGD_ERROR_LEN];
    snprintf(msg, sizeof msg, "%s", gsgd_last_error(ctx));
    (void)GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                     "%s; the training set (%s) is what leaves no room for the batch "
                     "buffers%s",
                     msg, gsgdi_fmt_bytes(data_bytes, a, sizeof a),
                     ctx->be->alloc_host_mapped
                         ? ": loaded under a context memory limit below its size "
                           "(gsgd_context_set_mem_limit), it stays in pinned host memory"
                         : "");
}

/* The one sentence gsgd_plan_reason returns. planned: the batch before
 * bisection or timing (for a fixed batch, the one asked, before it was
 * clamped to the training set); max_batch: the cap in force (0 for a fixed
 * batch). */
static void explain(gsgd_batch_plan *p, size_t planned, size_t max_batch, int default_cap,
                    int tries, size_t capped, size_t n_train, size_t min_steps) {
    char b1[32], b2[32];
    const char *budget = gsgdi_fmt_bytes(p->budget.budget, b1, sizeof b1);
    switch (p->why) {
    case GSGD_WHY_MEMORY:
        snprintf(p->reason, sizeof p->reason,
                 "the largest batch that fits the budget of %s (%s minus headroom), rounded "
                 "down to a multiple of 32",
                 budget, p->budget.cap_source);
        break;
    case GSGD_WHY_N_TRAIN:
        snprintf(p->reason, sizeof p->reason,
                 "every training sample fits in one batch (the budget of %s allows %zu rows)",
                 budget, p->max_fit);
        break;
    case GSGD_WHY_MAX_BATCH:
        snprintf(p->reason, sizeof p->reason,
                 "the budget of %s allows %zu rows; capped at the max useful batch %zu (%s)",
                 budget, p->max_fit, max_batch,
                 default_cap ? "this device's default; set max_batch to change it" : "max_batch");
        break;
    case GSGD_WHY_FIXED:
        if (planned > p->batch)
            snprintf(p->reason, sizeof p->reason,
                     "fixed by the caller at %zu, clamped to the %zu training samples", planned,
                     p->batch);
        else
            snprintf(p->reason, sizeof p->reason, "fixed by the caller (batch %zu)", p->batch);
        break;
    case GSGD_WHY_BISECTED:
        snprintf(p->reason, sizeof p->reason,
                 "the planned batch %zu (predicted %s) failed to allocate; bisection found "
                 "%zu in %d tries",
                 planned, gsgdi_fmt_bytes(gsgdi_mem_model_bytes(&p->mm, planned), b2, sizeof b2),
                 p->batch, tries);
        break;
    case GSGD_WHY_MIN_STEPS:
        snprintf(p->reason, sizeof p->reason,
                 "%zu training rows at batch %zu (%s) would take %zu step%s per epoch; capped "
                 "at %zu rows, %zu steps, so that an epoch takes at least min_epoch_steps %zu: "
                 "the stop of epochs auto and the schedule act per epoch, and on small data "
                 "more, smaller steps converge sooner (" GSGD_MIN_STEPS_EVIDENCE
                 "; bench/results/defaults_grid.md)",
                 n_train, capped,
                 capped == n_train     ? "all of them"
                 : capped == max_batch ? "the max useful batch"
                                       : "the largest that fits",
                 (n_train + capped - 1) / capped, (n_train + capped - 1) / capped == 1 ? "" : "s",
                 p->batch, (n_train + p->batch - 1) / p->batch, min_steps);
        break;
    case GSGD_WHY_FASTEST:
        snprintf(p->reason, sizeof p->reason,
                 "the highest samples/s of %d batches timed up to %zu, the largest allowed "
                 "(by the budget of %s, the training set and max_batch %zu)",
                 p->n_curve, planned, budget, max_batch);
        break;
    }
}

gsgd_status gsgdi_plan_run(gsgd_model *m, const gsgd_dataset *data, const gsgd_options *o,
                           gsgd_batch_plan **out, gsgd_trainer **keep) {
    const double t0 = gsgdi_now_seconds();
    gsgd_context *ctx = m->ctx;
    *out = NULL;
    if (keep) *keep = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_trainer_check(m, data));
    /* Sparse rows resolve the automatic rate from their norms first: the
     * trainer and the plan keep the rate they run with. */
    gsgd_options sparse_opts;
    double sparse_sq = 0.0;                 /* > 0: the rate is set once the batch is known */
    if (data->sparse && m->n_layers == 1) { /* an MLP's later layers see other scales */
        GSGD_FORWARD_IF_ERROR(gsgdi_dataset_mean_sq_norm(data, m->inv_std, &sparse_sq));
        sparse_opts = *o;
        o = &sparse_opts;
    }
    gsgd_batch_plan *p = calloc(1, sizeof *p);
    GSGD_RETURN_ERROR_IF(!p, ctx, GSGD_STATUS_OUT_OF_MEMORY, "plan: out of memory");
    gsgd_trainer *tr = NULL;
    verify_ctx v = {.m = m, .data = data, .opts = o};
    int tries = 0, default_cap = 0;
    size_t planned = 0, max_batch = 0, capped = 0;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, measure_device(p, m, data, o), fail);

    const size_t fixed_batch = (size_t)o->v[GSGD_BATCH];
    if (fixed_batch > 0) {
        /* The caller's batch is described, checked against the cap (not the
         * headroom, which only protects the planner's own choice) and, for
         * a trainer, allocated as it is. */
        planned = fixed_batch; /* explain() says when it was clamped */
        p->batch = fixed_batch < data->n ? fixed_batch : data->n;
        if (sparse_sq > 0.0) gsgdi_sparse_auto_lr(&sparse_opts, sparse_sq, p->batch);
        p->why = GSGD_WHY_FIXED;
        p->max_fit =
            p->mm.per_sample || p->mm.per_nnz ? gsgdi_mem_model_fit(&p->mm, p->budget.budget) : 0;
        size_t need = gsgdi_mem_model_bytes(&p->mm, p->batch);
        if (need > p->budget.cap) {
            char a[32], b[32];
            st = GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                            "model does not fit: batch %zu needs %s, has %s (%s)", p->batch,
                            gsgdi_fmt_bytes(need, a, sizeof a),
                            gsgdi_fmt_bytes(p->budget.cap, b, sizeof b), p->budget.cap_source);
            goto fail;
        }
        if (keep) {
            /* A trainer at a fixed batch only allocates: no extra step. */
            const size_t saved_peak = ctx->bytes_peak;
            ctx->bytes_peak = ctx->bytes_in_use;
            st = gsgdi_trainer_alloc(m, data, o, p->batch, &tr);
            p->measured = ctx->bytes_peak;
            if (saved_peak > ctx->bytes_peak) ctx->bytes_peak = saved_peak;
            if (st != GSGD_STATUS_OK) goto fail;
        } else {
            GSGD_CHECK_GOTO(st, verify(&v, p->batch, NULL), fail);
            p->measured = v.measured;
        }
    } else {
        default_cap = !(o->v[GSGD_MAX_BATCH] > 0);
        max_batch = default_cap ? ctx->be->default_max_batch : (size_t)o->v[GSGD_MAX_BATCH];
        st = gsgdi_plan_choose_mm(ctx, &p->mm, p->budget.budget, data->n, max_batch, &planned,
                                  &p->max_fit, &p->why);
        if (st != GSGD_STATUS_OK) {
            explain_budget(p, ctx);
            explain_no_fit(p, data);
            goto fail;
        }
        capped = planned;
        gsgdi_plan_min_steps(data->n, (size_t)o->v[GSGD_MIN_EPOCH_STEPS], &planned, &p->why);
        p->batch = planned;
        /* The planned batch's rate (a smaller one after an allocation
         * failure or the fastest policy's choice keeps it). */
        if (sparse_sq > 0.0) gsgdi_sparse_auto_lr(&sparse_opts, sparse_sq, planned);
        const int fastest = (int)o->v[GSGD_BATCH_POLICY] == GSGD_BATCH_FASTEST;
        st = verify(&v, planned, keep || fastest ? &tr : NULL);
        if (st == GSGD_STATUS_OUT_OF_MEMORY || st == GSGD_STATUS_DEVICE_OUT_OF_MEMORY) {
            GSGD_CHECK_GOTO(
                st, gsgdi_plan_bisect(ctx, 0, planned, verify_try, &v, &p->batch, &tries), fail);
            p->why = GSGD_WHY_BISECTED;
            GSGD_CHECK_GOTO(st, verify(&v, p->batch, keep || fastest ? &tr : NULL), fail);
        } else if (st != GSGD_STATUS_OK) {
            goto fail;
        }
        if (fastest) {
            size_t best;
            GSGD_CHECK_GOTO(st, time_candidates(p, tr, p->batch, &best), fail);
            planned = p->batch;
            p->why = GSGD_WHY_FASTEST;
            if (best != p->batch || !keep) {
                gsgdi_trainer_release(tr);
                tr = NULL;
                p->batch = best;
                GSGD_CHECK_GOTO(st, verify(&v, best, keep ? &tr : NULL), fail);
            }
        }
        p->measured = v.measured;
    }
    p->predicted = gsgdi_mem_model_bytes(&p->mm, p->batch);
    p->batch_nnz = gsgdi_mem_model_batch_nnz(&p->mm, p->batch);
    p->lr = gsgdi_base_lr(o) * gsgdi_lr_scale(o, p->batch);
    explain(p, planned, max_batch, default_cap, tries, capped, data->n,
            (size_t)o->v[GSGD_MIN_EPOCH_STEPS]);
    p->seconds = gsgdi_now_seconds() - t0;
    *out = p;
    if (keep) *keep = tr;
    return GSGD_STATUS_OK;
fail:
    gsgdi_trainer_release(tr);
    free(p);
    return st;
}

/* ---- public API -------------------------------------------------------- */

gsgd_status gsgd_plan(gsgd_context *ctx, gsgd_model *model, const gsgd_dataset *data,
                      const gsgd_options *opts, gsgd_batch_plan **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!ctx || !model || !data || !opts) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(model->ctx != ctx || data->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "plan: the model and the data must belong to the context given");
    return gsgdi_plan_run(model, data, opts, out, NULL);
}

void gsgd_plan_free(gsgd_batch_plan *plan) { free(plan); }

size_t gsgd_plan_batch(const gsgd_batch_plan *p) { return p ? p->batch : 0; }
size_t gsgd_plan_max_fit(const gsgd_batch_plan *p) { return p ? p->max_fit : 0; }
size_t gsgd_plan_budget(const gsgd_batch_plan *p) { return p ? p->budget.budget : 0; }
size_t gsgd_plan_fixed(const gsgd_batch_plan *p) { return p ? p->mm.fixed : 0; }
size_t gsgd_plan_per_sample(const gsgd_batch_plan *p) { return p ? p->mm.per_sample : 0; }
size_t gsgd_plan_per_nonzero(const gsgd_batch_plan *p) { return p ? p->mm.per_nnz : 0; }
size_t gsgd_plan_batch_nonzeros(const gsgd_batch_plan *p) { return p ? p->batch_nnz : 0; }
size_t gsgd_plan_predicted(const gsgd_batch_plan *p) { return p ? p->predicted : 0; }
size_t gsgd_plan_measured(const gsgd_batch_plan *p) { return p ? p->measured : 0; }
const char *gsgd_plan_reason(const gsgd_batch_plan *p) { return p ? p->reason : ""; }
double gsgd_plan_lr(const gsgd_batch_plan *p) { return p ? p->lr : 0.0; }
double gsgd_plan_seconds(const gsgd_batch_plan *p) { return p ? p->seconds : 0.0; }
int gsgd_plan_item_count(const gsgd_batch_plan *p) { return p ? p->mm.n_items : 0; }
int gsgd_plan_curve_count(const gsgd_batch_plan *p) { return p ? p->n_curve : 0; }

gsgd_status gsgd_plan_memory(const gsgd_batch_plan *p, size_t *free_bytes, size_t *total_bytes,
                             size_t *cap, size_t *headroom) {
    if (!p) return GSGD_STATUS_INVALID_ARGUMENT;
    if (free_bytes) *free_bytes = p->free_bytes;
    if (total_bytes) *total_bytes = p->total_bytes;
    if (cap) *cap = p->budget.cap;
    if (headroom) *headroom = p->budget.headroom;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_plan_item(const gsgd_batch_plan *p, int i, const char **name, size_t *bytes,
                           int *per_sample, int *resident) {
    if (!p || i < 0 || i >= p->mm.n_items) return GSGD_STATUS_INVALID_ARGUMENT;
    const gsgdi_mem_item *it = &p->mm.items[i];
    if (name) *name = it->name;
    if (bytes) *bytes = it->bytes;
    if (per_sample) *per_sample = it->per_sample;
    if (resident) *resident = it->resident;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_plan_curve(const gsgd_batch_plan *p, int i, size_t *batch,
                            double *samples_per_second) {
    if (!p || i < 0 || i >= p->n_curve) return GSGD_STATUS_INVALID_ARGUMENT;
    if (batch) *batch = p->curve_batch[i];
    if (samples_per_second) *samples_per_second = p->curve_sps[i];
    return GSGD_STATUS_OK;
}
