/*
 * The sparse readers under malformed input: seeded random mutations
 * (flipped, deleted, inserted and duplicated bytes, truncations) of a
 * valid svmlight file (plain and gzip) and of a scipy save_npz file. Each
 * must load or fail with a data status (IO, BAD_FORMAT, BAD_VALUE,
 * TOO_LARGE, UNSUPPORTED for a multi-label target) and a message, never crash, hang or leak (the
 * suite runs under ASan and UBSan in CI), and a loaded dataset must be whole: every index below its
 * width, every value finite.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/rng.h"
#include "data/dataset.h"
#include "data/loaders.h"
#include "testutil.h"

static void mutate(gsgdi_rng *r, unsigned char *b, size_t *len, size_t cap) {
    const int edits = 1 + (int)(gsgdi_rng_next(r) % 4);
    for (int e = 0; e<edits && * len> 0; e++) {
        const size_t at = (size_t)(gsgdi_rng_next(r) % *len);
        switch (gsgdi_rng_next(r) % 5) {
        case 0: { /* a random byte, often a syntax character */
            const unsigned char syntax = (unsigned char)": \n#-.e0q9"[gsgdi_rng_next(r) % 10];
            b[at] = gsgdi_rng_next(r) % 3 ? syntax : (unsigned char)(gsgdi_rng_next(r) % 256);
            break;
        }
        case 1: /* delete */
            memmove(b + at, b + at + 1, *len - at - 1);
            (*len)--;
            break;
        case 2: /* insert */
            if (*len < cap) {
                memmove(b + at + 1, b + at, *len - at);
                b[at] = (unsigned char)(gsgdi_rng_next(r) % 256);
                (*len)++;
            }
            break;
        case 3: /* truncate */
            *len = at;
            break;
        default: /* duplicate a run */
        {
            const size_t n = 1 + (size_t)(gsgdi_rng_next(r) % 16);
            if (*len + n <= cap && at + n <= *len) {
                memmove(b + at + n, b + at, *len - at);
                (*len) += n;
            }
        }
        }
    }
}

static void expect_whole_or_data_error(gsgd_context *ctx, gsgd_status st, gsgd_dataset *ds,
                                       const char *what, int round) {
    if (st != GSGD_STATUS_OK) {
        cr_expect(st == GSGD_STATUS_IO || st == GSGD_STATUS_BAD_FORMAT ||
                      st == GSGD_STATUS_BAD_VALUE || st == GSGD_STATUS_TOO_LARGE ||
                      st == GSGD_STATUS_UNSUPPORTED /* a multi-label target */,
                  "%s round %d: status %s (%s)", what, round, gsgd_status_name(st),
                  gsgd_last_error(ctx));
        cr_expect(strlen(gsgd_last_error(ctx)) > 0);
        cr_expect_null(ds);
        return;
    }
    if (!ds->sparse) { /* stored dense by the density rule: every value finite */
        float *X = malloc(ds->n * ds->d * sizeof *X);
        cr_assert_not_null(X);
        cr_assert_eq(gsgdi_dataset_read_rows(ds, 0, ds->n, X), GSGD_STATUS_OK);
        for (size_t k = 0; k < ds->n * ds->d; k++) cr_expect(isfinite(X[k]));
        free(X);
        gsgd_dataset_free(ds);
        return;
    }
    gsgdi_host_data h;
    cr_assert_eq(gsgdi_dataset_csr_download(ds, &h), GSGD_STATUS_OK);
    for (size_t k = 0; k < h.nnz; k++) {
        cr_expect((size_t)h.indices[k] < h.d, "%s round %d: index %d of %zu", what, round,
                  h.indices[k], h.d);
        cr_expect(isfinite(h.values[k]));
    }
    gsgdi_host_data_free(&h);
    gsgd_dataset_free(ds);
}

Test(sparse_fuzz, svmlight_mutations_load_whole_or_fail_cleanly) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    const char *valid = "1 qid:2 1:0.5 7:1e-3 12:-2.25 # a comment\n"
                        "0 3:1 4:2.5e1\n"
                        "# only a comment\n"
                        "2 1:1 2:2 3:3 99:0.125\n"
                        "1 5:0.0625\r\n";
    static unsigned char buf[4096];
    gsgdi_rng r = {2024};
    for (int round = 0; round < 400; round++) {
        size_t len = strlen(valid);
        memcpy(buf, valid, len);
        mutate(&r, buf, &len, sizeof buf);
        const int gz = round % 4 == 0;
        const char *p = tu_path(gz ? "f.svm.gz" : "f.svm");
        cr_assert_eq(gz ? tu_write_gzip(p, buf, len) : tu_write_file(p, buf, len), 0);
        /* every other round as CSR whatever the density */
        char spec[1024];
        snprintf(spec, sizeof spec, round % 2 ? "%s" : "svmlight:%s:storage=csr", p);
        gsgd_dataset *ds = NULL;
        const gsgd_status st = gsgd_dataset_load(ctx, spec, &ds, NULL);
        expect_whole_or_data_error(ctx, st, ds, "svmlight", round);
    }
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u);
    gsgd_context_free(ctx);
}

Test(sparse_fuzz, npz_mutations_load_whole_or_fail_cleanly) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    size_t n0;
    unsigned char *orig = tu_read_file(GSGD_TEST_DATA_DIR "/csr_2x3.npz", &n0);
    static unsigned char buf[8192];
    cr_assert_leq(n0 + 64, sizeof buf);
    const char *labels = tu_path("labels.txt");
    cr_assert_eq(tu_write_text(labels, "1\n0\n"), 0);
    gsgdi_rng r = {77};
    for (int round = 0; round < 300; round++) {
        size_t len = n0;
        memcpy(buf, orig, len);
        mutate(&r, buf, &len, sizeof buf);
        const char *p = tu_path("m.npz");
        cr_assert_eq(tu_write_file(p, buf, len), 0);
        char spec[1024];
        snprintf(spec, sizeof spec, "npz:%s,%s", p, labels);
        gsgd_dataset *ds = NULL;
        const gsgd_status st = gsgd_dataset_load(ctx, spec, &ds, NULL);
        expect_whole_or_data_error(ctx, st, ds, "npz", round);
    }
    free(orig);
    gsgd_context_free(ctx);
}
