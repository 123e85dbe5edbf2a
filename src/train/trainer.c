/* The trainer's lifetime: create, allocate and free, the replica and
 * gradient-hook setters, and the planner's probes. The step loop is in
 * train_epoch.c, the multi-epoch driver in train_loop.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "train/trainer.h"
#include "optim/rule.h"
#include "optim/schedule.h"
#include "core/util.h"
#include "plan/planner.h"
#include "core/memory.h"
#include "core/error.h"

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
    gsgd_batch_plan *plan = NULL;
    gsgd_trainer *tr = NULL;
    gsgd_status st = gsgdi_plan_run(m, part ? part : train, opts, &plan, &tr);
    if (st != GSGD_STATUS_OK) {
        gsgd_dataset_free(part);
        gsgd_dataset_free(val);
        return st;
    }
    tr->plan = plan;
    tr->own_train = part;
    tr->val = val;
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

gsgd_status gsgdi_trainer_check(const gsgd_model *m, const gsgd_dataset *train) {
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(train->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "trainer: model and data belong to different contexts");
    GSGD_RETURN_ERROR_IF(train->d != m->n_features, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "trainer: model '%s' expects %zu features, data has %zu", m->spec,
                         m->n_features, train->d);
    GSGD_RETURN_ERROR_IF(
        (m->n_classes == 0) != (train->n_classes == 0) || train->n_classes > m->n_classes, ctx,
        GSGD_STATUS_SHAPE_MISMATCH, "trainer: model '%s' has %d classes, data has %d", m->spec,
        m->n_classes, train->n_classes);
    GSGD_RETURN_ERROR_IF(train->n == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT, "trainer: no samples");
    return GSGD_STATUS_OK;
}

/* The guard as a fresh run starts it: no bad step, full learning rate. */
static gsgd_status reset_guard(gsgd_trainer *tr) {
    const gsgdi_guard g = {.lr_factor = 1.0f};
    return tr->ctx->be->upload(tr->ctx, tr->guard, &g, sizeof g);
}

/* Zeroes the optimizer state: a fresh optimizer's. */
static gsgd_status clear_state(gsgd_trainer *tr) {
    for (int k = 0; k < 2; k++)
        if (tr->state[k])
            GSGD_FORWARD_IF_ERROR(
                tr->ctx->be->zero(tr->ctx, tr->state[k], tr->m->n_params * sizeof(float)));
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_trainer_alloc(gsgd_model *m, const gsgd_dataset *train, const gsgd_options *opts,
                                size_t B, gsgd_trainer **out) {
    *out = NULL;
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(B == 0, ctx, GSGD_STATUS_INTERNAL, "trainer: batch 0");
    gsgd_trainer *tr = calloc(1, sizeof *tr);
    GSGD_RETURN_ERROR_IF(!tr, ctx, GSGD_STATUS_OUT_OF_MEMORY, "trainer: out of memory");
    tr->ctx = ctx;
    tr->m = m;
    tr->train = train;
    tr->opts = *opts;
    tr->n_replicas = 1;
    tr->rule = gsgdi_rule_from_options(opts, m, m->n_params);
    tr->work_floats = gsgdi_rule_work_floats(&tr->rule, m->n_params);
    tr->B = B < train->n ? B : train->n;
    tr->lr_factor = 1.0;
    tr->best = NAN;
    /* A warmup or per-step schedule needs a rate per step; an epoch has at
     * most n steps. The planner counts the same n floats (planner.c). */
    tr->lr_len = gsgdi_lr_per_step(opts) ? train->n : 1;

    const gsgdi_backend *be = ctx->be;
    const size_t pbytes = m->n_params * sizeof(float);
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_step_buffers_alloc(m, tr->B, &tr->sb), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&tr->grads), fail);
    for (int k = 0; k < gsgdi_rule_state_count(&tr->rule); k++)
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&tr->state[k]), fail);
    GSGD_CHECK_GOTO(st, clear_state(tr), fail);
    if (tr->work_floats)
        GSGD_CHECK_GOTO(
            st, gsgdi_mem_alloc(ctx, tr->work_floats * sizeof(float), (void **)&tr->work), fail);
    if (opts->v[GSGD_AVERAGE] > 0.0) {
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&tr->average), fail);
        /* The first average step, avg += 1 * (w - avg), gives w exactly
         * only from a finite avg: never from what the allocation held. */
        GSGD_CHECK_GOTO(st, be->zero(ctx, tr->average, pbytes), fail);
    }
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, sizeof(gsgdi_guard), (void **)&tr->guard), fail);
    GSGD_CHECK_GOTO(st, reset_guard(tr), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, tr->lr_len * sizeof(float), (void **)&tr->lr), fail);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, tr->lr_len * sizeof(float), (void **)&tr->lr_host),
                    fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, train->n * sizeof(uint32_t), (void **)&tr->perm),
                    fail);
    tr->perm_scratch_bytes = be->perm_scratch_bytes(train->n);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, tr->perm_scratch_bytes, &tr->perm_scratch), fail);
    tr->fused_bytes = gsgdi_model_fused_bytes(m, train, tr->B);
    if (tr->fused_bytes)
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, tr->fused_bytes, &tr->fused), fail);
    *out = tr;
    return GSGD_STATUS_OK;
fail:
    gsgd_trainer_free(tr);
    return st;
}

/* With AVERAGE, the model's parameter pointer and the average swap places
 * (no copy): on = 1 puts the average in the model (evaluation, saving),
 * on = 0 the iterate (training). Nothing to do before the first average. */
void gsgdi_trainer_use_average(gsgd_trainer *tr, int on) {
    if (!tr->average || tr->avg_count == 0 || tr->avg_swapped == on) return;
    float *p = tr->m->params;
    tr->m->params = tr->average;
    tr->average = p;
    tr->avg_swapped = on;
}

void gsgd_trainer_free(gsgd_trainer *tr) {
    if (!tr) return;
    gsgd_context *ctx = tr->ctx;
    const size_t pbytes = tr->m->n_params * sizeof(float);
    gsgdi_trainer_use_average(tr, 1); /* the model keeps the average, as gsgd_train left it */
    gsgdi_trainer_drop_graphs(tr);
    gsgdi_step_buffers_free(tr->m, &tr->sb);
    gsgdi_mem_free(ctx, tr->grads, pbytes);
    for (int k = 0; k < 2; k++) gsgdi_mem_free(ctx, tr->state[k], pbytes);
    gsgdi_mem_free(ctx, tr->work, tr->work_floats * sizeof(float));
    gsgdi_mem_free(ctx, tr->average, pbytes);
    gsgdi_mem_free(ctx, tr->guard, sizeof(gsgdi_guard));
    gsgdi_mem_free(ctx, tr->lr, tr->lr_len * sizeof(float));
    free(tr->lr_host);
    gsgd_plan_free(tr->plan);
    gsgdi_mem_free(ctx, tr->perm, tr->train->n * sizeof(uint32_t));
    gsgdi_mem_free(ctx, tr->perm_scratch, tr->perm_scratch_bytes);
    gsgdi_mem_free(ctx, tr->fused, tr->fused_bytes);
    gsgd_dataset_free(tr->own_train);
    gsgd_dataset_free(tr->val);
    free(tr);
}

/* ---- probes for the planner ---------------------------------------------- */

gsgd_status gsgdi_trainer_probe(gsgd_trainer *tr, size_t b, int steps, double *seconds) {
    gsgd_context *ctx = tr->ctx;
    const gsgdi_backend *be = ctx->be;
    gsgd_model *m = tr->m;
    const size_t n = tr->train->n;
    if (b > tr->B) b = tr->B;
    /* p -= 0 * direction leaves every finite parameter exactly as it was. */
    const float zero = 0.0f;
    GSGD_FORWARD_IF_ERROR(be->upload(ctx, tr->lr, &zero, sizeof zero));
    GSGD_FORWARD_IF_ERROR(
        be->permutation(ctx, (uint64_t)tr->opts.v[GSGD_SEED], 0, n, tr->perm, tr->perm_scratch));
    gsgdi_trainer_use_average(tr, 0);
    for (int s = 0; s < steps; s++) {
        const double t0 = gsgdi_now_seconds();
        GSGD_FORWARD_IF_ERROR(gsgdi_trainer_local_gradient(tr, (size_t)s * b % (n - b + 1), b, b));
        /* No guard, no average: a probe leaves no trace in either. */
        gsgdi_update_args a = {.lr = tr->lr,
                               .params = m->params,
                               .grads = tr->grads,
                               .n = m->n_params,
                               .state = {tr->state[0], tr->state[1]},
                               .work = tr->work,
                               .t = 1};
        GSGD_FORWARD_IF_ERROR(be->update(ctx, &tr->rule, &a));
        if (seconds) {
            GSGD_FORWARD_IF_ERROR(be->sync(ctx));
            seconds[s] = gsgdi_now_seconds() - t0;
        }
    }
    /* Training must start from the optimizer state a fresh trainer has. */
    return clear_state(tr);
}

gsgd_status gsgdi_trainer_probe_eval(gsgd_trainer *tr) {
    gsgd_context *ctx = tr->ctx;
    gsgd_model *m = tr->m;
    const gsgd_dataset *ds = tr->train;
    GSGD_FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->xt, ds->y, ds->d, NULL, 0, tr->B, m->mean,
                                          m->inv_std, tr->sb.Xb, tr->sb.yb));
    GSGD_FORWARD_IF_ERROR(gsgdi_model_forward(m, &tr->sb, tr->B));
    return gsgdi_model_score(m, &tr->sb, tr->B);
}

gsgd_status gsgd_trainer_set_grad_hook(gsgd_trainer *tr, gsgd_grad_hook_fn fn, void *user) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
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
