/* Synthetic teacher data: reproducible, split 80/20, balanced, learnable. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/loaders.h"
#include "core/util.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(synth, .init = setup, .fini = teardown);

static int same_data(const gsgdi_host_data *a, const gsgdi_host_data *b) {
    return a->n == b->n && a->d == b->d && a->n_classes == b->n_classes &&
           memcmp(a->X, b->X, a->n * a->d * sizeof(float)) == 0 &&
           memcmp(a->y, b->y, a->n * sizeof(float)) == 0;
}

Test(synth, is_deterministic_for_a_seed) {
    gsgdi_host_data tr1, te1, tr2, te2;
    cr_assert_eq(gsgdi_synth(ctx, 500, 7, 3, 42, &tr1, &te1), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_synth(ctx, 500, 7, 3, 42, &tr2, &te2), GSGD_STATUS_OK);
    cr_assert(same_data(&tr1, &tr2));
    cr_assert(same_data(&te1, &te2));
    gsgdi_host_data_free(&tr1);
    gsgdi_host_data_free(&te1);
    gsgdi_host_data_free(&tr2);
    gsgdi_host_data_free(&te2);
}

Test(synth, differs_for_another_seed) {
    gsgdi_host_data tr1, te1, tr2, te2;
    cr_assert_eq(gsgdi_synth(ctx, 500, 7, 3, 1, &tr1, &te1), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_synth(ctx, 500, 7, 3, 2, &tr2, &te2), GSGD_STATUS_OK);
    cr_assert_not(same_data(&tr1, &tr2));
    cr_assert_neq(tr1.X[0], tr2.X[0]);
    gsgdi_host_data_free(&tr1);
    gsgdi_host_data_free(&te1);
    gsgdi_host_data_free(&tr2);
    gsgdi_host_data_free(&te2);
}

Test(synth, splits_80_20_with_both_parts_non_empty) {
    const size_t n[] = {2, 3, 10, 11, 1000}, train[] = {1, 2, 8, 8, 800};
    for (int i = 0; i < 5; i++) {
        gsgdi_host_data tr, te;
        cr_assert_eq(gsgdi_synth(ctx, n[i], 4, 2, 0, &tr, &te), GSGD_STATUS_OK);
        cr_assert_eq(tr.n, train[i], "n = %zu: %zu train samples", n[i], tr.n);
        cr_assert_eq(te.n, n[i] - train[i]);
        cr_assert_eq(tr.d, 4);
        cr_assert_eq(te.d, 4);
        gsgdi_host_data_free(&tr);
        gsgdi_host_data_free(&te);
    }
}

Test(synth, labels_are_class_indices_in_range) {
    gsgdi_host_data tr, te;
    cr_assert_eq(gsgdi_synth(ctx, 2000, 10, 5, 3, &tr, &te), GSGD_STATUS_OK);
    cr_assert_eq(tr.n_classes, 5);
    cr_assert_eq(te.n_classes, 5);
    for (size_t i = 0; i < tr.n; i++)
        cr_assert(tr.y[i] >= 0 && tr.y[i] < 5 && tr.y[i] == floorf(tr.y[i]), "y[%zu] = %g", i,
                  (double)tr.y[i]);
    gsgdi_host_data_free(&tr);
    gsgdi_host_data_free(&te);
}

Test(synth, classes_are_reasonably_balanced_for_three_classes) {
    /* With d = 50 the teacher's columns are nearly orthogonal and of equal
     * norm, so each class holds close to a third; 0.2 leaves room for the
     * teacher's own randomness (column norms vary by ~1/sqrt(d)). */
    gsgdi_host_data tr, te;
    cr_assert_eq(gsgdi_synth(ctx, 10000, 50, 3, 7, &tr, &te), GSGD_STATUS_OK);
    size_t count[3] = {0};
    for (size_t i = 0; i < tr.n; i++) count[(int)tr.y[i]]++;
    for (int c = 0; c < 3; c++)
        cr_assert_gt((double)count[c] / (double)tr.n, 0.2, "class %d: %zu of %zu", c, count[c],
                     tr.n);
    gsgdi_host_data_free(&tr);
    gsgdi_host_data_free(&te);
}

Test(synth, features_are_standard_normal) {
    /* 8000 x 10 draws: the mean's standard error is 1/sqrt(80000) = 0.0035
     * and the variance's sqrt(2/80000) = 0.005; 5 standard errors each. */
    gsgdi_host_data tr, te;
    cr_assert_eq(gsgdi_synth(ctx, 10000, 10, 2, 11, &tr, &te), GSGD_STATUS_OK);
    double sum = 0, sq = 0;
    const size_t m = tr.n * tr.d;
    for (size_t i = 0; i < m; i++) {
        sum += tr.X[i];
        sq += (double)tr.X[i] * tr.X[i];
    }
    double mean = sum / (double)m, var = sq / (double)m - mean * mean;
    cr_assert_lt(fabs(mean), 5 * 0.0035, "mean %g", mean);
    cr_assert_lt(fabs(var - 1), 5 * 0.005, "variance %g", var);
    gsgdi_host_data_free(&tr);
    gsgdi_host_data_free(&te);
}

/* Nearest class mean, fitted on train and scored on test: a crude linear
 * classifier that should still do far better than chance (1/3) if the
 * labels really are a linear function of x. */
Test(synth, labels_are_learnable_by_a_linear_rule) {
    enum { D = 20, K = 3 };
    gsgdi_host_data tr, te;
    cr_assert_eq(gsgdi_synth(ctx, 20000, D, K, 5, &tr, &te), GSGD_STATUS_OK);
    double mu[K][D] = {{0}}, cnt[K] = {0};
    for (size_t i = 0; i < tr.n; i++) {
        int c = (int)tr.y[i];
        cnt[c]++;
        for (int j = 0; j < D; j++) mu[c][j] += tr.X[i * D + j];
    }
    for (int c = 0; c < K; c++)
        for (int j = 0; j < D; j++) mu[c][j] /= cnt[c];
    size_t correct = 0;
    for (size_t i = 0; i < te.n; i++) {
        int best = 0;
        double best_s = -INFINITY;
        for (int c = 0; c < K; c++) {
            double s = 0;
            for (int j = 0; j < D; j++) s -= pow(te.X[i * D + j] - mu[c][j], 2);
            if (s > best_s) best_s = s, best = c;
        }
        correct += best == (int)te.y[i];
    }
    double acc = (double)correct / (double)te.n;
    cr_assert_gt(acc, 0.8, "nearest-mean accuracy %g", acc);
    gsgdi_host_data_free(&tr);
    gsgdi_host_data_free(&te);
}

Test(synth, k_one_is_regression_with_small_noise) {
    gsgdi_host_data tr, te;
    cr_assert_eq(gsgdi_synth(ctx, 5000, 8, 1, 9, &tr, &te), GSGD_STATUS_OK);
    cr_assert_eq(tr.n_classes, 0);
    cr_assert_eq(te.n_classes, 0);
    /* y = x.w + 0.1 e with |w|^2 ~ 1: the targets vary with unit-ish
     * variance and are not integers. */
    double sum = 0, sq = 0;
    int fractional = 0;
    for (size_t i = 0; i < tr.n; i++) {
        sum += tr.y[i];
        sq += (double)tr.y[i] * tr.y[i];
        fractional |= tr.y[i] != floorf(tr.y[i]);
    }
    double var = sq / (double)tr.n - (sum / (double)tr.n) * (sum / (double)tr.n);
    cr_assert(fractional);
    cr_assert(var > 0.2 && var < 5, "target variance %g", var);
    gsgdi_host_data_free(&tr);
    gsgdi_host_data_free(&te);
}

Test(synth, rejects_bad_sizes) {
    gsgdi_host_data tr, te;
    cr_assert_eq(gsgdi_synth(ctx, 1, 4, 2, 0, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(gsgd_last_error(ctx), "N = 1"), "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgdi_synth(ctx, 10, 0, 2, 0, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgdi_synth(ctx, 10, 4, 0, 0, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgdi_synth(ctx, 10, 4, 65537, 0, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgdi_synth(ctx, (size_t)1 << 30, 1 << 10, 2, 0, &tr, &te), GSGD_STATUS_TOO_LARGE);
    cr_assert_null(tr.X);
    cr_assert_null(te.X);
}

/* The labelling's N x D x K multiply-adds are bounded (GSGD_SYNTH_MAX_WORK):
 * specs the size limits accept could otherwise run for days. The refusal
 * comes before anything is allocated or generated, so it is immediate. */
Test(synth, refuses_specs_whose_labelling_costs_above_the_limit) {
    gsgdi_host_data tr, te;
    const double t0 = gsgdi_now_seconds();
    /* 2^17 x 2^7 x (2^10 + 1): one class more than the limit allows. */
    cr_assert_eq(gsgdi_synth(ctx, (size_t)1 << 17, 1 << 7, (1 << 10) + 1, 0, &tr, &te),
                 GSGD_STATUS_TOO_LARGE);
    const char *msg = gsgd_last_error(ctx);
    cr_expect(strstr(msg, "131072 x 128 x 1025") && strstr(msg, "2^34"), "%s", msg);
    cr_assert_null(tr.X);
    cr_assert_null(te.X);
    /* The largest sizes each limit allows on its own. */
    cr_assert_eq(gsgdi_synth(ctx, 65536, 65536, 65536, 0, &tr, &te), GSGD_STATUS_TOO_LARGE);
    gsgd_dataset *a = NULL, *b = NULL;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:4294967296,1,16", &a, &b), GSGD_STATUS_TOO_LARGE);
    cr_expect(strstr(gsgd_last_error(ctx), "4294967296 x 1 x 16"), "%s", gsgd_last_error(ctx));
    cr_assert_null(a);
    cr_expect_lt(gsgdi_now_seconds() - t0, 1.0, "refused before any work");
}

/* synth-sparse labels with a multiply-add per nonzero and class: the same
 * bound, before anything is allocated. */
Test(synth, refuses_sparse_specs_whose_labelling_costs_above_the_limit) {
    gsgd_dataset *a = NULL, *b = NULL;
    const double t0 = gsgdi_now_seconds();
    /* 2^20 rows of up to 1501 nonzeros (NNZ 1000) x 65536 classes: 1e14. */
    cr_assert_eq(gsgd_dataset_load(ctx, "synth-sparse:1048576,100000,65536,1000", &a, &b),
                 GSGD_STATUS_TOO_LARGE);
    const char *msg = gsgd_last_error(ctx);
    cr_expect(strstr(msg, "1048576 rows of up to 1501 nonzeros x 65536 classes") &&
                  strstr(msg, "2^34"),
              "%s", msg);
    cr_assert_null(a);
    cr_expect_lt(gsgdi_now_seconds() - t0, 1.0, "refused before any work");
    /* Within it: a small set loads. */
    cr_assert_eq(gsgd_dataset_load(ctx, "synth-sparse:100,1000,3,5", &a, &b), GSGD_STATUS_OK);
    gsgd_dataset_free(a);
    gsgd_dataset_free(b);
}
