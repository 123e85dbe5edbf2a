/*
 * Update rules against hand-computed steps of PyTorch's documented SGD:
 *   g = grad + weight_decay * p
 *   momentum:  b = mu * b + g           (b_1 = g)
 *   nesterov:  g = g + mu * b
 *   p = p - lr * (b or g)
 * Every expected value below is worked out in the comment beside it. Each
 * result is one or two fp32 multiply-adds away from the exact decimal, so
 * it must agree to a few ulps (ieee-ulp bound 4).
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "backend/backend.h" /* the learning-rate rules are internal: gsgdi_lr_at_step */
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "optim/schedule.h"

static int ulp_close(float a, double b, int ulps) {
    double diff = fabs((double)a - b);
    return diff <= ulps * fabs(b) * 1.1920929e-07 + 1e-12;
}

typedef struct {
    gsgd_context *ctx;
    gsgd_options *opts;
    gsgd_optimizer *opt;
} fixture;

static fixture setup(gsgd_optim kind, double lr, double mu, double wd, size_t n) {
    fixture f;
    cr_assert_eq(gsgd_context_create(&f.ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_options_create(&f.opts), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(f.opts, GSGD_OPTIMIZER, kind), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(f.opts, GSGD_LR, lr), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(f.opts, GSGD_MOMENTUM, mu), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(f.opts, GSGD_WEIGHT_DECAY, wd), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_optimizer_create(f.ctx, f.opts, n, &f.opt), GSGD_STATUS_OK);
    return f;
}

static void teardown(fixture *f) {
    gsgd_optimizer_free(f->opt);
    gsgd_options_free(f->opts);
    gsgd_context_free(f->ctx);
}

Test(optim, sgd_is_x_minus_lr_dx) {
    fixture f = setup(GSGD_OPTIM_SGD, 0.1, 0.0, 0.0, 3);
    float p[3] = {1.0f, -2.0f, 0.5f}, g[3] = {0.5f, -1.0f, 4.0f};
    cr_assert_eq(gsgd_optimizer_step(f.opt, p, g, 3, NULL), GSGD_STATUS_OK);
    cr_expect(ulp_close(p[0], 0.95, 4)); /* 1 - 0.1*0.5 */
    cr_expect(ulp_close(p[1], -1.9, 4)); /* -2 - 0.1*(-1) */
    cr_expect(ulp_close(p[2], 0.1, 4));  /* 0.5 - 0.1*4 */
    teardown(&f);
}

Test(optim, weight_decay_adds_wd_times_p_to_the_gradient) {
    fixture f = setup(GSGD_OPTIM_SGD, 0.1, 0.0, 0.01, 2);
    float p[2] = {2.0f, -4.0f}, g[2] = {1.0f, 0.0f};
    cr_assert_eq(gsgd_optimizer_step(f.opt, p, g, 2, NULL), GSGD_STATUS_OK);
    cr_expect(ulp_close(p[0], 1.898, 4));  /* 2 - 0.1*(1 + 0.01*2) */
    cr_expect(ulp_close(p[1], -3.996, 4)); /* -4 - 0.1*(0 + 0.01*(-4)) */
    teardown(&f);
}

Test(optim, momentum_matches_pytorch_over_three_steps) {
    fixture f = setup(GSGD_OPTIM_MOMENTUM, 0.1, 0.9, 0.0, 1);
    float p[1] = {1.0f};
    const float g[3] = {1.0f, 2.0f, -1.0f};
    /* b1 = 1          p = 1 - 0.1*1      = 0.9
     * b2 = 0.9+2=2.9  p = 0.9 - 0.29     = 0.61
     * b3 = 2.61-1=1.61 p = 0.61 - 0.161  = 0.449 */
    const double expect[3] = {0.9, 0.61, 0.449};
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(gsgd_optimizer_step(f.opt, p, &g[t], 1, NULL), GSGD_STATUS_OK);
        cr_expect(ulp_close(p[0], expect[t], 8), "step %d: %.9g vs %.9g", t + 1, p[0], expect[t]);
    }
    teardown(&f);
}

Test(optim, nesterov_matches_pytorch_over_three_steps) {
    fixture f = setup(GSGD_OPTIM_NESTEROV, 0.1, 0.9, 0.0, 1);
    float p[1] = {1.0f};
    const float g[3] = {1.0f, 2.0f, -1.0f};
    /* b1 = 1,    step g + 0.9*b = 1.9     p = 1 - 0.19      = 0.81
     * b2 = 2.9,  step 2 + 2.61  = 4.61    p = 0.81 - 0.461  = 0.349
     * b3 = 1.61, step -1 + 1.449 = 0.449  p = 0.349 - 0.0449 = 0.3041 */
    const double expect[3] = {0.81, 0.349, 0.3041};
    for (int t = 0; t < 3; t++) {
        cr_assert_eq(gsgd_optimizer_step(f.opt, p, &g[t], 1, NULL), GSGD_STATUS_OK);
        cr_expect(ulp_close(p[0], expect[t], 16), "step %d: %.9g vs %.9g", t + 1, p[0], expect[t]);
    }
    teardown(&f);
}

Test(optim, momentum_with_weight_decay_decays_inside_the_buffer) {
    fixture f = setup(GSGD_OPTIM_MOMENTUM, 0.5, 0.5, 0.1, 1);
    float p[1] = {1.0f};
    const float g[2] = {0.0f, 0.0f};
    /* g1 = 0.1*1 = 0.1,  b1 = 0.1,             p = 1 - 0.05     = 0.95
     * g2 = 0.095,        b2 = 0.05 + 0.095 = 0.145, p = 0.95 - 0.0725 = 0.8775 */
    const double expect[2] = {0.95, 0.8775};
    for (int t = 0; t < 2; t++) {
        cr_assert_eq(gsgd_optimizer_step(f.opt, p, &g[t], 1, NULL), GSGD_STATUS_OK);
        cr_expect(ulp_close(p[0], expect[t], 8), "step %d: %.9g", t + 1, p[0]);
    }
    teardown(&f);
}

Test(optim, rejects_a_buffer_of_another_length) {
    fixture f = setup(GSGD_OPTIM_SGD, 0.1, 0.0, 0.0, 4);
    float p[3] = {0}, g[3] = {0};
    cr_expect_eq(gsgd_optimizer_step(f.opt, p, g, 3, NULL), GSGD_STATUS_SHAPE_MISMATCH);
    cr_expect(strstr(gsgd_last_error(f.ctx), "3 floats") != NULL);
    teardown(&f);
}

Test(optim, long_buffer_takes_the_parallel_path_and_agrees) {
    /* 100003 floats: above the backend's parallel threshold and not a
     * multiple of any vector width. Every entry gets the same closed form. */
    enum { N = 100003 };
    fixture f = setup(GSGD_OPTIM_NESTEROV, 0.1, 0.9, 0.0, N);
    static float p[N], g[N];
    for (int i = 0; i < N; i++) {
        p[i] = 1.0f;
        g[i] = 1.0f;
    }
    cr_assert_eq(gsgd_optimizer_step(f.opt, p, g, N, NULL), GSGD_STATUS_OK);
    for (int i = 0; i < N; i++)
        if (!ulp_close(p[i], 0.81, 16)) cr_assert_fail("entry %d: %.9g", i, p[i]);
    teardown(&f);
}

/* Adam through the public API: the optimizer keeps m, s and the step count
 * across calls. With a constant gradient g, m_t = (1 - b1^t) g and
 * s_t = (1 - b2^t) g^2, so the bias-corrected step is lr g / (|g| + eps)
 * = lr (to 1e-8) at EVERY step; a step count stuck at 1 would give
 * lr 1.9 / sqrt(1.999) = 1.34 lr at the second. The expected values follow
 * the documented recurrences in double; the bound is test_update.c's:
 * u sum_t (|w_t| + (6t + 10) |D_t|). */
Test(optim, adam_keeps_its_moments_and_step_count_across_calls) {
    fixture f = setup(GSGD_OPTIM_ADAM, 0.001, 0.0, 0.0, 2);
    float p[2] = {1.0f, -1.0f};
    const float g[2] = {0.5f, -2.0f};
    const double b1 = 0.9f, b2 = 0.999f, eps = 1e-8f, lr = 0.001f, u = FLT_EPSILON / 2.0;
    double w[2] = {1.0, -1.0}, m[2] = {0}, s[2] = {0}, bound[2] = {0};
    for (int t = 1; t <= 3; t++) {
        cr_assert_eq(gsgd_optimizer_step(f.opt, p, g, 2, NULL), GSGD_STATUS_OK);
        for (int i = 0; i < 2; i++) {
            m[i] = b1 * m[i] + (1.0 - b1) * g[i];
            s[i] = b2 * s[i] + (1.0 - b2) * g[i] * g[i];
            const double D =
                lr / (1.0 - pow(b1, t)) * m[i] / (sqrt(s[i]) / sqrt(1.0 - pow(b2, t)) + eps);
            w[i] -= D;
            bound[i] += u * (fabs(w[i]) + (6.0 * t + 10.0) * fabs(D));
            cr_expect(fabs(D - copysign(lr, g[i])) <= 1e-7 * lr, "step %d: D = %.9g", t, D);
            cr_expect(fabs(p[i] - w[i]) <= 1.1 * bound[i], "step %d w[%d] = %.9g, exact %.9g", t, i,
                      p[i], w[i]);
        }
    }
    teardown(&f);
}

/* ---- learning rate: scaling with the batch and warmup ------------------- */

/* The rates below are a few double operations from the decimals in the
 * comments: equal to 1e-12 relative. */
static int close_to(double a, double b) { return fabs(a - b) <= 1e-12 * fabs(b); }

static gsgd_options *lr_options(double lr, gsgd_lr_scaling scaling, double warmup) {
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_LR, lr), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_LR_SCALING, scaling), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_WARMUP, warmup), GSGD_STATUS_OK);
    /* The default before issue 17, under which LR_STEP alone means step
     * decay (the warmup test below relies on it). */
    cr_assert_eq(gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT), GSGD_STATUS_OK);
    return o;
}

Test(lr_scaling, linear_and_sqrt_follow_the_batch_from_the_reference) {
    gsgd_options *o = lr_options(0.1, GSGD_LR_SCALING_LINEAR, 0);        /* reference 256 */
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 1024, 10, 0, 0), 0.4)); /* 0.1 * 4 */
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 64, 10, 0, 0), 0.025)); /* 0.1 / 4 */
    gsgd_set(o, GSGD_LR_SCALING, GSGD_LR_SCALING_SQRT);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 1024, 10, 0, 0), 0.2)); /* 0.1 * 2 */
    gsgd_set(o, GSGD_LR_REF_BATCH, 64);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 256, 10, 0, 0), 0.2)); /* 0.1 * sqrt(4) */
    gsgd_set(o, GSGD_LR_SCALING, GSGD_LR_SCALING_NONE);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 4096, 10, 3, 7), 0.1));
    gsgd_options_free(o);
}

Test(lr_scaling, warmup_ramps_per_step_from_the_reference_rate_to_the_scaled_one) {
    /* Goyal et al.: 0.1 at batch 256 scaled to 0.4 at 1024, one epoch of
     * four steps: 0.1 + 0.3 * (t + 1) / 4. */
    gsgd_options *o = lr_options(0.1, GSGD_LR_SCALING_LINEAR, 1.0);
    const double ramp[] = {0.175, 0.25, 0.325, 0.4};
    for (int s = 0; s < 4; s++)
        cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 1024, 4, 0, (size_t)s), ramp[s]),
                  "step %d: %g", s, gsgdi_lr_at_step(o, NULL, 1024, 4, 0, (size_t)s));
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 1024, 4, 1, 0), 0.4), "after the warmup");
    cr_expect_eq(gsgdi_warmup_steps(o, 4), 4);
    gsgd_options_free(o);
}

Test(lr_scaling, warmup_without_upward_scaling_ramps_from_zero_across_epochs) {
    /* Half an epoch of 4 steps (T = 2) at 0.1: 0.05, then 0.1. */
    gsgd_options *o = lr_options(0.1, GSGD_LR_SCALING_NONE, 0.5);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 64, 4, 0, 0), 0.05));
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 64, 4, 0, 1), 0.1));
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 64, 4, 0, 3), 0.1));
    /* Two epochs (T = 8) under step decay by 0.5 every epoch: the second
     * epoch's first step (t = 4) is 0.05 * 5 / 8. */
    gsgd_set(o, GSGD_WARMUP, 2.0);
    gsgd_set(o, GSGD_LR_STEP, 1);
    gsgd_set(o, GSGD_LR_GAMMA, 0.5);
    cr_expect(close_to(gsgdi_lr_at_step(o, NULL, 64, 4, 1, 0), 0.03125));
    gsgd_options_free(o);
}

Test(optim, refuses_a_length_whose_bytes_overflow) {
    gsgd_context *ctx;
    gsgd_options *opts;
    gsgd_optimizer *opt = (gsgd_optimizer *)&opt; /* must come back NULL */
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_options_create(&opts), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_optimizer_create(ctx, opts, SIZE_MAX / 2, &opt), GSGD_STATUS_OUT_OF_RANGE);
    cr_expect_null(opt);
    cr_expect(strstr(gsgd_last_error(ctx), "floats") != NULL, "%s", gsgd_last_error(ctx));
    size_t in_use = 1;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0);
    gsgd_options_free(opts);
    gsgd_context_free(ctx);
}
