/* The trainer of the public API: planned (gsgd_trainer_create: the
 * planner verifies a batch and hands over its buffers), freed, and the
 * replica and gradient-hook setters. Its buffers are buffers.c's, its
 * steps step.c's, its epochs epoch.c's and loop.c's. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"
#include "plan/planner.h"
#include "train/trainer.h"

/* Says when STANDARDIZE = AUTO standardised, with the measure it compared
 * (keeping the features as they are is the quiet case). */
static void log_scaling(gsgd_context *ctx, const gsgd_options *opts, int had, int now,
                        double ratio) {
    if (had || !now || (gsgd_standardize)opts->v[GSGD_STANDARDIZE] != GSGD_STANDARDIZE_AUTO) return;
    gsgdi_log(ctx, GSGD_LOG_INFO,
              "features standardised: their scales span a factor of %.3g (standardize auto: "
              "above %g)",
              ratio, GSGD_STANDARDIZE_AUTO_RATIO);
}

gsgd_status gsgd_trainer_create(gsgd_model *m, const gsgd_dataset *train, const gsgd_options *opts,
                                gsgd_trainer **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!m || !train || !opts) return GSGD_STATUS_INVALID_ARGUMENT;
    /* Early stopping holds out a seeded part of the training set; the
     * copies are made before planning, which counts them as memory in use. */
    gsgd_dataset *part = NULL, *val = NULL;
    const double vf = opts->v[GSGD_VALIDATION_FRACTION];
    if (vf > 0.0) {
        GSGD_FORWARD_IF_ERROR(gsgdi_trainer_check(m, train));
        gsgd_status st = gsgd_dataset_split(train, vf, (uint64_t)opts->v[GSGD_SEED], &part, &val);
        /* The split's message is in the buffer the new one is written to. */
        char why[GSGD_ERROR_LEN];
        snprintf(why, sizeof why, "%s", gsgd_last_error(m->ctx));
        GSGD_RETURN_ERROR_IF(st != GSGD_STATUS_OK, m->ctx, st, "validation_fraction %g: %s", vf,
                             why);
    }
    /* The standardiser comes before planning, which counts it, and from
     * the rows the steps see. */
    const int had_std = m->mean != NULL;
    int standardized = 0;
    double ratio = NAN;
    gsgd_status st = gsgd_model_standardize(m, part ? part : train, opts, &standardized, &ratio);
    gsgd_batch_plan *plan = NULL;
    gsgd_trainer *tr = NULL;
    if (st == GSGD_STATUS_OK) st = gsgdi_plan_run(m, part ? part : train, opts, &plan, &tr);
    if (st != GSGD_STATUS_OK) {
        gsgd_dataset_free(part);
        gsgd_dataset_free(val);
        return st;
    }
    tr->plan = plan;
    tr->own_train = part;
    tr->val = val;
    log_scaling(m->ctx, opts, had_std, standardized, ratio);
    gsgdi_log(m->ctx, GSGD_LOG_INFO, "batch %zu: %s", gsgd_plan_batch(plan),
              gsgd_plan_reason(plan));
    if (val)
        gsgdi_log(m->ctx, GSGD_LOG_INFO,
                  "early stopping on %zu held-out samples; training on the other %zu", val->n,
                  part->n);
    *out = tr;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_plan(const gsgd_trainer *tr, const gsgd_batch_plan **plan) {
    if (!tr || !plan) return GSGD_STATUS_INVALID_ARGUMENT;
    *plan = tr->plan;
    return GSGD_STATUS_OK;
}

void gsgd_trainer_free(gsgd_trainer *tr) {
    if (!tr) return;
    gsgd_batch_plan *plan = tr->plan;
    gsgd_dataset *own_train = tr->own_train, *val = tr->val;
    gsgdi_trainer_release(tr);
    gsgd_plan_free(plan);
    gsgd_dataset_free(own_train);
    gsgd_dataset_free(val);
}

gsgd_status gsgd_trainer_set_grad_hook(gsgd_trainer *tr, gsgd_grad_hook_fn fn, void *user) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    /* The hook takes the whole flat gradient: a lazy trainer materialises
     * it, and updates densely, from now on. */
    if (fn && tr->lazy) {
        GSGD_FORWARD_IF_ERROR(gsgdi_trainer_flush(tr));
        tr->lazy = 0;
    }
    tr->grad_hook = fn;
    tr->grad_hook_user = fn ? user : NULL;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_set_replica(gsgd_trainer *tr, int rank, int n_replicas, int shard) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(
        n_replicas < 1 || rank < 0 || rank >= n_replicas, tr->ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "set_replica: rank %d of %d replicas is not in [0, n_replicas)", rank, n_replicas);
    GSGD_RETURN_ERROR_IF(shard != 0 && shard != 1, tr->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "set_replica: shard must be 0 or 1, got %d", shard);
    /* The step schedule (rows per step, seed) must not change mid-run. */
    GSGD_RETURN_ERROR_IF(tr->steps > 0, tr->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "set_replica: the trainer has already taken %zu steps", tr->steps);
    tr->rank = rank;
    tr->n_replicas = n_replicas;
    tr->shard = shard;
    return GSGD_STATUS_OK;
}

/* Hands the run's state from a trainer to one made for new data: the
 * optimizer state, the guard and the average change owners (the same
 * sizes: one model), the counters are copied, and early stopping starts
 * over (losses on other rows do not compare), as gsgd_trainer_resume_new_data
 * does. What stays with `from` is fresh and is freed with it. */
static void hand_over(gsgd_trainer *to, gsgd_trainer *from) {
    for (int k = 0; k < 2; k++) {
        float *s = to->state[k];
        to->state[k] = from->state[k];
        from->state[k] = s;
    }
    gsgdi_guard *g = to->guard;
    to->guard = from->guard;
    from->guard = g;
    float *a = to->average; /* from's iterate is in the model (use_average 0) */
    to->average = from->average;
    from->average = a;
    to->avg_count = from->avg_count;
    from->avg_count = 0; /* so releasing `from` leaves the model's pointer alone */
    to->epoch = from->epoch;
    to->steps = from->steps;
    to->checked_steps = from->steps;
    to->lr_factor = from->lr_factor;
    to->lr_now = from->lr_now;
    to->bad_seen = from->bad_seen;
    to->grad_hook = from->grad_hook;
    to->grad_hook_user = from->grad_hook_user;
    to->rank = from->rank;
    to->n_replicas = from->n_replicas;
    to->shard = from->shard;
    to->plan = from->plan;
    from->plan = NULL;
}

gsgd_status gsgd_trainer_set_data(gsgd_trainer *tr, const gsgd_dataset *train) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = tr->ctx;
    GSGD_RETURN_ERROR_IF(!train, ctx, GSGD_STATUS_INVALID_ARGUMENT, "set_data: NULL dataset");
    GSGD_RETURN_ERROR_IF(tr->val, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "set_data: the trainer holds out validation_fraction %g of the data it "
                         "was created with; create a new trainer (or resume a checkpoint on the "
                         "new data) to validate on the new rows",
                         tr->opts.v[GSGD_VALIDATION_FRACTION]);
    GSGD_FORWARD_IF_ERROR(gsgdi_trainer_check(tr->m, train));
    const gsgdi_labels *have = tr->m->labels_given ? tr->m->labels : NULL;
    if (have && train->meta.labels && !gsgdi_labels_equal(have, train->meta.labels)) {
        char a[200], b[200];
        gsgdi_labels_summary(have, a, sizeof a);
        gsgdi_labels_summary(train->meta.labels, b, sizeof b);
        return GSGD_ERROR(ctx, GSGD_STATUS_SHAPE_MISMATCH,
                          "set_data: the model's labels are %s, the new data's %s: load the data "
                          "against the model (gsgd_data_set_model) so its labels map to the same "
                          "classes",
                          a, b);
    }
    /* The planned batch, clamped to the new rows as at creation. */
    const size_t B = tr->plan ? gsgd_plan_batch(tr->plan) : tr->B;
    gsgd_trainer *fresh = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_trainer_alloc(tr->m, train, &tr->opts, B, &fresh));
    gsgd_status st = gsgdi_trainer_flush(tr); /* a lazy run's pending decay, applied */
    if (st != GSGD_STATUS_OK) {
        gsgdi_trainer_release(fresh);
        return st;
    }
    gsgdi_trainer_use_average(tr, 0);
    hand_over(fresh, tr);
    gsgdi_trainer_use_average(fresh, 1); /* as gsgd_train leaves it */
    /* tr's handle stays the caller's: the new trainer moves into it, the
     * old buffers out, to be freed. */
    const gsgd_trainer old = *tr;
    *tr = *fresh;
    *fresh = old;
    gsgdi_trainer_release(fresh);
    return GSGD_STATUS_OK;
}
