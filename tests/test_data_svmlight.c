/* svmlight / LIBSVM reader: dense or CSR rows from index:value pairs, the
 * storage rule, 1- and 0-based indices, qid and comments, numeric and text
 * targets, numbers exactly as strtod reads them, the gzip stream read in
 * pieces, and errors naming line and column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(svmlight, .init = setup, .fini = teardown);

/* Dense rows (csr 0), as the tests of the dense reader read them. */
static gsgd_status parse(const char *text, int zero_based, size_t n_features, gsgdi_host_data *h,
                         gsgdi_raw_targets *t) {
    memset(h, 0, sizeof *h);
    const gsgdi_read_opts o = {.header = -1, .zero_based = zero_based, .n_features = n_features};
    return gsgdi_svmlight_parse(ctx, "a.svm", text, strlen(text), &o, h, t);
}

static gsgd_status parse_as(const char *text, int csr, gsgdi_host_data *h, gsgdi_raw_targets *t) {
    memset(h, 0, sizeof *h);
    const gsgdi_read_opts o = {.header = -1, .zero_based = -1, .csr = csr};
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
        {"1 1:1\n2:1 1:1\n", "line 2, column 1: the row starts with '2:1', not a target",
         GSGD_STATUS_BAD_FORMAT},
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

Test(svmlight, names_line_and_column_of_a_nul_byte) {
    /* Was "value '2' is not a number": strtod stopped at the NUL. */
    const char text[] = "1 1:1\n0 2:2\0 3:1\n";
    const gsgdi_read_opts o = {.header = -1, .zero_based = -1};
    gsgdi_host_data h = {0};
    gsgdi_raw_targets t;
    cr_assert_eq(gsgdi_svmlight_parse(ctx, "a.svm", text, sizeof text - 1, &o, &h, &t),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("line 2, column 6: a NUL byte; the file is binary or UTF-16, not svmlight text");
    cr_assert_null(h.X);
    cr_assert_eq(t.n, 0);
}

Test(svmlight, keeps_sparse_rows_as_csr_and_dense_ones_dense) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    /* 3 of 6 values nonzero: dense by the rule (5% and more) */
    cr_assert_eq(parse_as("1 1:0.5 3:2\n-1 2:-1.5\n", -1, &h, &t), GSGD_STATUS_OK);
    cr_assert_not_null(h.X);
    cr_assert_null(h.indptr);
    cr_assert_str_eq(h.meta.detail, "1-based indices, stored dense");
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
    /* the same rows asked as CSR */
    cr_assert_eq(parse_as("1 1:0.5 3:2\n-1 2:-1.5\n", 1, &h, &t), GSGD_STATUS_OK);
    cr_assert_null(h.X);
    cr_assert(h.n == 2 && h.d == 3 && h.nnz == 3);
    const int64_t ptr[3] = {0, 2, 3};
    const int32_t ind[3] = {0, 2, 1};
    const float val[3] = {0.5f, 2, -1.5f};
    cr_assert_arr_eq(h.indptr, ptr, sizeof ptr);
    cr_assert_arr_eq(h.indices, ind, sizeof ind);
    cr_assert_arr_eq(h.values, val, sizeof val);
    cr_assert_eq(t.num[1], -1.0);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
    /* 2 of 200 values nonzero: sparse by the rule */
    cr_assert_eq(parse_as("1 1:1\n0 100:2\n", -1, &h, &t), GSGD_STATUS_OK);
    cr_assert_not_null(h.indptr);
    cr_assert(h.d == 100 && h.nnz == 2 && h.indices[1] == 99);
    cr_assert_str_eq(h.meta.detail, "1-based indices, stored sparse (1% nonzero)");
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
}

Test(svmlight, sparse_rows_take_indices_far_past_what_dense_could_hold) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse_as("1 2147483647:1\n0 1:1\n", -1, &h, &t), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert(h.indptr && h.d == 2147483647u && h.indices[0] == 2147483646);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
    cr_assert_eq(parse_as("1 2147483648:1\n", -1, &h, &t), GSGD_STATUS_TOO_LARGE);
    expect_error("line 1: feature index 2147483648 makes 2147483648 features, past the limit");
    cr_assert_null(h.indptr);
}

Test(svmlight, takes_label_texts_through_a_label_map_and_refuses_them_as_real_targets) {
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse_as("spam 1:1\nham 2:1\n1 1:2\n", -1, &h, &t), GSGD_STATUS_OK);
    cr_assert_eq(t.n, 3);
    cr_assert_null(t.num);
    cr_assert_str_eq(t.pool + t.off[0], "spam");
    cr_assert_str_eq(t.pool + t.off[2], "1", "the numbers before or among texts are texts too");
    cr_assert_eq(t.line[1], 2);
    gsgdi_target_rules classes = {0};
    cr_assert_eq(gsgdi_targets_finish(ctx, &t, &classes, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 3);
    const float y[3] = {2, 1, 0}; /* sorted: "1", "ham", "spam" */
    cr_assert_arr_eq(h.y, y, sizeof y);
    gsgdi_host_data_free(&h);
    gsgdi_raw_targets_free(&t);
    /* numbers first, a text later: the numbers so far become texts */
    cr_assert_eq(parse_as("1 1:1\n-1 1:2\nfoo 2:1\n", -1, &h, &t), GSGD_STATUS_OK);
    cr_assert_str_eq(t.pool + t.off[1], "-1");
    cr_assert_str_eq(t.pool + t.off[2], "foo");
    const gsgdi_target_rules real = {.real = 1};
    cr_assert_eq(gsgdi_targets_finish(ctx, &t, &real, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("line 3, column 1: target 'foo' is not a number");
    gsgdi_host_data_free(&h);
    gsgdi_raw_targets_free(&t);
}

/* The hand-read numbers are strtod's, bit for bit: plain decimals of every
 * length (15 to 19 digits straddle the 2^53 fast-path bound), decimals
 * next to a float's halfway point (where a double off by one ulp rounds to
 * the other float), exponents, signs, and the forms only strtod reads. */
Test(svmlight, reads_values_exactly_as_strtod) {
    char *text = malloc(1 << 20);
    cr_assert_not_null(text);
    double want[4000];
    size_t len = 0;
    unsigned long long x = 88172645463325252ull;
    static const char *const odd[] = {"1e5",
                                      "-2.5E-3",
                                      "+.5",
                                      "5.",
                                      "0x1p-3",
                                      "1e-30",
                                      "123456789012345678901234",
                                      "0.000000000000000000001234",
                                      "-0",
                                      "3.4028234663852886e38",
                                      "1e-45"};
    for (int i = 0; i < 4000; i++) {
        char num[64];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        if (i < (int)(sizeof odd / sizeof odd[0]))
            snprintf(num, sizeof num, "%s", odd[i]);
        else if (i % 4 == 3) { /* near a float halfway point, where double rounding shows */
            const float f = (float)((double)(x >> 40) * 0x1p-24 + 0.1);
            snprintf(num, sizeof num, "%.16g", ((double)f + (double)nextafterf(f, 1.0f)) / 2);
        } else if (i % 3 == 0)
            snprintf(num, sizeof num, "%.*g", 1 + (int)(x % 19), (double)(x >> 11) * 0x1p-53);
        else if (i % 3 == 1)
            snprintf(num, sizeof num, "%.17g", (double)(x >> 11) * 0x1p-40 - 4096.0);
        else
            snprintf(num, sizeof num, "%llu.%llue%d", x % 1000, (x >> 20) % 100000000000000ull,
                     (int)(x % 40) - 20);
        want[i] = strtod(num, NULL);
        len += (size_t)snprintf(text + len, 64, "1 %d:%s\n", i + 1, num);
    }
    gsgdi_host_data h;
    gsgdi_raw_targets t;
    cr_assert_eq(parse_as(text, 1, &h, &t), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    for (int i = 0; i < 4000; i++)
        cr_expect_eq(h.values[i], (float)want[i], "value %d: %a, strtod %a", i, (double)h.values[i],
                     want[i]);
    free(text);
    gsgdi_raw_targets_free(&t);
    gsgdi_host_data_free(&h);
}

/* A gzip file is read a piece at a time: lines cut at every piece's end,
 * and a line longer than the first buffer, read as from memory. */
Test(svmlight, streams_gzip_in_pieces_as_it_reads_memory) {
    const size_t rows = 60000;
    char *text = malloc(rows * 64 + (1 << 23));
    cr_assert_not_null(text);
    size_t len = 0;
    for (size_t i = 0; i < rows; i++)
        len += (size_t)sprintf(text + len, "%zu %zu:%zu.25 %zu:-1e-2 # c\n", i % 7, i % 900 + 1, i,
                               i % 900 + 2000);
    len += (size_t)sprintf(text + len, "3");
    for (int k = 1; k <= 600000; k++) len += (size_t)sprintf(text + len, " %d:1", 3000 + k);
    text[len++] = '\n';
    const char *gz = tu_path("big.svm.gz");
    cr_assert_eq(tu_write_gzip(gz, text, len), 0);
    const gsgdi_read_opts o = {.header = -1, .zero_based = -1, .csr = 1};
    gsgdi_host_data a = {0}, b = {0};
    gsgdi_raw_targets ta, tb;
    cr_assert_eq(gsgdi_svmlight_parse(ctx, "mem", text, len, &o, &a, &ta), GSGD_STATUS_OK);
    gsgdi_input in;
    gsgdi_stream s;
    cr_assert_eq(gsgdi_input_open_stream(ctx, gz, &in, &s), GSGD_STATUS_OK);
    cr_assert_not_null(s.gz, "a gzip file is streamed, not read whole");
    cr_assert_eq(gsgdi_svmlight_stream(ctx, gz, &s, &o, &b, &tb), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert(s.gzip);
    gsgdi_stream_close(&s);
    gsgdi_input_close(&in);
    cr_assert(a.n == rows + 1 && b.n == a.n && b.d == a.d && b.nnz == a.nnz);
    cr_assert_arr_eq(a.indptr, b.indptr, (a.n + 1) * sizeof(int64_t));
    cr_assert_arr_eq(a.indices, b.indices, a.nnz * sizeof(int32_t));
    cr_assert_arr_eq(a.values, b.values, a.nnz * sizeof(float));
    cr_assert_arr_eq(ta.num, tb.num, a.n * sizeof(double));
    cr_assert_arr_eq(ta.line, tb.line, a.n * sizeof(size_t));
    free(text);
    gsgdi_raw_targets_free(&ta);
    gsgdi_raw_targets_free(&tb);
    gsgdi_host_data_free(&a);
    gsgdi_host_data_free(&b);
}
