/* Optimizer rules and schedules (host side is scalar only: the update itself
 * is the backend's one fused pass over the flat buffer). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

struct gsgd_optimizer {
    gsgd_context *ctx;
    gsgd_update_rule rule;
    size_t n;
    float *velocity; /* backend memory, n floats; NULL for plain SGD */
    float *lr;       /* backend memory, 1 float */
};

gsgd_update_rule gsgd_rule_from_options(const gsgd_options *o, size_t n_decay) {
    gsgd_update_rule r = {
        .kind = (gsgd_optim)o->v[GSGD_OPTIMIZER],
        .momentum = (float)o->v[GSGD_MOMENTUM],
        .weight_decay = (float)o->v[GSGD_WEIGHT_DECAY],
        .n_decay = n_decay,
    };
    return r;
}

double gsgd_base_lr(const gsgd_options *o) {
    double lr = o->v[GSGD_LR];
    if (lr > 0.0) return lr;
    return (gsgd_optim)o->v[GSGD_OPTIMIZER] == GSGD_OPTIM_SGD ? 0.1
                                                              : 0.1 * (1.0 - o->v[GSGD_MOMENTUM]);
}

double gsgd_lr_at_epoch(const gsgd_options *o, int epoch) {
    double lr = gsgd_base_lr(o);
    int step = (int)o->v[GSGD_LR_STEP];
    if (step > 0) lr *= pow(o->v[GSGD_LR_GAMMA], (double)(epoch / step));
    return lr;
}

double gsgd_lr_scale(const gsgd_options *o, size_t B) {
    double ratio = (double)B / o->v[GSGD_LR_REF_BATCH];
    switch ((gsgd_lr_scaling)o->v[GSGD_LR_SCALING]) {
    case GSGD_LR_SCALING_LINEAR:
        return ratio;
    case GSGD_LR_SCALING_SQRT:
        return sqrt(ratio);
    case GSGD_LR_SCALING_NONE:
        break;
    }
    return 1.0;
}

size_t gsgd_warmup_steps(const gsgd_options *o, size_t steps_per_epoch) {
    return (size_t)ceil(o->v[GSGD_WARMUP] * (double)steps_per_epoch);
}

/* Goyal et al. (2017) ramp linearly, per step, from the reference batch's
 * rate to the scaled one, so a large scaled rate never meets the large
 * early gradients at full strength. Without an upward scaling there is no
 * smaller rate to start from, and the ramp starts from zero instead (the
 * usual linear warmup); either way step T-1 reaches the target. */
double gsgd_lr_at_step(const gsgd_options *o, size_t B, size_t steps_per_epoch, int epoch,
                       size_t step) {
    const double scale = gsgd_lr_scale(o, B), base = gsgd_lr_at_epoch(o, epoch);
    const double target = base * scale;
    const size_t T = gsgd_warmup_steps(o, steps_per_epoch);
    const size_t t = (size_t)epoch * steps_per_epoch + step;
    if (t >= T) return target;
    const double start = scale > 1.0 ? base : 0.0;
    return start + (target - start) * (double)(t + 1) / (double)T;
}

gsgd_status gsgd_optimizer_create(gsgd_context *ctx, const gsgd_options *opts, size_t n,
                                  gsgd_optimizer **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    RETURN_ERROR_IF(!ctx || !opts, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                    "optimizer_create: NULL context or options");
    gsgd_optimizer *opt = calloc(1, sizeof *opt);
    RETURN_ERROR_IF(!opt, ctx, GSGD_STATUS_OUT_OF_MEMORY, "optimizer_create: out of memory");
    opt->ctx = ctx;
    opt->n = n;
    opt->rule = gsgd_rule_from_options(opts, n);
    gsgd_status st;
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, sizeof(float), (void **)&opt->lr), fail);
    float lr = (float)gsgd_base_lr(opts);
    CHECK_GOTO(st, ctx->be->upload(ctx, opt->lr, &lr, sizeof lr), fail);
    if (opt->rule.kind != GSGD_OPTIM_SGD) {
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, n * sizeof(float), (void **)&opt->velocity), fail);
        CHECK_GOTO(st, ctx->be->zero(ctx, opt->velocity, n * sizeof(float)), fail);
    }
    /* Steps may run on another stream than the context's: the zeroed state
     * must be in place before the first one. */
    CHECK_GOTO(st, ctx->be->sync(ctx), fail);
    *out = opt;
    return GSGD_STATUS_OK;
fail:
    gsgd_optimizer_free(opt);
    return st;
}

void gsgd_optimizer_free(gsgd_optimizer *opt) {
    if (!opt) return;
    gsgd_mem_free(opt->ctx, opt->velocity, opt->n * sizeof(float));
    gsgd_mem_free(opt->ctx, opt->lr, sizeof(float));
    free(opt);
}

gsgd_status gsgd_optimizer_step(gsgd_optimizer *opt, float *params, const float *grads, size_t n,
                                void *stream) {
    if (!opt) return GSGD_STATUS_INVALID_ARGUMENT;
    RETURN_ERROR_IF(!params || !grads, opt->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                    "optimizer_step: NULL buffer");
    RETURN_ERROR_IF(n != opt->n, opt->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                    "optimizer_step: buffer has %zu floats, optimizer was created for %zu", n,
                    opt->n);
    /* Backend ops launch on ctx->stream, so the caller's stream stands in
     * for it during this one enqueue. The update makes no cuBLAS call, so
     * the handle's stream need not follow. The CPU ignores streams. */
    gsgd_context *ctx = opt->ctx;
    void *saved = ctx->stream;
    if (stream) ctx->stream = stream;
    gsgd_status st = ctx->be->update(ctx, &opt->rule, opt->lr, params, grads, opt->velocity, n);
    ctx->stream = saved;
    return st;
}
