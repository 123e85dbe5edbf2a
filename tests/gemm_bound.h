/*
 * The error bound of a product under a precision (backend.h's gemm op),
 * shared by the CPU and CUDA suites: C = alpha op(A) op(B) + beta C0 with
 * every input of op(A) op(B) rounded with relative error at most u (the
 * precision's), the K products and beta C0 summed in FP32 in any order.
 *
 * Each rounded product a'b' = ab (1 + d), |d| <= (1 + u)^2 - 1. Summing
 * the K scaled products and beta C0 in FP32, in any order, adds at most
 * gamma_{K+2} of the sum of their magnitudes (the two extra roundings:
 * alpha's and beta's products), gamma_n = n eps (FLT_EPSILON, as the FP32
 * bounds of these suites take it: twice the unit roundoff, generous). So
 *   |C - exact| <= ((1+u)^2 - 1) |alpha| S + gamma_{K+2} ((1+u)^2 |alpha| S + |beta C0|)
 * with S = sum_k |a_k| |b_k| and exact the product of the unrounded inputs
 * in exact arithmetic.
 */
#ifndef GSGD_GEMM_BOUND_H
#define GSGD_GEMM_BOUND_H

#include <float.h>
#include <stddef.h>

static inline double gb_bound(double u, size_t K, double alpha_abs_s, double beta_c0_abs) {
    const double grow = (1.0 + u) * (1.0 + u);
    return (grow - 1.0) * alpha_abs_s +
           (double)(K + 2) * FLT_EPSILON * (grow * alpha_abs_s + beta_c0_abs);
}

/* Element (i, j) of alpha op(A) op(B) + beta C0 in double (*abs_s:
 * |alpha| sum |a||b|), row-major, lda/ldb as stored (op(A) M x K). */
static inline double gb_exact(int ta, int tb, size_t K, float alpha, const float *A, size_t lda,
                              const float *B, size_t ldb, float beta, float c0, size_t i, size_t j,
                              double *abs_s) {
    double s = 0.0, a_s = 0.0;
    for (size_t k = 0; k < K; k++) {
        const double a = ta ? A[k * lda + i] : A[i * lda + k];
        const double b = tb ? B[j * ldb + k] : B[k * ldb + j];
        s += a * b;
        a_s += (a < 0 ? -a : a) * (b < 0 ? -b : b);
    }
    *abs_s = (alpha < 0 ? -alpha : alpha) * a_s;
    return (double)alpha * s + (double)beta * c0;
}

#endif
