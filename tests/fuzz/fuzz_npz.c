/*
 * NumPy .npz archives (src/data/npz.c, the zip reader, through its memory
 * entry point gsgdi_zip_member, then npy.c as load.c reads them). Input:
 * one mode byte, then the archive. Bit 0: the targets are real values.
 * As load.c does: the member X.npy (or x.npy) as features, y.npy (or
 * Y.npy) as targets when present. A member found lies within the archive
 * (stored) or in a buffer of its size (deflated, CRC checked); the member
 * list is a bounded string; what reads is checked against what the
 * readers promise (fuzz_check_host_data).
 */
#include "fuzz_common.h"
#include "data/loaders.h"

/* The member called name or alt; *owned to free. Returns 1 when found. */
static int member(gsgd_context *ctx, const unsigned char *zip, size_t len, const char *name,
                  const char *alt, const unsigned char **m, size_t *msize, unsigned char **owned,
                  gsgd_status *st) {
    const char *names[2] = {name, alt};
    for (int k = 0; k < 2; k++) {
        *st = gsgdi_zip_member(ctx, "fuzz.npz", zip, len, names[k], m, msize, owned);
        fuzz_check_failure(ctx, *st);
        if (*st != GSGD_STATUS_OK) {
            FUZZ_CHECK(!*m && !*owned && *msize == 0);
            return 0;
        }
        if (!*m) {
            FUZZ_CHECK(!*owned);
            continue;
        }
        if (*owned)
            FUZZ_CHECK(*m == *owned);
        else
            FUZZ_CHECK(*m >= zip && *msize <= len && *m - zip <= (ptrdiff_t)(len - *msize));
        return 1;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const int real = data[0] & 1;
    gsgd_context *ctx = fuzz_context();
    const size_t len = size - 1;
    unsigned char *zip = malloc(len ? len : 1);
    FUZZ_CHECK(zip != NULL);
    memcpy(zip, data + 1, len);
    char list[200];
    gsgdi_zip_list(zip, len, list, sizeof list);
    FUZZ_CHECK(memchr(list, '\0', sizeof list) != NULL);

    const unsigned char *xm = NULL, *ym = NULL;
    size_t xs = 0, ys = 0;
    unsigned char *xo = NULL, *yo = NULL;
    gsgd_status st;
    gsgdi_host_data h;
    memset(&h, 0, sizeof h);
    gsgdi_raw_targets t;
    memset(&t, 0, sizeof t);
    gsgdi_npy a;
    int borrowed = 0, ok = 0;
    if (member(ctx, zip, len, "X.npy", "x.npy", &xm, &xs, &xo, &st)) {
        st = gsgdi_npy_parse(ctx, "fuzz.npz:X.npy", xm, xs, &a);
        fuzz_check_failure(ctx, st);
        if (st == GSGD_STATUS_OK) {
            st = gsgdi_npy_features(ctx, "fuzz.npz:X.npy", &a, &h.X, &h.n, &h.d, &borrowed);
            fuzz_check_failure(ctx, st);
            h.x_borrowed = borrowed;
            ok = st == GSGD_STATUS_OK;
        }
    }
    if (ok && member(ctx, zip, len, "y.npy", "Y.npy", &ym, &ys, &yo, &st)) {
        st = gsgdi_npy_parse(ctx, "fuzz.npz:y.npy", ym, ys, &a);
        fuzz_check_failure(ctx, st);
        if (st == GSGD_STATUS_OK) {
            st = gsgdi_npy_targets(ctx, "fuzz.npz:y.npy", &a, &t);
            fuzz_check_failure(ctx, st);
        }
        ok = st == GSGD_STATUS_OK;
    }
    if (ok) {
        fuzz_check_host_data(ctx, &h, &t, real); /* frees h and t */
    } else {
        gsgdi_raw_targets_free(&t);
        gsgdi_host_data_free(&h);
    }
    free(xo);
    free(yo);
    free(zip);
    fuzz_check_no_leak(ctx);
    return 0;
}
