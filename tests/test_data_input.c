/* A source's bytes: plain files mapped, gzip decompressed, first bytes
 * peeked through gzip, errors for what is not a readable file. */
#include <criterion/criterion.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(input, .init = setup, .fini = teardown);

Test(input, maps_a_plain_file_and_inflates_a_gzip_one) {
    const char *text = "1,2,3\n4,5,6\n";
    cr_assert_eq(tu_write_text(tu_path("p.csv"), text), 0);
    cr_assert_eq(tu_write_gzip(tu_path("g.csv.gz"), text, strlen(text)), 0);
    gsgdi_input a, b;
    cr_assert_eq(gsgdi_input_open(ctx, tu_path("p.csv"), &a), 0);
    cr_assert_eq(gsgdi_input_open(ctx, tu_path("g.csv.gz"), &b), 0);
    cr_assert_not_null(a.map, "a plain file is mapped, not copied");
    cr_assert_not(a.gz);
    cr_assert(b.gz);
    cr_assert_eq(a.len, strlen(text));
    cr_assert_eq(b.len, strlen(text));
    cr_assert(memcmp(a.data, text, a.len) == 0);
    cr_assert(memcmp(b.data, text, b.len) == 0);
    gsgdi_input_close(&a);
    gsgdi_input_close(&b);
}

Test(input, peeks_the_first_bytes_through_gzip) {
    const unsigned char npy[8] = "\x93NUMPY\x01";
    cr_assert_eq(tu_write_gzip(tu_path("x.npy.gz"), npy, 8), 0);
    unsigned char head[16];
    size_t got;
    int gz;
    cr_assert_eq(gsgdi_input_peek(ctx, tu_path("x.npy.gz"), head, sizeof head, &got, &gz), 0);
    cr_assert_eq(got, 8);
    cr_assert(gz);
    cr_assert(memcmp(head, npy, 8) == 0);
}

Test(input, an_empty_file_is_empty_input) {
    cr_assert_eq(tu_write_text(tu_path("e.csv"), ""), 0);
    gsgdi_input in;
    cr_assert_eq(gsgdi_input_open(ctx, tu_path("e.csv"), &in), 0);
    cr_assert_eq(in.len, 0);
    gsgdi_input_close(&in);
}

Test(input, names_missing_files_directories_and_corrupt_gzip) {
    gsgdi_input in;
    cr_assert_eq(gsgdi_input_open(ctx, tu_path("none.csv"), &in), GSGD_STATUS_IO);
    cr_assert(strstr(gsgd_last_error(ctx), "none.csv: cannot open: No such file"));
    cr_assert_eq(gsgdi_input_open(ctx, tu_tmpdir(), &in), GSGD_STATUS_IO);
    cr_assert(strstr(gsgd_last_error(ctx), "is a directory"));
    const unsigned char bad[12] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3, 0xFF, 0xFF};
    cr_assert_eq(tu_write_file(tu_path("bad.gz"), bad, sizeof bad), 0);
    cr_assert_eq(gsgdi_input_open(ctx, tu_path("bad.gz"), &in), GSGD_STATUS_BAD_FORMAT);
    cr_assert(strstr(gsgd_last_error(ctx), "bad.gz: corrupt gzip data"), "%s",
              gsgd_last_error(ctx));
}
