/* Optimizer rules and schedules (host side is scalar only: the update itself
 * is the backend's one fused pass over the flat buffer). */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

static const double PI = 3.14159265358979323846;

struct gsgd_optimizer {
    gsgd_context *ctx;
    gsgd_update_rule rule;
    size_t n;
    float *state[2]; /* backend memory, n floats each (gsgd_rule_state_count) */
    float *work;     /* backend memory, gsgd_rule_work_floats floats */
    size_t work_floats;
    float *lr;  /* backend memory, 1 float */
    uint64_t t; /* steps taken */
};

void gsgd_resolve_options(const gsgd_options *in, gsgd_options *out) {
    *out = *in;
    double *v = out->v;
    const gsgd_optim k = (gsgd_optim)v[GSGD_OPTIMIZER];
    if (v[GSGD_MOMENTUM] < 0.0) v[GSGD_MOMENTUM] = k == GSGD_OPTIM_RMSPROP ? 0.0 : 0.9;
    if (v[GSGD_WEIGHT_DECAY] < 0.0)
        v[GSGD_WEIGHT_DECAY] = k == GSGD_OPTIM_ADAMW || k == GSGD_OPTIM_LAMB ? 0.01 : 0.0;
    if (v[GSGD_EPS] < 0.0)
        v[GSGD_EPS] = k == GSGD_OPTIM_ADAGRAD ? 1e-10 : k == GSGD_OPTIM_LAMB ? 1e-6 : 1e-8;
    if (v[GSGD_LR] <= 0.0) {
        switch (k) {
        case GSGD_OPTIM_SGD:
            v[GSGD_LR] = 0.1;
            break;
        case GSGD_OPTIM_MOMENTUM:
        case GSGD_OPTIM_NESTEROV:
            v[GSGD_LR] = 0.1 * (1.0 - v[GSGD_MOMENTUM]);
            break;
        case GSGD_OPTIM_LARS:
            /* Each layer then moves by about 1% of its norm per step: the
             * trust ratio scales the step to eta |w| / |g|, and momentum
             * sums 1 / (1 - mu) of them. On Fashion-MNIST mlp:256,128
             * (3 epochs, batch 64) lr 0.1 reached 0.787, this 1.0 0.832,
             * and 10 diverged. */
            v[GSGD_LR] = 0.01 * (1.0 - v[GSGD_MOMENTUM]) / v[GSGD_TRUST_COEF];
            break;
        case GSGD_OPTIM_ADAM:
        case GSGD_OPTIM_ADAMW:
        case GSGD_OPTIM_LAMB:
            v[GSGD_LR] = 1e-3;
            break;
        case GSGD_OPTIM_ADAGRAD:
        case GSGD_OPTIM_RMSPROP:
            v[GSGD_LR] = 1e-2;
            break;
        }
    }
}

gsgd_update_rule gsgd_rule_from_options(const gsgd_options *opts, const gsgd_model *m, size_t n) {
    gsgd_options o;
    gsgd_resolve_options(opts, &o);
    const double alpha = o.v[GSGD_L1], ratio = o.v[GSGD_L1_RATIO];
    gsgd_update_rule r = {
        .kind = (gsgd_optim)o.v[GSGD_OPTIMIZER],
        .momentum = (float)o.v[GSGD_MOMENTUM],
        .weight_decay = (float)(o.v[GSGD_WEIGHT_DECAY] + alpha * (1.0 - ratio)),
        .beta1 = (float)o.v[GSGD_BETA1],
        .beta2 = (float)o.v[GSGD_BETA2],
        .eps = (float)o.v[GSGD_EPS],
        .alpha = (float)o.v[GSGD_RMS_ALPHA],
        .trust_coef = (float)o.v[GSGD_TRUST_COEF],
        .clip_norm = (float)o.v[GSGD_CLIP_NORM],
        .l1 = (float)(alpha * ratio),
        .skip_nonfinite = (gsgd_on_nan)o.v[GSGD_ON_NAN] == GSGD_ON_NAN_SKIP,
        .n_decay = m ? m->n_decay : n,
    };
    if (m) { /* every weight matrix, then every bias vector */
        for (int l = 0; l < m->n_layers; l++) {
            r.seg[l] = m->layers[l].w_off;
            r.seg[m->n_layers + l] = m->layers[l].b_off;
        }
        r.n_segments = 2 * m->n_layers;
        r.seg[r.n_segments] = m->n_params;
    } else {
        r.n_segments = 1;
        r.seg[1] = n;
    }
    return r;
}

int gsgd_rule_state_count(const gsgd_update_rule *rule) {
    switch (rule->kind) {
    case GSGD_OPTIM_SGD:
        return 0;
    case GSGD_OPTIM_MOMENTUM:
    case GSGD_OPTIM_NESTEROV:
    case GSGD_OPTIM_LARS:
    case GSGD_OPTIM_ADAGRAD:
        return 1;
    case GSGD_OPTIM_RMSPROP:
        return rule->momentum > 0.0f ? 2 : 1;
    case GSGD_OPTIM_ADAM:
    case GSGD_OPTIM_ADAMW:
    case GSGD_OPTIM_LAMB:
        return 2;
    }
    return 0;
}

size_t gsgd_rule_work_floats(const gsgd_update_rule *rule, size_t n) {
    if (rule->kind == GSGD_OPTIM_LAMB) return GSGD_WORK_HEAD + n;
    if (rule->kind == GSGD_OPTIM_LARS || rule->clip_norm > 0.0f || rule->skip_nonfinite)
        return GSGD_WORK_HEAD;
    return 0;
}

double gsgd_base_lr(const gsgd_options *o) {
    gsgd_options r;
    gsgd_resolve_options(o, &r);
    return r.v[GSGD_LR];
}

int gsgd_schedule_per_step(const gsgd_options *o) {
    const gsgd_schedule s = (gsgd_schedule)o->v[GSGD_SCHEDULE];
    return s == GSGD_SCHEDULE_COSINE || s == GSGD_SCHEDULE_INVSCALING || s == GSGD_SCHEDULE_OPTIMAL;
}

int gsgd_lr_per_step(const gsgd_options *o) {
    return o->v[GSGD_WARMUP] > 0.0 || gsgd_schedule_per_step(o);
}

/* Epochs into the current cosine cycle and that cycle's length (SGDR,
 * Loshchilov and Hutter 2017: cycle c lasts T0 mult^c epochs). */
static void cosine_cycle(double e, double T0, double mult, double *into, double *T) {
    if (mult == 1.0) {
        *into = fmod(e, T0);
        *T = T0;
        return;
    }
    const double c = floor(log(e / T0 * (mult - 1.0) + 1.0) / log(mult));
    const double start = T0 * (pow(mult, c) - 1.0) / (mult - 1.0);
    *T = T0 * pow(mult, c);
    *into = e - start;
    if (*into >= *T) { /* rounding at a cycle's end */
        *into -= *T;
        *T *= mult;
    }
}

/* scikit-learn's 'optimal' (Bottou): t0 chosen so that the first step's
 * rate is typw = sqrt(1 / sqrt(alpha)), a typical weight's size; the loss
 * derivative at -typw is at most 1 for the log and hinge losses. */
static double optimal_lr(double alpha, double t) {
    const double typw = sqrt(1.0 / sqrt(alpha));
    const double t0 = 1.0 / (typw * alpha);
    return 1.0 / (alpha * (t0 + t - 1.0));
}

double gsgd_schedule_lr(const gsgd_options *o, int epoch, size_t step, size_t steps_per_epoch) {
    const double base = gsgd_base_lr(o);
    const double e = (double)epoch + (double)step / (double)steps_per_epoch;
    const double t = (double)epoch * (double)steps_per_epoch + (double)step + 1.0;
    gsgd_schedule kind = (gsgd_schedule)o->v[GSGD_SCHEDULE];
    if (kind == GSGD_SCHEDULE_CONSTANT && o->v[GSGD_LR_STEP] > 0) kind = GSGD_SCHEDULE_STEP;
    switch (kind) {
    case GSGD_SCHEDULE_CONSTANT:
    case GSGD_SCHEDULE_ADAPTIVE: /* the trainer divides by 5 */
        return base;
    case GSGD_SCHEDULE_STEP: {
        const int every = (int)o->v[GSGD_LR_STEP];
        return every > 0 ? base * pow(o->v[GSGD_LR_GAMMA], (double)(epoch / every)) : base;
    }
    case GSGD_SCHEDULE_EXPONENTIAL:
        return base * pow(o->v[GSGD_LR_GAMMA], (double)epoch);
    case GSGD_SCHEDULE_COSINE: {
        const double T0 =
            o->v[GSGD_COSINE_PERIOD] > 0.0 ? o->v[GSGD_COSINE_PERIOD] : o->v[GSGD_EPOCHS];
        double into, T;
        cosine_cycle(e, T0, o->v[GSGD_COSINE_MULT], &into, &T);
        const double lo = o->v[GSGD_LR_MIN];
        return lo + (base - lo) * 0.5 * (1.0 + cos(PI * into / T));
    }
    case GSGD_SCHEDULE_INVSCALING:
        return base / pow(t, o->v[GSGD_POWER_T]);
    case GSGD_SCHEDULE_OPTIMAL: {
        const double alpha = o->v[GSGD_L1] > 0.0 ? o->v[GSGD_L1] : o->v[GSGD_WEIGHT_DECAY];
        return alpha > 0.0 ? optimal_lr(alpha, t) : base;
    }
    }
    return base;
}

double gsgd_lr_at_epoch(const gsgd_options *o, int epoch) {
    return gsgd_schedule_lr(o, epoch, 0, 1);
}

double gsgd_lr_scale(const gsgd_options *o, size_t B) {
    if ((gsgd_schedule)o->v[GSGD_SCHEDULE] == GSGD_SCHEDULE_OPTIMAL) return 1.0;
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
 * usual linear warmup); either way step T-1 reaches the target. The
 * schedule runs on its own clock: warmup only scales it. */
double gsgd_lr_at_step(const gsgd_options *o, size_t B, size_t steps_per_epoch, int epoch,
                       size_t step) {
    const double scale = gsgd_lr_scale(o, B);
    const double base = gsgd_schedule_lr(o, epoch, step, steps_per_epoch);
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
    opt->rule = gsgd_rule_from_options(opts, NULL, n);
    /* No guard on caller buffers: skipping needs one, so it is off here. */
    opt->rule.skip_nonfinite = 0;
    opt->work_floats = gsgd_rule_work_floats(&opt->rule, n);
    gsgd_status st;
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, sizeof(float), (void **)&opt->lr), fail);
    float lr = (float)gsgd_base_lr(opts);
    CHECK_GOTO(st, ctx->be->upload(ctx, opt->lr, &lr, sizeof lr), fail);
    for (int k = 0; k < gsgd_rule_state_count(&opt->rule); k++) {
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, n * sizeof(float), (void **)&opt->state[k]), fail);
        CHECK_GOTO(st, ctx->be->zero(ctx, opt->state[k], n * sizeof(float)), fail);
    }
    if (opt->work_floats)
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, opt->work_floats * sizeof(float), (void **)&opt->work),
                   fail);
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
    for (int k = 0; k < 2; k++) gsgd_mem_free(opt->ctx, opt->state[k], opt->n * sizeof(float));
    gsgd_mem_free(opt->ctx, opt->work, opt->work_floats * sizeof(float));
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
    gsgd_update_args a = {.lr = opt->lr,
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
