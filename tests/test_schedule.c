/*
 * Learning-rate schedules (gsgd_schedule) against their defining formulas:
 * PyTorch's StepLR, ExponentialLR, CosineAnnealingLR and
 * CosineAnnealingWarmRestarts (SGDR), scikit-learn's 'invscaling' and
 * 'optimal'; and the automatic defaults of each update rule.
 */
#include <criterion/criterion.h>
#include <math.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "optim/rule.h"
#include "optim/schedule.h"

/* Each rate is a few double operations from the decimals in the comments:
 * equal to 1e-12 relative. */
static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 * fabs(b); }

static gsgd_options *schedule(gsgd_schedule kind, double lr) {
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_SCHEDULE, kind), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_LR, lr), GSGD_STATUS_OK);
    return o;
}

#define EXPECT_RATE(o, epoch, step, steps, want)                                                   \
    do {                                                                                           \
        double got_ = gsgdi_schedule_lr((o), NULL, (epoch), (step), (steps));                      \
        cr_expect(close_to(got_, (want)), "epoch %d step %d: %.17g, want %.17g", (epoch),          \
                  (int)(step), got_, (double)(want));                                              \
    } while (0)

Test(schedule, constant_and_adaptive_hold_the_rate) {
    gsgd_options *o = schedule(GSGD_SCHEDULE_CONSTANT, 0.3);
    EXPECT_RATE(o, 7, 3, 10, 0.3);
    gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_ADAPTIVE); /* the trainer divides */
    EXPECT_RATE(o, 7, 3, 10, 0.3);
    gsgd_options_free(o);
}

Test(schedule, step_decays_every_lr_step_epochs) {
    /* StepLR(step_size=3, gamma=0.5): 0.2 for epochs 0-2, 0.1 for 3-5. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_STEP, 0.2);
    gsgd_set(o, GSGD_LR_STEP, 3);
    gsgd_set(o, GSGD_LR_GAMMA, 0.5);
    EXPECT_RATE(o, 2, 9, 10, 0.2);
    EXPECT_RATE(o, 3, 0, 10, 0.1);
    EXPECT_RATE(o, 6, 0, 10, 0.05);
    /* A constant schedule with LR_STEP set is the same (the older way). */
    gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
    EXPECT_RATE(o, 6, 0, 10, 0.05);
    gsgd_options_free(o);
}

Test(schedule, exponential_multiplies_by_gamma_each_epoch) {
    /* ExponentialLR(gamma=0.9): 0.1 * 0.9^e, constant within an epoch. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_EXPONENTIAL, 0.1);
    gsgd_set(o, GSGD_LR_GAMMA, 0.9);
    EXPECT_RATE(o, 0, 5, 10, 0.1);
    EXPECT_RATE(o, 2, 5, 10, 0.081);
    gsgd_options_free(o);
}

Test(schedule, cosine_anneals_per_step_over_all_epochs) {
    /* CosineAnnealingLR(T_max = 4 epochs, eta_min = 0.01) stepped per
     * batch: lr(e) = 0.01 + 0.09 (1 + cos(pi e / 4)) / 2. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_COSINE, 0.1);
    gsgd_set(o, GSGD_EPOCHS, 4);
    gsgd_set(o, GSGD_LR_MIN, 0.01);
    EXPECT_RATE(o, 0, 0, 10, 0.1);
    EXPECT_RATE(o, 2, 0, 10, 0.055); /* cos(pi/2) = 0 */
    EXPECT_RATE(o, 1, 5, 10, 0.01 + 0.045 * (1 + cos(3.14159265358979323846 * 1.5 / 4)));
    EXPECT_RATE(o, 3, 9, 10, 0.01 + 0.045 * (1 + cos(3.14159265358979323846 * 3.9 / 4)));
    gsgd_options_free(o);
}

Test(schedule, cosine_under_epochs_auto_holds_then_decays_over_the_cooldown) {
    /* EPOCHS 0 (the default) with COSINE and COSINE_PERIOD 0: lr until the
     * loop finds the plateau, then from epoch from = 10, over T = 3 epochs,
     * lr(e) = 0.01 + 0.09 (1 + cos(pi (e - 10) / 3)) / 2, and LR_MIN after. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_COSINE, 0.1);
    gsgd_set(o, GSGD_LR_MIN, 0.01);
    cr_expect(gsgdi_cooldown_applies(o));
    const double pi = 3.14159265358979323846;
    const gsgdi_cooldown none = {0}, cd = {.from = 10, .epochs = 3};
    cr_expect(close_to(gsgdi_schedule_lr(o, NULL, 40, 7, 10), 0.1), "no cooldown yet");
    cr_expect(close_to(gsgdi_schedule_lr(o, &none, 40, 7, 10), 0.1), "no cooldown yet");
    cr_expect(close_to(gsgdi_schedule_lr(o, &cd, 9, 9, 10), 0.1), "before it");
    cr_expect(close_to(gsgdi_schedule_lr(o, &cd, 10, 0, 10), 0.1), "its first step");
    cr_expect(close_to(gsgdi_schedule_lr(o, &cd, 11, 5, 10), 0.055), "halfway: cos(pi/2) = 0");
    cr_expect(
        close_to(gsgdi_schedule_lr(o, &cd, 12, 9, 10), 0.01 + 0.045 * (1 + cos(pi * 2.9 / 3))));
    cr_expect(close_to(gsgdi_schedule_lr(o, &cd, 13, 0, 10), 0.01), "at its end");
    /* Its length: COOLDOWN (0.2) of the epochs trained, rounded, at least 1. */
    cr_expect_eq(gsgdi_cooldown_epochs(o, 37), 7);
    cr_expect_eq(gsgdi_cooldown_epochs(o, 2), 1);
    gsgd_set(o, GSGD_COOLDOWN, 0.5);
    cr_expect_eq(gsgdi_cooldown_epochs(o, 37), 19);
    /* A given EPOCHS, or a given period, is the plain cosine again. */
    gsgd_set(o, GSGD_EPOCHS, 4);
    cr_expect(!gsgdi_cooldown_applies(o));
    EXPECT_RATE(o, 2, 0, 10, 0.055);
    gsgd_set(o, GSGD_EPOCHS, 0);
    gsgd_set(o, GSGD_COSINE_PERIOD, 4);
    cr_expect(!gsgdi_cooldown_applies(o));
    EXPECT_RATE(o, 2, 0, 10, 0.055);
    gsgd_options_free(o);
}

Test(schedule, tol_is_scikit_learns_under_epochs_auto_and_off_for_given_epochs) {
    gsgd_options *o = schedule(GSGD_SCHEDULE_COSINE, 0.1);
    cr_expect_eq(gsgdi_tol(o), 1e-3, "the default: EPOCHS 0, TOL automatic");
    gsgd_set(o, GSGD_EPOCHS, 20);
    cr_expect_eq(gsgdi_tol(o), 0.0, "a given EPOCHS runs all of them");
    gsgd_set(o, GSGD_TOL, 1e-2);
    cr_expect_eq(gsgdi_tol(o), 1e-2, "a given TOL is kept");
    gsgd_options_free(o);
}

Test(schedule, cosine_restarts_with_growing_cycles) {
    /* SGDR with T_0 = 2 epochs, T_mult = 2: cycles [0,2), [2,6), [6,14).
     * At e = 2 and e = 6 the rate restarts at lr; at e = 4, halfway
     * through the second cycle, it is (lr + eta_min) / 2. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_COSINE, 0.1);
    gsgd_set(o, GSGD_COSINE_PERIOD, 2);
    gsgd_set(o, GSGD_COSINE_MULT, 2);
    EXPECT_RATE(o, 1, 0, 4, 0.05);
    EXPECT_RATE(o, 2, 0, 4, 0.1);
    EXPECT_RATE(o, 4, 0, 4, 0.05);
    EXPECT_RATE(o, 6, 0, 4, 0.1);
    EXPECT_RATE(o, 10, 0, 4, 0.05);
    /* T_mult = 1: every cycle is T_0 long. */
    gsgd_set(o, GSGD_COSINE_MULT, 1);
    EXPECT_RATE(o, 5, 0, 4, 0.05);
    EXPECT_RATE(o, 6, 0, 4, 0.1);
    gsgd_options_free(o);
}

Test(schedule, invscaling_is_eta0_over_t_to_the_power_t) {
    /* scikit-learn: eta = eta0 / t^power_t, t the 1-based update count;
     * here t = epoch * steps + step + 1. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_INVSCALING, 0.5);
    gsgd_set(o, GSGD_POWER_T, 0.5);
    EXPECT_RATE(o, 0, 0, 10, 0.5);
    EXPECT_RATE(o, 0, 3, 10, 0.25);  /* t = 4 */
    EXPECT_RATE(o, 1, 5, 10, 0.125); /* t = 16 */
    gsgd_options_free(o);
}

Test(schedule, optimal_follows_scikit_learns_heuristic) {
    /* alpha = 1e-4: typw = sqrt(1 / sqrt(1e-4)) = 10, t0 = 1 / (10 alpha)
     * = 1000, eta = 1 / (alpha (t0 + t - 1)): 10 at t = 1, 5 at t = 1001. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_OPTIMAL, 0.5);
    gsgd_set(o, GSGD_WEIGHT_DECAY, 1e-4);
    EXPECT_RATE(o, 0, 0, 100, 10.0);
    EXPECT_RATE(o, 10, 0, 100, 5.0);
    /* --l1 takes precedence as scikit-learn's alpha. */
    gsgd_set(o, GSGD_L1, 1e-2); /* typw = sqrt(10), t0 = 100 / sqrt(10) */
    EXPECT_RATE(o, 0, 0, 100, sqrt(10.0));
    /* It ignores LR and LR_SCALING. */
    gsgd_set(o, GSGD_LR_SCALING, GSGD_LR_SCALING_LINEAR);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 4096, 100, 0, 0), sqrt(10.0)));
    gsgd_options_free(o);
}

Test(schedule, warmup_scales_the_schedule_it_precedes) {
    /* Two steps of warmup from zero over a cosine of 1 epoch of 4 steps:
     * step 0 is half of the cosine's step-0 rate, step 1 all of step 1's. */
    gsgd_options *o = schedule(GSGD_SCHEDULE_COSINE, 0.1);
    gsgd_set(o, GSGD_EPOCHS, 1);
    gsgd_set(o, GSGD_WARMUP, 0.5);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 64, 4, 0, 0), 0.05));
    cr_expect(
        close_to(gsgdi_lr_at_step(o, NULL, 64, 4, 0, 1), gsgdi_schedule_lr(o, NULL, 0, 1, 4)));
    cr_expect(gsgdi_lr_per_step(o));
    gsgd_options_free(o);
}

Test(schedule, per_step_tables_only_where_the_rate_moves_within_an_epoch) {
    gsgd_options *o = schedule(GSGD_SCHEDULE_EXPONENTIAL, 0.1);
    cr_expect(!gsgdi_lr_per_step(o));
    gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_INVSCALING);
    cr_expect(gsgdi_lr_per_step(o));
    gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_OPTIMAL);
    cr_expect(gsgdi_lr_per_step(o));
    gsgd_options_free(o);
}

Test(defaults, each_rule_resolves_pytorchs_defaults) {
    static const struct {
        gsgd_optim rule;
        double lr, momentum, wd, eps;
    } want[] = {
        {GSGD_OPTIM_SGD, 0.1, 0.9, 0.0, 1e-8},
        {GSGD_OPTIM_MOMENTUM, 0.01, 0.9, 0.0, 1e-8},
        {GSGD_OPTIM_NESTEROV, 0.01, 0.9, 0.0, 1e-8},
        {GSGD_OPTIM_ADAM, 1e-3, 0.9, 0.0, 1e-8},
        {GSGD_OPTIM_ADAMW, 1e-3, 0.9, 0.01, 1e-8},
        {GSGD_OPTIM_ADAGRAD, 1e-2, 0.9, 0.0, 1e-10},
        {GSGD_OPTIM_RMSPROP, 1e-2, 0.0, 0.0, 1e-8},
        {GSGD_OPTIM_LARS, 1.0, 0.9, 0.0, 1e-8}, /* 0.01 (1 - 0.9) / 0.001 */
        {GSGD_OPTIM_LAMB, 1e-3, 0.9, 0.01, 1e-6},
    };
    gsgd_options *o, r;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++) {
        gsgd_set(o, GSGD_OPTIMIZER, want[k].rule);
        gsgdi_resolve_options(o, &r);
        cr_expect(close_to(r.v[GSGD_LR], want[k].lr), "rule %d: lr %g", want[k].rule, r.v[GSGD_LR]);
        cr_expect_eq(r.v[GSGD_MOMENTUM], want[k].momentum, "rule %d", want[k].rule);
        cr_expect_eq(r.v[GSGD_WEIGHT_DECAY], want[k].wd, "rule %d", want[k].rule);
        cr_expect_eq(r.v[GSGD_EPS], want[k].eps, "rule %d", want[k].rule);
    }
    /* Given values are kept. */
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_ADAMW);
    gsgd_set(o, GSGD_WEIGHT_DECAY, 0.0);
    gsgd_set(o, GSGD_LR, 0.5);
    gsgdi_resolve_options(o, &r);
    cr_expect_eq(r.v[GSGD_WEIGHT_DECAY], 0.0);
    cr_expect_eq(r.v[GSGD_LR], 0.5);
    gsgd_options_free(o);
}

Test(defaults, elastic_net_splits_alpha_between_the_prox_and_l2) {
    /* scikit-learn's penalty alpha (r |w|_1 + (1 - r) |w|^2 / 2): the L1
     * part goes to the proximal step, the L2 part to coupled decay on top
     * of WEIGHT_DECAY. */
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_L1, 0.01);
    gsgd_set(o, GSGD_L1_RATIO, 0.25);
    gsgd_set(o, GSGD_WEIGHT_DECAY, 0.001);
    gsgdi_update_rule r = gsgdi_rule_from_options(o, NULL, 10);
    cr_expect_eq(r.l1, (float)0.0025);
    cr_expect_eq(r.weight_decay, (float)(0.001 + 0.0075));
    cr_expect_eq(r.n_segments, 1);
    cr_expect_eq(r.seg[1], 10);
    gsgd_options_free(o);
}
