/* Gradient noise scale from squared norms at two batch sizes (see
 * noise_scale.h). */
#include "cli/bench/noise_scale.h"

#include <math.h>

double noise_inverse_batch(size_t B, size_t n) {
    if (n == 0) return 1.0 / (double)B;
    if (B >= n) return 0.0;
    return (double)(n - B) / ((double)B * (double)(n - 1));
}

void noise_init(noise_acc *a, double inv_small, double inv_big) {
    *a = (noise_acc){.inv_small = inv_small, .inv_big = inv_big};
}

/* Welford: stable running mean and sum of squared deviations. */
static void welford(long *n, double *mean, double *m2, double x) {
    (*n)++;
    double d = x - *mean;
    *mean += d / (double)*n;
    *m2 += d * (x - *mean);
}

void noise_add_small(noise_acc *a, double sq) {
    welford(&a->n_small, &a->mean_small, &a->m2_small, sq);
}
void noise_add_big(noise_acc *a, double sq) { welford(&a->n_big, &a->mean_big, &a->m2_big, sq); }

int noise_estimate_get(const noise_acc *a, noise_estimate *out) {
    *out = (noise_estimate){.g2 = NAN,
                            .g2_se = NAN,
                            .trace = NAN,
                            .trace_se = NAN,
                            .b_simple = NAN,
                            .b_simple_se = NAN,
                            .n_small = a->n_small,
                            .n_big = a->n_big};
    if (a->n_small < 2 || a->n_big < 2 || !(a->inv_small > a->inv_big)) return -1;
    const double s = a->inv_small, b = a->inv_big, d = s - b;
    const double Es = a->mean_small, Eb = a->mean_big;
    /* Variances of the two means; the two sizes are measured on different
     * batches, so their means are independent. */
    const double vs = a->m2_small / (double)(a->n_small - 1) / (double)a->n_small;
    const double vb = a->m2_big / (double)(a->n_big - 1) / (double)a->n_big;
    /* E_s = g2 + tr s, E_b = g2 + tr b, solved for g2 and tr. */
    out->g2 = (s * Eb - b * Es) / d;
    out->trace = (Es - Eb) / d;
    out->g2_se = sqrt(s * s * vb + b * b * vs) / d;
    out->trace_se = sqrt(vs + vb) / d;
    if (out->g2 > 0.0) {
        const double r = out->trace / out->g2;
        /* Delta method: Var(T/G) = (Var T - 2 r Cov(T, G) + r^2 Var G) / G^2,
         * with Cov(T, G) = -(b vs + s vb) / d^2. */
        const double var_t = out->trace_se * out->trace_se, var_g = out->g2_se * out->g2_se;
        const double cov = -(b * vs + s * vb) / (d * d);
        const double var_r = (var_t - 2.0 * r * cov + r * r * var_g) / (out->g2 * out->g2);
        out->b_simple = r;
        out->b_simple_se = sqrt(var_r > 0.0 ? var_r : 0.0);
    }
    return 0;
}
