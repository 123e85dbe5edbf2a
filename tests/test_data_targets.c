/* Target columns: labels as the user has them become classes through a
 * sorted map; columns that are not labels are refused with the fix; a
 * reference's map is applied; real targets stay real. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(targets, .init = setup, .fini = teardown);

/* A text column of n labels, as the CSV reader gives it (lines from 2, a
 * header on line 1). */
static void text_column(gsgdi_raw_targets *t, const char *const *labels, size_t n) {
    memset(t, 0, sizeof *t);
    snprintf(t->file, sizeof t->file, "wine.csv");
    snprintf(t->name, sizeof t->name, "cultivar");
    t->column = 1;
    for (size_t i = 0; i < n; i++)
        cr_assert_eq(gsgdi_raw_targets_push_text(ctx, t, labels[i], strlen(labels[i]), i + 2), 0);
}

static gsgd_status finish(gsgdi_raw_targets *t, gsgdi_target_rules r, gsgdi_host_data *h) {
    memset(h, 0, sizeof *h);
    h->n = t->n;
    gsgd_status st = gsgdi_targets_finish(ctx, t, &r, h);
    gsgdi_raw_targets_free(t);
    return st;
}

static void expect_error(const char *detail) {
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
}

static void expect_y(const gsgdi_host_data *h, const float *y) {
    for (size_t i = 0; i < h->n; i++)
        cr_assert_eq(h->y[i], y[i], "y[%zu] = %g", i, (double)h->y[i]);
}

Test(targets, integer_labels_become_classes_in_sorted_order) {
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"9", "3", "7", "3", "+9"}, 5);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n_classes, 3);
    expect_y(&h, (float[]){2, 0, 1, 0, 2});
    cr_assert_str_eq(h.meta.labels->text[0], "3");
    cr_assert_eq(h.meta.target_min, 3);
    cr_assert_eq(h.meta.target_max, 9);
    gsgdi_host_data_free(&h);
}

Test(targets, plus_minus_one_become_two_classes) {
    gsgdi_raw_targets t = {.n = 4};
    snprintf(t.file, sizeof t.file, "a.svm");
    t.num = malloc(4 * sizeof *t.num);
    memcpy(t.num, (double[]){1, -1, -1, 1}, 4 * sizeof(double));
    gsgdi_host_data h;
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 2);
    expect_y(&h, (float[]){1, 0, 0, 1});
    cr_assert_str_eq(h.meta.labels->text[0], "-1");
    gsgdi_host_data_free(&h);
}

Test(targets, text_labels_become_classes_in_byte_order) {
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"b", "a", "B", "a"}, 4);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 3); /* "B" < "a" < "b" */
    expect_y(&h, (float[]){2, 1, 0, 1});
    gsgdi_host_data_free(&h);
}

Test(targets, a_column_of_fractions_is_refused_suggesting_label_or_regression) {
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"1", "14.23", "2"}, 3);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("wine.csv: line 3, column 1 ('cultivar'): target 14.23 is not a whole number");
    expect_error("--label NAME|INDEX");
    expect_error("--model linear");
    cr_assert_null(h.y);
}

Test(targets, too_many_distinct_labels_are_refused) {
    /* 2400 rows, 1300 distinct integers: more than max(1000, 1200). */
    gsgdi_raw_targets t = {.n = 2400};
    snprintf(t.file, sizeof t.file, "big.csv");
    t.column = 4;
    t.num = malloc(2400 * sizeof *t.num);
    for (size_t i = 0; i < 2400; i++) t.num[i] = (double)(i % 1300);
    gsgdi_host_data h;
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("big.csv: column 4: 1300 distinct values in 2400 rows");
    expect_error("--model linear");
    /* 1000 distinct labels are still classes. */
    t = (gsgdi_raw_targets){.n = 1000};
    t.num = malloc(1000 * sizeof *t.num);
    for (size_t i = 0; i < 1000; i++) t.num[i] = (double)i;
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 1000);
    gsgdi_host_data_free(&h);
}

Test(targets, a_single_class_is_refused) {
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"a", "a"}, 2);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("column 1 ('cultivar'): every row has the same label");
}

Test(targets, missing_labels_name_their_line) {
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"a", "b", "NA"}, 3);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){0}, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("wine.csv: line 4, column 1 ('cultivar'): missing target 'NA'");
}

Test(targets, a_reference_map_keeps_classes_a_test_file_lacks) {
    gsgdi_labels *ref;
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){1, 2, 3}, 3, &ref), 0);
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"3", "1", "3"}, 3);
    const gsgdi_target_rules r = {.has_ref = 1, .ref_classes = 3, .ref = ref};
    cr_assert_eq(finish(&t, r, &h), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.n_classes, 3);
    expect_y(&h, (float[]){2, 0, 2});
    cr_assert(gsgdi_labels_equal(h.meta.labels, ref));
    gsgdi_host_data_free(&h);
    text_column(&t, (const char *[]){"3", "4"}, 2);
    cr_assert_eq(finish(&t, r, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("wine.csv: line 3, column 1 ('cultivar'): label '4' is not one of the 3 classes "
                 "(1, 2, 3)");
    gsgdi_labels_free(ref);
}

Test(targets, rows_without_targets_keep_the_references_classes) {
    gsgdi_labels *ref;
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){3, 7}, 2, &ref), 0);
    gsgdi_host_data h = {.n = 2};
    const gsgdi_target_rules r = {.has_ref = 1, .ref_classes = 2, .ref = ref};
    cr_assert_eq(gsgdi_targets_finish(ctx, NULL, &r, &h), GSGD_STATUS_OK);
    cr_assert(h.meta.no_targets);
    cr_assert_eq(h.n_classes, 2);
    cr_assert(gsgdi_labels_equal(h.meta.labels, ref));
    gsgdi_host_data_free(&h);
    gsgdi_labels_free(ref);
}

Test(targets, real_targets_stay_real_and_text_among_them_is_named) {
    gsgdi_raw_targets t;
    gsgdi_host_data h;
    text_column(&t, (const char *[]){"2.5", "-1", "347"}, 3);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){.real = 1}, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 0);
    expect_y(&h, (float[]){2.5f, -1, 347});
    cr_assert_eq(h.meta.target_min, -1);
    cr_assert_eq(h.meta.target_max, 347);
    gsgdi_host_data_free(&h);
    text_column(&t, (const char *[]){"2.5", "cheap"}, 2);
    cr_assert_eq(finish(&t, (gsgdi_target_rules){.real = 1}, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 3, column 1 ('cultivar'): target 'cheap' is not a number");
}

Test(targets, identity_rules_keep_class_indices_with_every_class) {
    gsgdi_raw_targets t = {.n = 2};
    t.num = malloc(2 * sizeof *t.num);
    t.num[0] = 0;
    t.num[1] = 2;
    gsgdi_host_data h;
    cr_assert_eq(finish(&t, (gsgdi_target_rules){.identity = 5}, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 5);
    expect_y(&h, (float[]){0, 2});
    cr_assert(gsgdi_labels_is_identity(h.meta.labels));
    gsgdi_host_data_free(&h);
}
