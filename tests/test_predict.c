/*
 * gsgd_decision_function and gsgd_predict_proba (src/model/predict.c)
 * against outputs computed by hand from parameters set by hand, on the CPU
 * backend; through the public API only, as an embedding code calls them.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "gsgd.h"

static gsgd_context *cpu(void) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    return ctx;
}

/* A model of spec whose flat parameters (weights, then biases: gsgd.h's
 * layout) are set to p. */
static gsgd_model *model_with(gsgd_context *ctx, const char *spec, size_t d, int k, const float *p,
                              size_t n_params) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, spec, d, k, 1, &m), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    float *params;
    size_t n, n_decay;
    cr_assert_eq(gsgd_model_params(m, &params, &n, &n_decay), GSGD_STATUS_OK);
    cr_assert_eq(n, n_params, "%s has %zu parameters", spec, n);
    memcpy(params, p, n * sizeof(float)); /* host memory on the CPU backend */
    return m;
}

/* One rounding to float of a value computed in double: within half an ulp,
 * bounded here by FLT_EPSILON relative (plus the smallest normal near 0). */
static int near_once_rounded(float got, double want) {
    return fabs((double)got - want) <= FLT_EPSILON * fabs(want) + FLT_MIN;
}

Test(predict, softmax_logits_are_the_affine_map_and_probabilities_its_softmax) {
    gsgd_context *ctx = cpu();
    /* W (2 in x 3 out, row-major) = [1 0 -1; 2 -1 0], b = [0.5 0 -0.5]. */
    const float p[] = {1, 0, -1, 2, -1, 0, 0.5f, 0, -0.5f};
    gsgd_model *m = model_with(ctx, "softmax", 2, 3, p, 9);
    const float X[] = {1, 2, 0, 0};
    float z[6], pr[6];
    cr_assert_eq(gsgd_decision_function(m, X, 2, z), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    /* Row 1: [1+4+0.5, 0-2+0, -1+0-0.5]; row 2: the biases. Small integers
     * and halves: exact in float in any order of summation. */
    const float want[] = {5.5f, -2.0f, -1.5f, 0.5f, 0.0f, -0.5f};
    for (int i = 0; i < 6; i++)
        cr_expect_eq(z[i], want[i], "logit %d: %g, want %g", i, z[i], want[i]);

    cr_assert_eq(gsgd_predict_proba(m, X, 2, pr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    for (int r = 0; r < 2; r++) {
        double s = 0.0;
        for (int k = 0; k < 3; k++) s += exp((double)want[r * 3 + k]);
        for (int k = 0; k < 3; k++) {
            double q = exp((double)want[r * 3 + k]) / s;
            cr_expect(near_once_rounded(pr[r * 3 + k], q), "row %d class %d: %.9g, want %.9g", r, k,
                      pr[r * 3 + k], q);
        }
    }
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

Test(predict, logistic_has_one_logit_and_probabilities_one_minus_p_then_p) {
    gsgd_context *ctx = cpu();
    const float p[] = {2, -1, 0.25f}; /* w = [2 -1], b = 0.25 */
    gsgd_model *m = model_with(ctx, "logistic", 2, 2, p, 3);
    const float X[] = {1, 1, 0, 0, -30, 0};
    float z[3], pr[6];
    cr_assert_eq(gsgd_decision_function(m, X, 3, z), GSGD_STATUS_OK);
    cr_expect_eq(z[0], 1.25f);
    cr_expect_eq(z[1], 0.25f);
    cr_expect_eq(z[2], -59.75f);
    cr_assert_eq(gsgd_predict_proba(m, X, 3, pr), GSGD_STATUS_OK);
    /* sigmoid(1.25) = 0.77729986117469119..., sigmoid(0.25) = 0.56217650088579... */
    cr_expect(near_once_rounded(pr[1], 0.7772998611746911));
    cr_expect(near_once_rounded(pr[0], 0.2227001388253089));
    cr_expect(near_once_rounded(pr[3], 0.5621765008857981));
    cr_expect(near_once_rounded(pr[2], 0.4378234991142019));
    /* Far in the tail the small probability keeps its digits (1 - p in
     * float would be 0): sigmoid(-59.75) = 1.1167...e-26. */
    cr_expect(near_once_rounded(pr[4], 1.0));
    cr_expect(near_once_rounded(pr[5], 1.0 / (1.0 + exp(59.75))), "%g", pr[5]);
    cr_expect_gt(pr[5], 0.0f);
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

Test(predict, mlp_applies_relu_between_layers) {
    gsgd_context *ctx = cpu();
    /* mlp:2 on 2 features, 2 classes: W1 (2x2), W2 (2x2), b1, b2.
     * x = [1 2]: h = relu(x W1 + b1) = relu([3, -3]) = [3 0];
     * z = h W2 + b2 = [3 + 0.5, 6 - 0.5]. */
    const float p[] = {1, -1, 1, 0, /* W1 */ 1, 2, 5, 7, /* W2 */ 0, -2, /* b1 */ 0.5f, -0.5f};
    gsgd_model *m = model_with(ctx, "mlp:2", 2, 2, p, 12);
    const float X[] = {1, 2};
    float z[2], pr[2];
    cr_assert_eq(gsgd_decision_function(m, X, 1, z), GSGD_STATUS_OK);
    cr_expect_eq(z[0], 3.5f);
    cr_expect_eq(z[1], 5.5f);
    cr_assert_eq(gsgd_predict_proba(m, X, 1, pr), GSGD_STATUS_OK);
    /* softmax([3.5, 5.5]) = [1, e^2] / (1 + e^2) */
    cr_expect(near_once_rounded(pr[0], 1.0 / (1.0 + exp(2.0))));
    cr_expect(near_once_rounded(pr[1], exp(2.0) / (1.0 + exp(2.0))));
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

Test(predict, linear_and_hinge_give_raw_outputs_but_no_probabilities) {
    gsgd_context *ctx = cpu();
    const float X[] = {3, 4};
    float z[3], pr[3] = {-7, -7, -7};
    /* Regression: one column, w = [1 2], b = -1: 3 + 8 - 1. */
    const float pr_lin[] = {1, 2, -1};
    gsgd_model *m = model_with(ctx, "linear", 2, 0, pr_lin, 3);
    cr_assert_eq(gsgd_decision_function(m, X, 1, z), GSGD_STATUS_OK);
    cr_expect_eq(z[0], 10.0f);
    cr_expect_eq(gsgd_predict_proba(m, X, 1, pr), GSGD_STATUS_UNSUPPORTED);
    cr_expect(strstr(gsgd_last_error(ctx), "no probabilities"), "%s", gsgd_last_error(ctx));
    cr_expect_eq(pr[0], -7.0f, "nothing written");
    gsgd_model_free(m);

    /* Linear on 3 classes (one-hot targets) and hinge: one column per class. */
    const float p3[] = {1, 0, -1, 0, 1, 1, 1, 2, 3}; /* W = [1 0 -1; 0 1 1], b = [1 2 3] */
    const char *specs[] = {"linear", "hinge"};
    for (int s = 0; s < 2; s++) {
        m = model_with(ctx, specs[s], 2, 3, p3, 9);
        cr_assert_eq(gsgd_decision_function(m, X, 1, z), GSGD_STATUS_OK);
        cr_expect(z[0] == 4.0f && z[1] == 6.0f && z[2] == 4.0f, "%s: %g %g %g", specs[s], z[0],
                  z[1], z[2]);
        cr_expect_eq(gsgd_predict_proba(m, X, 1, pr), GSGD_STATUS_UNSUPPORTED, "%s", specs[s]);
        gsgd_model_free(m);
    }
    gsgd_context_free(ctx);
}

Test(predict, the_standardiser_applies_as_in_training) {
    gsgd_context *ctx = cpu();
    /* Column 1: mean 1, sd 1; column 2: mean 16, sd 4 (powers of two: the
     * standardised values are exact). */
    const float Xtr[] = {0, 12, 2, 20}, ytr[] = {0, 1};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, Xtr, ytr, 2, 2, 2, &ds), GSGD_STATUS_OK);
    const float p[] = {1, -1, 2, 3, 0.5f, 0}; /* W = [1 -1; 2 3], b = [0.5 0] */
    gsgd_model *m = model_with(ctx, "softmax", 2, 2, p, 6);
    cr_assert_eq(gsgd_model_fit_standardizer(m, ds), GSGD_STATUS_OK);
    const float X[] = {1, 16, 2, 20}; /* standardised: [0 0], [1 1] */
    float z[4];
    cr_assert_eq(gsgd_decision_function(m, X, 2, z), GSGD_STATUS_OK);
    cr_expect(z[0] == 0.5f && z[1] == 0.0f, "%g %g", z[0], z[1]);
    cr_expect(z[2] == 3.5f && z[3] == 2.0f, "%g %g", z[2], z[3]);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
}

/* Many rows (chunks of 1024 and a partial one) against a double-precision
 * forward pass: |z - z_ref| <= gamma_{d+1} (sum_j |x_j w_jk| + |b_k|),
 * gamma_m = m u / (1 - m u), u = 2^-24 (Higham 3.1: the float dot product
 * of d terms plus the bias, in any order). The probabilities sum to 1 and
 * their argmax is gsgd_predict's class. */
Test(predict, many_rows_in_chunks_match_a_double_reference) {
    enum { N = 2500, D = 20, K = 4 };
    gsgd_context *ctx = cpu();
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, K, 7, &m), GSGD_STATUS_OK);
    float *w;
    size_t n, n_decay;
    gsgd_model_params(m, &w, &n, &n_decay);
    float *X = malloc(sizeof(float) * N * D), *z = malloc(sizeof(float) * N * K);
    float *pr = malloc(sizeof(float) * N * K), *cls = malloc(sizeof(float) * N);
    cr_assert(X && z && pr && cls);
    uint32_t s = 99;
    for (size_t i = 0; i < (size_t)N * D; i++) {
        s = s * 1664525u + 1013904223u;
        X[i] = (float)(s >> 8) / 16777216.0f * 4.0f - 2.0f;
    }
    size_t in_use0, in_use1, peak;
    gsgd_context_memory(ctx, &in_use0, &peak);
    cr_assert_eq(gsgd_decision_function(m, X, N, z), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_predict_proba(m, X, N, pr), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_predict(m, X, N, cls), GSGD_STATUS_OK);
    gsgd_context_memory(ctx, &in_use1, &peak);
    cr_expect_eq(in_use1, in_use0, "buffers released");
    const double u = ldexp(1.0, -24), gamma = (D + 1) * u / (1.0 - (D + 1) * u);
    int bad = 0;
    for (size_t i = 0; i < N; i++) {
        double psum = 0.0;
        size_t best = 0;
        for (size_t k = 0; k < K; k++) {
            double ref = w[n_decay + k], mag = fabs(ref);
            for (size_t j = 0; j < D; j++) {
                ref += (double)X[i * D + j] * w[j * K + k];
                mag += fabs((double)X[i * D + j] * w[j * K + k]);
            }
            if (fabs(z[i * K + k] - ref) > gamma * mag) bad++;
            psum += pr[i * K + k];
            if (pr[i * K + k] > pr[i * K + best]) best = k;
        }
        /* K roundings to float, each within FLT_EPSILON / 2 of its value. */
        if (fabs(psum - 1.0) > K * FLT_EPSILON) bad++;
        if ((float)best != cls[i]) {
            /* Only a tie in float probabilities may differ from the logits' argmax. */
            if (pr[i * K + best] != pr[i * K + (size_t)cls[i]]) bad++;
        }
    }
    cr_expect_eq(bad, 0, "%d rows outside the bounds", bad);
    free(X);
    free(z);
    free(pr);
    free(cls);
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

Test(predict, bad_arguments_are_refused_and_empty_input_is_fine) {
    gsgd_context *ctx = cpu();
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 3, 1, &m), GSGD_STATUS_OK);
    float X[2] = {1, 2}, out[3];
    cr_expect_eq(gsgd_decision_function(NULL, X, 1, out), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_decision_function(m, NULL, 1, out), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_decision_function(m, X, 1, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_predict_proba(NULL, X, 1, out), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_predict_proba(m, NULL, 1, out), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_predict_proba(m, X, 1, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_decision_function(m, NULL, 0, NULL), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_predict_proba(m, NULL, 0, NULL), GSGD_STATUS_OK);
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}
