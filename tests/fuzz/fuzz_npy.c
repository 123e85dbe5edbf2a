/*
 * NumPy .npy arrays (src/data/npy.c, through the memory entry point
 * gsgdi_npy_parse). Input: one mode byte, then the file. Bit 0: read the
 * array as features, bit 1: as targets (both may be set), bit 2: the
 * targets are real values, bit 3: the file one byte off 4-byte alignment
 * (float32 is read in place only when aligned). A parsed array must lie
 * within the file and hold as many elements as its shape says; features
 * read in place point into it; what reads is checked against what the
 * readers promise (fuzz_check_host_data).
 */
#include "fuzz_common.h"
#include "data/loaders.h"

/* Features: the array as rows, no targets. */
static void as_features(gsgd_context *ctx, const gsgdi_npy *a) {
    gsgdi_host_data h;
    memset(&h, 0, sizeof h);
    int borrowed = -1;
    gsgd_status st = gsgdi_npy_features(ctx, "fuzz.npy", a, &h.X, &h.n, &h.d, &borrowed);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!h.X && !borrowed);
        return;
    }
    FUZZ_CHECK((uint64_t)h.n * h.d == a->count && a->ndim >= 2);
    if (borrowed)
        FUZZ_CHECK((const unsigned char *)h.X == a->elems && a->kind == 'f' && a->esize == 4);
    h.x_borrowed = borrowed;
    gsgdi_raw_targets none;
    memset(&none, 0, sizeof none);
    fuzz_check_host_data(ctx, &h, &none, 0);
}

/* Targets: the array's values, for rows of one zero feature. */
static void as_targets(gsgd_context *ctx, const gsgdi_npy *a, int real) {
    gsgdi_raw_targets t;
    gsgd_status st = gsgdi_npy_targets(ctx, "fuzz.npy", a, &t);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(t.n == 0 && !t.num && !t.pool);
        return;
    }
    FUZZ_CHECK(t.n == a->count && a->ndim >= 1 && a->ndim <= 2);
    if (t.n == 0 || t.n > 4096) { /* no rows; or more than a small input holds */
        gsgdi_raw_targets_free(&t);
        return;
    }
    gsgdi_host_data h;
    memset(&h, 0, sizeof h);
    h.n = t.n;
    h.d = 1;
    h.X = calloc(t.n, sizeof(float));
    FUZZ_CHECK(h.X != NULL);
    fuzz_check_host_data(ctx, &h, &t, real);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const unsigned mode = data[0];
    gsgd_context *ctx = fuzz_context();
    const size_t len = size - 1, shift = (mode >> 3) & 1;
    unsigned char *buf = malloc(len + shift + 1);
    FUZZ_CHECK(buf != NULL);
    unsigned char *file = buf + shift; /* malloc aligns buf to 16 */
    memcpy(file, data + 1, len);
    gsgdi_npy a;
    gsgd_status st = gsgdi_npy_parse(ctx, "fuzz.npy", file, len, &a);
    fuzz_check_failure(ctx, st);
    if (st == GSGD_STATUS_OK) {
        uint64_t count = 1;
        for (int k = 0; k < a.ndim; k++) count *= a.shape[k];
        FUZZ_CHECK(a.ndim >= 0 && a.ndim <= 8 && count == a.count && a.esize >= 1);
        FUZZ_CHECK(a.elems >= file && a.elems + a.count * (uint64_t)a.esize == file + len);
        if (mode & 1) as_features(ctx, &a);
        if (mode & 2) as_targets(ctx, &a, (mode >> 2) & 1);
    }
    free(buf);
    fuzz_check_no_leak(ctx);
    return 0;
}
