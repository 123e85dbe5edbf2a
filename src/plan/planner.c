/*
 * The batch-size planner, pure part: memory model, budget, choice of B and
 * the bisection rule (see planner.h). Nothing here allocates device memory
 * or reads the clock; plan.c does, around these functions.
 */
#include "plan/planner.h"
#include "core/memory.h"
#include "core/error.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static size_t add_sat(size_t a, size_t b) { return a > SIZE_MAX - b ? SIZE_MAX : a + b; }

static size_t mul_sat(size_t a, size_t b) {
    size_t r;
    return gsgdi_mul_ok(a, b, &r) ? r : SIZE_MAX;
}

static void add_item(gsgdi_mem_model *mm, size_t bytes, int per_sample, int resident,
                     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void add_item(gsgdi_mem_model *mm, size_t bytes, int per_sample, int resident,
                     const char *fmt, ...) {
    gsgdi_mem_item *it = &mm->items[mm->n_items++];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(it->name, sizeof it->name, fmt, ap);
    va_end(ap);
    it->bytes = bytes;
    it->per_sample = per_sample;
    it->resident = resident;
    if (per_sample == 2)
        mm->per_nnz = add_sat(mm->per_nnz, bytes);
    else if (per_sample)
        mm->per_sample = add_sat(mm->per_sample, bytes);
    else
        mm->fixed = add_sat(mm->fixed, bytes);
    if (!resident) mm->n_buffers++;
}

/* A sparse batch's step buffers (gsgdi_step_buffers_alloc_csr): per row a
 * row pointer and a target; per nonzero its feature, value and row, its
 * place in the grouping by feature, and a row of the compact gradient of
 * the first layer (one per distinct feature, at most one per nonzero);
 * fixed the pointers' ends, the feature count and the grouping's
 * scratch. The layers' outputs follow, as for dense rows. */
static void sparse_batch_items(const gsgdi_mem_inputs *in, gsgdi_mem_model *mm) {
    const size_t K0 = in->m->layers[0].out;
    add_item(mm, 8, 1, 0, "batch row pointers and targets (2 x 4 bytes)");
    mm->n_buffers++;
    add_item(mm, 12, 2, 0, "batch nonzeros: feature, value, row (12 bytes)");
    mm->n_buffers += 2;
    add_item(mm, 12, 2, 0, "batch grouped by feature (12 bytes)");
    mm->n_buffers += 2;
    add_item(mm, K0 * 4, 2, 0, "compact weight gradient (%zu floats a row)", K0);
    add_item(mm, 12 + in->compact_scratch, 0, 0, "grouping scratch and counts");
    mm->n_buffers += 2;
}

void gsgdi_mem_model_build(const gsgdi_mem_inputs *in, gsgdi_mem_model *mm) {
    memset(mm, 0, sizeof *mm);
    const gsgd_model *m = in->m;
    const size_t F = sizeof(float), n = in->n_train, d = m->n_features;
    const size_t pbytes = mul_sat(m->n_params, F);
    if (in->sparse) {
        mm->top_nnz = in->top_nnz;
        mm->n_top = n;
    }

    /* Held before the trainer exists: they count against the budget all
     * the same, since the budget covers gsgd's whole footprint. */
    add_item(mm, pbytes, 0, in->model_resident, "parameters (%zu floats)", m->n_params);
    if (m->mean) add_item(mm, 2 * d * F, 0, in->model_resident, "standardiser (mean, 1/std)");
    /* The caller's own arrays are already out of the free memory and are
     * not gsgd's to budget: listed, at 0 bytes. */
    if (in->data_borrowed && in->sparse) {
        add_item(mm, 0, 0, 1, "training X (CSR, %zu rows, %zu nonzeros, caller's)", n, in->nnz);
        add_item(mm, 0, 0, 1, "training y (%zu, caller's memory)", n);
    } else if (in->sparse) {
        /* indptr, int32 indices (8-byte padded), values: one block */
        const size_t csr =
            add_sat(add_sat(mul_sat(n + 1, 8), mul_sat((in->nnz + 1) / 2, 8)), mul_sat(in->nnz, 4));
        add_item(mm, in->x_host_mapped ? 0 : csr, 0, 1,
                 "training X (CSR, %zu rows, %zu nonzeros%s)", n, in->nnz,
                 in->x_host_mapped ? ", pinned host" : "");
        add_item(mm, mul_sat(n, F), 0, in->data_resident, "training y (%zu)", n);
    } else if (in->data_borrowed) {
        add_item(mm, 0, 0, 1, "training X (%zu x %zu, caller's memory)", n, d);
        add_item(mm, 0, 0, 1, "training y (%zu, caller's memory)", n);
    } else {
        if (in->x_host_mapped)
            add_item(mm, 0, 0, 1, "training X (%zu x %zu, pinned host)", n, d);
        else if (in->x_type == GSGD_XTYPE_U8)
            add_item(mm, mul_sat(n, d), 0, in->data_resident, "training X (%zu x %zu, uint8)", n,
                     d);
        else
            add_item(mm, mul_sat(mul_sat(n, d), F), 0, in->data_resident, "training X (%zu x %zu)",
                     n, d);
        add_item(mm, mul_sat(n, F), 0, in->data_resident, "training y (%zu)", n);
    }
    if (in->other_in_use)
        add_item(mm, in->other_in_use, 0, 1, "other gsgd memory in use (test set, ...)");

    /* The trainer's buffers, in the order gsgd_trainer_create allocates
     * them: the step buffers (gsgdi_step_buffers_alloc), then the rest. */
    if (in->sparse) {
        sparse_batch_items(in, mm);
    } else {
        add_item(mm, d * F, 1, 0, "batch input (%zu floats)", d);
        add_item(mm, F, 1, 0, "batch targets (1 float)");
    }
    for (int l = 0; l < m->n_layers; l++) {
        size_t out = m->layers[l].out;
        if (l == m->n_layers - 1) {
            add_item(mm, out * F, 1, 0, "logits (%zu floats)", out);
            add_item(mm, out * F, 1, 0, "logit gradients (%zu floats)", out);
        } else {
            add_item(mm, out * F, 1, 0, "hidden %d activations (%zu floats)", l + 1, out);
            add_item(mm, out * F, 1, 0, "hidden %d gradients (%zu floats)", l + 1, out);
            if (in->mask_row_bytes[l])
                add_item(mm, in->mask_row_bytes[l], 1, 0, "hidden %d ReLU mask (%zu bytes)", l + 1,
                         in->mask_row_bytes[l]);
        }
    }
    add_item(mm, 2 * sizeof(double), 0, 0, "loss accumulators");
    add_item(mm, pbytes, 0, 0, "gradients");
    for (int k = 0; k < in->n_state; k++) {
        if (in->optim == GSGD_OPTIM_MOMENTUM || in->optim == GSGD_OPTIM_NESTEROV ||
            in->optim == GSGD_OPTIM_LARS)
            add_item(mm, pbytes, 0, 0, "momentum buffer");
        else
            add_item(mm, pbytes, 0, 0, "optimizer state %d of %d", k + 1, in->n_state);
    }
    if (in->work_floats)
        add_item(mm, mul_sat(in->work_floats, F), 0, 0, "update scratch (%zu floats)",
                 in->work_floats);
    if (in->average) add_item(mm, pbytes, 0, 0, "averaged parameters");
    add_item(mm, sizeof(gsgdi_guard), 0, 0, "NaN/Inf guard");
    /* A warmup or schedule changes the rate every step; one entry per step
     * of an epoch, uploaded once per epoch, keeps the copy out of the step
     * loop. Sized for n_train steps (batch 1) so that it does not depend
     * on B. */
    if (in->lr_table)
        add_item(mm, mul_sat(n, F), 0, 0, "learning rates (one per step, %zu)", n);
    else
        add_item(mm, F, 0, 0, "learning rate");
    add_item(mm, mul_sat(n, sizeof(uint32_t)), 0, 0, "permutation (%zu)", n);
    add_item(mm, in->perm_scratch_bytes, 0, 0, "permutation scratch");
    if (in->fused_bytes) add_item(mm, in->fused_bytes, 0, 0, "fused gradient scratch");
    if (in->lazy_decay)
        add_item(mm, add_sat(mul_sat(d, 4), mul_sat(n + 1, 8)), 0, 0,
                 "lazy decay (a step per feature, a sum per step)");
    if (in->workspace_bytes) {
        add_item(mm, in->workspace_bytes, 0, 0, "library workspace (cuBLAS)");
        mm->n_buffers--; /* the library allocates it, not gsgdi_mem_alloc */
    }
}

size_t gsgdi_mem_model_batch_nnz(const gsgdi_mem_model *mm, size_t B) {
    if (!mm->top_nnz) return 0;
    return (size_t)mm->top_nnz[B < mm->n_top ? B : mm->n_top];
}

size_t gsgdi_mem_model_bytes(const gsgdi_mem_model *mm, size_t B) {
    const size_t b = add_sat(mm->fixed, mul_sat(B, mm->per_sample));
    if (!mm->per_nnz) return b;
    /* a batch buffer holds at least one nonzero */
    const size_t nnz = gsgdi_mem_model_batch_nnz(mm, B);
    return add_sat(b, mul_sat(nnz ? nnz : 1, mm->per_nnz));
}

size_t gsgdi_mem_model_fit(const gsgdi_mem_model *mm, size_t budget) {
    if (!mm->per_nnz) {
        if (budget < add_sat(mm->fixed, mm->per_sample)) return 0;
        return mm->per_sample ? (budget - mm->fixed) / mm->per_sample : SIZE_MAX;
    }
    if (gsgdi_mem_model_bytes(mm, 1) > budget) return 0;
    size_t lo = 1, hi = mm->n_top + 1; /* bytes(lo) fits; hi past the data */
    while (hi - lo > 1) {
        const size_t mid = lo + (hi - lo) / 2;
        if (gsgdi_mem_model_bytes(mm, mid) <= budget)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

gsgd_status gsgdi_plan_choose_mm(gsgd_context *ctx, const gsgdi_mem_model *mm, size_t budget,
                                 size_t n_train, size_t max_batch, size_t *batch, size_t *max_fit,
                                 gsgdi_plan_why *why) {
    if (!mm->per_nnz)
        return gsgdi_plan_choose(ctx, mm->fixed, mm->per_sample, budget, n_train, max_batch, batch,
                                 max_fit, why);
    GSGD_RETURN_ERROR_IF(n_train == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT, "planner: no samples");
    const size_t fit = gsgdi_mem_model_fit(mm, budget);
    if (fit == 0) {
        char a[32], b[32];
        const size_t need = gsgdi_mem_model_bytes(mm, 1);
        return GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                          "model does not fit: needs %s (%zu bytes: %zu fixed + %zu for one batch "
                          "row + %zu for each of its %zu nonzeros), has %s (%zu bytes, the budget "
                          "after headroom)",
                          gsgdi_fmt_bytes(need, a, sizeof a), need, mm->fixed, mm->per_sample,
                          mm->per_nnz, gsgdi_mem_model_batch_nnz(mm, 1),
                          gsgdi_fmt_bytes(budget, b, sizeof b), budget);
    }
    *max_fit = fit;
    if (fit >= n_train) {
        *batch = n_train;
        *why = GSGD_WHY_N_TRAIN;
    } else {
        *batch = gsgdi_plan_round(fit);
        *why = GSGD_WHY_MEMORY;
    }
    if (max_batch && max_batch < *batch) {
        *batch = max_batch;
        *why = GSGD_WHY_MAX_BATCH;
    }
    return GSGD_STATUS_OK;
}

void gsgdi_budget_compute(const gsgdi_budget_inputs *in, gsgdi_budget *out) {
    out->cap = add_sat(in->free_bytes, in->in_use);
    out->cap_source = "free memory";
    if (in->ctx_limit && in->ctx_limit < out->cap) {
        out->cap = in->ctx_limit;
        out->cap_source = "context memory limit";
    }
    if (in->opt_limit && in->opt_limit < out->cap) {
        out->cap = in->opt_limit;
        out->cap_source = "memory limit";
    }
    if (in->opt_fraction > 0.0) {
        double f = floor(in->opt_fraction * (double)in->total_bytes);
        size_t frac = f >= (double)SIZE_MAX ? SIZE_MAX : (size_t)f;
        if (frac < out->cap) {
            out->cap = frac;
            out->cap_source = "memory limit (fraction of total)";
        }
    }
    double m = ceil(in->margin * (double)out->cap);
    size_t margin = m >= (double)SIZE_MAX ? SIZE_MAX : (size_t)m;
    out->headroom = add_sat(add_sat(margin, in->reserve), in->rounding);
    out->budget = out->cap > out->headroom ? out->cap - out->headroom : 0;
}

size_t gsgdi_plan_round(size_t B) { return B > 32 ? B / 32 * 32 : B; }

gsgd_status gsgdi_plan_choose(gsgd_context *ctx, size_t fixed, size_t per_sample, size_t budget,
                              size_t n_train, size_t max_batch, size_t *batch, size_t *max_fit,
                              gsgdi_plan_why *why) {
    GSGD_RETURN_ERROR_IF(n_train == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT, "planner: no samples");
    size_t need = add_sat(fixed, per_sample);
    if (budget < need) {
        char a[32], b[32];
        return GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                          "model does not fit: needs %s (%zu bytes: %zu fixed + %zu for one "
                          "batch row), has %s (%zu bytes, the budget after headroom)",
                          gsgdi_fmt_bytes(need, a, sizeof a), need, fixed, per_sample,
                          gsgdi_fmt_bytes(budget, b, sizeof b), budget);
    }
    size_t fit = per_sample ? (budget - fixed) / per_sample : SIZE_MAX;
    *max_fit = fit;
    if (fit >= n_train) {
        *batch = n_train;
        *why = GSGD_WHY_N_TRAIN;
    } else {
        *batch = gsgdi_plan_round(fit);
        *why = GSGD_WHY_MEMORY;
    }
    if (max_batch && max_batch < *batch) {
        *batch = max_batch;
        *why = GSGD_WHY_MAX_BATCH;
    }
    return GSGD_STATUS_OK;
}

void gsgdi_plan_min_steps(size_t n_train, size_t min_steps, size_t *batch, gsgdi_plan_why *why) {
    if (!min_steps) return;
    size_t cap = n_train / min_steps;
    cap = gsgdi_plan_round(cap ? cap : 1);
    if (cap < *batch) {
        *batch = cap;
        *why = GSGD_WHY_MIN_STEPS;
    }
}

/* The grid as indices 1, 2, ...: batches 1..32, then 64, 96, ... */
static size_t grid_batch(size_t i) { return i <= 32 ? i : 32 * (i - 31); }
/* Index of the smallest grid batch >= B. */
static size_t grid_ceil(size_t B) { return B <= 32 ? B : 31 + (B + 31) / 32; }

static int is_alloc_failure(gsgd_status st) {
    return st == GSGD_STATUS_OUT_OF_MEMORY || st == GSGD_STATUS_DEVICE_OUT_OF_MEMORY;
}

gsgd_status gsgdi_plan_bisect(gsgd_context *ctx, size_t lo_ok, size_t hi_fail,
                              gsgdi_plan_try_fn try_batch, void *user, size_t *best, int *tries) {
    *best = 0;
    *tries = 0;
    /* Invariant: grid_batch(lo) succeeded (lo = 0: none yet) and every
     * batch >= grid_batch(hi) fails. lo_ok off the grid is rounded down,
     * which keeps the invariant since smaller batches fit too. */
    size_t lo = lo_ok ? grid_ceil(gsgdi_plan_round(lo_ok)) : 0, hi = grid_ceil(hi_fail);
    if (lo >= hi) lo = hi - 1;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        gsgd_status st = try_batch(grid_batch(mid), user);
        ++*tries;
        if (st == GSGD_STATUS_OK)
            lo = mid;
        else if (is_alloc_failure(st))
            hi = mid;
        else
            return st;
    }
    if (lo == 0) {
        char why[GSGD_ERROR_LEN] = "allocation failed";
        if (ctx) snprintf(why, sizeof why, "%s", gsgd_last_error(ctx));
        return GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                          "model does not fit: the buffers for a batch of 1 row could not be "
                          "allocated (%s)",
                          why);
    }
    *best = grid_batch(lo);
    return GSGD_STATUS_OK;
}

const char *gsgdi_fmt_bytes(size_t bytes, char *buf, size_t size) {
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
    if (bytes < 1024) {
        snprintf(buf, size, "%zu B", bytes);
        return buf;
    }
    double v = (double)bytes / 1024.0;
    int u = 0;
    while (v >= 1024.0 && u < 4) {
        v /= 1024.0;
        u++;
    }
    snprintf(buf, size, "%.2f %s", v, units[u]);
    return buf;
}
