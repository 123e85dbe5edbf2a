/*
 * How far the fused one-layer gradient (backend.h's linear_grad) may be
 * from the composed ops it replaces on the same inputs: the bounds of
 * tests/fused_check.h, without Criterion, so that bench/bench_linear_grad.c
 * checks every kernel version with the same ones.
 *
 * On random data the two differ only by rounding: the logits are summed in
 * another order, so each z_ik may differ by up to gamma_{d+1} S_i, where
 * S_i = max_k sum_j |x_ij W_jk| + max |b| (Higham 3.1); every loss here has
 * a gradient that is 1-Lipschitz in z (max norm), so dz_ik moves by at most
 * grad_scale times that, and dW, db sum B such terms in another order
 * again. The bounds below are those sums with a factor 4 of slack for the
 * rounding of the bounds themselves. The hinge loss's gradient is not
 * continuous, so it is checked on exact data only (fused_check.h).
 */
#ifndef GSGD_FUSED_BOUND_H
#define GSGD_FUSED_BOUND_H

#include <float.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>

typedef struct {
    double *dW;       /* d x K, as dW: the largest |fused - composed| */
    double *db;       /* K */
    double loss;      /* of the summed loss */
    size_t near_ties; /* rows whose best two logits are within the error */
} fc_bounds;

static void fc_bounds_free(fc_bounds *t) {
    free(t->dW);
    free(t->db);
}

/* The bounds for B rows: Xb (B x d) the gathered rows, W (d x K) and b the
 * weights, Z and dZ (B x K) the composed ops' logits and their gradients
 * scaled by gs. t's arrays are fresh mallocs (fc_bounds_free). */
static void fc_bounds_of(const float *Xb, const float *W, const float *b, const float *Z,
                         const float *dZ, size_t B, size_t d, size_t K, float gs, int classify,
                         fc_bounds *t) {
    const double u = FLT_EPSILON / 2;
    double bmax = 0.0;
    for (size_t k = 0; k < K; k++) bmax = fmax(bmax, fabs(b[k]));
    double *dz_shift = malloc((B ? B : 1) * sizeof *dz_shift); /* |dz change| bound, scaled */
    t->dW = calloc(d * K, sizeof *t->dW);
    t->db = calloc(K, sizeof *t->db);
    t->loss = 0.0;
    t->near_ties = 0;
    for (size_t i = 0; i < B; i++) {
        double S = 0.0, g1 = 0.0;
        for (size_t k = 0; k < K; k++) {
            double s = 0.0;
            for (size_t j = 0; j < d; j++) s += fabs((double)Xb[i * d + j] * W[j * K + k]);
            S = fmax(S, s);
            g1 += fabs(dZ[i * K + k]) / gs;
        }
        const double z_err = 4.0 * (d + 2) * u * (S + bmax); /* both sides' logit error */
        dz_shift[i] = gs * z_err;
        /* The loss moves by at most its gradient's 1-norm (<= 2 for
         * softmax, |r|_1 for squared) times the logit change, plus its
         * own roundings. */
        t->loss += 2.0 * (g1 + 2.0) * z_err + 16.0 * u * (S + bmax + 2.0) * (S + bmax + 2.0);
        /* A row whose best two logits are within the error may be
         * classified either way. */
        if (classify && K > 1) {
            double best = -INFINITY, second = -INFINITY;
            for (size_t k = 0; k < K; k++) {
                double z = Z[i * K + k];
                if (z > best) {
                    second = best;
                    best = z;
                } else if (z > second) {
                    second = z;
                }
            }
            t->near_ties += best - second <= 2.0 * z_err;
        }
    }
    /* dW_jk = sum_i x_ij dz_ik: the dz change carried through, plus each
     * side's summation error over B terms (gamma_{B+2} of the absolute
     * sum), doubled for slack. The sums run over i outermost (one pass over
     * the rows), each in row order. */
    const double sum_err = 2.0 * (B + 2) * u + 2.0 * u;
    double *carried = calloc(d ? d : 1, sizeof *carried), *mag = calloc(d * K + 1, sizeof *mag);
    for (size_t i = 0; i < B; i++)
        for (size_t j = 0; j < d; j++) {
            carried[j] += fabs(Xb[i * d + j]) * dz_shift[i];
            for (size_t k = 0; k < K; k++)
                mag[j * K + k] += fabs((double)Xb[i * d + j] * dZ[i * K + k]);
        }
    for (size_t j = 0; j < d; j++)
        for (size_t k = 0; k < K; k++)
            t->dW[j * K + k] = 2.0 * (carried[j] + sum_err * mag[j * K + k]);
    for (size_t k = 0; k < K; k++) {
        double carried_k = 0.0, mag_k = 0.0;
        for (size_t i = 0; i < B; i++) {
            carried_k += dz_shift[i];
            mag_k += fabs(dZ[i * K + k]);
        }
        t->db[k] = 2.0 * (carried_k + sum_err * mag_k);
    }
    free(dz_shift), free(carried), free(mag);
}

#endif
