/*
 * STANDARDIZE (gsgd_model_standardize, applied by gsgd_trainer_create):
 * AUTO standardises features whose columns' scales span more than a
 * factor of 10 and leaves unit-scale ones alone; the standardiser lives in
 * the model, so prediction, evaluation and a saved model apply it to raw
 * features; ON and OFF do what they say.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/model.h"
#include "testutil.h"

#define N 400
#define D 3

static gsgd_context *ctx;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
}

static void teardown(void) {
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "every backend buffer was released");
    gsgd_context_free(ctx);
}

TestSuite(standardize, .init = setup, .fini = teardown);

/* Uniform in [-1, 1) from a fixed LCG: the same data on every run. */
static double draw(uint64_t *s) {
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return (double)(*s >> 11) / 4503599627370496.0 - 1.0;
}

/* Two classes from the sign of x0 + z1, where column 1 is a magnesium-like
 * reading: 100 + 15 z1 (wine's magnesium ~100 next to hue ~1). */
static void spread_data(float *X, float *y) {
    uint64_t s = 7;
    for (int i = 0; i < N; i++) {
        const double x0 = draw(&s), z1 = draw(&s), x2 = draw(&s);
        X[i * D + 0] = (float)x0;
        X[i * D + 1] = (float)(100.0 + 15.0 * z1);
        X[i * D + 2] = (float)x2;
        y[i] = x0 + z1 > 0.0 ? 1.0f : 0.0f;
    }
}

Test(standardize, the_ratio_is_the_largest_scale_over_the_median_in_unit_terms) {
    /* Root mean squares 0.5, 2, 4 (and an all-zero column, left out):
     * max(4, 1) / min(2, 1) = 4. */
    const double mean[] = {0.3, 0.0, 4.0, 0.0}, var[] = {0.16, 4.0, 0.0, 0.0};
    cr_expect(fabs(gsgdi_scale_ratio(mean, var, 4) - 4.0) < 1e-12);
    /* Tiny scales count too: every column at 0.01 is a factor of 100. */
    const double m2[] = {0.0, 0.01}, v2[] = {1e-4, 0.0};
    cr_expect(fabs(gsgdi_scale_ratio(m2, v2, 2) - 100.0) < 1e-9);
    /* Pixels in [0, 1] (scales 0.3 to 0.5): 1 / 0.4. */
    const double m3[] = {0.3, 0.4, 0.5}, v3[] = {0.0, 0.0, 0.0};
    cr_expect(fabs(gsgdi_scale_ratio(m3, v3, 3) - 2.5) < 1e-12);
    cr_expect_eq(gsgdi_scale_ratio(m3, v3, 0), 1.0, "no column: nothing to scale");
}

Test(standardize, auto_scales_spread_columns_and_predict_applies_it_to_raw_features) {
    static float X[N * D], y[N], Xs[N * D], p_auto[N], p_hand[N], p_loaded[N];
    spread_data(X, y);
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, N, D, 2, &ds), GSGD_STATUS_OK);
    gsgd_model *m, *plain, *loaded;
    gsgd_options *o;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, 2, 1, &m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_EPOCHS, 5);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_not_null(m->mean, "the default (AUTO) standardised column 1's ~100");
    gsgd_train_result res;
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, &res), GSGD_STATUS_OK);
    gsgd_trainer_free(tr);
    int yes = 0;
    double ratio = 0;
    cr_assert_eq(gsgd_model_standardize(m, ds, o, &yes, &ratio), GSGD_STATUS_OK);
    cr_expect(yes && isnan(ratio), "kept as it is, unmeasured: %d %g", yes, ratio);

    /* Prediction on raw rows equals a plain model with the same parameters
     * on rows standardised by hand, as the gather does it, bit for bit. */
    cr_assert_eq(gsgd_predict(m, X, N, p_auto), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, 2, 99, &plain), GSGD_STATUS_OK);
    memcpy(plain->params, m->params, m->n_params * sizeof(float));
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) Xs[i * D + j] = (X[i * D + j] - m->mean[j]) * m->inv_std[j];
    cr_assert_eq(gsgd_predict(plain, Xs, N, p_hand), GSGD_STATUS_OK);
    cr_expect(memcmp(p_auto, p_hand, sizeof p_auto) == 0);
    int correct = 0;
    for (int i = 0; i < N; i++) correct += p_auto[i] == y[i];
    gsgd_eval_result ev;
    cr_assert_eq(gsgd_evaluate(m, ds, &ev), GSGD_STATUS_OK);
    cr_expect_eq(ev.accuracy, correct / (double)N, "evaluation applies it too");
    cr_expect_gt(ev.accuracy, 0.9, "learnt once scaled: %g", ev.accuracy);

    /* A saved model keeps it. */
    const char *path = tu_path("scaled.gsgd");
    cr_assert_eq(gsgd_model_save(m, path), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_load(ctx, path, &loaded), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_predict(loaded, X, N, p_loaded), GSGD_STATUS_OK);
    cr_expect(memcmp(p_auto, p_loaded, sizeof p_auto) == 0);
    gsgd_model_free(loaded);
    gsgd_model_free(plain);
    gsgd_model_free(m);
    gsgd_options_free(o);
    gsgd_dataset_free(ds);
}

Test(standardize, auto_decides_on_a_sample_and_fits_on_every_row) {
    /* Above 8192 rows AUTO measures a sample to decide; the standardiser
     * it fits is the one gsgd_model_fit_standardizer fits on all rows. */
    enum { BIG = 20000 };
    float *X = malloc(BIG * D * sizeof *X), *y = malloc(BIG * sizeof *y);
    uint64_t s = 3;
    for (int i = 0; i < BIG; i++) {
        const double x0 = draw(&s), z1 = draw(&s);
        X[i * D + 0] = (float)x0;
        X[i * D + 1] = (float)(100.0 + 15.0 * z1 + (i >= BIG / 2 ? 10.0 : 0.0));
        X[i * D + 2] = (float)draw(&s);
        y[i] = i >= BIG / 2 ? 1.0f : 0.0f; /* sorted by label, as files often are */
    }
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, BIG, D, 2, &ds), GSGD_STATUS_OK);
    gsgd_model *a, *b;
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, 2, 1, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, 2, 1, &b), GSGD_STATUS_OK);
    int yes = 0;
    double ratio = 0;
    cr_assert_eq(gsgd_model_standardize(a, ds, o, &yes, &ratio), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_fit_standardizer(b, ds), GSGD_STATUS_OK);
    cr_expect(yes && ratio > 100.0, "ratio %g", ratio);
    cr_expect(memcmp(a->mean, b->mean, D * sizeof(float)) == 0 &&
              memcmp(a->inv_std, b->inv_std, D * sizeof(float)) == 0);
    /* Fitted on every row: column 1's mean is ~105 (both halves), not ~100. */
    cr_expect(fabs(a->mean[1] - 105.0) < 0.5, "mean %g", a->mean[1]);
    gsgd_model_free(a);
    gsgd_model_free(b);
    gsgd_options_free(o);
    gsgd_dataset_free(ds);
    free(X);
    free(y);
}

Test(standardize, auto_leaves_unit_scale_features_alone_and_on_off_do_as_told) {
    gsgd_dataset *tr_ds, *te_ds;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:500,6,3:seed=2", &tr_ds, &te_ds), GSGD_STATUS_OK);
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 6, 3, 1, &m), GSGD_STATUS_OK);
    int yes = 1;
    double ratio = 0;
    cr_assert_eq(gsgd_model_standardize(m, tr_ds, o, &yes, &ratio), GSGD_STATUS_OK);
    cr_expect(!yes && !m->mean, "N(0, 1) columns are left as they are");
    cr_expect(ratio >= 1.0 && ratio < 2.0, "ratio %g", ratio);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, tr_ds, o, &tr), GSGD_STATUS_OK);
    cr_expect_null(m->mean, "nor does the trainer scale them");
    gsgd_trainer_free(tr);

    gsgd_set(o, GSGD_STANDARDIZE, GSGD_STANDARDIZE_ON);
    cr_assert_eq(gsgd_model_standardize(m, tr_ds, o, &yes, &ratio), GSGD_STATUS_OK);
    cr_expect(yes && m->mean, "ON always standardises");
    gsgd_model_free(m);

    static float X[N * D], y[N];
    spread_data(X, y);
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, N, D, 2, &ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, 2, 1, &m), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_STANDARDIZE, GSGD_STANDARDIZE_OFF);
    cr_assert_eq(gsgd_model_standardize(m, ds, o, &yes, &ratio), GSGD_STATUS_OK);
    cr_expect(!yes && !m->mean && isnan(ratio), "OFF never measures nor scales");
    gsgd_set(o, GSGD_STANDARDIZE, GSGD_STANDARDIZE_AUTO);
    cr_assert_eq(gsgd_model_standardize(m, ds, o, &yes, &ratio), GSGD_STATUS_OK);
    /* Scales 0.58, ~101, 0.58: max(101, 1) / min(0.58, 1) ~ 175. */
    cr_expect(yes && ratio > 100.0 && ratio < 300.0, "ratio %g", ratio);
    gsgd_model_free(m);
    gsgd_options_free(o);
    gsgd_dataset_free(ds);
    gsgd_dataset_free(tr_ds);
    gsgd_dataset_free(te_ds);
}

/* gsgd_model_standardizer gives the statistics the forward pass applies:
 * the column means and 1/std of the data (checked in double here), and
 * folded into a linear model's weights and bias they give its decision
 * function on raw rows, to float rounding. */
Test(standardize, the_getter_gives_what_the_forward_pass_applies) {
    static float X[N * D], y[N], mean[D], inv[D], scores[N];
    spread_data(X, y);
    for (int i = 0; i < N; i++) y[i] = X[i * D] - 0.01f * X[i * D + 1]; /* a regression */
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, N, D, 0, &ds), GSGD_STATUS_OK);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "linear", D, 0, 3, &m), GSGD_STATUS_OK);
    int has = -1;
    mean[0] = 42.0f;
    cr_assert_eq(gsgd_model_standardizer(m, mean, inv, &has), GSGD_STATUS_OK);
    cr_expect_eq(has, 0);
    cr_expect_eq(mean[0], 42.0f, "nothing written without a standardiser");
    cr_expect_eq(gsgd_model_standardizer(NULL, mean, inv, &has), GSGD_STATUS_INVALID_ARGUMENT);

    cr_assert_eq(gsgd_model_fit_standardizer(m, ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_standardizer(m, mean, inv, &has), GSGD_STATUS_OK);
    cr_expect_eq(has, 1);
    cr_expect_eq(gsgd_model_standardizer(m, NULL, NULL, NULL), GSGD_STATUS_OK);
    for (int j = 0; j < D; j++) {
        double s = 0, ss = 0;
        for (int i = 0; i < N; i++) s += X[i * D + j];
        const double mu = s / N;
        for (int i = 0; i < N; i++) ss += (X[i * D + j] - mu) * (X[i * D + j] - mu);
        const double sd = sqrt(ss / N);
        cr_expect(fabs(mean[j] - mu) <= 1e-5 * (fabs(mu) + sd), "mean %d: %g vs %g", j, mean[j],
                  mu);
        cr_expect(fabs(inv[j] * sd - 1.0) < 1e-5, "1/std %d: %g vs 1/%g", j, inv[j], sd);
    }

    /* Trained, then folded: coef_j = w_j / std_j, intercept b - coef . mean. */
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_EPOCHS, 3);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    gsgd_trainer_free(tr);
    cr_assert_eq(gsgd_decision_function(m, X, N, scores), GSGD_STATUS_OK);
    double coef[D], b = m->params[D]; /* weights [0, D), then the bias */
    for (int j = 0; j < D; j++) {
        coef[j] = (double)m->params[j] * inv[j];
        b -= coef[j] * mean[j];
    }
    for (int i = 0; i < N; i++) {
        double f = b, mag = fabs(b);
        for (int j = 0; j < D; j++) {
            f += coef[j] * X[i * D + j];
            mag += fabs(coef[j] * X[i * D + j]) + fabs(coef[j] * mean[j]);
        }
        /* float32 rounding of the forward pass, relative to the terms' size */
        cr_expect(fabs(f - scores[i]) <= 1e-5 * mag, "row %d: folded %g, model %g", i, f,
                  scores[i]);
    }
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}
