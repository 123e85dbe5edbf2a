/*
 * Delimited text (src/data/csv.c and csv_sniff.c, through the memory entry
 * point gsgdi_csv_parse, as load.c calls it). Input: two option bytes, then
 * the file. Byte 0: bits 0-1 the header (detect, none, the first row),
 * bits 2-4 the delimiter (detect, ',', tab, ';', blanks, '|', ':'), bit 5
 * regression targets, bit 6 the decimal comma. Byte 1: bits 0-2 the
 * target column (the default, none, 0, -1, 1, -2, "y", "label" by name),
 * bit 3 a reference target name ("y", as a model's), bit 4 reference
 * feature names ("a", "b"), bit 5 columns left out ("a,-1"). Data that reads is checked
 * against what the readers promise (fuzz_check_host_data) and uploaded.
 */
#include "fuzz_common.h"
#include "data/loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 2) return 0;
    static const int headers[4] = {-1, 0, 1, -1};
    static const int delims[8] = {0, ',', '\t', ';', ' ', '|', ':', 0};
    static const char *const labels[8] = {NULL, "none", "0", "-1", "1", "-2", "y", "label"};
    gsgd_context *ctx = fuzz_context();
    static gsgdi_names *names;
    if (!names)
        FUZZ_CHECK(gsgdi_names_make(ctx, (const char *const[]){"a", "b"}, 2, &names) ==
                   GSGD_STATUS_OK);
    const gsgdi_read_opts o = {.header = headers[data[0] & 3],
                               .delimiter = delims[(data[0] >> 2) & 7],
                               .label = labels[data[1] & 7],
                               .ignore = (data[1] >> 5) & 1 ? "a,-1" : NULL,
                               .ref_target = (data[1] >> 3) & 1 ? "y" : NULL,
                               .ref_names = (data[1] >> 4) & 1 ? names : NULL,
                               .ref_what = "the model",
                               .decimal = (data[0] >> 6) & 1 ? ',' : '.',
                               .zero_based = -1};
    const int real = (data[0] >> 5) & 1;
    /* A copy of its own size: ASan sees a read past the end of the text. */
    const size_t len = size - 2;
    char *text = malloc(len ? len : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data + 2, len);
    gsgdi_host_data h;
    memset(&h, 0, sizeof h);
    gsgdi_raw_targets t;
    gsgd_status st = gsgdi_csv_parse(ctx, "fuzz.csv", text, len, &o, &h, &t);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!h.X && !h.y && h.n == 0 && t.n == 0 && !t.pool && !t.num);
    } else {
        FUZZ_CHECK(t.n == 0 || t.n == h.n);
        fuzz_check_host_data(ctx, &h, &t, real);
    }
    free(text);
    fuzz_check_no_leak(ctx);
    return 0;
}
