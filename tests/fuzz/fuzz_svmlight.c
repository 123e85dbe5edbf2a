/*
 * svmlight / LIBSVM text (src/data/svmlight.c, through the memory entry
 * point gsgdi_svmlight_parse). Input: one option byte, then the file.
 * Bits 0-1: the indices (detect, 1-based, 0-based); bit 2: regression
 * targets; bits 3-7: the feature count of a model the rows must fit (0:
 * none). Data that reads is checked against what the readers promise
 * (fuzz_check_host_data).
 */
#include "fuzz_common.h"
#include "data/loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    static const int based[4] = {-1, 0, 1, -1};
    /* Storage by density, the loaders' default (csr -1): forced dense
     * storage of a few far indices may take up to gsgdi_host_densify's
     * bound (2^26 values, 256 MiB) by design, which under ASan is seconds
     * an input, not a finding (its bound is tested in test_data_svmlight). */
    const gsgdi_read_opts o = {.header = -1,
                               .zero_based = based[data[0] & 3],
                               .n_features = (size_t)(data[0] >> 3),
                               .csr = -1};
    const int real = (data[0] >> 2) & 1;
    gsgd_context *ctx = fuzz_context();
    const size_t len = size - 1;
    char *text = malloc(len ? len : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data + 1, len);
    gsgdi_host_data h;
    memset(&h, 0, sizeof h);
    gsgdi_raw_targets t;
    gsgd_status st = gsgdi_svmlight_parse(ctx, "fuzz.svm", text, len, &o, &h, &t);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!h.X && !h.indptr && !h.y && h.n == 0 && t.n == 0 && !t.num && !t.pool);
    } else {
        /* Targets as numbers, or as texts once one label is not a number. */
        FUZZ_CHECK(t.n == h.n && (t.num != NULL) != (t.pool != NULL) &&
                   (!o.n_features || h.d == o.n_features));
        fuzz_check_host_data(ctx, &h, &t, real);
    }
    free(text);
    fuzz_check_no_leak(ctx);
    return 0;
}
