/* A source's bytes: plain files mapped, gzip decompressed, first bytes
 * peeked through gzip, errors for what is not a readable file. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <zlib.h>

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

/* Text read from a stream is checked as it arrives, so a source that is
 * no text costs a chunk of memory, not the 2^36 bytes input may take:
 * /dev/zero stops at its first NUL, a line without end past 256 MiB. */
Test(input, a_stream_that_is_no_text_is_refused_at_its_first_chunk) {
    gsgdi_input in;
    cr_assert_eq(gsgdi_input_open_text(ctx, "/dev/zero", "CSV", &in), GSGD_STATUS_BAD_FORMAT);
    cr_assert(strstr(gsgd_last_error(ctx),
                     "/dev/zero: line 1, column 1: a NUL byte; the file is binary or UTF-16, not "
                     "CSV text"),
              "%s", gsgd_last_error(ctx));
    cr_assert_null(in.data);
    /* The same bytes, compressed: the NUL named where it is. */
    const char text[] = "a,b\n1,2\n3,\0\n";
    cr_assert_eq(tu_write_gzip(tu_path("nul.csv.gz"), text, sizeof text - 1), 0);
    cr_assert_eq(gsgdi_input_open_text(ctx, tu_path("nul.csv.gz"), "CSV", &in),
                 GSGD_STATUS_BAD_FORMAT);
    cr_assert(strstr(gsgd_last_error(ctx), "nul.csv.gz: line 3, column 3: a NUL byte"), "%s",
              gsgd_last_error(ctx));
    /* Read as binary (npy, npz, IDX), the same file is just bytes. */
    cr_assert_eq(gsgdi_input_open(ctx, tu_path("nul.csv.gz"), &in), GSGD_STATUS_OK);
    cr_assert_eq(in.len, sizeof text - 1);
    gsgdi_input_close(&in);
}

Test(input, a_line_past_64_mib_read_from_a_stream_is_refused) {
    /* 65 MiB of "1," without a line break, gzip-compressed (about 0.1 MiB). */
    const char *path = tu_path("endless.csv.gz");
    gzFile gz = gzopen(path, "wb1");
    cr_assert_not_null(gz);
    static char chunk[1 << 20];
    for (size_t i = 0; i < sizeof chunk; i += 2) memcpy(chunk + i, "1,", 2);
    for (int k = 0; k < 65; k++) cr_assert_eq(gzwrite(gz, chunk, sizeof chunk), (int)sizeof chunk);
    cr_assert_eq(gzclose(gz), Z_OK);
    gsgdi_input in;
    cr_assert_eq(gsgdi_input_open_text(ctx, path, "CSV", &in), GSGD_STATUS_TOO_LARGE);
    cr_assert(strstr(gsgd_last_error(ctx), "endless.csv.gz: a line longer than 64 MiB"), "%s",
              gsgd_last_error(ctx));
    /* The bound is per line: 65 MiB of lines of 1 MiB read. */
    gz = gzopen(path, "wb1");
    chunk[sizeof chunk - 1] = '\n';
    for (int k = 0; k < 65; k++) cr_assert_eq(gzwrite(gz, chunk, sizeof chunk), (int)sizeof chunk);
    cr_assert_eq(gzclose(gz), Z_OK);
    cr_assert_eq(gsgdi_input_open_text(ctx, path, "CSV", &in), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(in.len, (size_t)65 << 20);
    gsgdi_input_close(&in);
    remove(path);
}
