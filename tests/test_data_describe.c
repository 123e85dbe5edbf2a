/* What a dataset says about itself: the one-line summary a report prints
 * before training, its labels, its targets' range, its rows back. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(describe, .init = setup, .fini = teardown);

static gsgd_dataset *load(const char *name, const char *text, int real) {
    cr_assert_eq(tu_write_text(tu_path(name), text), 0);
    gsgd_data_options *o;
    cr_assert_eq(gsgd_data_options_create(&o), 0);
    cr_assert_eq(gsgd_data_set(o, GSGD_DATA_TARGET, real), 0);
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load_ex(ctx, tu_path(name), o, &ds, NULL), 0, "%s",
                 gsgd_last_error(ctx));
    gsgd_data_options_free(o);
    return ds;
}

Test(describe, a_class_set_says_source_format_shape_labels_storage_and_memory) {
    gsgd_dataset *ds = load("w.csv", "label,a,b\n3,1,2\n7,3,4\n9,5,6\n", 0);
    char line[400], want[800];
    cr_assert_eq(gsgd_dataset_describe(ds, line, sizeof line), 0);
    /* 3 x 2 floats and 3 targets: 36 bytes. */
    snprintf(want, sizeof want,
             "%s: CSV (comma-separated, header), 3 rows x 2 features, 3 classes (3, 7, 9), f32, "
             "36 B",
             tu_path("w.csv"));
    cr_assert_str_eq(line, want);
    gsgd_dataset_free(ds);
}

Test(describe, a_regression_set_gives_its_target_range) {
    gsgd_dataset *ds = load("r.csv", "y,a\n2.5,1\n-1,2\n", 1);
    char line[400];
    cr_assert_eq(gsgd_dataset_describe(ds, line, sizeof line), 0);
    cr_assert(strstr(line, "2 rows x 1 features, target -1 .. 2.5, f32"), "%s", line);
    double lo, hi;
    int has;
    cr_assert_eq(gsgd_dataset_targets(ds, &has, &lo, &hi), 0);
    cr_assert(has && lo == -1 && hi == 2.5);
    const char *t;
    cr_assert_eq(gsgd_dataset_label(ds, 0, &t), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_dataset_free(ds);
}

Test(describe, cuts_the_line_to_the_buffer) {
    gsgd_dataset *ds = load("w.csv", "label,a\n1,1\n0,3\n", 0);
    char line[12];
    cr_assert_eq(gsgd_dataset_describe(ds, line, sizeof line), 0);
    cr_assert_eq(strlen(line), 11);
    gsgd_dataset_free(ds);
}

Test(describe, arrays_from_the_caller_have_their_indices_as_labels) {
    const float X[2] = {1, 2}, y[2] = {0, 2};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 1, 3, &ds), 0);
    const char *t;
    cr_assert_eq(gsgd_dataset_label(ds, 2, &t), 0);
    cr_assert_str_eq(t, "2");
    cr_assert_eq(gsgd_dataset_label(ds, 3, &t), GSGD_STATUS_INVALID_ARGUMENT);
    char line[200];
    cr_assert_eq(gsgd_dataset_describe(ds, line, sizeof line), 0);
    cr_assert(strstr(line, "gsgd_dataset_from_host: arrays, 2 rows x 1 features, 3 classes"), "%s",
              line);
    gsgd_dataset_free(ds);
}

Test(describe, read_gives_rows_back_and_refuses_past_the_end) {
    const float X[6] = {1, 2, 3, 4, 5, 6}, y[3] = {0, 1, 0};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 3, 2, 2, &ds), 0);
    float x[4], t[2];
    cr_assert_eq(gsgd_dataset_read(ds, 1, 2, x, t), 0);
    cr_assert_arr_eq(x, X + 2, sizeof x);
    cr_assert_arr_eq(t, y + 1, sizeof t);
    cr_assert_eq(gsgd_dataset_read(ds, 2, 2, x, t), GSGD_STATUS_OUT_OF_RANGE);
    gsgd_dataset_free(ds);
}
