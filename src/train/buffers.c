/* The trainer's buffers: every one a step needs, allocated once per batch
 * size (gsgdi_trainer_alloc), so the step loop allocates nothing; the
 * optimizer state and the guard as a fresh run starts them; the average
 * swapped in and out of the model; the recorded steps released. */
#include <math.h>
#include <stdlib.h>

#include "core/error.h"
#include "core/memory.h"
#include "optim/rule.h"
#include "optim/schedule.h"
#include "backend/update_math.h"
#include "train/trainer.h"

gsgd_status gsgdi_trainer_check(const gsgd_model *m, const gsgd_dataset *train) {
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(train->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "trainer: model and data belong to different contexts");
    GSGD_RETURN_ERROR_IF(train->d != m->n_features && !(train->sparse && train->d < m->n_features),
                         ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "trainer: model '%s' expects %zu features, data has %zu", m->spec,
                         m->n_features, train->d);
    GSGD_FORWARD_IF_ERROR(gsgdi_model_check_sparse(m, train));
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

gsgd_status gsgdi_trainer_clear_state(gsgd_trainer *tr) {
    for (int k = 0; k < 2; k++)
        if (tr->state[k])
            GSGD_FORWARD_IF_ERROR(
                tr->ctx->be->zero(tr->ctx, tr->state[k], tr->m->n_params * sizeof(float)));
    tr->decay_pending = 0;
    if (tr->decay.upto) { /* nothing pending: a fresh run's */
        GSGD_FORWARD_IF_ERROR(
            tr->ctx->be->zero(tr->ctx, tr->decay.upto, tr->m->n_features * sizeof(uint32_t)));
        GSGD_FORWARD_IF_ERROR(
            tr->ctx->be->zero(tr->ctx, tr->decay.logf, tr->decay.len * sizeof(double)));
    }
    return GSGD_STATUS_OK;
}

int gsgdi_trainer_lazy(const gsgdi_update_rule *rule, const gsgd_options *opts,
                       const gsgd_dataset *train) {
    return train->sparse && gsgdi_rule_updates_rows(rule) && !(opts->v[GSGD_AVERAGE] > 0.0) &&
           gsgdi_env_switch("GSGD_SPARSE_LAZY", 1);
}

/* The rows of the first layer's weights W (d x K at offset 0). */
gsgd_status gsgdi_trainer_flush(gsgd_trainer *tr) {
    if (!tr->lazy || !tr->decay.upto || !tr->decay.logf || !tr->decay_pending)
        return GSGD_STATUS_OK;
    const gsgdi_layer *L = &tr->m->layers[0];
    GSGD_FORWARD_IF_ERROR(tr->ctx->be->csr_flush(tr->ctx, tr->m->params + L->w_off, L->in, L->out,
                                                 &tr->decay, tr->epoch_step));
    tr->decay_pending = 0;
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
    GSGD_CHECK_GOTO(st, gsgdi_step_buffers_alloc_for(m, train, tr->B, 1, &tr->sb), fail);
    tr->lazy = gsgdi_trainer_lazy(&tr->rule, opts, train);
    if (tr->lazy && tr->rule.kind == GSGD_OPTIM_SGD && tr->rule.weight_decay > 0.0f) {
        /* a rate per step of an epoch, and the sum before the first */
        tr->decay.len = train->n + 1;
        GSGD_CHECK_GOTO(
            st, gsgdi_mem_alloc(ctx, m->n_features * sizeof(uint32_t), (void **)&tr->decay.upto),
            fail);
        GSGD_CHECK_GOTO(
            st, gsgdi_mem_alloc(ctx, tr->decay.len * sizeof(double), (void **)&tr->decay.logf),
            fail);
    }
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&tr->grads), fail);
    for (int k = 0; k < gsgdi_rule_state_count(&tr->rule); k++)
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&tr->state[k]), fail);
    GSGD_CHECK_GOTO(st, gsgdi_trainer_clear_state(tr), fail);
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
    gsgdi_trainer_release(tr);
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

void gsgdi_trainer_release(gsgd_trainer *tr) {
    if (!tr) return;
    gsgd_context *ctx = tr->ctx;
    const size_t pbytes = tr->m->n_params * sizeof(float);
    gsgdi_trainer_use_average(tr, 1); /* the model keeps the average, as gsgd_train left it */
    (void)gsgdi_trainer_flush(tr);    /* and a lazy run's true weights */
    gsgdi_trainer_drop_graphs(tr);
    gsgdi_step_buffers_free(tr->m, &tr->sb);
    gsgdi_mem_free(ctx, tr->grads, pbytes);
    for (int k = 0; k < 2; k++) gsgdi_mem_free(ctx, tr->state[k], pbytes);
    gsgdi_mem_free(ctx, tr->work, tr->work_floats * sizeof(float));
    gsgdi_mem_free(ctx, tr->average, pbytes);
    gsgdi_mem_free(ctx, tr->guard, sizeof(gsgdi_guard));
    gsgdi_mem_free(ctx, tr->lr, tr->lr_len * sizeof(float));
    free(tr->lr_host);
    gsgdi_mem_free(ctx, tr->perm, tr->train->n * sizeof(uint32_t));
    gsgdi_mem_free(ctx, tr->perm_scratch, tr->perm_scratch_bytes);
    gsgdi_mem_free(ctx, tr->fused, tr->fused_bytes);
    gsgdi_mem_free(ctx, tr->decay.upto, tr->m->n_features * sizeof(uint32_t));
    gsgdi_mem_free(ctx, tr->decay.logf, tr->decay.len * sizeof(double));
    free(tr);
}

void gsgdi_trainer_drop_graphs(gsgd_trainer *tr) {
    for (size_t k = 0; k < tr->n_graphs; k++)
        if (tr->graphs[k]) tr->ctx->be->graph_free(tr->ctx, tr->graphs[k]);
    free(tr->graphs);
    tr->graphs = NULL;
    tr->n_graphs = 0;
}
