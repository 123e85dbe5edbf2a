/* Learning-rate schedules, LR_SCALING and warmup: the rate of every step,
 * computed on the host once per epoch (the trainer uploads them). */
#include "optim/schedule.h"

#include <math.h>

#include "optim/rule.h"

static const double PI = 3.14159265358979323846;

int gsgdi_cooldown_applies(const gsgd_options *o) {
    return o->v[GSGD_EPOCHS] == 0.0 && (gsgd_schedule)o->v[GSGD_SCHEDULE] == GSGD_SCHEDULE_COSINE &&
           !(o->v[GSGD_COSINE_PERIOD] > 0.0);
}

int gsgdi_cooldown_epochs(const gsgd_options *o, int epochs) {
    const double e = floor(o->v[GSGD_COOLDOWN] * (double)epochs + 0.5);
    return e < 1.0 ? 1 : e > 1e6 ? 1000000 : (int)e;
}

double gsgdi_tol(const gsgd_options *o) {
    const double tol = o->v[GSGD_TOL];
    if (tol >= 0.0) return tol;
    return o->v[GSGD_EPOCHS] == 0.0 ? 1e-3 : 0.0;
}

int gsgdi_schedule_per_step(const gsgd_options *o) {
    const gsgd_schedule s = (gsgd_schedule)o->v[GSGD_SCHEDULE];
    return s == GSGD_SCHEDULE_COSINE || s == GSGD_SCHEDULE_INVSCALING || s == GSGD_SCHEDULE_OPTIMAL;
}

int gsgdi_lr_per_step(const gsgd_options *o) {
    return o->v[GSGD_WARMUP] > 0.0 || gsgdi_schedule_per_step(o);
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

/* Half a cosine cycle from base down to lo over the cooldown, base before
 * it: the rate of EPOCHS 0 (Hu et al. 2024's warmup-stable-decay, whose
 * decay to the end recovers what a cosine over a known length gives:
 * Hägele et al. 2024). */
static double cosine_cooldown(const gsgd_options *o, const gsgdi_cooldown *cd, double base,
                              double e) {
    if (!cd || cd->epochs <= 0 || e < (double)cd->from) return base;
    const double into = fmin(e - (double)cd->from, (double)cd->epochs);
    const double lo = o->v[GSGD_LR_MIN];
    return lo + (base - lo) * 0.5 * (1.0 + cos(PI * into / (double)cd->epochs));
}

double gsgdi_schedule_lr(const gsgd_options *o, const gsgdi_cooldown *cd, int epoch, size_t step,
                         size_t steps_per_epoch) {
    const double base = gsgdi_base_lr(o);
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
        if (gsgdi_cooldown_applies(o)) return cosine_cooldown(o, cd, base, e);
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

double gsgdi_lr_at_epoch(const gsgd_options *o, int epoch) {
    return gsgdi_schedule_lr(o, NULL, epoch, 0, 1);
}

double gsgdi_lr_scale(const gsgd_options *o, size_t B) {
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

size_t gsgdi_warmup_steps(const gsgd_options *o, size_t steps_per_epoch) {
    return (size_t)ceil(o->v[GSGD_WARMUP] * (double)steps_per_epoch);
}

/* Goyal et al. (2017) ramp linearly, per step, from the reference batch's
 * rate to the scaled one, so a large scaled rate never meets the large
 * early gradients at full strength. Without an upward scaling there is no
 * smaller rate to start from, and the ramp starts from zero instead (the
 * usual linear warmup); either way step T-1 reaches the target. The
 * schedule runs on its own clock: warmup only scales it. */
double gsgdi_lr_at_step(const gsgd_options *o, const gsgdi_cooldown *cd, size_t B,
                        size_t steps_per_epoch, int epoch, size_t step) {
    const double scale = gsgdi_lr_scale(o, B);
    const double base = gsgdi_schedule_lr(o, cd, epoch, step, steps_per_epoch);
    const double target = base * scale;
    const size_t T = gsgdi_warmup_steps(o, steps_per_epoch);
    const size_t t = (size_t)epoch * steps_per_epoch + step;
    if (t >= T) return target;
    const double start = scale > 1.0 ? base : 0.0;
    return start + (target - start) * (double)(t + 1) / (double)T;
}
