/*
 * The gradient noise scale B_simple = tr(Sigma) / |G|^2 (McCandlish et al.
 * 2018, "An Empirical Model of Large-Batch Training", appendix A): G is the
 * full-batch gradient, Sigma the covariance of per-sample gradients. A
 * minibatch gradient G_B has E|G_B|^2 = |G|^2 + tr(Sigma) / B, so squared
 * norms measured at two batch sizes give unbiased estimates of both terms:
 *
 *   |G|^2     ~ (B_big |G_big|^2 - B_small |G_small|^2) / (B_big - B_small)
 *   tr(Sigma) ~ (|G_small|^2 - |G_big|^2) / (1/B_small - 1/B_big)
 *
 * Both are averaged over many measurements BEFORE taking the ratio (the
 * ratio of noisy estimates is biased). Batches drawn without replacement
 * from n samples have E|G_B|^2 = |G|^2 + tr(Sigma) (n - B) / (B (n - 1)):
 * noise_inverse_batch gives that effective 1/B. Pure arithmetic: no I/O.
 */
#ifndef GSGD_CLI_NOISE_SCALE_H
#define GSGD_CLI_NOISE_SCALE_H

#include <stddef.h>

typedef struct {
    double inv_small, inv_big; /* 1/B of each batch size (effective, see above) */
    long n_small, n_big;       /* measurements so far */
    double mean_small, m2_small, mean_big, m2_big; /* Welford's running moments */
} noise_acc;

typedef struct {
    double g2, g2_se;             /* |G|^2 and its standard error */
    double trace, trace_se;       /* tr(Sigma) and its standard error */
    double b_simple, b_simple_se; /* the ratio; NaN when |G|^2 is not resolved */
    long n_small, n_big;
} noise_estimate;

/* 1/B for B samples drawn without replacement from n (n = 0: with
 * replacement, plain 1/B). 0 when B >= n: the full gradient is exact. */
double noise_inverse_batch(size_t B, size_t n);

/* Starts an accumulator for two batch sizes given as inverse_batch values
 * (inv_small > inv_big). */
void noise_init(noise_acc *a, double inv_small, double inv_big);
/* Adds one squared gradient norm measured at the small or the big batch. */
void noise_add_small(noise_acc *a, double sq_norm);
void noise_add_big(noise_acc *a, double sq_norm);

/* The estimates from the averages so far, with standard errors from the
 * sample variances (delta method for the ratio). Returns 0, or -1 when
 * fewer than two measurements of each size were added. b_simple is NaN
 * when |G|^2 is not positive (the gradient is lost in the noise: every
 * batch size up to B_big is below the critical batch). */
int noise_estimate_get(const noise_acc *a, noise_estimate *out);

#endif
