/* .npy arrays: every supported dtype, both byte orders, C and Fortran
 * order, features read in place where they can be, targets (numbers and
 * strings), and errors that name the array, the row and the column. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(npy, .init = setup, .fini = teardown);

static void expect_error(const char *detail) {
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, "a.npy"), "message does not name the array: %s", msg);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
}

/* Parses an image and reads it as features. */
static gsgd_status features(unsigned char *img, size_t n, float **X, size_t *rows, size_t *d,
                            int *borrowed) {
    gsgdi_npy a;
    gsgd_status st = gsgdi_npy_parse(ctx, "a.npy", img, n, &a);
    if (st == GSGD_STATUS_OK) st = gsgdi_npy_features(ctx, "a.npy", &a, X, rows, d, borrowed);
    return st;
}

Test(npy, reads_every_numeric_dtype_as_the_same_floats) {
    const double want[6] = {0, 1, 2, 3, 4, 5};
    const struct {
        const char *descr;
        int size;
    } types[] = {{"<f4", 4}, {"<f8", 8}, {"|i1", 1}, {"<i2", 2}, {"<i4", 4},
                 {"<i8", 8}, {"|u1", 1}, {"<u2", 2}, {"<u4", 4}, {"<u8", 8},
                 {">f4", 4}, {">i8", 8}, {">u2", 2}, {">f8", 8}};
    for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
        unsigned char raw[48];
        const int s = types[t].size;
        const char kind = types[t].descr[1];
        const int big = types[t].descr[0] == '>';
        for (int i = 0; i < 6; i++) {
            unsigned char le[8];
            if (kind == 'f' && s == 4) {
                const float f = (float)want[i];
                memcpy(le, &f, 4);
            } else if (kind == 'f') {
                memcpy(le, &want[i], 8);
            } else {
                const uint64_t v = (uint64_t)want[i];
                memcpy(le, &v, 8); /* little-endian host: low bytes first */
            }
            for (int b = 0; b < s; b++) raw[i * s + b] = big ? le[s - 1 - b] : le[b];
        }
        size_t n;
        unsigned char *img = tu_npy(types[t].descr, 0, "(3, 2)", raw, 6 * (size_t)s, &n);
        float *X;
        size_t rows, d;
        int borrowed;
        cr_assert_eq(features(img, n, &X, &rows, &d, &borrowed), GSGD_STATUS_OK, "%s: %s",
                     types[t].descr, gsgd_last_error(ctx));
        cr_assert_eq(rows, 3);
        cr_assert_eq(d, 2);
        for (int i = 0; i < 6; i++)
            cr_assert_eq(X[i], (float)want[i], "%s [%d]: %g", types[t].descr, i, (double)X[i]);
        /* Only little-endian float32 in C order is read in place. */
        cr_assert_eq(borrowed, strcmp(types[t].descr, "<f4") == 0 && ((uintptr_t)img % 4) == 0);
        if (!borrowed) free(X);
        free(img);
    }
}

Test(npy, reads_fortran_order_as_rows) {
    /* A 2 x 3 array in column-major order: rows (1, 2, 3) and (4, 5, 6). */
    const float col_major[6] = {1, 4, 2, 5, 3, 6};
    size_t n;
    unsigned char *img = tu_npy("<f4", 1, "(2, 3)", col_major, sizeof col_major, &n);
    float *X;
    size_t rows, d;
    int borrowed;
    cr_assert_eq(features(img, n, &X, &rows, &d, &borrowed), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_not(borrowed);
    for (int i = 0; i < 6; i++) cr_assert_eq(X[i], (float)(i + 1), "X[%d] = %g", i, (double)X[i]);
    free(X);
    free(img);
}

Test(npy, flattens_images_per_row_in_both_orders) {
    /* 2 images of 2 x 2: row i, pixel (r, c) = 100 i + 10 r + c. */
    float c_order[8], f_order[8];
    for (int i = 0; i < 2; i++)
        for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++) {
                const float v = (float)(100 * i + 10 * r + c);
                c_order[i * 4 + r * 2 + c] = v;
                f_order[i + 2 * r + 4 * c] = v; /* first axis fastest */
            }
    for (int fortran = 0; fortran < 2; fortran++) {
        size_t n;
        unsigned char *img =
            tu_npy("<f4", fortran, "(2, 2, 2)", fortran ? f_order : c_order, 32, &n);
        float *X;
        size_t rows, d;
        int borrowed;
        cr_assert_eq(features(img, n, &X, &rows, &d, &borrowed), GSGD_STATUS_OK);
        cr_assert_eq(d, 4);
        cr_assert_arr_eq(X, c_order, sizeof c_order, "fortran %d", fortran);
        if (!borrowed) free(X);
        free(img);
    }
}

Test(npy, reads_numeric_and_string_targets) {
    const int64_t y[3] = {-1, 1, -1};
    size_t n;
    unsigned char *img = tu_npy("<i8", 0, "(3,)", y, sizeof y, &n);
    gsgdi_npy a;
    gsgdi_raw_targets t;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_npy_targets(ctx, "a.npy", &a, &t), GSGD_STATUS_OK);
    cr_assert_eq(t.n, 3);
    cr_assert_eq(t.num[0], -1.0);
    cr_assert_eq(t.num[1], 1.0);
    gsgdi_raw_targets_free(&t);
    free(img);
    /* numpy str: UCS-4, padded with NULs to the longest. */
    uint32_t s[6] = {'a', 'b', 'c', 0xE9, 0, 0}; /* "abc", "é" */
    img = tu_npy("<U3", 0, "(2,)", s, sizeof s, &n);
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgdi_npy_targets(ctx, "a.npy", &a, &t), GSGD_STATUS_OK);
    cr_assert_null(t.num);
    cr_assert_str_eq(t.pool + t.off[0], "abc");
    cr_assert_str_eq(t.pool + t.off[1], "\xC3\xA9");
    gsgdi_raw_targets_free(&t);
    free(img);
}

Test(npy, rejects_a_bad_magic_version_and_truncation) {
    unsigned char junk[16] = "not numpy at all";
    gsgdi_npy a;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", junk, sizeof junk, &a), GSGD_STATUS_BAD_FORMAT);
    expect_error("not a .npy file");
    const float x[4] = {1, 2, 3, 4};
    size_t n;
    unsigned char *img = tu_npy("<f4", 0, "(2, 2)", x, sizeof x, &n);
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n - 1, &a), GSGD_STATUS_BAD_FORMAT);
    expect_error("truncated: the shape needs 16 bytes of data, the file has 15");
    img[6] = 9;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_BAD_FORMAT);
    expect_error("format version 9");
    free(img);
}

Test(npy, rejects_trailing_bytes) {
    float x[5] = {1, 2, 3, 4, 5};
    size_t n;
    unsigned char *img = tu_npy("<f4", 0, "(2, 2)", x, sizeof x, &n);
    gsgdi_npy a;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_BAD_FORMAT);
    expect_error("4 bytes after the 16 the shape needs");
    free(img);
}

Test(npy, rejects_unsupported_dtypes_naming_the_supported_ones) {
    /* The long size was a signed overflow (UBSan) before it was refused. */
    const char *bad[] = {"<f2", "<c8", "|O", "<M8[ns]", "|444444444444444444444i1", "<U99999"};
    for (int k = 0; k < 6; k++) {
        size_t n;
        unsigned char *img = tu_npy(bad[k], 0, "(0, 2)", NULL, 0, &n);
        gsgdi_npy a;
        cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_BAD_FORMAT, "%s",
                     bad[k]);
        expect_error("is not supported: save float32");
        free(img);
    }
}

Test(npy, rejects_shapes_past_the_limit_before_allocating) {
    size_t n;
    unsigned char *img = tu_npy("<f4", 0, "(100000, 100000)", NULL, 0, &n);
    gsgdi_npy a;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_TOO_LARGE);
    expect_error("exceeds the limit of 2^32 values");
    free(img);
}

Test(npy, rejects_one_dimensional_features_saying_how_to_reshape) {
    const float x[3] = {1, 2, 3};
    size_t n;
    unsigned char *img = tu_npy("<f4", 0, "(3,)", x, sizeof x, &n);
    float *X;
    size_t rows, d;
    int borrowed;
    cr_assert_eq(features(img, n, &X, &rows, &d, &borrowed), GSGD_STATUS_BAD_FORMAT);
    expect_error("reshape(-1, 1)");
    free(img);
}

Test(npy, names_the_row_and_column_of_a_nan) {
    const double x[6] = {1, 2, 3, NAN, 5, 6};
    size_t n;
    unsigned char *img = tu_npy("<f8", 0, "(3, 2)", x, sizeof x, &n);
    float *X;
    size_t rows, d;
    int borrowed;
    cr_assert_eq(features(img, n, &X, &rows, &d, &borrowed), GSGD_STATUS_BAD_VALUE);
    expect_error("row 1, column 1: nan (a missing value)");
    expect_error("does not impute");
    free(img);
}

Test(npy, rejects_targets_of_more_than_one_column) {
    const float y[4] = {1, 2, 3, 4};
    size_t n;
    unsigned char *img = tu_npy("<f4", 0, "(2, 2)", y, sizeof y, &n);
    gsgdi_npy a;
    gsgdi_raw_targets t;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", img, n, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_npy_targets(ctx, "a.npy", &a, &t), GSGD_STATUS_BAD_FORMAT);
    expect_error("targets need shape (n,) or (n, 1)");
    free(img);
}

Test(npy, reads_the_file_numpy_save_wrote) {
    gsgdi_input in;
    cr_assert_eq(gsgdi_input_open(ctx, GSGD_TEST_DATA_DIR "/X_f4.npy", &in), GSGD_STATUS_OK);
    float *X;
    size_t rows, d;
    int borrowed;
    gsgdi_npy a;
    cr_assert_eq(gsgdi_npy_parse(ctx, "a.npy", in.data, in.len, &a), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgdi_npy_features(ctx, "a.npy", &a, &X, &rows, &d, &borrowed), GSGD_STATUS_OK);
    cr_assert_eq(rows, 6);
    cr_assert_eq(d, 2);
    cr_assert(borrowed, "a mapped float32 file is read in place");
    cr_assert_eq(X[2], 1.5f);
    cr_assert_eq(X[11], 8.5f);
    gsgdi_input_close(&in);
}
