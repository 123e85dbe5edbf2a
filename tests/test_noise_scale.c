/*
 * The gradient noise scale estimator (src/cli/noise_scale.c) on synthetic
 * gradients whose answer is known: per-sample gradients G + e with e of
 * covariance sigma^2 I in D dimensions, so tr(Sigma) = D sigma^2 and
 * B_simple = D sigma^2 / |G|^2. Tolerances are 5 standard errors derived
 * from the sample count, not tuned.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>

#include "cli/bench/noise_scale.h"

/* xorshift64* and Box-Muller: a reproducible normal stream. */
static uint64_t rng_state = 0x9e3779b97f4a7c15ull;
static double uniform(void) {
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return ((rng_state * 0x2545f4914f6cdd1dull) >> 11) * 0x1.0p-53;
}
static double normal(void) {
    double u = uniform(), v = uniform();
    return sqrt(-2.0 * log(u + 1e-300)) * cos(6.283185307179586 * v);
}

#define D 64
/* |mean of B per-sample gradients G + N(0, sigma^2 I)|^2 */
static double batch_sq_norm(const double *G, double sigma, int B) {
    double m[D] = {0}, s = 0;
    for (int b = 0; b < B; b++)
        for (int i = 0; i < D; i++) m[i] += G[i] + sigma * normal();
    for (int i = 0; i < D; i++) s += (m[i] / B) * (m[i] / B);
    return s;
}

Test(noise_scale, recovers_known_trace_and_gradient_norm_from_synthetic_gradients) {
    const double sigma = 1.0, g_i = 0.25; /* |G|^2 = 64/16 = 4, tr = 64: B_simple 16 */
    const int Bs = 4, Bb = 64, K = 2000;
    double G[D];
    for (int i = 0; i < D; i++) G[i] = g_i;
    const double g2 = D * g_i * g_i, tr = D * sigma * sigma;
    noise_acc a;
    noise_init(&a, noise_inverse_batch(Bs, 0), noise_inverse_batch(Bb, 0));
    for (int k = 0; k < K; k++) {
        noise_add_small(&a, batch_sq_norm(G, sigma, Bs));
        noise_add_big(&a, batch_sq_norm(G, sigma, Bb));
    }
    noise_estimate e;
    cr_assert_eq(noise_estimate_get(&a, &e), 0);
    /* |G + e|^2 with e ~ N(0, sigma^2/B I): variance 4|G|^2 sigma^2/B +
     * 2 D sigma^4/B^2; the means of K have that over K. */
    const double s = 1.0 / Bs, b = 1.0 / Bb, d = s - b;
    const double vs = (4 * g2 * sigma * sigma * s + 2 * D * pow(sigma, 4) * s * s) / K;
    const double vb = (4 * g2 * sigma * sigma * b + 2 * D * pow(sigma, 4) * b * b) / K;
    const double se_g2 = sqrt(s * s * vb + b * b * vs) / d, se_tr = sqrt(vs + vb) / d;
    const double r = tr / g2, cov = -(b * vs + s * vb) / (d * d);
    const double se_r = sqrt(se_tr * se_tr - 2 * r * cov + r * r * se_g2 * se_g2) / g2;
    cr_expect(fabs(e.g2 - g2) < 5 * se_g2, "|G|^2 %g, expected %g +- %g", e.g2, g2, se_g2);
    cr_expect(fabs(e.trace - tr) < 5 * se_tr, "tr %g, expected %g +- %g", e.trace, tr, se_tr);
    cr_expect(fabs(e.b_simple - r) < 5 * se_r, "B_simple %g, expected %g +- %g", e.b_simple, r,
              se_r);
    /* The estimator's own standard errors (from the sample variances)
     * agree with the analytic ones to within the noise of K samples. */
    cr_expect(e.b_simple_se > 0.8 * se_r && e.b_simple_se < 1.25 * se_r, "se %g vs %g",
              e.b_simple_se, se_r);
    cr_expect_eq(e.n_small, K);
}

Test(noise_scale, exact_expectations_give_exact_answers) {
    const double g2 = 0.5, tr = 40.0;
    const size_t Bs = 32, Bb = 2048;
    noise_acc a;
    noise_init(&a, 1.0 / Bs, 1.0 / Bb);
    for (int k = 0; k < 3; k++) {
        noise_add_small(&a, g2 + tr / Bs);
        noise_add_big(&a, g2 + tr / Bb);
    }
    noise_estimate e;
    cr_assert_eq(noise_estimate_get(&a, &e), 0);
    /* A few roundings of values near 1.75: well within 1e-12. */
    cr_expect(fabs(e.g2 - g2) < 1e-12 && fabs(e.trace - tr) < 1e-10, "%g %g", e.g2, e.trace);
    cr_expect(fabs(e.b_simple - tr / g2) < 1e-9, "%g", e.b_simple);
    cr_expect(e.b_simple_se < 1e-9, "no spread, no error: %g", e.b_simple_se);
}

Test(noise_scale, unresolved_when_the_gradient_is_lost_in_the_noise) {
    /* Norms that fall faster than tr/B allows with |G| >= 0: |G|^2 is
     * estimated negative, as happens when the noise swamps a small |G|. */
    noise_acc a;
    noise_init(&a, 1.0 / 8, 1.0 / 64);
    noise_estimate e;
    for (int k = 0; k < 2; k++) {
        noise_add_small(&a, 1.0);
        noise_add_big(&a, 0.1);
    }
    cr_assert_eq(noise_estimate_get(&a, &e), 0);
    cr_expect(e.g2 < 0, "%g", e.g2);
    cr_expect(isnan(e.b_simple), "no ratio without a positive |G|^2");
}

Test(noise_scale, needs_two_measurements_of_each_size) {
    noise_acc a;
    noise_init(&a, 1.0 / 8, 1.0 / 64);
    noise_add_small(&a, 1.0);
    noise_add_small(&a, 1.0);
    noise_add_big(&a, 0.5);
    noise_estimate e;
    cr_expect_eq(noise_estimate_get(&a, &e), -1);
    cr_expect(isnan(e.b_simple));
}

Test(noise_scale, inverse_batch_corrects_for_sampling_without_replacement) {
    cr_expect_eq(noise_inverse_batch(4, 0), 0.25);
    cr_expect_eq(noise_inverse_batch(100, 100), 0.0, "the full batch is the exact gradient");
    cr_expect_eq(noise_inverse_batch(1, 100), 1.0);
    cr_expect(fabs(noise_inverse_batch(10, 101) - 91.0 / 1000.0) < 1e-15);
}

Test(noise_scale, recovers_a_finite_population_sampled_without_replacement) {
    /* n fixed per-sample gradients; G and tr(Sigma) (divisor n) computed
     * exactly; batches are drawn without replacement, as gsgd bench draws
     * them from a shuffle. Tolerance: 5 of the estimator's own standard
     * errors (checked against the analytic ones in the first test). */
    enum { N = 200, DD = 8, K = 4000 };
    static double x[N][DD];
    double G[DD] = {0}, tr = 0, g2 = 0;
    for (int j = 0; j < N; j++)
        for (int i = 0; i < DD; i++) {
            x[j][i] = 0.3 + normal();
            G[i] += x[j][i] / N;
        }
    for (int j = 0; j < N; j++)
        for (int i = 0; i < DD; i++) tr += (x[j][i] - G[i]) * (x[j][i] - G[i]) / N;
    for (int i = 0; i < DD; i++) g2 += G[i] * G[i];
    const int Bs = 10, Bb = 150;
    noise_acc a;
    noise_init(&a, noise_inverse_batch(Bs, N), noise_inverse_batch(Bb, N));
    int perm[N];
    for (int k = 0; k < K; k++)
        for (int big = 0; big < 2; big++) {
            const int B = big ? Bb : Bs;
            for (int j = 0; j < N; j++) perm[j] = j;
            for (int j = 0; j < B; j++) { /* partial Fisher-Yates */
                int r = j + (int)(uniform() * (N - j));
                int t = perm[j];
                perm[j] = perm[r];
                perm[r] = t;
            }
            double m[DD] = {0}, s = 0;
            for (int j = 0; j < B; j++)
                for (int i = 0; i < DD; i++) m[i] += x[perm[j]][i] / B;
            for (int i = 0; i < DD; i++) s += m[i] * m[i];
            (big ? noise_add_big : noise_add_small)(&a, s);
        }
    noise_estimate e;
    cr_assert_eq(noise_estimate_get(&a, &e), 0);
    cr_expect(fabs(e.trace - tr) < 5 * e.trace_se, "tr %g, exact %g +- %g", e.trace, tr,
              e.trace_se);
    cr_expect(fabs(e.g2 - g2) < 5 * e.g2_se, "|G|^2 %g, exact %g +- %g", e.g2, g2, e.g2_se);
}
