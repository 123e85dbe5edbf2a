/* Stratified splits: each class in proportion, the leftover rows to the
 * largest remainders, a partition of whole rows, seeded; a regression set
 * is split as the plain split does. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(split, .init = setup, .fini = teardown);

/* n rows whose feature is the row index, counts[k] rows of class k in
 * class order. */
static gsgd_dataset *classes(const int *counts, int K) {
    int n = 0;
    for (int k = 0; k < K; k++) n += counts[k];
    float *X = malloc((size_t)n * sizeof *X), *y = malloc((size_t)n * sizeof *y);
    for (int k = 0, i = 0; k < K; k++)
        for (int c = 0; c < counts[k]; c++, i++) X[i] = (float)i, y[i] = (float)k;
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, (size_t)n, 1, K, &ds), 0);
    free(X);
    free(y);
    return ds;
}

static void count_classes(const gsgd_dataset *ds, int *counts, int K) {
    float *y = malloc(ds->n * sizeof *y);
    cr_assert_eq(gsgd_dataset_read(ds, 0, ds->n, NULL, y), 0);
    memset(counts, 0, (size_t)K * sizeof *counts);
    for (size_t i = 0; i < ds->n; i++) counts[(int)y[i]]++;
    free(y);
}

Test(split, each_class_goes_to_the_test_part_in_proportion) {
    gsgd_dataset *ds = classes((int[]){50, 30, 20}, 3), *tr, *te;
    cr_assert_eq(gsgd_dataset_split_stratified(ds, 0.3, 1, &tr, &te), 0, "%s",
                 gsgd_last_error(ctx));
    int c[3];
    count_classes(te, c, 3);
    cr_assert(c[0] == 15 && c[1] == 9 && c[2] == 6, "test part %d %d %d", c[0], c[1], c[2]);
    count_classes(tr, c, 3);
    cr_assert(c[0] == 35 && c[1] == 21 && c[2] == 14, "training part %d %d %d", c[0], c[1], c[2]);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
    gsgd_dataset_free(ds);
}

Test(split, leftover_rows_go_to_the_largest_remainders_then_the_larger_class) {
    /* 7 and 3 rows, half out: 3.5 and 1.5 make 3 + 1, the fifth row to the
     * class of 7 (equal remainders, larger class). */
    gsgd_dataset *ds = classes((int[]){3, 7}, 2), *tr, *te;
    cr_assert_eq(gsgd_dataset_split_stratified(ds, 0.5, 9, &tr, &te), 0);
    int c[2];
    count_classes(te, c, 2);
    cr_assert(c[0] == 1 && c[1] == 4, "test part %d %d", c[0], c[1]);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
    gsgd_dataset_free(ds);
}

Test(split, is_a_seeded_partition_of_whole_rows) {
    gsgd_dataset *ds = classes((int[]){40, 25, 35}, 3);
    float seen[100] = {0};
    gsgd_dataset *tr, *te, *tr2, *te2;
    cr_assert_eq(gsgd_dataset_split_stratified(ds, 0.2, 5, &tr, &te), 0);
    cr_assert_eq(gsgd_dataset_split_stratified(ds, 0.2, 5, &tr2, &te2), 0);
    float X[100], y[100], X2[100];
    cr_assert_eq(gsgd_dataset_read(tr, 0, 80, X, y), 0);
    cr_assert_eq(gsgd_dataset_read(te, 0, 20, X + 80, y + 80), 0);
    cr_assert_eq(gsgd_dataset_read(tr2, 0, 80, X2, NULL), 0);
    cr_assert_eq(gsgd_dataset_read(te2, 0, 20, X2 + 80, NULL), 0);
    cr_assert_arr_eq(X, X2, sizeof X, "the same seed, the same split");
    for (int i = 0; i < 100; i++) {
        const int row = (int)X[i];
        seen[row]++;
        const int klass = row < 40 ? 0 : row < 65 ? 1 : 2;
        cr_assert_eq(y[i], (float)klass, "row %d keeps its target", row);
    }
    for (int i = 0; i < 100; i++) cr_assert_eq(seen[i], 1.0f, "row %d once", i);
    /* Shuffled within the parts, not grouped by class. */
    int ordered = 1;
    for (int i = 1; i < 80; i++) ordered &= X[i] > X[i - 1];
    cr_assert_not(ordered);
    cr_assert(gsgdi_labels_equal(tr->meta.labels, ds->meta.labels));
    gsgd_dataset_free(tr), gsgd_dataset_free(te), gsgd_dataset_free(tr2), gsgd_dataset_free(te2);
    gsgd_dataset_free(ds);
}

Test(split, a_regression_set_splits_as_the_plain_split) {
    float X[50], y[50];
    for (int i = 0; i < 50; i++) X[i] = (float)i, y[i] = 0.5f * (float)i;
    gsgd_dataset *ds, *a, *b, *c, *d;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 50, 1, 0, &ds), 0);
    cr_assert_eq(gsgd_dataset_split_stratified(ds, 0.2, 4, &a, &b), 0);
    cr_assert_eq(gsgd_dataset_split(ds, 0.2, 4, &c, &d), 0);
    float p[40], q[40];
    cr_assert_eq(gsgd_dataset_read(a, 0, 40, p, NULL), 0);
    cr_assert_eq(gsgd_dataset_read(c, 0, 40, q, NULL), 0);
    cr_assert_arr_eq(p, q, sizeof p);
    gsgd_dataset_free(a), gsgd_dataset_free(b), gsgd_dataset_free(c), gsgd_dataset_free(d);
    gsgd_dataset_free(ds);
}

Test(split, rejects_fractions_that_empty_a_part) {
    gsgd_dataset *ds = classes((int[]){2, 2}, 2), *tr, *te;
    cr_assert_eq(gsgd_dataset_split_stratified(ds, 0.1, 1, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(gsgd_last_error(ctx), "both parts must be non-empty"));
    cr_assert_null(tr);
    gsgd_dataset_free(ds);
}
