/*
 * The reduced precisions (gsgd.h's gsgd_precision) as the CPU backend
 * computes them, the reference of the GPU's tensor cores: the rounding of
 * one input (backend/precision.h) against values worked out by hand, the
 * gemm op under each precision against a double reference within the
 * precision's bound (gemm_bound.h) and exactly as "rounded inputs, FP32
 * sums", the option itself, and training under TF32 and BF16 against
 * FP32 (the long runs are in bench/results/precision_cpu.md).
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/precision.h"
#include "core/context.h"
#include "core/options.h"
#include "core/rng.h"
#include "gemm_bound.h"

static uint32_t bits(float x) {
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u;
}

static float from_bits(uint32_t u) {
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

#define TF32 GSGD_PRECISION_TF32
#define BF16 GSGD_PRECISION_BF16

Test(precision, rounds_to_nearest_with_ties_to_even) {
    /* TF32 keeps 10 mantissa bits: near 1 its grid is 2^-10. */
    cr_expect_eq(gsgdi_round_input(TF32, 1.0f + 0x1p-11f), 1.0f, "a tie rounds to the even 1");
    cr_expect_eq(gsgdi_round_input(TF32, 1.0f + 3 * 0x1p-11f), 1.0f + 0x1p-9f,
                 "1 + 1.5 ulp: a tie between 1 + 2^-10 (odd) and 1 + 2^-9 (even)");
    cr_expect_eq(gsgdi_round_input(TF32, 1.0f + 0x1p-11f + 0x1p-23f), 1.0f + 0x1p-10f,
                 "just above the tie rounds up");
    /* BF16 keeps 7: near 1 its grid is 2^-7. */
    cr_expect_eq(gsgdi_round_input(BF16, 1.0f + 0x1p-8f), 1.0f);
    cr_expect_eq(gsgdi_round_input(BF16, 1.0f + 3 * 0x1p-8f), 1.0f + 0x1p-6f);
    /* 1/3 = 0x3EAAAAAB: its 23 mantissa bits 0x2AAAAB. TF32 drops 13 bits
     * (0xAAB = 2731 < 4096, half of 2^13: down) to 0x155 << 13,
     * 0x3EAAA000 = 0.333251953125; BF16 drops 16 (0xAAAB = 43691 >
     * 32768: up) to 0x2B << 16, 0x3EAB0000 = 0.333984375. */
    cr_expect_eq(gsgdi_round_input(TF32, 1.0f / 3.0f), 0.333251953125f);
    cr_expect_eq(gsgdi_round_input(BF16, 1.0f / 3.0f), 0.333984375f);
    /* 0.1f = 0x3DCCCCCD: TF32 0xCCD < 4096, down: 0x3DCCC000 =
     * 0.0999755859375; BF16 0xCCCD > 32768, up: 0x3DCD0000 =
     * 0.10009765625, the BF16 value of 0.1 every library gives. */
    cr_expect_eq(gsgdi_round_input(TF32, 0.1f), 0.0999755859375f);
    cr_expect_eq(gsgdi_round_input(BF16, 0.1f), 0.10009765625f);
    /* pi = 0x40490FDB: 0xFDB = 4059 < 4096 and 0x0FDB < 32768, down in
     * both: 0x40490000 = 3.140625. */
    cr_expect_eq(gsgdi_round_input(TF32, 3.14159265f), 3.140625f);
    cr_expect_eq(gsgdi_round_input(BF16, 3.14159265f), 3.140625f);
}

Test(precision, is_symmetric_and_leaves_the_dropped_bits_zero) {
    gsgdi_rng r = {7};
    for (int i = 0; i < 100000; i++) {
        const float x = from_bits((uint32_t)gsgdi_rng_next(&r) & 0x7f7fffffu); /* finite, >= 0 */
        const float t = gsgdi_round_input(TF32, x), b = gsgdi_round_input(BF16, x);
        cr_assert_eq(bits(t) & 0x1fffu, 0u, "tf32(%a) = %a keeps low bits", x, t);
        cr_assert(isinf(b) || (bits(b) & 0xffffu) == 0u, "bf16(%a) = %a keeps low bits", x, b);
        cr_assert_eq(gsgdi_round_input(TF32, -x), -t);
        cr_assert_eq(gsgdi_round_input(BF16, -x), -b);
        /* The nearest: within half a step of the kept grid. */
        if (x >= FLT_MIN && !isinf(b)) {
            cr_assert(fabs((double)t - x) <= 0x1p-11 * x, "tf32(%a) = %a", x, t);
            cr_assert(fabs((double)b - x) <= 0x1p-8 * x, "bf16(%a) = %a", x, b);
        }
        cr_assert_eq(gsgdi_round_input(GSGD_PRECISION_FP32, x), x);
    }
}

Test(precision, keeps_infinities_nans_and_zeros_and_overflows_like_the_conversion) {
    cr_expect(isinf(gsgdi_round_input(TF32, INFINITY)) && gsgdi_round_input(TF32, INFINITY) > 0);
    cr_expect(isinf(gsgdi_round_input(BF16, -INFINITY)) && gsgdi_round_input(BF16, -INFINITY) < 0);
    /* A NaN whose payload is all in the dropped bits stays a NaN. */
    cr_expect(isnan(gsgdi_round_input(TF32, from_bits(0x7f800001u))));
    cr_expect(isnan(gsgdi_round_input(BF16, from_bits(0xff800001u))));
    cr_expect_eq(bits(gsgdi_round_input(BF16, -0.0f)), 0x80000000u);
    /* FLT_MAX = 0x7F7FFFFF is past BF16's largest and its half step: inf. */
    cr_expect(isinf(gsgdi_round_input(BF16, FLT_MAX)));
    cr_expect(isinf(gsgdi_round_input(TF32, FLT_MAX)));
    /* Subnormals on the same bit grid: 2^-149 (bit 0) goes to 0;
     * 0x1000 is a tie with an even kept part: 0; 0x3000 a tie with an odd
     * one: up to 0x4000. */
    cr_expect_eq(gsgdi_round_input(TF32, from_bits(1u)), 0.0f);
    cr_expect_eq(bits(gsgdi_round_input(TF32, from_bits(0x1000u))), 0u);
    cr_expect_eq(bits(gsgdi_round_input(TF32, from_bits(0x3000u))), 0x4000u);
}

Test(precision, is_a_parameter_with_fp32_the_default) {
    double lo, hi, dflt;
    cr_assert_eq(gsgd_param_bounds(GSGD_PRECISION, &lo, &hi, &dflt), GSGD_STATUS_OK);
    cr_expect(lo == GSGD_PRECISION_FP32 && hi == GSGD_PRECISION_BF16 &&
              dflt == GSGD_PRECISION_FP32);
    cr_expect_str_eq(gsgd_param_name(GSGD_PRECISION), "precision");
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_set(o, GSGD_PRECISION, 3), GSGD_STATUS_OUT_OF_RANGE);
    cr_expect_eq(gsgd_set(o, GSGD_PRECISION, 0.5), GSGD_STATUS_OUT_OF_RANGE);
    cr_expect_eq(gsgd_set(o, GSGD_PRECISION, GSGD_PRECISION_BF16), GSGD_STATUS_OK);
    gsgd_options_free(o);
}

/* ---- the gemm op under each precision --------------------------------------- */

static float *rnd(size_t n, uint64_t seed) {
    float *a = malloc((n ? n : 1) * sizeof *a);
    gsgdi_rng r = {gsgdi_mix64(seed)};
    for (size_t i = 0; i < n; i++) a[i] = (float)(2.0 * gsgdi_rng_uniform(&r) - 1.0);
    return a;
}

/* The CPU's product under p against (1) the exact product of the
 * unrounded inputs within the precision's bound, the check the CUDA suite
 * makes too, and (2) the exact product of the rounded inputs within the
 * FP32 bound alone: the CPU computes "rounded inputs, FP32 sums" and
 * nothing looser (an unrounded product would miss (2) by ~2u). */
static void check(gsgd_context *ctx, gsgd_precision p, int ta, int tb, size_t M, size_t N,
                  size_t K) {
    float *A = rnd(M * K, 1 + M), *B = rnd(K * N, 2 + N), *C = rnd(M * N, 3 + K);
    float *C0 = malloc(M * N * sizeof *C0), *Ar = malloc(M * K * sizeof *Ar),
          *Br = malloc(K * N * sizeof *Br);
    memcpy(C0, C, M * N * sizeof *C);
    for (size_t i = 0; i < M * K; i++) Ar[i] = gsgdi_round_input(p, A[i]);
    for (size_t i = 0; i < K * N; i++) Br[i] = gsgdi_round_input(p, B[i]);
    const size_t lda = ta ? M : K, ldb = tb ? K : N;
    const float alpha = 0.5f, beta = 2.0f;
    cr_assert_eq(ctx->be->gemm(ctx, p, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, N),
                 GSGD_STATUS_OK);
    const double u = gsgdi_precision_unit_roundoff(p);
    size_t differ = 0;
    for (size_t i = 0; i < M; i++)
        for (size_t j = 0; j < N; j++) {
            double s, sr;
            const double c0 = C0[i * N + j], got = C[i * N + j];
            const double ref =
                gb_exact(ta, tb, K, alpha, A, lda, B, ldb, beta, C0[i * N + j], i, j, &s);
            const double rref =
                gb_exact(ta, tb, K, alpha, Ar, lda, Br, ldb, beta, C0[i * N + j], i, j, &sr);
            const double bound = gb_bound(u, K, s, fabs(beta * c0)),
                         tight = gb_bound(0.0, K, sr, fabs(beta * c0));
            cr_assert(fabs(got - ref) <= bound,
                      "p=%d ta=%d tb=%d %zux%zux%zu C[%zu][%zu] %.9g, exact %.9g (bound %.3g)", p,
                      ta, tb, M, N, K, i, j, got, ref, bound);
            cr_assert(fabs(got - rref) <= tight,
                      "p=%d C[%zu][%zu] %.9g, exact of the rounded inputs %.9g (fp32 bound %.3g)",
                      p, i, j, got, rref, tight);
            differ += ref != rref;
        }
    /* The inputs were rounded: the test would not tell otherwise. */
    if (p != GSGD_PRECISION_FP32) cr_assert_gt(differ, 0);
    free(A), free(B), free(C), free(C0), free(Ar), free(Br);
}

Test(precision, cpu_gemm_is_rounded_inputs_and_fp32_sums_for_all_transposes) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    /* Shapes across the CPU's 64 x 128 x 128 blocks: partial blocks, one
     * row, K past one block, and a K of 0 (C = beta C). */
    const size_t shapes[][3] = {{7, 3, 5}, {1, 33, 65}, {65, 129, 130}, {130, 10, 300}, {3, 4, 0}};
    for (int p = 0; p <= GSGD_PRECISION_BF16; p++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++)
            for (int ta = 0; ta < 2; ta++)
                for (int tb = 0; tb < 2; tb++) {
                    if (shapes[s][2] == 0 && p != GSGD_PRECISION_FP32) {
                        /* Nothing to round: only C = beta C is checked. */
                        float C[12], want[12];
                        for (int i = 0; i < 12; i++) C[i] = (float)i, want[i] = 2.0f * (float)i;
                        cr_assert_eq(ctx->be->gemm(ctx, (gsgd_precision)p, ta, tb, 3, 4, 0, 1.0f, C,
                                                   1, C, 4, 2.0f, C, 4),
                                     GSGD_STATUS_OK);
                        for (int i = 0; i < 12; i++) cr_expect_eq(C[i], want[i]);
                        continue;
                    }
                    if (shapes[s][2] == 0) continue;
                    check(ctx, (gsgd_precision)p, ta, tb, shapes[s][0], shapes[s][1], shapes[s][2]);
                }
    gsgd_context_free(ctx);
}

/* ---- training -------------------------------------------------------------- */

/* Test accuracy after `epochs` of `model` on Fashion-MNIST (loaded once)
 * under p, from the same seed and batch (the CPU's planned 64); the long
 * runs, 20 epochs, are in bench/results/precision_cpu.md. */
static double accuracy(gsgd_context *ctx, const gsgd_dataset *train, const gsgd_dataset *test,
                       const char *model, int epochs, gsgd_precision p) {
    size_t d;
    int k;
    cr_assert_eq(gsgd_dataset_shape(train, NULL, &d, &k), GSGD_STATUS_OK);
    gsgd_model *m;
    gsgd_options *o;
    gsgd_trainer *tr;
    gsgd_train_result res;
    cr_assert_eq(gsgd_model_create(ctx, model, d, k, 3, &m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_EPOCHS, epochs), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_SEED, 3), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_set(o, GSGD_PRECISION, p), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(m, train, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_train(tr, test, NULL, NULL, &res), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
    return res.test_accuracy;
}

Test(precision, training_in_tf32_and_bf16_is_within_0_003_of_fp32) {
    FILE *probe = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!probe) cr_skip_test("Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)");
    fclose(probe);
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load(ctx, "fashion-mnist", &train, &test), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    static const struct {
        const char *model;
        int epochs;
    } runs[] = {{"softmax", 2}, {"mlp:32", 1}};
    for (size_t r = 0; r < sizeof runs / sizeof runs[0]; r++) {
        double acc[3];
        for (int p = 0; p < 3; p++)
            acc[p] = accuracy(ctx, train, test, runs[r].model, runs[r].epochs, (gsgd_precision)p);
        cr_log_info("%s, %d epoch(s): fp32 %.4f, tf32 %.4f, bf16 %.4f", runs[r].model,
                    runs[r].epochs, acc[0], acc[1], acc[2]);
        cr_expect(fabs(acc[1] - acc[0]) <= 0.003, "%s tf32 %.4f vs fp32 %.4f", runs[r].model,
                  acc[1], acc[0]);
        cr_expect(fabs(acc[2] - acc[0]) <= 0.003, "%s bf16 %.4f vs fp32 %.4f", runs[r].model,
                  acc[2], acc[0]);
    }
    gsgd_dataset_free(train);
    gsgd_dataset_free(test);
    gsgd_context_free(ctx);
}
