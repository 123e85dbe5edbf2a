/*
 * CSV reader (src/data/csv.c). Input: one byte of options (bit 0 label
 * last, bit 1 header, bit 2 regression targets), then the file. A file
 * that reads is checked against what the reader promises and uploaded as
 * a dataset.
 */
#include <math.h>

#include "fuzz_common.h"
#include "data/loaders.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    gsgd_context *ctx = fuzz_context();
    const int label_last = data[0] & 1, header = (data[0] >> 1) & 1,
              regression = (data[0] >> 2) & 1;
    const char *path = fuzz_write("data.csv", 0, data + 1, size - 1);
    gsgdi_host_data h;
    gsgd_status st = gsgdi_load_csv(ctx, path, label_last, header, regression, &h);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!h.X && !h.y && h.n == 0); /* failures leave *out empty */
        return 0;
    }
    FUZZ_CHECK(h.n >= 1 && h.d >= 1 && h.X && h.y && !h.X8);
    FUZZ_CHECK(regression ? h.n_classes == 0 : h.n_classes >= 2);
    for (size_t i = 0; i < h.n * h.d; i++) FUZZ_CHECK(isfinite(h.X[i]));
    for (size_t i = 0; i < h.n; i++) {
        FUZZ_CHECK(isfinite(h.y[i]));
        if (!regression)
            FUZZ_CHECK(h.y[i] >= 0 && h.y[i] < (float)h.n_classes && h.y[i] == floorf(h.y[i]));
    }
    gsgd_dataset *ds = NULL;
    st = gsgdi_dataset_from_host_data(ctx, &h, &ds);
    fuzz_check_failure(ctx, st);
    gsgd_dataset_free(ds);
    gsgdi_host_data_free(&h);
    fuzz_check_no_leak(ctx);
    return 0;
}
