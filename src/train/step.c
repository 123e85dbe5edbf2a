/* The one step driver (step.h): a step's gradient, the gradient hook and
 * the fused update, with the marks the bench reads; recording steps into a
 * graph; the planner's probe steps. */
#include "train/step.h"

#include "core/error.h"
#include "core/util.h"

/* Rows of this trainer's dataset that one step consumes: the whole global
 * batch when replicas share the data (each computes a slice of it), this
 * replica's own BATCH when the data is sharded. */
size_t gsgdi_trainer_step_rows(const gsgd_trainer *tr) {
    return tr->shard ? tr->B : tr->B * (size_t)tr->n_replicas;
}

void gsgdi_step_rows(const gsgd_trainer *tr, size_t s, size_t *lo, size_t *b, size_t *global) {
    const size_t n = tr->train->n, G = gsgdi_trainer_step_rows(tr), R = (size_t)tr->n_replicas,
                 r = (size_t)tr->rank;
    const size_t start = s * G, g = n - start < G ? n - start : G;
    *lo = start;
    *b = g;
    *global = tr->shard ? g * R : g;
    if (!tr->shard && R > 1) { /* contiguous, even split of the global batch */
        *lo = start + g * r / R;
        *b = start + g * (r + 1) / R - *lo;
    }
}

static gsgd_status mark(const gsgdi_phase_marks *marks, gsgdi_phase done) {
    return marks ? marks->mark(marks->user, done) : GSGD_STATUS_OK;
}

/* A step over sparse rows: gather the batch's CSR rows and group them by
 * feature (marked as the gather), catch the touched rows of a lazy decay
 * up, forward (CSR x W first), backward (the first layer's weight
 * gradient compact, one row per feature of the batch). Dense updates then
 * take it scattered into the flat gradient, zero elsewhere; a lazy update
 * takes it as it is (update_rows). An empty replica slice contributes
 * zeros (and no rows). */
static gsgd_status sparse_gradient(gsgd_trainer *tr, const gsgdi_step *st, float scale,
                                   gsgd_precision prec, const gsgdi_phase_marks *marks) {
    gsgd_context *ctx = tr->ctx;
    const gsgdi_backend *be = ctx->be;
    gsgd_model *m = tr->m;
    const gsgd_dataset *ds = tr->train;
    const gsgdi_layer *L = &m->layers[0];
    gsgdi_step_buffers *sb = &tr->sb;
    if (st->b == 0) {
        GSGD_FORWARD_IF_ERROR(be->zero(ctx, tr->grads, m->n_params * sizeof(float)));
        GSGD_FORWARD_IF_ERROR(be->zero(ctx, sb->csr.n_feat, sizeof(int32_t)));
        for (int p = GSGDI_PHASE_GATHER; p <= GSGDI_PHASE_BACKWARD; p++)
            GSGD_FORWARD_IF_ERROR(mark(marks, (gsgdi_phase)p));
        return GSGD_STATUS_OK;
    }
    GSGD_FORWARD_IF_ERROR(be->csr_gather(ctx, &ds->csr, ds->y, tr->perm, st->lo, st->b, m->inv_std,
                                         &sb->csr, sb->yb));
    GSGD_FORWARD_IF_ERROR(be->csr_compact(ctx, &sb->csr, st->b, m->n_features));
    GSGD_FORWARD_IF_ERROR(mark(marks, GSGDI_PHASE_GATHER));
    if (tr->lazy && tr->decay.upto)
        GSGD_FORWARD_IF_ERROR(
            be->csr_catch_up(ctx, &sb->csr, m->params + L->w_off, L->out, &tr->decay, st->index));
    GSGD_FORWARD_IF_ERROR(gsgdi_model_csr_forward(m, sb, st->b, prec));
    GSGD_FORWARD_IF_ERROR(mark(marks, GSGDI_PHASE_FORWARD));
    GSGD_FORWARD_IF_ERROR(gsgdi_model_csr_backward(m, sb, st->b, scale, prec, tr->grads));
    if (!tr->lazy) {
        GSGD_FORWARD_IF_ERROR(be->zero(ctx, tr->grads + L->w_off, L->in * L->out * sizeof(float)));
        GSGD_FORWARD_IF_ERROR(be->csr_scatter(ctx, &sb->csr, sb->gW, L->out, tr->grads + L->w_off));
    }
    return mark(marks, GSGDI_PHASE_BACKWARD);
}

gsgd_status gsgdi_step_flat_gradient(gsgd_trainer *tr) {
    if (!tr->lazy) return GSGD_STATUS_OK;
    gsgd_context *ctx = tr->ctx;
    const gsgdi_layer *L = &tr->m->layers[0];
    GSGD_FORWARD_IF_ERROR(ctx->be->zero(ctx, tr->grads + L->w_off, L->in * L->out * sizeof(float)));
    return ctx->be->csr_scatter(ctx, &tr->sb.csr, tr->sb.gW, L->out, tr->grads + L->w_off);
}

/* Scaled by 1/global so that summing it over the replicas gives the mean
 * over the global batch (alone, global == b: the plain mean). */
gsgd_status gsgdi_step_gradient(gsgd_trainer *tr, const gsgdi_step *st,
                                const gsgdi_phase_marks *marks) {
    gsgd_context *ctx = tr->ctx;
    gsgd_model *m = tr->m;
    const gsgd_dataset *ds = tr->train;
    const float scale = 1.0f / (float)st->global;
    const gsgd_precision prec = (gsgd_precision)tr->opts.v[GSGD_PRECISION];
    if (ds->sparse) return sparse_gradient(tr, st, scale, prec, marks);
    if (st->b == 0) {
        GSGD_FORWARD_IF_ERROR(ctx->be->zero(ctx, tr->grads, m->n_params * sizeof(float)));
    } else if (tr->fused) {
        GSGD_FORWARD_IF_ERROR(gsgdi_model_fused_gradient(m, ds, tr->perm, st->lo, st->b, scale,
                                                         prec, tr->grads, tr->sb.acc, tr->fused,
                                                         tr->fused_bytes));
    } else {
        GSGD_FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->xt, ds->y, ds->d, tr->perm, st->lo,
                                              st->b, m->mean, m->inv_std, tr->sb.Xb, tr->sb.yb));
        GSGD_FORWARD_IF_ERROR(mark(marks, GSGDI_PHASE_GATHER));
        GSGD_FORWARD_IF_ERROR(gsgdi_model_forward(m, &tr->sb, st->b, prec));
        GSGD_FORWARD_IF_ERROR(mark(marks, GSGDI_PHASE_FORWARD));
        GSGD_FORWARD_IF_ERROR(
            gsgdi_model_backward_scaled(m, &tr->sb, st->b, scale, prec, tr->grads));
        return mark(marks, GSGDI_PHASE_BACKWARD);
    }
    /* One op (or none): the three marks at once. */
    for (int p = GSGDI_PHASE_GATHER; p <= GSGDI_PHASE_BACKWARD; p++)
        GSGD_FORWARD_IF_ERROR(mark(marks, (gsgdi_phase)p));
    return GSGD_STATUS_OK;
}

/* A lazy step's update: the first layer's weights on the batch's rows
 * (update_rows, with the lazy decay of plain SGD), then every other
 * parameter (the later layers' weights and every bias, the buffer's tail
 * after the first weight matrix) by the rule's dense pass. */
static gsgd_status update_lazy(gsgd_trainer *tr, const gsgdi_step *st) {
    gsgd_context *ctx = tr->ctx;
    gsgd_model *m = tr->m;
    const gsgdi_layer *L = &m->layers[0];
    const size_t off = L->w_off + L->in * L->out;
    gsgdi_guard *guard = st->probe ? NULL : tr->guard;
    const gsgdi_rows_update_args r = {.lr = st->lr,
                                      .W = m->params + L->w_off,
                                      .state = {tr->state[0] ? tr->state[0] + L->w_off : NULL,
                                                tr->state[1] ? tr->state[1] + L->w_off : NULL},
                                      .gW = tr->sb.gW,
                                      .batch = &tr->sb.csr,
                                      .K = L->out,
                                      .t = st->t,
                                      .t_in_epoch = st->t_in_epoch,
                                      .guard = guard,
                                      .step = st->index,
                                      .decay = tr->decay.upto ? &tr->decay : NULL};
    GSGD_FORWARD_IF_ERROR(ctx->be->update_rows(ctx, &tr->rule, &r));
    if (r.decay) tr->decay_pending = 1;
    gsgdi_update_rule tail = tr->rule;
    tail.n_decay = tail.n_decay > off ? tail.n_decay - off : 0;
    const gsgdi_update_args a = {.lr = st->lr,
                                 .params = m->params + off,
                                 .grads = tr->grads + off,
                                 .n = m->n_params - off,
                                 .state = {tr->state[0] ? tr->state[0] + off : NULL,
                                           tr->state[1] ? tr->state[1] + off : NULL},
                                 .work = tr->work,
                                 .t = st->t,
                                 .guard = guard,
                                 .t_in_epoch = st->t_in_epoch};
    return ctx->be->update(ctx, &tail, &a);
}

/* The update of the step just computed: the rule's one fused pass. */
static gsgd_status update(gsgd_trainer *tr, const gsgdi_step *st) {
    if (tr->lazy) return update_lazy(tr, st);
    gsgdi_update_args a = {.lr = st->lr,
                           .params = tr->m->params,
                           .grads = tr->grads,
                           .n = tr->m->n_params,
                           .state = {tr->state[0], tr->state[1]},
                           .work = tr->work,
                           .t = st->t,
                           .guard = st->probe ? NULL : tr->guard,
                           .t_in_epoch = st->t_in_epoch};
    if (!st->probe && tr->average && st->t >= (uint64_t)tr->opts.v[GSGD_AVERAGE]) {
        a.average = tr->average;
        a.avg_rate = 1.0f / (float)(tr->avg_count + 1);
    }
    GSGD_FORWARD_IF_ERROR(tr->ctx->be->update(tr->ctx, &tr->rule, &a));
    if (a.average) tr->avg_count++;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_step_run(gsgd_trainer *tr, const gsgdi_step *st, const gsgdi_phase_marks *marks) {
    gsgd_context *ctx = tr->ctx;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_gradient(tr, st, marks));
    if (tr->grad_hook && !st->probe) {
        gsgd_status hs = tr->grad_hook(tr->grads, tr->m->n_params, ctx->stream, tr->grad_hook_user);
        GSGD_RETURN_ERROR_IF(hs != GSGD_STATUS_OK, ctx, hs,
                             "gradient hook failed (%s) at epoch %d step %zu", gsgd_status_name(hs),
                             tr->epoch + 1, st->index + 1);
    }
    GSGD_FORWARD_IF_ERROR(update(tr, st));
    return mark(marks, GSGDI_PHASE_UPDATE);
}

gsgd_status gsgdi_step_record(gsgd_trainer *tr, gsgd_status (*issue)(gsgd_trainer *, void *),
                              void *user, void **graph) {
    const gsgdi_backend *be = tr->ctx->be;
    *graph = NULL;
    GSGD_RETURN_ERROR_IF(!be->graph_begin, tr->ctx, GSGD_STATUS_UNSUPPORTED,
                         "the %s backend records no graphs", be->name);
    GSGD_FORWARD_IF_ERROR(be->graph_begin(tr->ctx));
    const gsgd_status st = issue(tr, user);
    const gsgd_status end = be->graph_end(tr->ctx, st == GSGD_STATUS_OK ? graph : NULL);
    return st != GSGD_STATUS_OK ? st : end;
}

/* ---- probe steps: the planner's and the bench's ---------------------------- */

gsgd_status gsgdi_step_prepare_probe(gsgd_trainer *tr) {
    gsgd_context *ctx = tr->ctx;
    const float zero = 0.0f;
    GSGD_FORWARD_IF_ERROR(ctx->be->upload(ctx, tr->lr, &zero, sizeof zero));
    GSGD_FORWARD_IF_ERROR(ctx->be->permutation(ctx, (uint64_t)tr->opts.v[GSGD_SEED], 0,
                                               tr->train->n, tr->perm, tr->perm_scratch));
    gsgdi_trainer_use_average(tr, 0);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_trainer_probe(gsgd_trainer *tr, size_t b, int steps, double *seconds) {
    gsgd_context *ctx = tr->ctx;
    const size_t n = tr->train->n;
    if (b > tr->B) b = tr->B;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_prepare_probe(tr));
    for (int s = 0; s < steps; s++) {
        const double t0 = gsgdi_now_seconds();
        const size_t lo = (size_t)s * b % (n - b + 1);
        const gsgdi_step st = {
            .index = (size_t)s, .lo = lo, .b = b, .global = b, .lr = tr->lr, .t = 1, .probe = 1};
        GSGD_FORWARD_IF_ERROR(gsgdi_step_run(tr, &st, NULL));
        if (seconds) {
            GSGD_FORWARD_IF_ERROR(ctx->be->sync(ctx));
            seconds[s] = gsgdi_now_seconds() - t0;
        }
    }
    /* Training must start from the optimizer state a fresh trainer has. */
    return gsgdi_trainer_clear_state(tr);
}

gsgd_status gsgdi_trainer_probe_eval(gsgd_trainer *tr) {
    gsgd_model *m = tr->m;
    GSGD_FORWARD_IF_ERROR(gsgdi_model_gather_forward(m, &tr->sb, tr->train, NULL, 0, tr->B));
    return gsgdi_model_score(m, &tr->sb, tr->B);
}
