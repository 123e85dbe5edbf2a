/* CSV loader: exact parsing, label position, headers, and errors that name
 * the file, line and field. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(csv, .init = setup, .fini = teardown);

/* Writes text to a fresh file and loads it with the given options. */
static gsgd_status load(const char *name, const char *text, int label_last, int header,
                        int regression, gsgdi_host_data *h) {
    const char *path = tu_path(name);
    cr_assert_eq(tu_write_text(path, text), 0);
    return gsgdi_load_csv(ctx, path, label_last, header, regression, h);
}

static void expect_error(const char *name, const char *detail) {
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, name), "message does not name %s: %s", name, msg);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
}

Test(csv, parses_label_first_rows_exactly) {
    gsgdi_host_data h;
    cr_assert_eq(load("a.csv", "1,0.5,-2\n0,3e2,0.125\n2,-0,7\n", 0, 0, 0, &h), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.n, 3);
    cr_assert_eq(h.d, 2);
    cr_assert_eq(h.n_classes, 3);
    const float X[6] = {0.5f, -2, 300, 0.125f, 0, 7}, y[3] = {1, 0, 2};
    for (int i = 0; i < 6; i++) cr_assert_eq(h.X[i], X[i], "X[%d] = %g", i, (double)h.X[i]);
    for (int i = 0; i < 3; i++) cr_assert_eq(h.y[i], y[i]);
    gsgdi_host_data_free(&h);
}

Test(csv, takes_the_label_from_the_last_column_when_asked) {
    gsgdi_host_data h;
    cr_assert_eq(load("last.csv", "0.5,-2,1\n3,4,0\n", 1, 0, 0, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.d, 2);
    cr_assert_eq(h.X[0], 0.5f);
    cr_assert_eq(h.X[1], -2.0f);
    cr_assert_eq(h.X[2], 3.0f);
    cr_assert_eq(h.y[0], 1.0f);
    cr_assert_eq(h.y[1], 0.0f);
    gsgdi_host_data_free(&h);
}

Test(csv, skips_the_header_line) {
    gsgdi_host_data h;
    cr_assert_eq(load("hdr.csv", "label,a,b\n1,2,3\n", 0, 1, 0, &h), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(h.n, 1);
    cr_assert_eq(h.X[0], 2.0f);
    gsgdi_host_data_free(&h);
}

Test(csv, accepts_crlf_blanks_around_fields_and_trailing_blank_lines) {
    gsgdi_host_data h;
    cr_assert_eq(load("crlf.csv", "1, 2 ,3\r\n0,4,\t5\r\n\r\n\n  \n", 0, 0, 0, &h), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.X[1], 3.0f);
    cr_assert_eq(h.X[3], 5.0f);
    gsgdi_host_data_free(&h);
}

Test(csv, accepts_a_last_line_without_newline) {
    gsgdi_host_data h;
    cr_assert_eq(load("nonl.csv", "1,2\n0,3", 0, 0, 0, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n, 2);
    cr_assert_eq(h.X[1], 3.0f);
    gsgdi_host_data_free(&h);
}

Test(csv, ignores_a_utf8_byte_order_mark) {
    gsgdi_host_data h;
    cr_assert_eq(load("bom.csv",
                      "\xEF\xBB\xBF"
                      "1,2\n0,3\n",
                      0, 0, 0, &h),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(h.y[0], 1.0f);
    gsgdi_host_data_free(&h);
}

Test(csv, keeps_real_targets_for_regression) {
    gsgdi_host_data h;
    cr_assert_eq(load("reg.csv", "-1.25,1\n3.5,2\n", 0, 0, 1, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 0);
    cr_assert_eq(h.y[0], -1.25f);
    cr_assert_eq(h.y[1], 3.5f);
    gsgdi_host_data_free(&h);
}

Test(csv, has_at_least_two_classes) {
    gsgdi_host_data h;
    cr_assert_eq(load("zero.csv", "0,1\n0,2\n", 0, 0, 0, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.n_classes, 2);
    gsgdi_host_data_free(&h);
}

Test(csv, grows_past_many_rows_and_wide_lines) {
    /* 3000 rows of 600 features: beyond the first capacities and longer
     * than any fixed line buffer a careless parser might use. */
    const size_t rows = 3000, d = 600;
    char *text = malloc(rows * d * 8 + 1), *p = text;
    for (size_t i = 0; i < rows; i++) {
        p += sprintf(p, "%zu", i % 4);
        for (size_t j = 0; j < d; j++) p += sprintf(p, ",%zu", (i + j) % 100);
        *p++ = '\n';
    }
    *p = '\0';
    gsgdi_host_data h;
    cr_assert_eq(load("big.csv", text, 0, 0, 0, &h), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    free(text);
    cr_assert_eq(h.n, rows);
    cr_assert_eq(h.d, d);
    cr_assert_eq(h.n_classes, 4);
    cr_assert_eq(h.y[2999], 3.0f);
    cr_assert_eq(h.X[2999 * d + 599], (float)((2999 + 599) % 100));
    gsgdi_host_data_free(&h);
}

Test(csv, rejects_ragged_rows_naming_the_line) {
    gsgdi_host_data h;
    cr_assert_eq(load("ragged.csv", "1,2,3,4,5\n0,1,2,3,4\n1,2,3,4\n", 0, 0, 0, &h),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("ragged.csv", "line 3: expected 5 fields, got 4");
    cr_assert_null(h.X);
}

Test(csv, counts_the_header_in_line_numbers) {
    gsgdi_host_data h;
    cr_assert_eq(load("ragged-hdr.csv", "y,a\n1,2\n1,2,3\n", 0, 1, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("ragged-hdr.csv", "line 3: expected 2 fields, got 3");
}

Test(csv, rejects_non_numeric_fields_naming_line_and_field) {
    gsgdi_host_data h;
    cr_assert_eq(load("text.csv", "1,2,3\n0,4,5\n1,abc,6\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("text.csv", "line 3, field 2: 'abc' is not a number");
}

Test(csv, rejects_trailing_garbage_after_a_number) {
    gsgdi_host_data h;
    cr_assert_eq(load("garbage.csv", "1,2.5x\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("garbage.csv", "line 1, field 2: '2.5x' is not a number");
}

Test(csv, rejects_empty_fields) {
    gsgdi_host_data h;
    cr_assert_eq(load("hole.csv", "1,2,3\n0,,3\n", 0, 0, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("hole.csv", "line 2, field 2: empty field");
}

Test(csv, rejects_nan_and_infinity) {
    gsgdi_host_data h;
    cr_assert_eq(load("nan.csv", "1,2\n0,nan\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("nan.csv", "line 2, field 2: 'nan' is not a finite float");
    cr_assert_eq(load("inf.csv", "1,-inf\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("inf.csv", "line 1, field 2");
    /* Finite as a double, infinite as a float. */
    cr_assert_eq(load("big.csv", "1,1e39\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("big.csv", "line 1, field 2: '1e39' is not a finite float");
}

Test(csv, rejects_empty_file) {
    gsgdi_host_data h;
    cr_assert_eq(load("empty.csv", "", 0, 0, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("empty.csv", "empty file");
}

Test(csv, rejects_a_file_without_data_rows) {
    gsgdi_host_data h;
    cr_assert_eq(load("hdronly.csv", "label,x\n\n", 0, 1, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("hdronly.csv", "no data rows");
}

Test(csv, rejects_a_blank_line_between_rows) {
    gsgdi_host_data h;
    cr_assert_eq(load("gap.csv", "1,2\n\n0,3\n", 0, 0, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("gap.csv", "line 2: blank line inside the data");
}

Test(csv, rejects_rows_without_features) {
    gsgdi_host_data h;
    cr_assert_eq(load("one.csv", "1\n0\n", 0, 0, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("one.csv", "line 1");
}

Test(csv, rejects_negative_class_labels) {
    gsgdi_host_data h;
    cr_assert_eq(load("neg.csv", "1,2\n-1,3\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("neg.csv", "line 2, field 1: class label -1 is negative");
}

Test(csv, rejects_fractional_class_labels_but_not_regression_targets) {
    gsgdi_host_data h;
    cr_assert_eq(load("frac.csv", "1,2\n3,0.5\n", 1, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("frac.csv", "line 2, field 2: class label 0.5 is not an integer");
    cr_assert_eq(load("frac2.csv", "1,2\n3,0.5\n", 1, 0, 1, &h), GSGD_STATUS_OK);
    cr_assert_eq(h.y[1], 0.5f);
    gsgdi_host_data_free(&h);
}

Test(csv, rejects_labels_beyond_the_class_limit) {
    gsgdi_host_data h;
    cr_assert_eq(load("huge-label.csv", "1,2\n70000,3\n", 0, 0, 0, &h), GSGD_STATUS_BAD_VALUE);
    expect_error("huge-label.csv", "line 2, field 1: class label 70000 exceeds");
}

Test(csv, rejects_a_nul_byte_naming_line_and_column) {
    /* Was "expected 3 fields, got 2": the string functions stopped at the
     * NUL. A UTF-16 file is the usual source: half its bytes are NULs. */
    const char text[] = "1,2,3\n0,4\0,5\n";
    const char *path = tu_path("nul.csv");
    cr_assert_eq(tu_write_file(path, text, sizeof text - 1), 0);
    gsgdi_host_data h;
    cr_assert_eq(gsgdi_load_csv(ctx, path, 0, 0, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("nul.csv", "line 2, column 4: a NUL byte");
    cr_assert_null(h.X);
    const char utf16[] = "\xff\xfe"
                         "1\0,\0"
                         "2\0\n\0";
    cr_assert_eq(tu_write_file(path, utf16, sizeof utf16 - 1), 0);
    cr_assert_eq(gsgdi_load_csv(ctx, path, 0, 1, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("nul.csv", "line 1, column 4: a NUL byte; the file is binary or UTF-16");
}

/* A file without line breaks cannot make the reader take all of memory:
 * /dev/zero stops at its first NUL, a line of digits past 64 MiB. */
Test(csv, a_line_without_end_is_refused_at_the_first_nul_or_past_64_mib) {
    gsgdi_host_data h;
    cr_assert_eq(gsgdi_load_csv(ctx, "/dev/zero", 0, 0, 0, &h), GSGD_STATUS_BAD_FORMAT);
    expect_error("/dev/zero", "line 1, column 1: a NUL byte");
    const char *path = tu_path("endless.csv");
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    static char chunk[1 << 20];
    for (size_t i = 0; i < sizeof chunk; i += 2) memcpy(chunk + i, "1,", 2);
    for (int k = 0; k < 65; k++) cr_assert_eq(fwrite(chunk, 1, sizeof chunk, f), sizeof chunk);
    cr_assert_eq(fclose(f), 0);
    cr_assert_eq(gsgdi_load_csv(ctx, path, 0, 0, 0, &h), GSGD_STATUS_TOO_LARGE);
    expect_error("endless.csv", "line 1 is longer than 64 MiB");
    cr_assert_null(h.X);
    remove(path); /* 65 MiB that the test directory need not keep */
}

Test(csv, reports_missing_file_as_io_error) {
    gsgdi_host_data h;
    const char *path = tu_path("missing.csv");
    cr_assert_eq(gsgdi_load_csv(ctx, path, 0, 0, 0, &h), GSGD_STATUS_IO);
    expect_error(path, "No such file or directory");
}
