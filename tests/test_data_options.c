/* Loading options: bounds and defaults, text options, references. */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

Test(data_options, start_at_their_defaults_and_keep_to_their_bounds) {
    gsgd_data_options *o;
    cr_assert_eq(gsgd_data_options_create(&o), 0);
    for (int p = 0; p < GSGD_DATA_N_PARAMS; p++) {
        double lo, hi, dflt, v;
        cr_assert_eq(gsgd_data_param_bounds((gsgd_data_param)p, &lo, &hi, &dflt), 0);
        cr_assert_eq(gsgd_data_get(o, (gsgd_data_param)p, &v), 0);
        cr_assert_eq(v, dflt, "param %d", p);
        cr_assert_eq(gsgd_data_set(o, (gsgd_data_param)p, hi + fmax(1, hi)),
                     GSGD_STATUS_OUT_OF_RANGE);
        cr_assert_eq(gsgd_data_set(o, (gsgd_data_param)p, lo - 1), GSGD_STATUS_OUT_OF_RANGE);
        cr_assert_eq(gsgd_data_set(o, (gsgd_data_param)p, NAN), GSGD_STATUS_OUT_OF_RANGE);
    }
    cr_assert_eq(gsgd_data_set(o, GSGD_DATA_TEST_FRACTION, 1.0), GSGD_STATUS_OUT_OF_RANGE);
    cr_assert_eq(gsgd_data_set(o, GSGD_DATA_TEST_FRACTION, 0.2), 0);
    cr_assert_eq(gsgd_data_set(o, GSGD_DATA_HEADER, 0.5), GSGD_STATUS_OUT_OF_RANGE);
    cr_assert_eq(gsgd_data_param_bounds((gsgd_data_param)99, NULL, NULL, NULL),
                 GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_data_options_free(o);
}

Test(data_options, delimiters_are_marks_not_letters_digits_or_quotes) {
    gsgd_data_options *o;
    cr_assert_eq(gsgd_data_options_create(&o), 0);
    const int ok[] = {',', '\t', ';', ' ', '|', ':'}, bad[] = {'a', '7', '"', '.', '\n', '-'};
    for (int k = 0; k < 6; k++) {
        cr_assert_eq(gsgd_data_set(o, GSGD_DATA_DELIMITER, ok[k]), 0, "%d", ok[k]);
        cr_assert_eq(gsgd_data_set(o, GSGD_DATA_DELIMITER, bad[k]), GSGD_STATUS_OUT_OF_RANGE, "%d",
                     bad[k]);
    }
    gsgd_data_options_free(o);
}

Test(data_options, the_decimal_mark_is_a_point_or_a_comma) {
    gsgd_data_options *o;
    cr_assert_eq(gsgd_data_options_create(&o), 0);
    cr_assert_eq(gsgd_data_set(o, GSGD_DATA_DECIMAL, ','), 0);
    cr_assert_eq(gsgd_data_set(o, GSGD_DATA_DECIMAL, '.'), 0);
    for (int c = ',' + 1; c < '.'; c++)
        cr_assert_eq(gsgd_data_set(o, GSGD_DATA_DECIMAL, c), GSGD_STATUS_OUT_OF_RANGE, "%c", c);
    gsgd_data_options_free(o);
}

Test(data_options, text_options_are_copied_and_cleared) {
    gsgd_data_options *o;
    cr_assert_eq(gsgd_data_options_create(&o), 0);
    char name[16] = "cultivar";
    cr_assert_eq(gsgd_data_set_text(o, GSGD_DATA_LABEL, name), 0);
    name[0] = 'X';
    cr_assert_str_eq(o->label, "cultivar");
    cr_assert_eq(gsgd_data_set_text(o, GSGD_DATA_LABEL, NULL), 0);
    cr_assert_null(o->label);
    cr_assert_eq(gsgd_data_set_text(o, (gsgd_data_text)5, "x"), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_data_options_free(o);
}

Test(data_options, a_reference_is_a_copy_that_outlives_its_source) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0);
    const float X[4] = {1, 2, 3, 4}, y[2] = {0, 1};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 2, 2, &ds), 0);
    gsgd_data_options *o;
    cr_assert_eq(gsgd_data_options_create(&o), 0);
    cr_assert_eq(gsgd_data_set_reference(o, ds), 0);
    gsgd_dataset_free(ds);
    cr_assert(o->has_ref);
    cr_assert_eq(o->ref_features, 2);
    cr_assert_eq(o->ref_classes, 2);
    cr_assert_str_eq(o->ref_labels->text[1], "1");
    cr_assert_eq(gsgd_data_set_reference(o, NULL), 0);
    cr_assert_not(o->has_ref);
    cr_assert_null(o->ref_labels);
    gsgd_data_options_free(o);
    gsgd_context_free(ctx);
}
