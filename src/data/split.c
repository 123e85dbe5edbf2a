/* Seeded train/test splits: plain (gsgd_dataset_split, also the trainer's
 * validation split) and stratified by class (gsgd_dataset_split_stratified,
 * the loader's TEST_FRACTION), of datasets and of host data before upload. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/rng.h"
#include "data/loaders.h"

/* Unbiased integer in [0, bound) by rejection: a plain modulo would favour
 * small values by up to bound/2^64, which is tiny but free to avoid. */
static uint64_t rng_below(gsgdi_rng *r, uint64_t bound) {
    uint64_t threshold = (0 - bound) % bound; /* 2^64 mod bound */
    for (;;) {
        uint64_t x = gsgdi_rng_next(r);
        if (x >= threshold) return x % bound;
    }
}

/* The test size and the checks every split makes. */
static gsgd_status test_size(gsgd_context *ctx, const char *who, size_t n, double test_fraction,
                             size_t *n_test) {
    GSGD_RETURN_ERROR_IF(!(test_fraction > 0 && test_fraction < 1), ctx,
                         GSGD_STATUS_INVALID_ARGUMENT, "%s: test_fraction %g is not in (0, 1)", who,
                         test_fraction);
    *n_test = (size_t)floor((double)n * test_fraction + 0.5);
    GSGD_RETURN_ERROR_IF(*n_test == 0 || *n_test >= n, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s: test_fraction %g of %zu samples leaves %zu test and %zu "
                         "training samples; both parts must be non-empty",
                         who, test_fraction, n, *n_test, n - *n_test);
    return GSGD_STATUS_OK;
}

/* Fisher-Yates driven by the seed alone, so a split is reproducible on any
 * backend and any machine. */
static void shuffle(size_t *perm, size_t n, uint64_t seed) {
    gsgdi_rng rng = {gsgdi_mix64(seed ^ 0x73706c6974ull /* "split" */)};
    for (size_t i = 0; i < n; i++) perm[i] = i;
    for (size_t i = n - 1; i > 0; i--) {
        size_t j = (size_t)rng_below(&rng, (uint64_t)i + 1);
        size_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
}

/* Reorders the shuffled perm so that its first n - n_test rows are the
 * training part and the rest the test part, each class contributing to the
 * test part in proportion to its size: floor(c_k n_test / n) rows, and one
 * more for the classes with the largest remainders until n_test is reached
 * (ties to the larger class, then the lower index), as scikit-learn's
 * stratified split allocates. Rows keep their shuffled order within each
 * part, so each class's test rows are a uniform random draw. */
static gsgd_status stratify(gsgd_context *ctx, const float *y, size_t n, int n_classes,
                            size_t n_test, size_t *perm) {
    size_t *count = calloc((size_t)n_classes, sizeof *count);
    size_t *take = calloc((size_t)n_classes, sizeof *take);
    double *rem = calloc((size_t)n_classes, sizeof *rem);
    size_t *out = malloc(n * sizeof *out);
    gsgd_status st = GSGD_STATUS_OK;
    if (!count || !take || !rem || !out) {
        st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "split: out of memory");
        goto done;
    }
    for (size_t i = 0; i < n; i++) count[(size_t)y[i]]++;
    size_t given = 0;
    for (int k = 0; k < n_classes; k++) {
        const double exact = (double)count[k] * (double)n_test / (double)n;
        take[k] = (size_t)floor(exact);
        rem[k] = exact - floor(exact);
        given += take[k];
    }
    while (given < n_test) {
        int best = -1;
        for (int k = 0; k < n_classes; k++) {
            if (take[k] >= count[k]) continue;
            if (best < 0 || rem[k] > rem[best] || (rem[k] == rem[best] && count[k] > count[best]))
                best = k;
        }
        take[best]++;
        rem[best] = -1.0; /* one extra row per class */
        given++;
    }
    size_t tr = 0, te = n - n_test;
    for (size_t i = 0; i < n; i++) {
        const size_t k = (size_t)y[perm[i]];
        if (take[k]) {
            take[k]--;
            out[te++] = perm[i];
        } else {
            out[tr++] = perm[i];
        }
    }
    memcpy(perm, out, n * sizeof *out);
done:
    free(count);
    free(take);
    free(rem);
    free(out);
    return st;
}

/* Copies the rows perm[0..count) of X/y (rows of row_bytes bytes, any
 * storage type) into fresh host arrays. */
static void gather_rows(const uint8_t *X, const float *y, size_t row_bytes, const size_t *perm,
                        size_t count, uint8_t *Xo, float *yo) {
    for (size_t i = 0; i < count; i++) {
        memcpy(Xo + i * row_bytes, X + perm[i] * row_bytes, row_bytes);
        yo[i] = y[perm[i]];
    }
}

/* The meta of a part: the whole's, and which part it is. */
static gsgd_status part_meta(gsgd_context *ctx, const gsgdi_data_meta *whole, const char *name,
                             double share, gsgdi_data_meta *out) {
    GSGD_FORWARD_IF_ERROR(gsgdi_meta_copy(ctx, out, whole));
    snprintf(out->part, sizeof out->part, "%s part, %.4g%%", name, 100.0 * share);
    return GSGD_STATUS_OK;
}

/* The parts' metadata once both parts are made (st OK); on any failure
 * (st, or the metadata's) neither part is kept. Returns the status. */
static gsgd_status finish_parts(const gsgd_dataset *ds, double test_fraction, gsgd_status st,
                                gsgd_dataset **train, gsgd_dataset **test) {
    if (st == GSGD_STATUS_OK)
        st = part_meta(ds->ctx, &ds->meta, "train", 1.0 - test_fraction, &(*train)->meta);
    if (st == GSGD_STATUS_OK)
        st = part_meta(ds->ctx, &ds->meta, "test", test_fraction, &(*test)->meta);
    if (st != GSGD_STATUS_OK) {
        gsgd_dataset_free(*train);
        gsgd_dataset_free(*test);
        *train = *test = NULL;
    }
    return st;
}

/* The sparse case: the same permutation (the targets read back for the
 * stratification), the rows copied through the host (csr_rows.c). */
static gsgd_status split_sparse(const gsgd_dataset *ds, size_t n_test, double test_fraction,
                                uint64_t seed, int stratified, gsgd_dataset **train,
                                gsgd_dataset **test) {
    gsgd_context *ctx = ds->ctx;
    const size_t n = ds->n;
    size_t *perm = NULL;
    float *y = NULL;
    void *pv = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * sizeof(size_t), &pv), done);
    perm = pv;
    shuffle(perm, n, seed);
    if (stratified && ds->n_classes > 0) {
        GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * sizeof(float), &pv), done);
        y = pv;
        GSGD_CHECK_GOTO(st, ctx->be->download(ctx, y, ds->y, n * sizeof(float)), done);
        GSGD_CHECK_GOTO(st, stratify(ctx, y, n, ds->n_classes, n_test, perm), done);
    }
    st = gsgdi_csr_split(ds, perm, n - n_test, train, test);
done:
    st = finish_parts(ds, test_fraction, st, train, test);
    free(perm);
    free(y);
    return st;
}

static gsgd_status split_dataset(const gsgd_dataset *ds, double test_fraction, uint64_t seed,
                                 int stratified, gsgd_dataset **train, gsgd_dataset **test) {
    gsgd_context *ctx = ds->ctx;
    *train = *test = NULL;
    const size_t n = ds->n, d = ds->d;
    size_t n_test = 0;
    GSGD_FORWARD_IF_ERROR(test_size(ctx, "dataset_split", n, test_fraction, &n_test));
    if (ds->sparse) return split_sparse(ds, n_test, test_fraction, seed, stratified, train, test);
    const size_t n_train = n - n_test, row_bytes = d * gsgdi_xtype_size(ds->xt);

    /* Host copies: the whole dataset, the permutation, and the two parts,
     * in the dataset's own storage type (a byte dataset splits into byte
     * datasets). */
    uint8_t *X = NULL, *Xtr = NULL, *Xte = NULL;
    float *y = NULL, *ytr = NULL, *yte = NULL;
    size_t *perm = NULL;
    gsgd_status st;
    void *pv = NULL;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * row_bytes, &pv), done);
    X = pv;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * sizeof(float), &pv), done);
    y = pv;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * sizeof(size_t), &pv), done);
    perm = pv;
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, X, ds->X, n * row_bytes), done);
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, y, ds->y, n * sizeof(float)), done);
    shuffle(perm, n, seed);
    if (stratified && ds->n_classes > 0)
        GSGD_CHECK_GOTO(st, stratify(ctx, y, n, ds->n_classes, n_test, perm), done);

    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n_train * row_bytes, &pv), done);
    Xtr = pv;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n_train * sizeof(float), &pv), done);
    ytr = pv;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n_test * row_bytes, &pv), done);
    Xte = pv;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n_test * sizeof(float), &pv), done);
    yte = pv;
    gather_rows(X, y, row_bytes, perm, n_train, Xtr, ytr);
    gather_rows(X, y, row_bytes, perm + n_train, n_test, Xte, yte);
    GSGD_CHECK_GOTO(
        st, gsgdi_dataset_upload(ctx, Xtr, ds->xt, ytr, n_train, d, ds->n_classes, train), done);
    st = gsgdi_dataset_upload(ctx, Xte, ds->xt, yte, n_test, d, ds->n_classes, test);
done:
    st = finish_parts(ds, test_fraction, st, train, test);
    free(X);
    free(y);
    free(perm);
    free(Xtr);
    free(ytr);
    free(Xte);
    free(yte);
    return st;
}

gsgd_status gsgd_dataset_split(const gsgd_dataset *ds, double test_fraction, uint64_t seed,
                               gsgd_dataset **train, gsgd_dataset **test) {
    if (!ds || !train || !test) return GSGD_STATUS_INVALID_ARGUMENT;
    return split_dataset(ds, test_fraction, seed, 0, train, test);
}

gsgd_status gsgd_dataset_split_stratified(const gsgd_dataset *ds, double test_fraction,
                                          uint64_t seed, gsgd_dataset **train,
                                          gsgd_dataset **test) {
    if (!ds || !train || !test) return GSGD_STATUS_INVALID_ARGUMENT;
    return split_dataset(ds, test_fraction, seed, 1, train, test);
}

/* One part of host data: the rows idx[0, count) of h. */
static gsgd_status host_part(gsgd_context *ctx, const gsgdi_host_data *h, const size_t *idx,
                             size_t count, const char *name, double share, gsgdi_host_data *out) {
    memset(out, 0, sizeof *out);
    const size_t esize = h->X8 ? 1 : sizeof(float), row_bytes = h->d * esize;
    void *pX = NULL, *py = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, count * row_bytes, &pX), fail);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, count * sizeof(float), &py), fail);
    gather_rows(h->X8 ? h->X8 : (const uint8_t *)h->X, h->y, row_bytes, idx, count, pX, py);
    if (h->X8)
        out->X8 = pX;
    else
        out->X = pX;
    out->y = py;
    out->n = count;
    out->d = h->d;
    out->n_classes = h->n_classes;
    out->bytes_by_default = h->bytes_by_default;
    return part_meta(ctx, &h->meta, name, share, &out->meta);
fail:
    free(pX);
    free(py);
    return st;
}

gsgd_status gsgdi_host_split(gsgd_context *ctx, const gsgdi_host_data *h, double test_fraction,
                             uint64_t seed, gsgdi_host_data *train, gsgdi_host_data *test) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    size_t n_test = 0;
    GSGD_FORWARD_IF_ERROR(test_size(ctx, h->meta.source, h->n, test_fraction, &n_test));
    void *pv = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, h->n * sizeof(size_t), &pv));
    size_t *perm = pv;
    shuffle(perm, h->n, seed);
    gsgd_status st = GSGD_STATUS_OK;
    if (h->n_classes > 0) st = stratify(ctx, h->y, h->n, h->n_classes, n_test, perm);
    const size_t n_train = h->n - n_test;
    if (st == GSGD_STATUS_OK)
        st = host_part(ctx, h, perm, n_train, "train", 1.0 - test_fraction, train);
    if (st == GSGD_STATUS_OK)
        st = host_part(ctx, h, perm + n_train, n_test, "test", test_fraction, test);
    free(perm);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(train);
        gsgdi_host_data_free(test);
    }
    return st;
}
