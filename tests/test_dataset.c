/* Datasets: validation on upload, seeded splits, shapes, memory accounting. */
#include <criterion/criterion.h>
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

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(dataset, .init = setup, .fini = teardown);

/* Copies a dataset's contents back to the host (any backend). */
static void download(const gsgd_dataset *ds, float *X, float *y) {
    cr_assert_eq(ctx->be->download(ctx, X, ds->X, ds->n * ds->d * sizeof(float)), 0);
    cr_assert_eq(ctx->be->download(ctx, y, ds->y, ds->n * sizeof(float)), 0);
}

/* n rows of d = 2 features where row i is (i, -i) and its label i % k. */
static gsgd_dataset *numbered(size_t n, int k) {
    float *X = malloc(n * 2 * sizeof(float)), *y = malloc(n * sizeof(float));
    for (size_t i = 0; i < n; i++) {
        X[2 * i] = (float)i;
        X[2 * i + 1] = -(float)i;
        y[i] = (float)(i % (size_t)k);
    }
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, n, 2, k, &ds), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    free(X);
    free(y);
    return ds;
}

Test(dataset, from_host_copies_data_and_reports_shape) {
    const float X[6] = {1, 2, 3, 4, 5, 6}, y[3] = {0, 1, 1};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 3, 2, 2, &ds), GSGD_STATUS_OK);
    size_t n, d;
    int k;
    cr_assert_eq(gsgd_dataset_shape(ds, &n, &d, &k), GSGD_STATUS_OK);
    cr_assert_eq(n, 3);
    cr_assert_eq(d, 2);
    cr_assert_eq(k, 2);
    cr_assert_eq(gsgd_dataset_shape(ds, NULL, NULL, NULL), GSGD_STATUS_OK);
    float X2[6], y2[3];
    download(ds, X2, y2);
    cr_assert_arr_eq(X2, X, sizeof X);
    cr_assert_arr_eq(y2, y, sizeof y);
    gsgd_dataset_free(ds);
}

Test(dataset, accepts_real_targets_for_regression) {
    const float X[2] = {1, 2}, y[2] = {-0.5f, 1e6f};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 1, 0, &ds), GSGD_STATUS_OK);
    gsgd_dataset_free(ds);
}

Test(dataset, rejects_nan_features_naming_sample_and_feature) {
    const float X[6] = {1, 2, 3, NAN, 5, 6}, y[3] = {0, 1, 1};
    gsgd_dataset *ds = (gsgd_dataset *)&ds; /* must be reset to NULL */
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 3, 2, 2, &ds), GSGD_STATUS_BAD_VALUE);
    cr_assert_null(ds);
    cr_assert(strstr(gsgd_last_error(ctx), "sample 1, feature 1"), "%s", gsgd_last_error(ctx));
}

Test(dataset, rejects_infinite_targets_naming_the_sample) {
    const float X[2] = {1, 2}, y[2] = {0.5f, -INFINITY};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 1, 0, &ds), GSGD_STATUS_BAD_VALUE);
    cr_assert(strstr(gsgd_last_error(ctx), "sample 1"), "%s", gsgd_last_error(ctx));
}

Test(dataset, rejects_labels_outside_the_classes) {
    const float X[3] = {1, 2, 3};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, (float[]){0, 1, 3}, 3, 1, 3, &ds),
                 GSGD_STATUS_BAD_VALUE);
    cr_assert(strstr(gsgd_last_error(ctx), "sample 2: label 3"), "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, (float[]){0, -1, 1}, 3, 1, 3, &ds),
                 GSGD_STATUS_BAD_VALUE);
    cr_assert(strstr(gsgd_last_error(ctx), "sample 1"), "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, (float[]){0.5f, 1, 1}, 3, 1, 3, &ds),
                 GSGD_STATUS_BAD_VALUE);
    cr_assert(strstr(gsgd_last_error(ctx), "sample 0"), "%s", gsgd_last_error(ctx));
}

Test(dataset, rejects_invalid_arguments) {
    const float X[2] = {1, 2}, y[2] = {0, 1};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, NULL, y, 2, 1, 2, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 0, 1, 2, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 0, 2, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 1, -1, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_from_host(NULL, X, y, 2, 1, 2, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_shape(NULL, NULL, NULL, NULL), GSGD_STATUS_INVALID_ARGUMENT);
}

Test(dataset, free_returns_all_device_memory) {
    size_t before, after, peak;
    cr_assert_eq(gsgd_context_memory(ctx, &before, NULL), 0);
    gsgd_dataset *ds = numbered(100, 3);
    cr_assert_eq(gsgd_context_memory(ctx, &after, &peak), 0);
    cr_assert_eq(after - before, 100 * 3 * sizeof(float)); /* 100 x 2 features + 100 labels */
    gsgd_dataset_free(ds);
    gsgd_dataset_free(NULL);
    cr_assert_eq(gsgd_context_memory(ctx, &after, NULL), 0);
    cr_assert_eq(after, before);
}

Test(dataset, split_sizes_follow_the_rounded_fraction) {
    gsgd_dataset *ds = numbered(10, 2), *tr, *te;
    cr_assert_eq(gsgd_dataset_split(ds, 0.25, 1, &tr, &te), GSGD_STATUS_OK); /* 2.5 -> 3 */
    size_t ntr, nte, d;
    int k;
    gsgd_dataset_shape(tr, &ntr, &d, &k);
    gsgd_dataset_shape(te, &nte, NULL, NULL);
    cr_assert_eq(ntr, 7);
    cr_assert_eq(nte, 3);
    cr_assert_eq(d, 2);
    cr_assert_eq(k, 2);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
    gsgd_dataset_free(ds);
}

/* Every row appears exactly once across the parts, intact (features and
 * label still together), and the original is unchanged. */
Test(dataset, split_is_a_shuffled_partition_of_whole_rows) {
    const size_t n = 50;
    gsgd_dataset *ds = numbered(n, 3), *tr, *te;
    cr_assert_eq(gsgd_dataset_split(ds, 0.3, 99, &tr, &te), GSGD_STATUS_OK);
    float X[100], y[50];
    int seen[50] = {0}, moved = 0;
    download(tr, X, y);
    download(te, X + 2 * tr->n, y + tr->n);
    for (size_t i = 0; i < n; i++) {
        size_t id = (size_t)X[2 * i];
        cr_assert_lt(id, n);
        cr_assert_eq(X[2 * i + 1], -(float)id);
        cr_assert_eq(y[i], (float)(id % 3));
        seen[id]++;
        moved |= id != i;
    }
    for (size_t i = 0; i < n; i++) cr_assert_eq(seen[i], 1, "row %zu seen %d times", i, seen[i]);
    cr_assert(moved, "split did not shuffle");
    download(ds, X, y);
    for (size_t i = 0; i < n; i++) cr_assert_eq(X[2 * i], (float)i);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
    gsgd_dataset_free(ds);
}

Test(dataset, split_is_deterministic_for_a_seed_and_varies_with_it) {
    gsgd_dataset *ds = numbered(40, 2), *a, *b, *c, *t1, *t2, *t3;
    cr_assert_eq(gsgd_dataset_split(ds, 0.5, 7, &a, &t1), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_split(ds, 0.5, 7, &b, &t2), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_split(ds, 0.5, 8, &c, &t3), GSGD_STATUS_OK);
    float Xa[40], Xb[40], Xc[40], y[20];
    download(a, Xa, y);
    download(b, Xb, y);
    download(c, Xc, y);
    cr_assert_arr_eq(Xa, Xb, sizeof Xa);
    cr_assert(memcmp(Xa, Xc, sizeof Xa) != 0, "seeds 7 and 8 gave the same split");
    gsgd_dataset *all[] = {a, b, c, t1, t2, t3, ds};
    for (int i = 0; i < 7; i++) gsgd_dataset_free(all[i]);
}

Test(dataset, split_rejects_fractions_that_empty_a_part) {
    gsgd_dataset *ds = numbered(4, 2), *tr, *te;
    cr_assert_eq(gsgd_dataset_split(ds, 0.1, 1, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_null(tr);
    cr_assert_null(te);
    cr_assert_eq(gsgd_dataset_split(ds, 0.9, 1, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_split(ds, 0.0, 1, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_split(ds, 1.0, 1, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_split(ds, NAN, 1, &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(gsgd_last_error(ctx), "test_fraction"), "%s", gsgd_last_error(ctx));
    size_t in_use;
    gsgd_dataset_free(ds);
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_assert_eq(in_use, 0, "a failed split leaked %zu bytes", in_use);
}

Test(dataset, subset_keeps_every_stride_th_row_from_first) {
    gsgd_dataset *ds = numbered(10, 3), *sub;
    /* A rank r of 3 keeping rows r, r+3, r+6: here rank 1. */
    cr_assert_eq(gsgd_dataset_subset(ds, 1, 3, 3, &sub), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    size_t n, d;
    int k;
    gsgd_dataset_shape(sub, &n, &d, &k);
    cr_assert_eq(n, 3);
    cr_assert_eq(d, 2);
    cr_assert_eq(k, 3);
    float X[6], y[3];
    download(sub, X, y);
    const float X_want[6] = {1, -1, 4, -4, 7, -7}, y_want[3] = {1, 1, 1};
    cr_assert_arr_eq(X, X_want, sizeof X);
    cr_assert_arr_eq(y, y_want, sizeof y);
    gsgd_dataset_free(sub);
    gsgd_dataset_free(ds);
}

Test(dataset, subset_refuses_rows_past_the_end_and_leaks_nothing) {
    gsgd_dataset *ds = numbered(10, 2), *sub = NULL;
    /* Rows 1, 4, 7, 10: the last is past the end. */
    cr_assert_eq(gsgd_dataset_subset(ds, 1, 4, 3, &sub), GSGD_STATUS_OUT_OF_RANGE);
    cr_assert_null(sub);
    cr_assert(strstr(gsgd_last_error(ctx), "run past"), "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_dataset_subset(ds, 10, 1, 1, &sub), GSGD_STATUS_OUT_OF_RANGE);
    cr_assert_eq(gsgd_dataset_subset(ds, 0, 0, 1, &sub), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_eq(gsgd_dataset_subset(ds, 0, 1, 0, &sub), GSGD_STATUS_INVALID_ARGUMENT);
    /* The whole set with stride 1 is a plain copy. */
    cr_assert_eq(gsgd_dataset_subset(ds, 0, 10, 1, &sub), GSGD_STATUS_OK);
    gsgd_dataset_free(sub);
    gsgd_dataset_free(ds);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_assert_eq(in_use, 0, "subset leaked %zu bytes", in_use);
}

/* ---- byte storage (ubyte IDX pixels) --------------------------------------- */

/* The same n x d pixels twice: as bytes (the IDX loader's default) and as
 * the floats the loader would otherwise have produced. */
static void pixel_pair(size_t n, size_t d, gsgd_dataset **bytes, gsgd_dataset **floats) {
    gsgdi_host_data h = {.n = n, .d = d, .n_classes = 10};
    h.X8 = malloc(n * d);
    h.y = malloc(n * sizeof(float));
    float *X = malloc(n * d * sizeof(float));
    for (size_t i = 0; i < n * d; i++) {
        h.X8[i] = (uint8_t)(i * 131 + i / d);
        X[i] = (float)h.X8[i] / 255.0f;
    }
    for (size_t i = 0; i < n; i++) h.y[i] = (float)(i % 10);
    cr_assert_eq(gsgdi_dataset_from_host_data(ctx, &h, bytes), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, h.y, n, d, 10, floats), GSGD_STATUS_OK);
    free(X);
    gsgdi_host_data_free(&h);
}

/* Both datasets hold the same features and targets, a in bytes. */
static void expect_same_rows(const gsgd_dataset *a, const gsgd_dataset *b) {
    cr_assert_eq(a->xt, GSGD_XTYPE_U8);
    cr_assert_eq(b->xt, GSGD_XTYPE_F32);
    cr_assert_eq(a->n, b->n);
    cr_assert_eq(a->d, b->d);
    const size_t m = a->n * a->d;
    float *Xa = malloc(m * sizeof(float)), *Xb = malloc(m * sizeof(float));
    float *ya = malloc(a->n * sizeof(float)), *yb = malloc(a->n * sizeof(float));
    cr_assert_eq(gsgdi_dataset_read_rows(a, 0, a->n, Xa), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_dataset_read_rows(b, 0, b->n, Xb), GSGD_STATUS_OK);
    cr_assert_eq(ctx->be->download(ctx, ya, a->y, a->n * sizeof(float)), 0);
    cr_assert_eq(ctx->be->download(ctx, yb, b->y, b->n * sizeof(float)), 0);
    cr_assert_arr_eq(Xa, Xb, m * sizeof(float));
    cr_assert_arr_eq(ya, yb, a->n * sizeof(float));
    free(Xa), free(Xb), free(ya), free(yb);
}

Test(dataset, byte_storage_takes_one_byte_a_feature_and_frees_it_all) {
    size_t before, after;
    cr_assert_eq(gsgd_context_memory(ctx, &before, NULL), 0);
    gsgd_dataset *a, *b;
    pixel_pair(100, 784, &a, &b);
    cr_assert_eq(gsgd_context_memory(ctx, &after, NULL), 0);
    /* 100 x 784 bytes + 100 float labels, then 4 bytes a feature. */
    cr_assert_eq(after - before, (100 * 784 + 400) + (100 * 784 * 4 + 400));
    expect_same_rows(a, b);
    gsgd_dataset_free(a);
    gsgd_dataset_free(b);
    cr_assert_eq(gsgd_context_memory(ctx, &after, NULL), 0);
    cr_assert_eq(after, before);
}

Test(dataset, split_of_bytes_is_bytes_and_the_same_partition) {
    gsgd_dataset *a, *b, *atr, *ate, *btr, *bte;
    pixel_pair(50, 7, &a, &b);
    cr_assert_eq(gsgd_dataset_split(a, 0.3, 9, &atr, &ate), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgd_dataset_split(b, 0.3, 9, &btr, &bte), GSGD_STATUS_OK);
    expect_same_rows(atr, btr);
    expect_same_rows(ate, bte);
    gsgd_dataset *all[6] = {a, b, atr, ate, btr, bte};
    for (int i = 0; i < 6; i++) gsgd_dataset_free(all[i]);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_assert_eq(in_use, 0, "split leaked %zu bytes", in_use);
}

Test(dataset, subset_of_bytes_is_bytes_and_the_same_rows) {
    gsgd_dataset *a, *b;
    pixel_pair(30, 5, &a, &b);
    const size_t cases[][3] = {{1, 10, 3}, {0, 30, 1}, {29, 1, 7}, {2, 4, 9}};
    for (int c = 0; c < 4; c++) {
        gsgd_dataset *sa, *sb;
        cr_assert_eq(gsgd_dataset_subset(a, cases[c][0], cases[c][1], cases[c][2], &sa), 0, "%s",
                     gsgd_last_error(ctx));
        cr_assert_eq(gsgd_dataset_subset(b, cases[c][0], cases[c][1], cases[c][2], &sb), 0);
        expect_same_rows(sa, sb);
        gsgd_dataset_free(sa);
        gsgd_dataset_free(sb);
    }
    gsgd_dataset_free(a);
    gsgd_dataset_free(b);
}
