/*
 * CPU backend ops against naive loops and hand-computed values. These ops
 * are the reference every other backend is compared with, so they are
 * checked here against the plainest possible code.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "core/rng.h"

static gsgd_context *ctx;
static const gsgdi_backend *be;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    be = ctx->be;
}
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(backend_cpu, .init = setup, .fini = teardown);

static void fill(float *a, size_t n, uint64_t seed) {
    gsgdi_rng r = {seed};
    for (size_t i = 0; i < n; i++) a[i] = (float)(2.0 * gsgdi_rng_uniform(&r) - 1.0);
}

static void check_gemm(int ta, int tb, size_t M, size_t N, size_t K) {
    float *A = malloc(M * K * sizeof *A), *Bm = malloc(K * N * sizeof *Bm);
    float *C = malloc(M * N * sizeof *C);
    fill(A, M * K, 1);
    fill(Bm, K * N, 2);
    fill(C, M * N, 3);
    float *C0 = malloc(M * N * sizeof *C0);
    memcpy(C0, C, M * N * sizeof *C);
    size_t lda = ta ? M : K, ldb = tb ? K : N;
    cr_assert_eq(
        be->gemm(ctx, GSGD_PRECISION_FP32, ta, tb, M, N, K, 0.5f, A, lda, Bm, ldb, 2.0f, C, N),
        GSGD_STATUS_OK);
    /* Sum of K products of magnitude <= 1 plus 2*|C0| <= 2: fp32 error is
     * bounded by gamma_{K+2} * (K*0.5 + 2). */
    double bound = (K + 2) * FLT_EPSILON * (0.5 * K + 2.0);
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t k = 0; k < K; k++)
                s += (double)(ta ? A[k * M + i] : A[i * K + k]) *
                     (tb ? Bm[j * K + k] : Bm[k * N + j]);
            double ref = 0.5 * s + 2.0 * C0[i * N + j];
            cr_assert(fabs(C[i * N + j] - ref) <= bound, "ta=%d tb=%d C[%zu][%zu] %g vs %g", ta, tb,
                      i, j, C[i * N + j], ref);
        }
    free(A);
    free(Bm);
    free(C);
    free(C0);
}

Test(backend_cpu, gemm_row_major_all_transposes_non_square) {
    for (int ta = 0; ta < 2; ta++)
        for (int tb = 0; tb < 2; tb++) {
            check_gemm(ta, tb, 7, 3, 5);
            check_gemm(ta, tb, 1, 33, 65);
        }
}

Test(backend_cpu, bias_act_adds_bias_then_relu) {
    float Y[6] = {1, -2, 3, -4, 5, -6}, b[3] = {0.5f, 1.0f, -10.0f};
    cr_assert_eq(be->bias_act(ctx, Y, b, 2, 3, 1), GSGD_STATUS_OK);
    const float want[6] = {1.5f, 0.0f, 0.0f, 0.0f, 6.0f, 0.0f};
    for (int i = 0; i < 6; i++) cr_expect_eq(Y[i], want[i], "Y[%d] = %g", i, Y[i]);
    float Z[2] = {-1, 1}, c[2] = {0, 0};
    cr_assert_eq(be->bias_act(ctx, Z, c, 1, 2, 0), GSGD_STATUS_OK);
    cr_expect_eq(Z[0], -1.0f, "no relu keeps negatives");
}

Test(backend_cpu, relu_backward_masks_where_output_was_zero) {
    float dY[4] = {1, 2, 3, 4};
    const float A[4] = {0.0f, 0.5f, 0.0f, 2.0f};
    cr_assert_eq(be->relu_backward(ctx, dY, A, 4), GSGD_STATUS_OK);
    cr_expect(dY[0] == 0 && dY[1] == 2 && dY[2] == 0 && dY[3] == 4);
}

Test(backend_cpu, col_sum_sums_each_column) {
    const float dY[6] = {1, 2, 3, 4, 5, 6};
    float db[3];
    cr_assert_eq(be->col_sum(ctx, dY, 2, 3, db), GSGD_STATUS_OK);
    cr_expect(db[0] == 5 && db[1] == 7 && db[2] == 9);
}

Test(backend_cpu, gather_follows_the_permutation_and_standardises) {
    const float X[8] = {0, 1, 10, 11, 20, 21, 30, 31}, y[4] = {0, 1, 2, 3};
    const uint32_t perm[4] = {3, 1, 0, 2};
    const float mean[2] = {1, 1}, inv[2] = {0.5f, 2.0f};
    float Xb[4], yb[2];
    cr_assert_eq(be->gather(ctx, X, GSGD_XTYPE_F32, y, 2, perm, 1, 2, NULL, NULL, Xb, yb),
                 GSGD_STATUS_OK);
    cr_expect(Xb[0] == 10 && Xb[1] == 11 && Xb[2] == 0 && Xb[3] == 1 && yb[0] == 1 && yb[1] == 0);
    cr_assert_eq(be->gather(ctx, X, GSGD_XTYPE_F32, y, 2, NULL, 2, 2, mean, inv, Xb, yb),
                 GSGD_STATUS_OK);
    cr_expect(Xb[0] == 9.5f && Xb[1] == 40.0f && Xb[2] == 14.5f && Xb[3] == 60.0f);
    cr_expect(yb[0] == 2 && yb[1] == 3);
}

Test(backend_cpu, gather_reads_bytes_as_pixels_scaled_to_unit_range) {
    const uint8_t X[6] = {0, 255, 51, 102, 1, 17};
    const float y[3] = {5, 6, 7};
    const uint32_t perm[3] = {2, 0, 1};
    float Xb[4], yb[2];
    cr_assert_eq(be->gather(ctx, X, GSGD_XTYPE_U8, y, 2, perm, 0, 2, NULL, NULL, Xb, yb),
                 GSGD_STATUS_OK);
    cr_expect(Xb[0] == 1.0f / 255.0f && Xb[1] == 17.0f / 255.0f && Xb[2] == 0.0f && Xb[3] == 1.0f);
    cr_expect(yb[0] == 7 && yb[1] == 5);
}

/* What the IDX loader wrote into its float arrays before byte storage:
 * the expression is spelled out here, not taken from GSGD_U8_FEATURE, so
 * that the test pins it. */
static float idx_pixel(uint8_t b) { return (float)b / 255.0f; }

/* The same rows from byte storage and from their floats: bitwise equal,
 * with and without the standardiser, for any permutation and batch. */
static void check_u8_gather(size_t n, size_t d, size_t start, size_t B, int use_perm,
                            int standardise) {
    uint8_t *X8 = malloc(n * d);
    float *X = malloc(n * d * sizeof *X), *y = malloc(n * sizeof *y);
    float *mean = malloc(d * sizeof *mean), *inv = malloc(d * sizeof *inv);
    gsgdi_rng r = {gsgdi_mix64(n * 31 + d)};
    for (size_t i = 0; i < n * d; i++) {
        X8[i] = (uint8_t)(gsgdi_rng_next(&r) >> 56);
        X[i] = idx_pixel(X8[i]);
    }
    for (size_t i = 0; i < n; i++) y[i] = (float)(i % 10);
    fill(mean, d, 7);
    for (size_t j = 0; j < d; j++) inv[j] = 1.0f + 3.0f * fabsf(mean[j]);
    uint32_t *perm = malloc(n * sizeof *perm);
    void *scratch = malloc(be->perm_scratch_bytes(n));
    cr_assert_eq(be->permutation(ctx, 11, 2, n, perm, scratch), GSGD_STATUS_OK);
    float *a = malloc(B * d * sizeof *a), *b = malloc(B * d * sizeof *b);
    float *ya = malloc(B * sizeof *ya), *yb = malloc(B * sizeof *yb);
    const uint32_t *p = use_perm ? perm : NULL;
    const float *m = standardise ? mean : NULL, *s = standardise ? inv : NULL;
    cr_assert_eq(be->gather(ctx, X8, GSGD_XTYPE_U8, y, d, p, start, B, m, s, a, ya), 0);
    cr_assert_eq(be->gather(ctx, X, GSGD_XTYPE_F32, y, d, p, start, B, m, s, b, yb), 0);
    cr_expect(memcmp(a, b, B * d * sizeof *a) == 0 && memcmp(ya, yb, B * sizeof *ya) == 0,
              "n=%zu d=%zu start=%zu B=%zu perm=%d standardise=%d", n, d, start, B, use_perm,
              standardise);
    free(X8), free(X), free(y), free(mean), free(inv), free(perm), free(scratch);
    free(a), free(b), free(ya), free(yb);
}

Test(backend_cpu, gather_from_bytes_is_bitwise_the_gather_from_their_floats) {
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 2; s++) {
            check_u8_gather(300, 784, 0, 300, p, s);
            check_u8_gather(300, 784, 44, 64, p, s);
            check_u8_gather(1000, 33, 17, 500, p, s);
            check_u8_gather(5, 1, 4, 1, p, s);
            /* B * d past GSGD_CPU_PAR_MIN: the OpenMP path. */
            check_u8_gather(2000, 100, 0, 2000, p, s);
        }
}

Test(backend_cpu, every_byte_becomes_the_idx_loaders_float) {
    uint8_t X8[256];
    float y = 0, Xb[256], yb;
    for (int v = 0; v < 256; v++) X8[v] = (uint8_t)v;
    cr_assert_eq(be->gather(ctx, X8, GSGD_XTYPE_U8, &y, 256, NULL, 0, 1, NULL, NULL, Xb, &yb), 0);
    for (int v = 0; v < 256; v++)
        cr_assert_eq(Xb[v], idx_pixel((uint8_t)v), "byte %d: %a vs %a", v, (double)Xb[v],
                     (double)idx_pixel((uint8_t)v));
}

Test(backend_cpu, copy_2d_copies_strided_rows) {
    uint8_t src[40], dst[12];
    for (int i = 0; i < 40; i++) src[i] = (uint8_t)i;
    memset(dst, 0xEE, sizeof dst);
    /* Rows 1, 4 and 7 of 5-byte rows: 3 bytes of each, into 4-byte rows. */
    cr_assert_eq(be->copy_2d(ctx, dst, 4, src + 5, 15, 3, 3), GSGD_STATUS_OK);
    const uint8_t want[12] = {5, 6, 7, 0xEE, 20, 21, 22, 0xEE, 35, 36, 37, 0xEE};
    cr_assert_arr_eq(dst, want, sizeof want);
}

Test(backend_cpu, permutation_is_a_seeded_permutation) {
    enum { N = 1000 };
    uint32_t a[N], b[N], c[N];
    uint64_t scratch[N];
    cr_assert_eq(be->perm_scratch_bytes(N), sizeof scratch);
    cr_assert_eq(be->permutation(ctx, 7, 0, N, a, scratch), GSGD_STATUS_OK);
    cr_assert_eq(be->permutation(ctx, 7, 0, N, b, scratch), GSGD_STATUS_OK);
    cr_assert_eq(be->permutation(ctx, 7, 1, N, c, scratch), GSGD_STATUS_OK);
    char seen[N] = {0};
    int fixed = 0;
    for (int i = 0; i < N; i++) {
        cr_assert(a[i] < N && !seen[a[i]], "entry %d repeats or is out of range", i);
        seen[a[i]] = 1;
        fixed += a[i] == (uint32_t)i;
    }
    cr_expect(memcmp(a, b, sizeof a) == 0, "same seed and epoch, same permutation");
    cr_expect(memcmp(a, c, sizeof a) != 0, "another epoch, another permutation");
    /* A uniform permutation has 1 fixed point on average; 10 has p < 1e-7. */
    cr_expect(fixed < 10, "%d fixed points", fixed);
}

static int cmp_key_index(const void *a, const void *b) {
    const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

/* The permutation is the stable argsort of the seeded keys (the CUDA
 * backend's contract too, backend.h): checked against qsort of (key << 32 | index)
 * at sizes up to 200,000, where some 32-bit keys repeat and the tie order
 * matters. */
Test(backend_cpu, permutation_is_the_stable_argsort_of_the_keys) {
    const size_t sizes[] = {0, 1, 2, 7, 255, 256, 257, 1000, 65537, 200000};
    for (size_t s = 0; s < sizeof sizes / sizeof *sizes; s++) {
        const size_t n = sizes[s];
        uint32_t *got = malloc((n + 1) * sizeof *got);
        uint64_t *want = malloc((n + 1) * sizeof *want);
        void *scratch = malloc(be->perm_scratch_bytes(n) + 1);
        cr_assert(got && want && scratch);
        cr_assert_eq(be->permutation(ctx, 3, 5, n, got, scratch), GSGD_STATUS_OK);
        size_t ties = 0;
        for (size_t i = 0; i < n; i++) want[i] = ((uint64_t)gsgdi_perm_key(3, 5, i) << 32) | i;
        qsort(want, n, sizeof *want, cmp_key_index);
        for (size_t i = 0; i + 1 < n; i++) ties += (want[i] >> 32) == (want[i + 1] >> 32);
        for (size_t i = 0; i < n; i++)
            cr_assert_eq(got[i], (uint32_t)want[i], "n %zu: entry %zu is %u, the argsort's %u", n,
                         i, got[i], (uint32_t)want[i]);
        if (n == 200000) cr_expect(ties > 0, "no repeated key: the tie order went untested");
        free(got), free(want), free(scratch);
    }
}

Test(backend_cpu, losses_match_hand_computed_values) {
    double acc[2] = {0, 0};
    /* softmax: z = (0, ln 3), y = 1: p = (1/4, 3/4), loss = ln(4/3),
     * dZ = (1/4, -1/4) */
    float z[2] = {0.0f, (float)log(3.0)}, y = 1.0f, dz[2];
    cr_assert_eq(be->loss(ctx, GSGD_LOSS_SOFTMAX_CE, z, &y, 1, 2, 1, 1.0f, dz, acc),
                 GSGD_STATUS_OK);
    cr_expect(fabs(acc[0] - log(4.0 / 3.0)) < 1e-6 && acc[1] == 1.0);
    cr_expect(fabs(dz[0] - 0.25) < 1e-6 && fabs(dz[1] + 0.25) < 1e-6);
    /* logistic: z = 0, y = 1: loss ln 2, dz = -1/2, scaled by 0.5 */
    float zl = 0.0f, yl = 1.0f, dl;
    acc[0] = acc[1] = 0;
    cr_assert_eq(be->loss(ctx, GSGD_LOSS_LOGISTIC, &zl, &yl, 1, 1, 1, 0.5f, &dl, acc),
                 GSGD_STATUS_OK);
    cr_expect(fabs(acc[0] - log(2.0)) < 1e-7 && dl == -0.25f && acc[1] == 0.0);
    /* hinge: z = (1, 2, 0.5), y = 0: margins 2, 0.5 -> loss 2.5,
     * dZ = (-2, 1, 1); argmax is 1, so incorrect */
    float zh[3] = {1.0f, 2.0f, 0.5f}, yh = 0.0f, dh[3];
    acc[0] = acc[1] = 0;
    cr_assert_eq(be->loss(ctx, GSGD_LOSS_HINGE, zh, &yh, 1, 3, 1, 1.0f, dh, acc), GSGD_STATUS_OK);
    cr_expect(acc[0] == 2.5 && acc[1] == 0.0);
    cr_expect(dh[0] == -2.0f && dh[1] == 1.0f && dh[2] == 1.0f);
    /* squared, regression: z = 3, y = 1: loss 2, dz = 2 */
    float zs = 3.0f, ys = 1.0f, ds;
    acc[0] = acc[1] = 0;
    cr_assert_eq(be->loss(ctx, GSGD_LOSS_SQUARED, &zs, &ys, 1, 1, 0, 1.0f, &ds, acc),
                 GSGD_STATUS_OK);
    cr_expect(acc[0] == 2.0 && ds == 2.0f);
}

Test(backend_cpu, softmax_loss_is_stable_for_huge_logits) {
    float z[2] = {1000.0f, -1000.0f}, y = 1.0f, dz[2];
    double acc[2] = {0, 0};
    cr_assert_eq(be->loss(ctx, GSGD_LOSS_SOFTMAX_CE, z, &y, 1, 2, 1, 1.0f, dz, acc),
                 GSGD_STATUS_OK);
    cr_expect(fabs(acc[0] - 2000.0) < 1e-3, "loss %g", acc[0]);
    cr_expect(isfinite(dz[0]) && isfinite(dz[1]));
}
