/* The embedding primitive: gsgd_optimizer, the fused in-place update on
 * caller-owned buffers. */
#include <stdlib.h>

#include "core/context.h"
#include "core/memory.h"
#include "optim/rule.h"
#include "core/error.h"

struct gsgd_optimizer {
    gsgd_context *ctx;
    gsgdi_update_rule rule;
    size_t n;
    float *state[2]; /* backend memory, n floats each (gsgdi_rule_state_count) */
    float *work;     /* backend memory, gsgdi_rule_work_floats floats */
    size_t work_floats;
    float *lr;  /* backend memory, 1 float */
    uint64_t t; /* steps taken */
};

gsgd_status gsgd_optimizer_create(gsgd_context *ctx, const gsgd_options *opts, size_t n,
                                  gsgd_optimizer **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    GSGD_RETURN_ERROR_IF(!ctx || !opts, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "optimizer_create: NULL context or options");
    size_t bytes;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(n, sizeof(float), &bytes), ctx, GSGD_STATUS_OUT_OF_RANGE,
                         "optimizer_create: %zu floats do not fit in memory's address range", n);
    gsgd_optimizer *opt = calloc(1, sizeof *opt);
    GSGD_RETURN_ERROR_IF(!opt, ctx, GSGD_STATUS_OUT_OF_MEMORY, "optimizer_create: out of memory");
    opt->ctx = ctx;
    opt->n = n;
    opt->rule = gsgdi_rule_from_options(opts, NULL, n);
    /* No guard on caller buffers: skipping needs one, so it is off here. */
    opt->rule.skip_nonfinite = 0;
    opt->work_floats = gsgdi_rule_work_floats(&opt->rule, n);
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, sizeof(float), (void **)&opt->lr), fail);
    float lr = (float)gsgdi_base_lr(opts);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, opt->lr, &lr, sizeof lr), fail);
    for (int k = 0; k < gsgdi_rule_state_count(&opt->rule); k++) {
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, n * sizeof(float), (void **)&opt->state[k]), fail);
        GSGD_CHECK_GOTO(st, ctx->be->zero(ctx, opt->state[k], n * sizeof(float)), fail);
    }
    if (opt->work_floats)
        GSGD_CHECK_GOTO(
            st, gsgdi_mem_alloc(ctx, opt->work_floats * sizeof(float), (void **)&opt->work), fail);
    /* Steps may run on another stream than the context's: the zeroed state
     * must be in place before the first one. */
    GSGD_CHECK_GOTO(st, ctx->be->sync(ctx), fail);
    *out = opt;
    return GSGD_STATUS_OK;
fail:
    gsgd_optimizer_free(opt);
    return st;
}

void gsgd_optimizer_free(gsgd_optimizer *opt) {
    if (!opt) return;
    for (int k = 0; k < 2; k++) gsgdi_mem_free(opt->ctx, opt->state[k], opt->n * sizeof(float));
    gsgdi_mem_free(opt->ctx, opt->work, opt->work_floats * sizeof(float));
    gsgdi_mem_free(opt->ctx, opt->lr, sizeof(float));
    free(opt);
}

gsgd_status gsgd_optimizer_step(gsgd_optimizer *opt, float *params, const float *grads, size_t n,
                                void *stream) {
    if (!opt) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(!params || !grads, opt->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "optimizer_step: NULL buffer");
    GSGD_RETURN_ERROR_IF(n != opt->n, opt->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "optimizer_step: buffer has %zu floats, optimizer was created for %zu", n,
                         opt->n);
    /* Backend ops launch on ctx->stream, so the caller's stream stands in
     * for it during this one enqueue. The update makes no cuBLAS call, so
     * the handle's stream need not follow. The CPU ignores streams. */
    gsgd_context *ctx = opt->ctx;
    gsgdi_update_args a = {.lr = opt->lr,
                           .params = params,
                           .grads = grads,
                           .n = n,
                           .state = {opt->state[0], opt->state[1]},
                           .work = opt->work,
                           .t = ++opt->t};
    void *saved = ctx->stream;
    if (stream) ctx->stream = stream;
    gsgd_status st = ctx->be->update(ctx, &opt->rule, &a);
    ctx->stream = saved;
    if (st != GSGD_STATUS_OK) opt->t--;
    return st;
}
