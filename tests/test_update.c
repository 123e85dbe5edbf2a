/*
 * The CPU backend's update op (the reference every other backend is checked
 * against) against the formulas of gsgd.h's gsgd_optim, computed here in
 * double.
 *
 * Error bound. The backend rounds after every fp32 operation (unit
 * roundoff u = FLT_EPSILON / 2) and the test picks inputs without
 * cancellation, so each rounding perturbs its result by at most u relative,
 * to first order. A step w' = w - D then errs by u |w'| (the subtraction)
 * plus R u |D|, R the roundings D depends on: at most 10 in D itself (the
 * longest chain, Adam's with coupled decay: g + wd w, the bias corrections,
 * sqrt, two divisions, eps, the final product) plus 6 per step of state it
 * carries (Adam's s: three products and a sum, halved by the sqrt; m: three
 * operations). Errors of earlier steps carry over additively, so after T
 * steps |w_float - w_exact| <= u sum_t (|w_t| + (6t + 10) |D_t|), and the
 * test allows 10% over that for the second-order terms. Layer-wise rules
 * add the roundings of their per-segment norms and ratio (10 more).
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

#define U (FLT_EPSILON / 2.0)
#define N_MAX 16

typedef struct {
    gsgd_context *ctx;
    gsgdi_update_rule rule;
    float lr;
    float s0[N_MAX], s1[N_MAX], avg[N_MAX];
    float work[GSGD_WORK_HEAD + N_MAX];
    uint64_t t;
    gsgdi_guard *guard;
} runner;

static runner make_runner(gsgd_optim kind, size_t n, size_t n_decay, float lr) {
    runner r;
    memset(&r, 0, sizeof r);
    cr_assert_eq(gsgd_context_create(&r.ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    r.rule = (gsgdi_update_rule){.kind = kind,
                                 .momentum = 0.9f,
                                 .weight_decay = 0.1f,
                                 .beta1 = 0.9f,
                                 .beta2 = 0.999f,
                                 .eps = 1e-8f,
                                 .alpha = 0.99f,
                                 .trust_coef = 0.02f,
                                 .n_decay = n_decay,
                                 .n_segments = 1,
                                 .seg = {0, n}};
    r.lr = lr;
    return r;
}

/* One update of p by g through the backend's op; avg_rate < 0: no average. */
static gsgd_status step(runner *r, float *p, const float *g, size_t n, float avg_rate) {
    gsgdi_update_args a = {.lr = &r->lr,
                           .params = p,
                           .grads = g,
                           .n = n,
                           .state = {r->s0, r->s1},
                           .work = r->work,
                           .average = avg_rate >= 0.0f ? r->avg : NULL,
                           .avg_rate = avg_rate,
                           .t = ++r->t,
                           .guard = r->guard};
    return r->ctx->be->update(r->ctx, &r->rule, &a);
}

static void step_ok(runner *r, float *p, const float *g, size_t n, float avg_rate) {
    cr_assert_eq(step(r, p, g, n, avg_rate), GSGD_STATUS_OK, "%s", gsgd_last_error(r->ctx));
}

/* One step of an elementwise rule on one element, in double, as gsgd.h
 * writes it. Returns |D|, the size of the step. */
static double ref_step(const gsgdi_update_rule *r, double lr, int t, int decay, double g, double *w,
                       double *s0, double *s1) {
    const double w0 = *w, wd = decay ? r->weight_decay : 0.0, mu = r->momentum;
    const double b1 = r->beta1, b2 = r->beta2, eps = r->eps, a = r->alpha;
    const double ge = r->kind == GSGD_OPTIM_ADAMW ? g : g + wd * w0; /* coupled decay */
    switch (r->kind) {
    case GSGD_OPTIM_SGD:
        *w -= lr * ge;
        break;
    case GSGD_OPTIM_MOMENTUM:
        *s0 = mu * *s0 + ge;
        *w -= lr * *s0;
        break;
    case GSGD_OPTIM_NESTEROV:
        *s0 = mu * *s0 + ge;
        *w -= lr * (ge + mu * *s0);
        break;
    case GSGD_OPTIM_ADAMW:
        *w -= lr * wd * w0; /* decoupled, before Adam's step */
        /* fall through */
    case GSGD_OPTIM_ADAM:
        *s0 = b1 * *s0 + (1.0 - b1) * ge;
        *s1 = b2 * *s1 + (1.0 - b2) * ge * ge;
        *w -= lr / (1.0 - pow(b1, t)) * *s0 / (sqrt(*s1) / sqrt(1.0 - pow(b2, t)) + eps);
        break;
    case GSGD_OPTIM_ADAGRAD:
        *s0 += ge * ge;
        *w -= lr * ge / (sqrt(*s0) + eps);
        break;
    case GSGD_OPTIM_RMSPROP: {
        *s0 = a * *s0 + (1.0 - a) * ge * ge;
        double d = ge / (sqrt(*s0) + eps);
        if (mu > 0.0) d = *s1 = mu * *s1 + d;
        *w -= lr * d;
        break;
    }
    default:
        cr_assert_fail("ref_step: rule %d is layer-wise", r->kind);
    }
    return fabs(*w - w0);
}

/* Three steps of an elementwise rule on five floats, three of them weights
 * (decayed) and two biases, against ref_step within the header's bound. */
static void check_elementwise(gsgd_optim kind, float mu) {
    enum { N = 5, ND = 3, T = 3 };
    const float w0[N] = {0.8f, -1.5f, 0.3f, 2.0f, -0.7f};
    const float gbase[T] = {0.5f, -1.25f, 2.0f}; /* no cancellation in m, v */
    runner r = make_runner(kind, N, ND, 0.05f);
    r.rule.momentum = mu;
    float p[N];
    double w[N], s0[N] = {0}, s1[N] = {0}, bound[N] = {0};
    for (int i = 0; i < N; i++) w[i] = p[i] = w0[i];
    for (int t = 1; t <= T; t++) {
        float g[N];
        for (int i = 0; i < N; i++) g[i] = gbase[t - 1] * (1.0f + 0.25f * (float)i);
        step_ok(&r, p, g, N, -1.0f);
        for (int i = 0; i < N; i++) {
            double D = ref_step(&r.rule, r.lr, t, i < ND, g[i], &w[i], &s0[i], &s1[i]);
            bound[i] += U * (fabs(w[i]) + (6.0 * t + 10.0) * D);
            cr_expect(fabs(p[i] - w[i]) <= 1.1 * bound[i],
                      "rule %d mu %g step %d w[%d] = %.9g, exact %.9g (bound %.3g)", kind, mu, t, i,
                      p[i], w[i], bound[i]);
        }
    }
    gsgd_context_free(r.ctx);
}

Test(update, every_elementwise_rule_matches_its_formula_over_three_steps) {
    check_elementwise(GSGD_OPTIM_SGD, 0.0f);
    check_elementwise(GSGD_OPTIM_MOMENTUM, 0.9f);
    check_elementwise(GSGD_OPTIM_NESTEROV, 0.9f);
    check_elementwise(GSGD_OPTIM_ADAM, 0.0f);
    check_elementwise(GSGD_OPTIM_ADAMW, 0.0f);
    check_elementwise(GSGD_OPTIM_ADAGRAD, 0.0f);
    check_elementwise(GSGD_OPTIM_RMSPROP, 0.0f);
    check_elementwise(GSGD_OPTIM_RMSPROP, 0.5f);
}

/* The normalised rules' first step, by hand: with m = s = 0,
 *   Adam:    m = (1-b1) g, s = (1-b2) g^2, m/bc1 = g, sqrt(s)/sqrt(bc2) = |g|
 *   Adagrad: s = g^2
 * so both move w by lr |g| / (|g| + eps), lr sign(g) but for eps;
 *   RMSprop: s = (1-a) g^2, a step of lr |g| / (sqrt(1-a) |g| + eps), about
 *   10 lr at a = 0.99. The bound is the header's for one step. */
Test(update, normalised_rules_first_step_is_lr_times_the_sign) {
    const gsgd_optim kinds[] = {GSGD_OPTIM_ADAM, GSGD_OPTIM_ADAGRAD, GSGD_OPTIM_RMSPROP};
    for (int c = 0; c < 3; c++) {
        runner r = make_runner(kinds[c], 2, 0, 0.01f);
        r.rule.momentum = 0.0f;
        const double k = kinds[c] == GSGD_OPTIM_RMSPROP ? sqrt(1.0 - (double)r.rule.alpha) : 1.0;
        float p[2] = {1.0f, 1.0f}, g[2] = {3.0f, -0.002f};
        step_ok(&r, p, g, 2, -1.0f);
        for (int i = 0; i < 2; i++) {
            const double ag = fabs(g[i]), D = (double)r.lr * ag / (k * ag + (double)r.rule.eps);
            const double want = 1.0 - copysign(D, g[i]);
            cr_expect(fabs(p[i] - want) <= 1.1 * U * (fabs(want) + 16.0 * D),
                      "rule %d w[%d] = %.9g, exact %.9g", kinds[c], i, p[i], want);
        }
        gsgd_context_free(r.ctx);
    }
}

/* With a zero gradient, Adam's coupled decay is the whole gradient and is
 * normalised into a step of lr; AdamW's decoupled decay only shrinks w by
 * lr wd w = 0.01 * 0.1 * 2 = 0.002, and its Adam step is 0 / eps = 0. */
Test(update, adamw_decouples_the_decay_that_adam_couples) {
    float pa[1] = {2.0f}, pw[1] = {2.0f}, g[1] = {0.0f};
    runner ra = make_runner(GSGD_OPTIM_ADAM, 1, 1, 0.01f);
    runner rw = make_runner(GSGD_OPTIM_ADAMW, 1, 1, 0.01f);
    step_ok(&ra, pa, g, 1, -1.0f);
    step_ok(&rw, pw, g, 1, -1.0f);
    cr_expect(fabs(pa[0] - (2.0 - 0.01)) <= 1e-6, "adam: %.9g", pa[0]);
    /* Three roundings (lr wd, 1 - lr wd, the product), each within u of 2. */
    cr_expect(fabs(pw[0] - 1.998) <= 3.0 * U * 2.0, "adamw: %.9g", pw[0]);
    gsgd_context_free(ra.ctx);
    gsgd_context_free(rw.ctx);
}

Test(update, decay_and_prox_leave_the_biases_alone) {
    /* SGD at lr 0.1 with wd 0.1 and l1 0.5 on a zero gradient: weights
     * shrink, the two biases past n_decay stay bitwise as they were. */
    runner r = make_runner(GSGD_OPTIM_SGD, 4, 2, 0.1f);
    r.rule.l1 = 0.5f;
    float p[4] = {1.0f, -1.0f, 0.01f, -3.0f}, g[4] = {0};
    step_ok(&r, p, g, 4, -1.0f);
    cr_expect(p[0] < 1.0f && p[1] > -1.0f);
    cr_expect(p[2] == 0.01f && p[3] == -3.0f);
    gsgd_context_free(r.ctx);
}

/* Gradient (3, 4) has norm 5: clipped to 1 it is scaled by 1 / (5 + 1e-6),
 * so SGD at lr 1 moves w by (0.6, 0.8) (1 - 2e-7) to a few roundings. A
 * clip above the norm changes nothing, bitwise. */
Test(update, clipping_scales_the_gradient_to_the_norm) {
    runner r = make_runner(GSGD_OPTIM_SGD, 2, 0, 1.0f);
    r.rule.clip_norm = 1.0f;
    float p[2] = {0.0f, 0.0f}, g[2] = {3.0f, 4.0f};
    step_ok(&r, p, g, 2, -1.0f);
    cr_expect_eq(r.work[0], 25.0f, "sum of squares %.9g", r.work[0]);
    const double scale = 1.0 / (5.0 + 1e-6);
    /* Roundings: 1e-6 to float, 5 + 1e-6, the division, g * scale: 4u
     * relative, plus slack for the float constant; lr = 1 and 0 - x are exact. */
    cr_expect(fabs(-p[0] - 3.0 * scale) <= 6 * U * 0.6, "%.9g", p[0]);
    cr_expect(fabs(-p[1] - 4.0 * scale) <= 6 * U * 0.8, "%.9g", p[1]);
    cr_expect(fabs(hypot(p[0], p[1]) - 1.0) <= 1e-6, "step norm %.9g", hypot(p[0], p[1]));
    float q[2] = {0.0f, 0.0f}, q_unclipped[2] = {0.0f, 0.0f};
    r.rule.clip_norm = 10.0f;
    step_ok(&r, q, g, 2, -1.0f);
    r.rule.clip_norm = 0.0f;
    step_ok(&r, q_unclipped, g, 2, -1.0f);
    cr_expect(memcmp(q, q_unclipped, sizeof q) == 0);
    gsgd_context_free(r.ctx);
}

/* lr 0.1, l1 0.5: threshold 0.05 (0.1f * 0.5f is exactly 0.05f). Weights
 * within it become exactly +0; the others shrink by 0.05 towards 0. */
Test(update, prox_zeroes_small_weights_exactly_and_shrinks_the_rest) {
    runner r = make_runner(GSGD_OPTIM_SGD, 5, 5, 0.1f);
    r.rule.weight_decay = 0.0f;
    r.rule.l1 = 0.5f;
    float p[5] = {0.03f, -0.04f, 0.05f, 0.2f, -0.3f}, g[5] = {0};
    step_ok(&r, p, g, 5, -1.0f);
    for (int i = 0; i < 3; i++) {
        cr_expect(p[i] == 0.0f && !signbit(p[i]), "w[%d] = %.9g", i, p[i]);
    }
    cr_expect(fabs(p[3] - 0.15) <= 2 * U * 0.2, "%.9g", p[3]);
    cr_expect(fabs(p[4] + 0.25) <= 2 * U * 0.3, "%.9g", p[4]);
    gsgd_context_free(r.ctx);
}

/* avg += (w - avg) / k at the k-th iterate is the running mean: after
 * three SGD steps with g = 1 at lr 0.5 from 1: iterates 0.5, 0, -0.5,
 * mean 0 (each update one add, one product, one subtraction). */
Test(update, averaging_keeps_the_running_mean_of_the_iterates) {
    runner r = make_runner(GSGD_OPTIM_SGD, 1, 0, 0.5f);
    float p[1] = {1.0f}, g[1] = {1.0f};
    r.avg[0] = 123.0f; /* rate 1 at the first iterate: anything is replaced */
    const double mean[3] = {0.5, 0.25, 0.0};
    for (int k = 1; k <= 3; k++) {
        step_ok(&r, p, g, 1, 1.0f / (float)k);
        cr_expect(fabs(r.avg[0] - mean[k - 1]) <= 3 * U * k, "iterate %d: avg %.9g", k, r.avg[0]);
    }
    gsgd_context_free(r.ctx);
}

Test(update, sumsq_sums_each_segment_in_double) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    const float x[6] = {1.0f, 2.0f, 3.0f, 0.5f, -4.0f, 0.0f};
    const size_t seg[4] = {0, 3, 3, 6};
    float out[3];
    cr_assert_eq(ctx->be->sumsq(ctx, x, seg, 3, out), GSGD_STATUS_OK);
    cr_expect(out[0] == 14.0f && out[1] == 0.0f && out[2] == 16.25f);
    gsgd_context_free(ctx);
}

Test(update, sumsq_of_a_long_buffer_is_the_double_sum_rounded_once) {
    /* Past the parallel threshold. Every square is a multiple of 1/64 and
     * the sum stays far below 2^53 / 64, so the chunked double sum is exact
     * whatever its order, and the result is its one rounding to float. */
    enum { N = 300007 };
    static float x[N];
    double exact = 0.0;
    for (int i = 0; i < N; i++) {
        x[i] = (float)((i % 17) - 8) * 0.125f;
        exact += (double)x[i] * x[i]; /* exact: multiples of 1/64, < 2^53 */
    }
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    const size_t seg[2] = {0, N};
    float out;
    cr_assert_eq(ctx->be->sumsq(ctx, x, seg, 1, &out), GSGD_STATUS_OK);
    cr_expect(fabs(out - exact) <= U * exact, "%.9g vs %.17g", out, exact);
    gsgd_context_free(ctx);
}

/* ---- layer-wise rules ---------------------------------------------------- */

/* Segment k's norm squared of x, in double. */
static double seg_norm(const double *x, size_t lo, size_t hi) {
    double s = 0.0;
    for (size_t i = lo; i < hi; i++) s += x[i] * x[i];
    return sqrt(s);
}

/* LARS over four segments: [0,3) a weight matrix (|w| = 5, |g| = 1, trust
 * eta 5 / (1 + wd 5 + eps) = 0.1 / 1.5), [3,4) a weight at 0 (trust 1),
 * [4,6) biases (no decay: trust eta sqrt2 / sqrt(0.5) = 0.04), [6,7) a
 * bias with zero gradient (trust 1, and v stays 0). Two steps, mu 0.9. */
Test(update, lars_scales_each_segment_by_its_trust_ratio) {
    enum { N = 7, S = 4 };
    runner r = make_runner(GSGD_OPTIM_LARS, N, 4, 0.5f);
    r.rule.n_segments = S;
    const size_t seg[S + 1] = {0, 3, 4, 6, 7};
    memcpy(r.rule.seg, seg, sizeof seg);
    float p[N] = {3.0f, 0.0f, 4.0f, 0.0f, 1.0f, -1.0f, 2.0f};
    const float g[N] = {0.6f, 0.8f, 0.0f, 2.0f, 0.5f, 0.5f, 0.0f};
    double w[N], v[N] = {0}, bound[N] = {0}, gd[N];
    for (int i = 0; i < N; i++) w[i] = p[i], gd[i] = g[i];
    for (int t = 1; t <= 2; t++) {
        step_ok(&r, p, g, N, -1.0f);
        for (int k = 0; k < S; k++) {
            const int decay = seg[k + 1] <= 4;
            const double wd = decay ? r.rule.weight_decay : 0.0;
            const double wn = seg_norm(w, seg[k], seg[k + 1]),
                         gn = seg_norm(gd, seg[k], seg[k + 1]);
            const double q =
                wn == 0.0 || gn == 0.0 ? 1.0 : r.rule.trust_coef * wn / (gn + wd * wn + r.rule.eps);
            if (t == 1 && k == 0) cr_expect(fabs(q - 0.02 * 5.0 / 1.5) < 1e-6, "trust %g", q);
            for (size_t i = seg[k]; i < seg[k + 1]; i++) {
                const double w0 = w[i];
                v[i] = r.rule.momentum * v[i] + q * (gd[i] + wd * w0);
                w[i] -= r.lr * v[i];
                bound[i] += U * (fabs(w[i]) + (6.0 * t + 20.0) * fabs(w[i] - w0));
                cr_expect(fabs(p[i] - w[i]) <= 1.1 * bound[i], "step %d w[%zu] = %.9g, exact %.9g",
                          t, i, p[i], w[i]);
            }
        }
    }
    cr_expect(p[6] == 2.0f, "zero gradient, zero velocity: unchanged");
    gsgd_context_free(r.ctx);
}

/* LAMB over three segments: [0,2) weights (decoupled decay inside u),
 * [2,4) weights at 0 (ratio 1: a plain step of lr u), [4,6) biases. */
Test(update, lamb_scales_each_segment_by_weight_over_direction_norm) {
    enum { N = 6, S = 3 };
    runner r = make_runner(GSGD_OPTIM_LAMB, N, 4, 0.01f);
    r.rule.n_segments = S;
    r.rule.eps = 1e-6f;
    const size_t seg[S + 1] = {0, 2, 4, 6};
    memcpy(r.rule.seg, seg, sizeof seg);
    float p[N] = {3.0f, 4.0f, 0.0f, 0.0f, 1.0f, -2.0f};
    const float g[2][N] = {{0.5f, -1.0f, 0.25f, 2.0f, -0.5f, 1.5f},
                           {1.0f, -0.5f, 0.75f, 1.0f, -1.0f, 0.5f}};
    const double b1 = r.rule.beta1, b2 = r.rule.beta2, eps = r.rule.eps;
    double w[N], m[N] = {0}, s[N] = {0}, u[N], bound[N] = {0};
    for (int i = 0; i < N; i++) w[i] = p[i];
    for (int t = 1; t <= 2; t++) {
        step_ok(&r, p, g[t - 1], N, -1.0f);
        for (int k = 0; k < S; k++) {
            const double wd = seg[k + 1] <= 4 ? r.rule.weight_decay : 0.0;
            for (size_t i = seg[k]; i < seg[k + 1]; i++) {
                m[i] = b1 * m[i] + (1.0 - b1) * g[t - 1][i];
                s[i] = b2 * s[i] + (1.0 - b2) * g[t - 1][i] * g[t - 1][i];
                const double mh = m[i] / (1.0 - pow(b1, t)), sh = s[i] / (1.0 - pow(b2, t));
                u[i] = mh / (sqrt(sh) + eps) + wd * w[i];
            }
            const double wn = seg_norm(w, seg[k], seg[k + 1]), un = seg_norm(u, seg[k], seg[k + 1]);
            const double ratio = wn == 0.0 || un == 0.0 ? 1.0 : wn / un;
            for (size_t i = seg[k]; i < seg[k + 1]; i++) {
                const double w0 = w[i];
                w[i] -= r.lr * ratio * u[i];
                bound[i] += U * (fabs(w[i]) + (6.0 * t + 20.0) * fabs(w[i] - w0));
                cr_expect(fabs(p[i] - w[i]) <= 1.1 * bound[i],
                          "step %d w[%zu] = %.9g, exact %.9g (ratio %g)", t, i, p[i], w[i], ratio);
            }
        }
    }
    gsgd_context_free(r.ctx);
}

/* ---- the guard ------------------------------------------------------------ */

Test(update, skip_mode_leaves_params_and_state_bitwise_and_halves_the_rate) {
    enum { N = 4 };
    runner r = make_runner(GSGD_OPTIM_ADAM, N, N, 0.01f);
    r.rule.skip_nonfinite = 1;
    gsgdi_guard guard = {.lr_factor = 1.0f};
    r.guard = &guard;
    float p[N] = {1.0f, -2.0f, 0.5f, 3.0f};
    const float g[N] = {0.1f, 0.2f, -0.3f, 0.4f};
    step_ok(&r, p, g, N, -1.0f);
    float p1[N], m1[N], s1[N];
    memcpy(p1, p, sizeof p), memcpy(m1, r.s0, sizeof m1), memcpy(s1, r.s1, sizeof s1);
    const float bad[2][N] = {{0.1f, NAN, 0.0f, 0.0f}, {INFINITY, 0.0f, 0.0f, 0.0f}};
    for (int k = 0; k < 2; k++) {
        step_ok(&r, p, bad[k], N, -1.0f);
        cr_expect(memcmp(p, p1, sizeof p) == 0 && memcmp(r.s0, m1, sizeof m1) == 0 &&
                      memcmp(r.s1, s1, sizeof s1) == 0,
                  "step %d changed the parameters or the state", k + 2);
        cr_expect_eq(guard.bad_steps, (uint32_t)k + 1);
        cr_expect_eq(guard.first_bad, 2, "the first bad step is t = 2");
        cr_expect_eq(guard.lr_factor, k == 0 ? 0.5f : 0.25f);
    }
    gsgd_context_free(r.ctx);
}

Test(update, skipped_steps_leave_the_next_step_at_the_reduced_rate) {
    runner r = make_runner(GSGD_OPTIM_SGD, 1, 0, 0.5f);
    r.rule.skip_nonfinite = 1;
    gsgdi_guard guard = {.lr_factor = 1.0f};
    r.guard = &guard;
    float p[1] = {1.0f};
    const float nan_g[1] = {NAN}, g[1] = {1.0f};
    step_ok(&r, p, nan_g, 1, -1.0f);
    step_ok(&r, p, g, 1, -1.0f);
    cr_expect_eq(p[0], 0.75f, "1 - 0.5 * 0.5 * 1 (exact): %.9g", p[0]);
    cr_expect_eq(guard.bad_steps, 1);
    cr_expect_eq(guard.first_bad, 1);
    gsgd_context_free(r.ctx);
}

Test(update, stop_mode_records_a_non_finite_result_without_skipping) {
    runner r = make_runner(GSGD_OPTIM_SGD, 2, 0, 0.5f);
    gsgdi_guard guard = {.lr_factor = 1.0f};
    r.guard = &guard;
    float p[2] = {1.0f, 1.0f};
    const float fine[2] = {1.0f, 1.0f}, inf_g[2] = {INFINITY, 1.0f};
    step_ok(&r, p, fine, 2, -1.0f);
    cr_expect_eq(guard.bad_steps, 0);
    step_ok(&r, p, inf_g, 2, -1.0f);
    cr_expect(isinf(p[0]) && p[1] == 0.0f, "the step was taken: %g %g", p[0], p[1]);
    cr_expect_eq(guard.bad_steps, 1);
    cr_expect_eq(guard.first_bad, 2);
    step_ok(&r, p, fine, 2, -1.0f); /* w[0] stays infinite */
    cr_expect_eq(guard.bad_steps, 2);
    cr_expect_eq(guard.first_bad, 2);
    cr_expect_eq(guard.lr_factor, 1.0f, "stop mode never changes the rate");
    gsgd_context_free(r.ctx);
}

/* A recorded step (a CUDA Graph) replays in later epochs with the t it was
 * recorded with, its number within the epoch; the guard adds the epoch's
 * t_base, so both modes record the step's number in the whole run. */
Test(update, a_step_numbered_within_its_epoch_is_recorded_from_the_epochs_base) {
    for (int skip = 0; skip < 2; skip++) {
        runner r = make_runner(GSGD_OPTIM_MOMENTUM, 1, 0, 0.5f);
        r.rule.skip_nonfinite = skip;
        gsgdi_guard guard = {.lr_factor = 1.0f, .t_base = 1000};
        float p[1] = {1.0f};
        const float nan_g[1] = {NAN};
        gsgdi_update_args a = {.lr = &r.lr,
                               .params = p,
                               .grads = nan_g,
                               .n = 1,
                               .state = {r.s0, NULL},
                               .work = r.work,
                               .t = 7,
                               .guard = &guard,
                               .t_in_epoch = 1};
        cr_assert_eq(r.ctx->be->update(r.ctx, &r.rule, &a), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(r.ctx));
        cr_expect_eq(guard.bad_steps, 1, "skip %d", skip);
        cr_expect_eq(guard.first_bad, 1007, "skip %d: %llu", skip,
                     (unsigned long long)guard.first_bad);
        gsgd_context_free(r.ctx);
    }
}

/* Adam's bias correction needs the step's number in the whole run. */
Test(update, a_step_numbered_within_its_epoch_is_refused_where_the_rule_needs_t) {
    runner r = make_runner(GSGD_OPTIM_ADAM, 1, 0, 0.01f);
    gsgdi_guard guard = {.lr_factor = 1.0f};
    float p[1] = {1.0f}, g[1] = {1.0f};
    gsgdi_update_args a = {.lr = &r.lr,
                           .params = p,
                           .grads = g,
                           .n = 1,
                           .state = {r.s0, r.s1},
                           .work = r.work,
                           .t = 1,
                           .guard = &guard,
                           .t_in_epoch = 1};
    cr_expect_eq(r.ctx->be->update(r.ctx, &r.rule, &a), GSGD_STATUS_INTERNAL);
    cr_expect(strstr(gsgd_last_error(r.ctx), "t within the epoch"), "%s", gsgd_last_error(r.ctx));
    gsgd_context_free(r.ctx);
}

Test(update, a_rule_without_its_state_buffers_is_an_internal_error) {
    runner r = make_runner(GSGD_OPTIM_ADAM, 1, 0, 0.01f);
    float p[1] = {1.0f}, g[1] = {1.0f};
    gsgdi_update_args a = {
        .lr = &r.lr, .params = p, .grads = g, .n = 1, .state = {r.s0, NULL}, .t = 1};
    cr_expect_eq(r.ctx->be->update(r.ctx, &r.rule, &a), GSGD_STATUS_INTERNAL);
    cr_expect(strstr(gsgd_last_error(r.ctx), "state[1]") != NULL, "%s", gsgd_last_error(r.ctx));
    gsgd_context_free(r.ctx);
}
