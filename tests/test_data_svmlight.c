/* svmlight / LIBSVM reader: dense rows from index:value pairs, 1- and
 * 0-based indices, qid and comments, and errors naming line and column. */
#include <criterion/criterion.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(svmlight, .init = setup, .fini = teardown);

static gsgd_status parse(const char *text, int zero_based, size_t n_features, gsgdi_host_data *h,
                         gsgdi_raw_targets *t) {
    memset(h, 0, sizeof *h);
    const gsgdi_read_opts o = {.header = -1, .zero_based = zero_based, .n_features = n_features};
    return gsgdi_svmlight_parse(ctx, "a.svm", text, strlen(text), &o, h, t);
}

static void expect_error(const char *detail) {
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, "a.svm"), "message does not name the file: %s", msg);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
}

Test(svmlight, reads_one_based_pairs_into_dense_rows) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse("+1 1:0.5 3:2\n-1 2:-1.5\n", -1, 0, &h, &t), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.d, 3);
    const float X[6] = {0.5f, 0, 2, 0, -1.5f, 0};
    cr_assert_arr_eq(h.X, X, sizeof X);
    cr_assert_eq(t.num[0], 1.0);
    cr_assert_eq(t.num[1], -1.0);
    cr_assert_eq(t.line[1], 2);
    cr_assert_str_eq(h.meta.detail, "1-based indices, stored dense");
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
}

Test(svmlight, detects_zero_based_indices_and_takes_the_option) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse("1 0:1 2:3\n0 1:2\n", -1, 0, &h, &t), GSGD_STATUS_OK);
    cr_assert_eq(h.d, 3);
    cr_assert_eq(h.X[0], 1.0f);
    cr_assert_eq(h.X[4], 2.0f);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
    /* Told 0-based, a file without index 0 has one more feature. */
    cr_assert_eq(parse("1 1:1\n0 2:2\n", 1, 0, &h, &t), GSGD_STATUS_OK);
    cr_assert_eq(h.d, 3);
    cr_assert_eq(h.X[1], 1.0f);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
    cr_assert_eq(parse("1 0:1\n", 0, 0, &h, &t), GSGD_STATUS_BAD_FORMAT);
    expect_error("feature index 0 in a file read as 1-based");
}

Test(svmlight, skips_comments_blank_lines_and_qid) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    const char *text = "# made by hand\n\n3 qid:1 1:1 2:2 # a comment\n   \n7 qid:2 2:5\n";
    cr_assert_eq(parse(text, -1, 0, &h, &t), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.d, 2);
    cr_assert_eq(h.X[3], 5.0f);
    cr_assert_eq(t.num[1], 7.0);
    cr_assert_eq(t.line[0], 3);
    cr_assert_eq(t.line[1], 5);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
}

Test(svmlight, pads_rows_to_a_models_feature_count_and_refuses_more) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse("1 2:1\n", -1, 5, &h, &t), GSGD_STATUS_OK);
    cr_assert_eq(h.d, 5);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
    cr_assert_eq(parse("1 7:1\n", -1, 5, &h, &t), GSGD_STATUS_SHAPE_MISMATCH);
    expect_error("feature index 7 is past the model's 5 features");
}

Test(svmlight, names_line_and_column_of_each_error) {
    const struct {
        const char *text, *detail;
        gsgd_status st;
    } cases[] = {
        {"1 1:1\n0 3:1 2:1\n", "line 2, column 7: index 2 after 3", GSGD_STATUS_BAD_FORMAT},
        {"1 1:1\n0 1:x\n", "line 2, column 5: value 'x' is not a number", GSGD_STATUS_BAD_VALUE},
        {"1 1:1\n0 abc\n", "line 2, column 3: 'abc' is not index:value", GSGD_STATUS_BAD_FORMAT},
        {"1 1:1\nfoo 1:1\n", "line 2, column 1: target 'foo' is not a number",
         GSGD_STATUS_BAD_VALUE},
        {"1,2 1:1\n", "multi-label", GSGD_STATUS_UNSUPPORTED},
        {"1 1:nan\n", "line 1, column 5: value 'nan' is not a finite float", GSGD_STATUS_BAD_VALUE},
        {"1 -3:1\n", "line 1, column 3: '-3:1' has no valid feature index", GSGD_STATUS_BAD_FORMAT},
        {"# only a comment\n", "no data rows", GSGD_STATUS_BAD_FORMAT},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        gsgdi_host_data h;
        gsgdi_raw_targets t;
        cr_assert_eq(parse(cases[k].text, -1, 0, &h, &t), cases[k].st, "%s: %s", cases[k].text,
                     gsgd_last_error(ctx));
        expect_error(cases[k].detail);
        cr_assert_null(h.X);
    }
}

Test(svmlight, rejects_rows_too_wide_to_store_dense_before_allocating) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse("1 1:1\n0 4294967296:1\n", -1, 0, &h, &t), GSGD_STATUS_TOO_LARGE);
    expect_error("exceed the limit of 2^32 values");
}

Test(svmlight, refuses_a_dense_array_of_almost_only_zeros) {
    /* One value at index 2^31: 8 GiB stored dense, within the 2^32 values. */
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse("1 2147483648:1\n0 1:1\n", -1, 0, &h, &t), GSGD_STATUS_TOO_LARGE);
    expect_error("2 rows x 2147483648 features stored dense would take 16.0 GiB for 2 values");
    cr_assert_null(h.X);
}
