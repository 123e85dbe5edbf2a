/*
 * The CUDA backend against the CPU backend, op by op, on random inputs:
 * shapes that are not multiples of 32, B = 1, and sizes past the kernels'
 * grid limits (more than 65535 rows, more rows than one sweep of the loss
 * grid, more floats than one sweep of the update grid). Where both sides
 * perform the same IEEE operations in the same order the results must be
 * bitwise equal; elsewhere each tolerance is an fp32/fp64 error bound,
 * derived in the comment beside it. Every test skips without a device.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../kernels/kernels.h" /* the fused gradient's versions */
#include "cudatest.h"
#include "fused_check.h"
#include "gemm_bound.h"
#include "backend/precision.h"
#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "core/rng.h"

static gsgd_context *cpu, *gpu;

static void open_both(void) {
    gpu = cuda_context_or_skip();
    cr_assert_eq(gsgd_context_create(&cpu, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
}

static void close_both(void) {
    gsgd_context_free(gpu);
    gsgd_context_free(cpu);
    gpu = cpu = NULL;
}

TestSuite(backend_cuda, .fini = close_both);

/* Device copy of bytes of host memory (uninitialised when host is NULL). */
static void *dev(const void *host, size_t bytes) {
    void *p;
    cr_assert_eq(gsgdi_mem_alloc(gpu, bytes, &p), GSGD_STATUS_OK, "%s", gsgd_last_error(gpu));
    if (host)
        cr_assert_eq(gpu->be->upload(gpu, p, host, bytes), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(gpu));
    return p;
}

static void fetch(void *host, const void *d, size_t bytes) {
    cr_assert_eq(gpu->be->download(gpu, host, d, bytes), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(gpu));
}

static void ok(gsgd_context *ctx, gsgd_status st) {
    cr_assert_eq(st, GSGD_STATUS_OK, "%s: %s", ctx->be->name, gsgd_last_error(ctx));
}

/* n uniform floats in [lo, hi), fresh malloc. */
static float *rnd(size_t n, uint64_t seed, double lo, double hi) {
    float *a = malloc((n ? n : 1) * sizeof *a);
    gsgdi_rng r = {gsgdi_mix64(seed)};
    for (size_t i = 0; i < n; i++) a[i] = (float)(lo + (hi - lo) * gsgdi_rng_uniform(&r));
    return a;
}

static void check_gemm(int ta, int tb, size_t M, size_t N, size_t K) {
    float *A = rnd(M * K, 1, -1, 1), *B = rnd(K * N, 2, -1, 1), *C = rnd(M * N, 3, -1, 1);
    float *dA = dev(A, M * K * 4), *dB = dev(B, K * N * 4), *dC = dev(C, M * N * 4);
    size_t lda = ta ? M : K, ldb = tb ? K : N;
    ok(gpu, gpu->be->gemm(gpu, GSGD_PRECISION_FP32, ta, tb, M, N, K, 0.5f, dA, lda, dB, ldb, 2.0f,
                          dC, N));
    float *got = malloc(M * N * 4);
    fetch(got, dC, M * N * 4);
    /* The bound of test_backend_cpu: K products of magnitude <= 1 scaled by
     * 0.5, plus 2|C| <= 2, summed in any order (cuBLAS may split K): the
     * fp32 error is at most gamma_{K+2} * (0.5 K + 2). */
    double bound = (K + 2) * FLT_EPSILON * (0.5 * K + 2.0);
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s = 0.0;
            for (size_t k = 0; k < K; k++)
                s +=
                    (double)(ta ? A[k * M + i] : A[i * K + k]) * (tb ? B[j * K + k] : B[k * N + j]);
            double ref = 0.5 * s + 2.0 * C[i * N + j];
            if (!(fabs(got[i * N + j] - ref) <= bound))
                cr_assert_fail("ta=%d tb=%d %zux%zux%zu C[%zu][%zu] = %.9g, exact %.9g", ta, tb, M,
                               N, K, i, j, got[i * N + j], ref);
        }
    gsgdi_mem_free(gpu, dA, M * K * 4);
    gsgdi_mem_free(gpu, dB, K * N * 4);
    gsgdi_mem_free(gpu, dC, M * N * 4);
    free(A), free(B), free(C), free(got);
}

Test(backend_cuda, gemm_is_row_major_for_all_transposes_and_non_square_shapes) {
    open_both();
    const size_t shapes[][3] = {{7, 3, 5}, {1, 33, 65}, {65, 17, 129}, {33, 1, 1}, {256, 10, 784}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int ta = 0; ta < 2; ta++)
            for (int tb = 0; tb < 2; tb++)
                check_gemm(ta, tb, shapes[s][0], shapes[s][1], shapes[s][2]);
}

/* TF32 and BF16 on the tensor cores against the exact product of the
 * unrounded inputs, within gemm_bound.h's bound for the precision. cuBLAS
 * does not document how it rounds FP32 inputs (nor whether _FAST_16BF
 * took BF16 or TF32), so u is the larger of rounding and truncation, a
 * whole step of the kept grid: 2^-10 for TF32, 2^-7 for BF16. */
static void check_gemm_precision(gsgd_precision p, int ta, int tb, size_t M, size_t N, size_t K) {
    float *A = rnd(M * K, 11, -1, 1), *B = rnd(K * N, 12, -1, 1), *C = rnd(M * N, 13, -1, 1);
    float *dA = dev(A, M * K * 4), *dB = dev(B, K * N * 4), *dC = dev(C, M * N * 4);
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    ok(gpu, gpu->be->gemm(gpu, p, ta, tb, M, N, K, 0.5f, dA, lda, dB, ldb, 2.0f, dC, N));
    float *got = malloc(M * N * 4);
    fetch(got, dC, M * N * 4);
    const double u = 2.0 * gsgdi_precision_unit_roundoff(p);
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s;
            const double ref =
                gb_exact(ta, tb, K, 0.5f, A, lda, B, ldb, 2.0f, C[i * N + j], i, j, &s);
            const double bound = gb_bound(u, K, s, fabs(2.0 * C[i * N + j]));
            if (!(fabs(got[i * N + j] - ref) <= bound))
                cr_assert_fail("precision %d ta=%d tb=%d %zux%zux%zu C[%zu][%zu] = %.9g, exact "
                               "%.9g (bound %.3g)",
                               p, ta, tb, M, N, K, i, j, got[i * N + j], ref, bound);
        }
    gsgdi_mem_free(gpu, dA, M * K * 4);
    gsgdi_mem_free(gpu, dB, K * N * 4);
    gsgdi_mem_free(gpu, dC, M * N * 4);
    free(A), free(B), free(C), free(got);
}

Test(backend_cuda, gemm_in_tf32_and_bf16_is_within_the_precisions_bound) {
    open_both();
    const size_t shapes[][3] = {
        {7, 3, 5}, {1, 33, 65}, {65, 17, 129}, {256, 10, 784}, {512, 256, 784}};
    for (int p = GSGD_PRECISION_TF32; p <= GSGD_PRECISION_BF16; p++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++)
                    check_gemm_precision((gsgd_precision)p, ta, tb, shapes[s][0], shapes[s][1],
                                         shapes[s][2]);
}

/* One IEEE add and a compare per element on both sides: bitwise equal. */
Test(backend_cuda, bias_act_is_bitwise_the_cpu_result) {
    open_both();
    const size_t shapes[][2] = {{1, 1}, {1, 33}, {37, 10}, {1000, 257}, {70000, 3}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
        for (int relu = 0; relu < 2; relu++) {
            size_t rows = shapes[s][0], cols = shapes[s][1], n = rows * cols;
            float *Y = rnd(n, 10 + s, -1, 1), *b = rnd(cols, 20 + s, -0.5, 0.5);
            float *dY = dev(Y, n * 4), *db = dev(b, cols * 4), *got = malloc(n * 4);
            ok(gpu, gpu->be->bias_act(gpu, dY, db, rows, cols, relu));
            ok(cpu, cpu->be->bias_act(cpu, Y, b, rows, cols, relu));
            fetch(got, dY, n * 4);
            cr_expect(memcmp(got, Y, n * 4) == 0, "%zux%zu relu=%d", rows, cols, relu);
            gsgdi_mem_free(gpu, dY, n * 4);
            gsgdi_mem_free(gpu, db, cols * 4);
            free(Y), free(b), free(got);
        }
}

Test(backend_cuda, relu_backward_is_bitwise_the_cpu_result) {
    open_both();
    const size_t sizes[] = {1, 31, 1000003};
    for (size_t s = 0; s < 3; s++) {
        size_t n = sizes[s];
        float *A = rnd(n, 30 + s, -1, 1), *g = rnd(n, 40 + s, -1, 1), *got = malloc(n * 4);
        for (size_t i = 0; i < n; i++) A[i] = A[i] > 0 ? A[i] : 0.0f; /* a ReLU output */
        float *dA = dev(A, n * 4), *dg = dev(g, n * 4);
        ok(gpu, gpu->be->relu_backward(gpu, dg, dA, n));
        ok(cpu, cpu->be->relu_backward(cpu, g, A, n));
        fetch(got, dg, n * 4);
        cr_expect(memcmp(got, g, n * 4) == 0, "n = %zu", n);
        gsgdi_mem_free(gpu, dA, n * 4);
        gsgdi_mem_free(gpu, dg, n * 4);
        free(A), free(g), free(got);
    }
}

Test(backend_cuda, col_sum_agrees_to_the_final_rounding) {
    open_both();
    const size_t rows_list[] = {1, 7, 64, 4096, 70001}, cols_list[] = {1, 10, 33, 300};
    for (size_t a = 0; a < 5; a++)
        for (size_t c = 0; c < 4; c++) {
            size_t rows = rows_list[a], cols = cols_list[c], n = rows * cols;
            float *Y = rnd(n, 50 + a * 7 + c, -1, 1), *ref = malloc(cols * 4),
                  *got = malloc(cols * 4);
            float *dY = dev(Y, n * 4), *db = dev(NULL, cols * 4);
            ok(gpu, gpu->be->col_sum(gpu, dY, rows, cols, db));
            ok(cpu, cpu->be->col_sum(cpu, Y, rows, cols, ref));
            fetch(got, db, cols * 4);
            for (size_t j = 0; j < cols; j++) {
                /* Both sum in double (error <= rows * DBL_EPSILON * sum|y|
                 * each, in any order) and round once to float: they differ
                 * by those two errors plus at most one float ulp. */
                double abs_sum = 0.0;
                for (size_t r = 0; r < rows; r++) abs_sum += fabs(Y[r * cols + j]);
                double tol = 2.0 * rows * DBL_EPSILON * abs_sum + FLT_EPSILON * fabs(ref[j]);
                if (!(fabs(got[j] - ref[j]) <= tol))
                    cr_assert_fail("%zux%zu column %zu: %.9g vs cpu %.9g", rows, cols, j, got[j],
                                   ref[j]);
            }
            gsgdi_mem_free(gpu, dY, n * 4);
            gsgdi_mem_free(gpu, db, cols * 4);
            free(Y), free(ref), free(got);
        }
}

/* Copies, byte conversions (a correctly rounded division on both sides)
 * and (x - mean) * inv_std (no FMA can form): bitwise equal. Byte storage
 * takes the vectorised kernel when d % 4 == 0, the scalar one otherwise. */
static void check_gather(gsgdi_xtype xt, size_t n, size_t d, size_t start, size_t B, int use_perm,
                         int standardise) {
    const size_t xbytes = n * d * gsgdi_xtype_size(xt);
    void *X;
    if (xt == GSGD_XTYPE_U8) {
        uint8_t *X8 = malloc(n * d);
        gsgdi_rng r = {gsgdi_mix64(n + d)};
        for (size_t i = 0; i < n * d; i++) X8[i] = (uint8_t)(gsgdi_rng_next(&r) >> 56);
        X = X8;
    } else {
        X = rnd(n * d, n + d, -2, 2);
    }
    float *y = rnd(n, n + 1, 0, 9);
    float *mean = rnd(d, 60, -1, 1), *inv = rnd(d, 61, 0.5, 2);
    uint32_t *perm = malloc(n * 4);
    uint64_t *scratch = malloc(cpu->be->perm_scratch_bytes(n));
    ok(cpu, cpu->be->permutation(cpu, 5, 1, n, perm, scratch));
    void *dX = dev(X, xbytes);
    float *dy = dev(y, n * 4), *dm = dev(mean, d * 4), *di = dev(inv, d * 4);
    uint32_t *dp = dev(perm, n * 4);
    float *dXb = dev(NULL, B * d * 4), *dyb = dev(NULL, B * 4);
    float *Xb = malloc(B * d * 4), *yb = malloc(B * 4), *gX = malloc(B * d * 4),
          *gy = malloc(B * 4);
    ok(gpu, gpu->be->gather(gpu, dX, xt, dy, d, use_perm ? dp : NULL, start, B,
                            standardise ? dm : NULL, standardise ? di : NULL, dXb, dyb));
    ok(cpu, cpu->be->gather(cpu, X, xt, y, d, use_perm ? perm : NULL, start, B,
                            standardise ? mean : NULL, standardise ? inv : NULL, Xb, yb));
    fetch(gX, dXb, B * d * 4);
    fetch(gy, dyb, B * 4);
    cr_expect(memcmp(gX, Xb, B * d * 4) == 0 && memcmp(gy, yb, B * 4) == 0,
              "%s n=%zu d=%zu start=%zu B=%zu perm=%d standardise=%d",
              xt == GSGD_XTYPE_U8 ? "u8" : "f32", n, d, start, B, use_perm, standardise);
    gsgdi_mem_free(gpu, dX, xbytes);
    gsgdi_mem_free(gpu, dy, n * 4);
    gsgdi_mem_free(gpu, dm, d * 4);
    gsgdi_mem_free(gpu, di, d * 4);
    gsgdi_mem_free(gpu, dp, n * 4);
    gsgdi_mem_free(gpu, dXb, B * d * 4);
    gsgdi_mem_free(gpu, dyb, B * 4);
    free(X), free(y), free(mean), free(inv), free(perm), free(scratch);
    free(Xb), free(yb), free(gX), free(gy);
}

Test(backend_cuda, gather_is_bitwise_the_cpu_result) {
    open_both();
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 2; s++) {
            check_gather(GSGD_XTYPE_F32, 1000, 33, 17, 500, p, s);
            check_gather(GSGD_XTYPE_F32, 5, 1, 4, 1, p, s);
            check_gather(GSGD_XTYPE_F32, 300, 784, 44, 256, p, s);
            check_gather(GSGD_XTYPE_F32, 70000, 3, 0, 70000, p, s);
            check_gather(GSGD_XTYPE_F32, 70000, 120, 0, 70000, p, s); /* quads, threads loop */
        }
}

Test(backend_cuda, gather_from_bytes_is_bitwise_the_cpu_result) {
    open_both();
    for (int p = 0; p < 2; p++)
        for (int s = 0; s < 2; s++) {
            check_gather(GSGD_XTYPE_U8, 1000, 33, 17, 500, p, s); /* scalar kernel */
            check_gather(GSGD_XTYPE_U8, 5, 1, 4, 1, p, s);
            check_gather(GSGD_XTYPE_U8, 300, 784, 44, 256, p, s); /* four bytes a thread */
            check_gather(GSGD_XTYPE_U8, 300, 1028, 0, 300, p, s); /* a row past 256 x 4 */
            check_gather(GSGD_XTYPE_U8, 70000, 3, 0, 70000, p, s);
            check_gather(GSGD_XTYPE_U8, 70000, 4, 0, 70000, p, s);
            /* Past the grid cap of 8192 x 256 quads: threads loop. */
            check_gather(GSGD_XTYPE_U8, 70000, 784, 0, 60000, p, s);
        }
}

/* Strided rows (a dataset subset), one row, contiguous rows, and a pitch
 * past cudaMemcpy2D's limit: bytes equal to the CPU's copy. */
static void check_copy_2d(size_t dpitch, size_t spitch, size_t width, size_t height) {
    const size_t sbytes = spitch * (height - 1) + width, dbytes = dpitch * (height - 1) + width;
    uint8_t *src = calloc(sbytes, 1), *want = calloc(dbytes, 1), *got = malloc(dbytes);
    cr_assert(src && want && got);
    for (size_t r = 0; r < height; r++) /* the rows only: the gaps may be huge */
        for (size_t i = 0; i < width; i++) src[r * spitch + i] = (uint8_t)(r * 7 + i * 3 + 1);
    uint8_t *ds = dev(src, sbytes), *dd = dev(want, dbytes);
    ok(gpu, gpu->be->copy_2d(gpu, dd, dpitch, ds, spitch, width, height));
    ok(cpu, cpu->be->copy_2d(cpu, want, dpitch, src, spitch, width, height));
    fetch(got, dd, dbytes);
    cr_expect(memcmp(got, want, dbytes) == 0, "dpitch=%zu spitch=%zu width=%zu height=%zu", dpitch,
              spitch, width, height);
    gsgdi_mem_free(gpu, ds, sbytes);
    gsgdi_mem_free(gpu, dd, dbytes);
    free(src), free(want), free(got);
}

Test(backend_cuda, copy_2d_is_the_cpus_copy) {
    open_both();
    check_copy_2d(784, 8 * 784, 784, 7500);
    check_copy_2d(4, 12, 4, 20000);
    check_copy_2d(3136, 3136, 3136, 100);
    check_copy_2d(10, 1000, 10, 1);
    check_copy_2d(16, (size_t)1 << 31, 16, 2); /* 2 GiB apart: row by row */
}

Test(backend_cuda, permutation_is_the_cpus_permutation) {
    open_both();
    const size_t sizes[] = {1, 2, 1000, 100003};
    const uint64_t seeds[][2] = {{7, 0}, {7, 1}, {123456789, 5}};
    for (size_t s = 0; s < 4; s++)
        for (size_t k = 0; k < 3; k++) {
            size_t n = sizes[s], sb = gpu->be->perm_scratch_bytes(n);
            cr_assert(sb >= 3 * n * sizeof(uint32_t), "scratch %zu bytes for n = %zu", sb, n);
            uint32_t *want = malloc(n * 4), *got = malloc(n * 4), *dp = dev(NULL, n * 4);
            void *scratch = malloc(cpu->be->perm_scratch_bytes(n)), *dscratch = dev(NULL, sb);
            ok(cpu, cpu->be->permutation(cpu, seeds[k][0], seeds[k][1], n, want, scratch));
            ok(gpu, gpu->be->permutation(gpu, seeds[k][0], seeds[k][1], n, dp, dscratch));
            fetch(got, dp, n * 4);
            cr_expect(memcmp(got, want, n * 4) == 0, "n = %zu seed %llu epoch %llu", n,
                      (unsigned long long)seeds[k][0], (unsigned long long)seeds[k][1]);
            gsgdi_mem_free(gpu, dp, n * 4);
            gsgdi_mem_free(gpu, dscratch, sb);
            free(want), free(got), free(scratch);
        }
}

/* ---- update and sumsq --------------------------------------------------- */

/* One variant of an update: the rule and what is switched on around it. */
typedef struct {
    gsgd_optim kind;
    float mu, wd, clip, l1;
    int average;
    int guard; /* 0 none, 1 skip mode, 2 stop mode */
} upd_case;

static int layerwise(gsgd_optim k) { return k == GSGD_OPTIM_LARS || k == GSGD_OPTIM_LAMB; }

static gsgdi_update_rule case_rule(const upd_case *c, size_t n) {
    gsgdi_update_rule r = {.kind = c->kind,
                           .momentum = c->mu,
                           .weight_decay = c->wd,
                           .beta1 = 0.9f,
                           .beta2 = 0.999f,
                           .eps = 1e-6f,
                           .alpha = 0.99f,
                           .trust_coef = 0.02f,
                           .clip_norm = c->clip,
                           .l1 = c->l1,
                           .skip_nonfinite = c->guard == 1,
                           .n_decay = n / 3,
                           .n_segments = 1,
                           .seg = {0, n}};
    if (layerwise(c->kind)) { /* uneven segments, empty ones at small n; weights first */
        const size_t cut[5] = {0, n / 7, n / 3, n / 2, n};
        r.n_segments = 4;
        memcpy(r.seg, cut, sizeof cut);
        r.n_decay = cut[2];
    }
    return r;
}

/* Bitwise equal, or both NaN (the CPU and the GPU make different NaNs). */
static int same(float a, float b) { return (isnan(a) && isnan(b)) || memcmp(&a, &b, 4) == 0; }

/* Equal within tol, or the same non-finite value. */
static int near(float a, float b, double tol) {
    if (!isfinite(a) || !isfinite(b)) return same(a, b);
    return fabs((double)a - b) <= tol;
}

/* Host and device copies of every buffer an update touches. */
typedef struct {
    float *h[5], *d[5]; /* params, state 0, state 1, average, work */
    size_t len[5];
    gsgdi_guard hg, *dg;
    float *dlr;
} upd_bufs;

enum { B_P, B_S0, B_S1, B_AVG, B_WORK };

static void bufs_open(upd_bufs *b, size_t n, size_t offset, float lr) {
    const size_t len[5] = {n + offset, n + offset, n + offset, n + offset,
                           GSGD_WORK_HEAD + n + offset};
    for (int k = 0; k < 5; k++) {
        b->len[k] = len[k];
        b->h[k] =
            k == B_P || k == B_AVG ? rnd(len[k], n + 70 + (size_t)k, -1, 1) : calloc(len[k], 4);
        b->d[k] = dev(b->h[k], len[k] * 4);
    }
    b->hg = (gsgdi_guard){.lr_factor = 1.0f};
    b->dg = dev(&b->hg, sizeof b->hg);
    b->dlr = dev(&lr, 4);
}

static void bufs_close(upd_bufs *b) {
    for (int k = 0; k < 5; k++) {
        gsgdi_mem_free(gpu, b->d[k], b->len[k] * 4);
        free(b->h[k]);
    }
    gsgdi_mem_free(gpu, b->dg, sizeof b->hg);
    gsgdi_mem_free(gpu, b->dlr, 4);
}

/* The args of one step on host (dev = 0) or device buffers, every pointer
 * offset by `offset` floats (offset 1 forces the scalar path). */
static gsgdi_update_args bufs_args(upd_bufs *b, int on_dev, const upd_case *c, size_t n,
                                   size_t offset, const float *lr, const float *g, uint64_t t) {
    float **x = on_dev ? b->d : b->h;
    return (gsgdi_update_args){.lr = lr,
                               .params = x[B_P] + offset,
                               .grads = g + offset,
                               .n = n,
                               .state = {x[B_S0] + offset, x[B_S1] + offset},
                               .work = x[B_WORK] + offset,
                               .average = c->average ? x[B_AVG] + offset : NULL,
                               .avg_rate = 1.0f / (float)t,
                               .t = t,
                               .guard = c->guard ? (on_dev ? b->dg : &b->hg) : NULL};
}

/* Three steps on both backends, then params, state and average compared.
 * Elementwise rules without clipping round after every operation in the
 * same order on both sides (update_math.h): bitwise equal, NaN for NaN.
 * Clipping and the layer-wise rules also read norms, double sums rounded
 * to float that differ by at most one float ulp (their double errors, n
 * DBL_EPSILON relative, are far below it). A ratio or scale of two such
 * norms then differs by at most 2 FLT_EPSILON, and the at most 10 fp32
 * operations of an element's step each round by FLT_EPSILON / 2 relative
 * at most differently: 7 FLT_EPSILON of the step per step, carried through
 * the state. Over 3 steps the difference is within 24 FLT_EPSILON of
 * M = sum_t (|w_t| + |w_t - w_(t-1)|) (and of sum_t |state_t| for state). */
static void check_update(const upd_case *c, size_t n, size_t offset) {
    const gsgdi_update_rule rule = case_rule(c, n);
    const float lr = c->kind == GSGD_OPTIM_LARS ? 0.5f : 0.05f;
    const size_t bytes = (n + offset) * 4;
    upd_bufs b;
    bufs_open(&b, n, offset, lr);
    double *mag = calloc(3 * (n + offset), sizeof *mag); /* M of w, state 0, state 1 */
    float *dgr = dev(NULL, bytes), *got = malloc(b.len[B_WORK] * 4);
    for (uint64_t t = 1; t <= 3; t++) {
        float *g = rnd(n + offset, n + 80 + t, -1, 1);
        if (c->guard && t == 2) g[offset + n / 2] = c->guard == 1 ? NAN : INFINITY;
        cr_assert_eq(gpu->be->upload(gpu, dgr, g, bytes), GSGD_STATUS_OK);
        for (size_t i = 0; i < n + offset; i++) mag[i] += fabs(b.h[B_P][i]);
        gsgdi_update_args hc = bufs_args(&b, 0, c, n, offset, &lr, g, t),
                          gc = bufs_args(&b, 1, c, n, offset, b.dlr, dgr, t);
        ok(cpu, cpu->be->update(cpu, &rule, &hc));
        ok(gpu, gpu->be->update(gpu, &rule, &gc));
        for (size_t i = 0; i < n + offset; i++) {
            mag[i] += 2.0 * fabs(b.h[B_P][i]); /* |w_t| + |w_t - w_(t-1)| <= 2|w_t| + |w_(t-1)| */
            mag[n + offset + i] += fabs(b.h[B_S0][i]);
            mag[2 * (n + offset) + i] += fabs(b.h[B_S1][i]);
        }
        free(g);
    }
    const int exact = !layerwise(c->kind) && !(c->clip > 0.0f);
    const int cmp[4] = {B_P, B_S0, B_S1, B_AVG};
    for (int k = 0; k < 4; k++) {
        if (k == 3 && !c->average) continue;
        fetch(got, b.d[cmp[k]], bytes);
        for (size_t i = 0; i < n + offset; i++) {
            const double M = mag[(k == 3 ? 0 : k) * (n + offset) + i]; /* average: w's */
            const int good = exact ? same(got[i], b.h[cmp[k]][i])
                                   : near(got[i], b.h[cmp[k]][i], 24.0 * FLT_EPSILON * M);
            if (!good)
                cr_assert_fail("rule %d clip %g l1 %g avg %d guard %d n %zu offset %zu: buffer %d "
                               "[%zu] = %.9g, cpu %.9g",
                               c->kind, c->clip, c->l1, c->average, c->guard, n, offset, k, i,
                               got[i], b.h[cmp[k]][i]);
        }
    }
    gsgdi_guard gg;
    fetch(&gg, b.dg, sizeof gg);
    cr_expect(gg.bad_steps == b.hg.bad_steps && gg.first_bad == b.hg.first_bad &&
                  gg.lr_factor == b.hg.lr_factor,
              "rule %d guard %d n %zu: gpu guard (%g, %u, %llu), cpu (%g, %u, %llu)", c->kind,
              c->guard, n, gg.lr_factor, gg.bad_steps, (unsigned long long)gg.first_bad,
              b.hg.lr_factor, b.hg.bad_steps, (unsigned long long)b.hg.first_bad);
    if (c->guard) cr_expect_eq(b.hg.first_bad, 2, "the bad step is t = 2");
    gsgdi_mem_free(gpu, dgr, bytes);
    bufs_close(&b);
    free(mag), free(got);
}

/* Every rule, plain (coupled or decoupled decay), with clip + l1 + average,
 * and under either guard, at sizes 1, not a multiple of 4, and more floats
 * than one sweep of the grid, aligned (float4 path) or one float off. */
Test(backend_cuda, update_matches_the_cpu_for_every_rule_and_variant) {
    open_both();
    const size_t sizes[] = {1, 3, 4, 1001, (1u << 20) + 3};
    const gsgd_optim kinds[] = {GSGD_OPTIM_SGD,     GSGD_OPTIM_MOMENTUM, GSGD_OPTIM_NESTEROV,
                                GSGD_OPTIM_ADAM,    GSGD_OPTIM_ADAMW,    GSGD_OPTIM_ADAGRAD,
                                GSGD_OPTIM_RMSPROP, GSGD_OPTIM_RMSPROP,  GSGD_OPTIM_LARS,
                                GSGD_OPTIM_LAMB};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        const float mu = kinds[k] == GSGD_OPTIM_RMSPROP && k == 6 ? 0.0f : 0.9f;
        const upd_case variants[] = {
            {kinds[k], mu, 0.01f, 0.0f, 0.0f, 0, 0},
            {kinds[k], mu, 0.01f, 0.5f, 1e-3f, 1, 0},
            {kinds[k], mu, 0.01f, 0.0f, 0.0f, 0, 1},
            {kinds[k], mu, 0.0f, 0.0f, 0.0f, 1, 2},
        };
        for (size_t v = 0; v < 4; v++)
            for (size_t s = 0; s < 5; s++)
                for (size_t off = 0; off < 2; off++) check_update(&variants[v], sizes[s], off);
    }
    const upd_case variants_sgd = {GSGD_OPTIM_SGD, 0.0f, 0.01f, 0.0f, 0.0f, 1, 0};
    const upd_case big[] = {{GSGD_OPTIM_MOMENTUM, 0.9f, 0.01f, 0.0f, 0.0f, 0, 0},
                            {GSGD_OPTIM_LAMB, 0.9f, 0.01f, 1.0f, 0.0f, 0, 0}};
    check_update(&big[0], 9000001, 0);
    check_update(&big[1], 9000001, 0);
    /* Past 8192 blocks of 256 threads x 2 quads: each thread loops. */
    check_update(&variants_sgd, 20000001, 0);
}

/* Both sum exact double products, each within n DBL_EPSILON of the exact
 * sum in its own order, and round once to float: at most one float ulp
 * apart. The GPU's fixed reduction tree makes reruns bitwise equal. */
Test(backend_cuda, sumsq_agrees_to_the_final_rounding_and_is_reproducible) {
    open_both();
    const size_t sizes[] = {1, 5, 1000, 1000003, 9000001};
    for (size_t s = 0; s < 5; s++) {
        const size_t n = sizes[s];
        const size_t seg[6] = {0, n / 5, n / 5, n / 2, n - 1, n}; /* one empty */
        float *x = rnd(n, 90 + s, -2, 2), *dx = dev(x, n * 4), *dout = dev(NULL, 5 * 4);
        float want[5], got[5], again[5];
        ok(cpu, cpu->be->sumsq(cpu, x, seg, 5, want));
        ok(gpu, gpu->be->sumsq(gpu, dx, seg, 5, dout));
        fetch(got, dout, sizeof got);
        ok(gpu, gpu->be->sumsq(gpu, dx, seg, 5, dout));
        fetch(again, dout, sizeof again);
        for (int k = 0; k < 5; k++) {
            const double tol =
                FLT_EPSILON * fabs(want[k]) + 2.0 * (double)n * DBL_EPSILON * fabs(want[k]);
            cr_expect(fabs((double)got[k] - want[k]) <= tol, "n %zu seg %d: %.9g vs cpu %.9g", n, k,
                      got[k], want[k]);
            cr_expect(memcmp(&got[k], &again[k], 4) == 0, "n %zu seg %d: rerun differs", n, k);
        }
        gsgdi_mem_free(gpu, dx, n * 4);
        gsgdi_mem_free(gpu, dout, 5 * 4);
        free(x);
    }
}

/* Runs one loss on both backends and compares. zmax bounds |z|. */
static void check_loss(gsgdi_loss kind, size_t B, size_t K, int classify, double zmax) {
    const size_t n = B * K;
    float *Z = rnd(n, B * 31 + K, -zmax, zmax), *y = rnd(B, B + K, 0, 1);
    for (size_t i = 0; i < B; i++) /* class index, {0,1} for logistic, real for regression */
        y[i] = kind == GSGD_LOSS_LOGISTIC ? (y[i] < 0.5f ? 0.0f : 1.0f)
               : classify                 ? floorf(y[i] * (float)K)
                                          : 4.0f * y[i] - 2.0f;
    const float gs = 1.0f / (float)B;
    double acc[2] = {1.5, 2.0}, gacc[2] = {1.5, 2.0};
    float *dZ = malloc(n * 4), *got = malloc(n * 4);
    float *dZd = dev(Z, n * 4), *dyd = dev(y, B * 4), *dgd = dev(NULL, n * 4);
    double *dacc = dev(gacc, sizeof gacc);
    ok(cpu, cpu->be->loss(cpu, kind, Z, y, B, K, classify, gs, dZ, acc));
    ok(gpu, gpu->be->loss(gpu, kind, dZd, dyd, B, K, classify, gs, dgd, dacc));
    /* Scoring (no gradient) adds the same again. */
    ok(cpu, cpu->be->loss(cpu, kind, Z, y, B, K, classify, 1.0f, NULL, acc));
    ok(gpu, gpu->be->loss(gpu, kind, dZd, dyd, B, K, classify, 1.0f, NULL, dacc));
    fetch(got, dgd, n * 4);
    fetch(gacc, dacc, sizeof gacc);
    /* Gradients: both sides round the same double expression to float and
     * apply the same float ops. The doubles differ only by the libm exp
     * (<= 1 ulp each) and the order of the K-term softmax sum, relative
     * (K + 4) DBL_EPSILON: at most one float rounding of p apart (|p| <= 1,
     * so <= FLT_EPSILON), carried through (p - t) * gs, plus an ulp from
     * each of those two float ops. Squared and hinge are exact. */
    for (size_t i = 0; i < n; i++) {
        double tol = FLT_EPSILON * (gs + 2.0 * fabs(dZ[i]));
        if (!(fabs(got[i] - dZ[i]) <= tol))
            cr_assert_fail("loss %d B=%zu K=%zu: dZ[%zu][%zu] = %.9g vs cpu %.9g", kind, B, K,
                           i / K, i % K, got[i], dZ[i]);
    }
    /* Sums: per row at most M = K (zmax+1)^2 + 2 zmax + ln K + 2 in
     * magnitude (squared, hinge and softmax terms alike), each row's value
     * within (K + 8) DBL_EPSILON relative of the CPU's (libm, term order),
     * and the 2B rows summed in another order: (2B + K + 8) DBL_EPSILON of
     * 2B M, twice (both sides). */
    double M = (double)K * (zmax + 1) * (zmax + 1) + 2 * zmax + log((double)K) + 2;
    double tol = 2.0 * (2.0 * B + K + 8) * DBL_EPSILON * 2.0 * B * M;
    cr_expect(fabs(gacc[0] - acc[0]) <= tol, "loss %d B=%zu K=%zu: sum %.17g vs cpu %.17g", kind, B,
              K, gacc[0], acc[0]);
    /* Same argmax rule (first maximum) on the same floats: equal counts. */
    cr_expect(gacc[1] == acc[1], "loss %d B=%zu K=%zu: correct %g vs cpu %g", kind, B, K, gacc[1],
              acc[1]);
    gsgdi_mem_free(gpu, dZd, n * 4);
    gsgdi_mem_free(gpu, dyd, B * 4);
    gsgdi_mem_free(gpu, dgd, n * 4);
    gsgdi_mem_free(gpu, dacc, sizeof gacc);
    free(Z), free(y), free(dZ), free(got);
}

Test(backend_cuda, losses_and_gradients_match_the_cpu) {
    open_both();
    const size_t batches[] = {1, 33, 5000};
    const size_t classes[] = {2, 10, 37, 100};
    for (size_t b = 0; b < 3; b++) {
        size_t B = batches[b];
        check_loss(GSGD_LOSS_LOGISTIC, B, 1, 1, 3.0);
        check_loss(GSGD_LOSS_SQUARED, B, 1, 0, 3.0);
        for (size_t k = 0; k < 4; k++) {
            check_loss(GSGD_LOSS_SOFTMAX_CE, B, classes[k], 1, 3.0);
            check_loss(GSGD_LOSS_HINGE, B, classes[k], 1, 3.0);
            check_loss(GSGD_LOSS_SQUARED, B, classes[k], 1, 3.0);
        }
    }
    check_loss(GSGD_LOSS_SOFTMAX_CE, 70000, 10, 1, 3.0); /* more rows than one grid sweep */
    check_loss(GSGD_LOSS_SOFTMAX_CE, 64, 10, 1, 1000.0); /* huge logits stay finite */
}

/* Opens gpu anew running version v of the fused gradient
 * (kernels/linear_grad.cu), which the backend reads from
 * GSGD_LINEAR_GRAD_VERSION at a context's first scratch query; v = 0
 * leaves the variable unset (the default version). */
static void use_version(int v) {
    gsgd_context_free(gpu);
    gpu = NULL;
    if (v > 0) {
        char s[16];
        snprintf(s, sizeof s, "%d", v);
        setenv("GSGD_LINEAR_GRAD_VERSION", s, 1);
        cr_log_info("fused gradient, version %d of %d", v, GSGD_K_LINEAR_GRAD_VERSIONS);
    } else {
        unsetenv("GSGD_LINEAR_GRAD_VERSION");
    }
    gpu = cuda_context_or_skip();
}

/* The fused one-layer gradient against the composed CPU ops
 * (fused_check.h derives the bounds), every version of the kernel: every
 * loss, every kernel width, both storages, with and without
 * standardisation and a permutation, a batch of one row, partial tiles,
 * more tiles than blocks, and the Fashion-MNIST shape. */
Test(backend_cuda, fused_gradient_matches_the_composed_cpu_ops) {
    open_both();
    static const struct {
        gsgdi_loss kind;
        size_t K;
    } losses[] = {{GSGD_LOSS_SOFTMAX_CE, 10}, {GSGD_LOSS_SOFTMAX_CE, 3}, {GSGD_LOSS_SOFTMAX_CE, 16},
                  {GSGD_LOSS_SOFTMAX_CE, 7},  {GSGD_LOSS_SOFTMAX_CE, 2}, {GSGD_LOSS_LOGISTIC, 1},
                  {GSGD_LOSS_SQUARED, 1},     {GSGD_LOSS_SQUARED, 4}};
    const size_t batches[] = {1, 45, 20000};
    for (int v = 1; v <= GSGD_K_LINEAR_GRAD_VERSIONS; v++) {
        use_version(v);
        uint64_t seed = 1;
        /* d a multiple of 4, as the kernel takes (36 = 9 quads: lanes idle) */
        for (size_t l = 0; l < sizeof losses / sizeof losses[0]; l++)
            for (size_t bi = 0; bi < 3; bi++)
                fc_check_variants(gpu, cpu, losses[l].kind, losses[l].K, 20300, 150, batches[bi],
                                  36, 20, &seed);
        for (int xt = 0; xt < 2; xt++) {
            fc_case c = {.kind = GSGD_LOSS_SOFTMAX_CE,
                         .n = 12000,
                         .d = 784,
                         .K = 10,
                         .B = 12000,
                         .xt = xt ? GSGD_XTYPE_U8 : GSGD_XTYPE_F32,
                         .standardise = xt,
                         .permute = 1,
                         .seed = 99};
            fc_check(gpu, cpu, &c);
        }
    }
}

Test(backend_cuda, fused_gradient_is_exact_on_exact_data) {
    open_both();
    static const struct {
        gsgdi_loss kind;
        size_t K;
    } losses[] = {{GSGD_LOSS_HINGE, 5},
                  {GSGD_LOSS_HINGE, 10},
                  {GSGD_LOSS_SQUARED, 1},
                  {GSGD_LOSS_SQUARED, 3}};
    for (int v = 1; v <= GSGD_K_LINEAR_GRAD_VERSIONS; v++) {
        use_version(v);
        for (size_t l = 0; l < sizeof losses / sizeof losses[0]; l++) {
            fc_case c = {.kind = losses[l].kind,
                         .n = 9000,
                         .d = 24,
                         .K = losses[l].K,
                         .start = 100,
                         .B = 4096, /* every partial sum stays exact (fused_check.h) */
                         .xt = GSGD_XTYPE_F32,
                         .permute = 1,
                         .exact = 1,
                         .seed = 200 + l};
            fc_check(gpu, cpu, &c);
        }
    }
}

/* Shapes a version does not take report 0 bytes, so models compose the
 * ops there instead of failing. */
Test(backend_cuda, fused_gradient_declines_shapes_it_does_not_take) {
    open_both();
    for (int v = 1; v <= GSGD_K_LINEAR_GRAD_VERSIONS; v++) {
        use_version(v);
        void *X;
        ok(gpu, gsgdi_mem_alloc(gpu, 4096 * 4, &X));
        const gsgdi_backend *be = gpu->be;
        cr_expect_gt(be->linear_grad_scratch(gpu, X, GSGD_XTYPE_F32, 784, 10), 0);
        cr_expect_eq(be->linear_grad_scratch(gpu, X, GSGD_XTYPE_F32, 785, 10), 0, "d %% 4 != 0");
        cr_expect_eq(be->linear_grad_scratch(gpu, X, GSGD_XTYPE_F32, 784, 17), 0, "K > 16");
        cr_expect_eq(be->linear_grad_scratch(gpu, (char *)X + 4, GSGD_XTYPE_F32, 784, 10), 0,
                     "rows not on 16 bytes");
        cr_expect_eq(be->linear_grad_scratch(gpu, X, GSGD_XTYPE_F32, 1 << 20, 10), 0,
                     "weights past shared memory");
        gsgdi_mem_free(gpu, X, 4096 * 4);
    }
}

/* One run of the fused op on gpu over n softmax rows of random bytes: its
 * dW and db into out (d K + K floats), its loss into *loss. The same
 * inputs on every call. */
static void fused_run(size_t n, size_t d, size_t K, float *out, double *loss) {
    gsgdi_rng r = {gsgdi_mix64(7)};
    unsigned char *X = malloc(n * d);
    float *y = malloc(n * sizeof *y), *W = rnd(d * K, 8, -0.1, 0.1), *b = rnd(K, 9, -0.5, 0.5);
    for (size_t i = 0; i < n * d; i++) X[i] = (unsigned char)(gsgdi_rng_next(&r) & 255);
    for (size_t i = 0; i < n; i++) y[i] = (float)(gsgdi_rng_next(&r) % K);
    void *dX = dev(X, n * d);
    float *dy = dev(y, n * 4), *dW = dev(W, d * K * 4), *db = dev(b, K * 4);
    float *gW = dev(NULL, d * K * 4), *gb = dev(NULL, K * 4);
    double *acc = dev(NULL, 2 * sizeof(double));
    ok(gpu, gpu->be->zero(gpu, acc, 2 * sizeof(double)));
    const size_t bytes = gpu->be->linear_grad_scratch(gpu, dX, GSGD_XTYPE_U8, d, K);
    cr_assert_gt(bytes, 0);
    void *scratch = dev(NULL, bytes);
    const gsgdi_linear_grad_args a = {.kind = GSGD_LOSS_SOFTMAX_CE,
                                      .classify = 1,
                                      .X = dX,
                                      .xt = GSGD_XTYPE_U8,
                                      .y = dy,
                                      .d = d,
                                      .K = K,
                                      .B = n,
                                      .W = dW,
                                      .b = db,
                                      .grad_scale = 1.0f / (float)n,
                                      .dW = gW,
                                      .db = gb,
                                      .acc = acc,
                                      .scratch = scratch,
                                      .scratch_bytes = bytes};
    ok(gpu, gpu->be->linear_grad(gpu, &a));
    fetch(out, gW, d * K * 4);
    fetch(out + d * K, gb, K * 4);
    double acc_h[2];
    fetch(acc_h, acc, sizeof acc_h);
    *loss = acc_h[0];
    gsgdi_mem_free(gpu, dX, n * d);
    gsgdi_mem_free(gpu, dy, n * 4);
    gsgdi_mem_free(gpu, dW, d * K * 4);
    gsgdi_mem_free(gpu, db, K * 4);
    gsgdi_mem_free(gpu, gW, d * K * 4);
    gsgdi_mem_free(gpu, gb, K * 4);
    gsgdi_mem_free(gpu, acc, 2 * sizeof(double));
    gsgdi_mem_free(gpu, scratch, bytes);
    free(X), free(y), free(W), free(b);
}

/* Without GSGD_LINEAR_GRAD_VERSION the backend runs the measured best:
 * bitwise what that version, named, gives (each version's result is
 * reproducible on a device). */
Test(backend_cuda, fused_gradient_runs_the_best_version_by_default) {
    open_both();
    const size_t n = 5000, d = 784, K = 10;
    float *by_default = malloc((d * K + K) * 4), *named = malloc((d * K + K) * 4);
    double loss_default, loss_named;
    use_version(0);
    fused_run(n, d, K, by_default, &loss_default);
    use_version(GSGD_K_LINEAR_GRAD_BEST);
    fused_run(n, d, K, named, &loss_named);
    cr_assert(memcmp(by_default, named, (d * K + K) * 4) == 0,
              "the default's dW, db differ from version %d's", GSGD_K_LINEAR_GRAD_BEST);
    cr_assert_eq(loss_default, loss_named);
    free(by_default), free(named);
}

/* A GSGD_LINEAR_GRAD_VERSION that names no version fails the op, saying
 * which versions there are, rather than running another one unseen. */
Test(backend_cuda, fused_gradient_refuses_an_unknown_version) {
    open_both();
    const char *bad[] = {"0", "3", "2x", "v2"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        gsgd_context_free(gpu);
        setenv("GSGD_LINEAR_GRAD_VERSION", bad[i], 1);
        gpu = cuda_context_or_skip();
        void *X;
        ok(gpu, gsgdi_mem_alloc(gpu, 4096 * 4, &X));
        const size_t bytes = gpu->be->linear_grad_scratch(gpu, X, GSGD_XTYPE_F32, 784, 10);
        cr_assert_gt(bytes, 0, "sized as the default, so that the op can say why it fails");
        const gsgdi_linear_grad_args a = {.kind = GSGD_LOSS_SOFTMAX_CE, .X = X, .d = 784, .K = 10};
        cr_assert_eq(gpu->be->linear_grad(gpu, &a), GSGD_STATUS_OUT_OF_RANGE, "%s", bad[i]);
        cr_assert(strstr(gsgd_last_error(gpu), "GSGD_LINEAR_GRAD_VERSION") != NULL, "%s",
                  gsgd_last_error(gpu));
        cr_assert(strstr(gsgd_last_error(gpu), bad[i]) != NULL, "%s", gsgd_last_error(gpu));
        gsgdi_mem_free(gpu, X, 4096 * 4);
    }
}
