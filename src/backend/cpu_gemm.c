/*
 * The CPU backend's products: OpenBLAS's SGEMM in FP32, and the reference
 * of the reduced precisions (gsgd.h's gsgd_precision): every input rounded
 * as a GPU's tensor cores take it (precision.h), the sums in FP32.
 *
 * The rounded product works block by block, the blocks of op(A) and op(B)
 * rounded into buffers on the stack and multiplied by SGEMM: no memory
 * beyond the planner's, whatever the shapes, and the FP32 accumulation
 * of SGEMM, carried from one block of K to the next through C (beta 1).
 * The CPU has no TF32 or BF16 units, so this is slower than FP32: it is
 * there to say what the GPU's products compute, and to train with them
 * where a GPU run is to be reproduced.
 */
#include <cblas.h>
#include <stdint.h>

#include "backend/cpu.h"
#include "backend/precision.h"

/* Block sizes of the rounded product: 64 x 128 of op(A) and 128 x 128 of
 * op(B), 96 KiB of stack in all (an OpenMP worker's stack is megabytes). */
#define RB_M 64
#define RB_N 128
#define RB_K 128

static size_t min_sz(size_t a, size_t b) { return a < b ? a : b; }

/* The block of C at rows [m0, m0 + mb), columns [n0, n0 + nb): beta C +
 * alpha op(A) op(B) over all of K, the inputs rounded with drop bits. */
static void rounded_block(int drop, int ta, int tb, size_t m0, size_t mb, size_t n0, size_t nb,
                          size_t K, float alpha, const float *A, size_t lda, const float *B,
                          size_t ldb, float beta, float *C, size_t ldc) {
    float a[RB_M * RB_K], b[RB_K * RB_N];
    for (size_t k0 = 0; k0 < K; k0 += RB_K) {
        const size_t kb = min_sz(RB_K, K - k0);
        for (size_t i = 0; i < mb; i++)
            for (size_t k = 0; k < kb; k++) {
                const size_t r = m0 + i, c = k0 + k;
                a[i * kb + k] = gsgdi_round_mantissa(ta ? A[c * lda + r] : A[r * lda + c], drop);
            }
        for (size_t k = 0; k < kb; k++)
            for (size_t j = 0; j < nb; j++) {
                const size_t r = k0 + k, c = n0 + j;
                b[k * nb + j] = gsgdi_round_mantissa(tb ? B[c * ldb + r] : B[r * ldb + c], drop);
            }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)mb, (int)nb, (int)kb, alpha, a,
                    (int)kb, b, (int)nb, k0 == 0 ? beta : 1.0f, C + m0 * ldc + n0, (int)ldc);
    }
}

/* K == 0: C = beta C, as SGEMM leaves it (beta 0 writes zeros). */
static void scale_c(size_t M, size_t N, float beta, float *C, size_t ldc) {
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) C[i * ldc + j] = beta == 0.0f ? 0.0f : beta * C[i * ldc + j];
}

gsgd_status gsgdi_cpu_gemm(gsgd_context *ctx, gsgd_precision prec, int trans_a, int trans_b,
                           size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                           const float *B, size_t ldb, float beta, float *C, size_t ldc) {
    GSGD_RETURN_ERROR_IF(M > INT32_MAX || N > INT32_MAX || K > INT32_MAX, ctx,
                         GSGD_STATUS_TOO_LARGE, "cpu gemm: %zux%zux%zu exceeds CBLAS int range", M,
                         N, K);
    if (M == 0 || N == 0) return GSGD_STATUS_OK;
    const int drop = gsgdi_precision_dropped_bits(prec);
    if (drop == 0) {
        cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                    trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, A, (int)lda,
                    B, (int)ldb, beta, C, (int)ldc);
        return GSGD_STATUS_OK;
    }
    if (K == 0) {
        scale_c(M, N, beta, C, ldc);
        return GSGD_STATUS_OK;
    }
    const size_t mblocks = (M + RB_M - 1) / RB_M, nblocks = (N + RB_N - 1) / RB_N;
    const long items = (long)(mblocks * nblocks);
    /* Blocks of C are independent. They run inside a parallel region even
     * when one thread gets them all: SGEMM called outside one threads each
     * block's small product itself, and waking its threads per block cost
     * 5 to 10x the product here (2 shared cores, 64 x 128 x 128 blocks:
     * 140 us against 30 us on one thread); inside a region it runs on the
     * calling thread. Inside the fused gradient's region this one is
     * inactive and the blocks run on the caller's thread. */
    const int nt = gsgdi_cpu_threads() > 1 ? gsgdi_cpu_threads() : 1;
#pragma omp parallel for schedule(static) num_threads(nt)
    for (long it = 0; it < items; it++) {
        const size_t m0 = (size_t)it / nblocks * RB_M, n0 = (size_t)it % nblocks * RB_N;
        rounded_block(drop, trans_a, trans_b, m0, min_sz(RB_M, M - m0), n0, min_sz(RB_N, N - n0), K,
                      alpha, A, lda, B, ldb, beta, C, ldc);
    }
    return GSGD_STATUS_OK;
}
