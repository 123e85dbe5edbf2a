/* scipy.sparse.save_npz's CSR matrices: an .npz (npz.c's zip reader,
 * npy.c's arrays) of format ("csr"), shape (rows, columns), indptr,
 * indices and data, as scipy writes them (numpy.savez or
 * savez_compressed). Every array is checked against the others before the
 * rows are copied: the pointers from 0 to the count of values, never
 * decreasing; the indices inside the shape; the values finite. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"
#include "data/loaders.h"

/* One member, parsed: its array and the inflated bytes it lies in. */
typedef struct {
    gsgdi_npy a;
    unsigned char *owned;
    char what[320];
} member;

static gsgd_status get(gsgd_context *ctx, const char *what, const void *zip, size_t len,
                       const char *name, member *m) {
    const unsigned char *data = NULL;
    size_t size = 0;
    char file[32];
    snprintf(file, sizeof file, "%s.npy", name);
    snprintf(m->what, sizeof m->what, "%s:%s", what, file);
    GSGD_FORWARD_IF_ERROR(gsgdi_zip_member(ctx, what, zip, len, file, &data, &size, &m->owned));
    GSGD_RETURN_ERROR_IF(!data, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: no member %s: not a scipy.sparse.save_npz file", what, file);
    return gsgdi_npy_parse(ctx, m->what, data, size, &m->a);
}

/* Element i's bytes as little-endian. */
static uint64_t raw(const gsgdi_npy *a, uint64_t i) {
    const unsigned char *p = a->elems + i * (uint64_t)a->esize;
    uint64_t v = 0;
    for (int b = 0; b < a->esize; b++) v |= (uint64_t)p[a->swap ? a->esize - 1 - b : b] << (8 * b);
    return v;
}

/* Element i of an integer array as int64 (uint64 past 2^63 saturates). */
static int64_t int_at(const gsgdi_npy *a, uint64_t i) {
    const uint64_t u = raw(a, i);
    if (a->kind == 'u' || a->kind == 'b') return u > INT64_MAX ? INT64_MAX : (int64_t)u;
    const int bits = 8 * a->esize;
    if (bits == 64) return (int64_t)u;
    const uint64_t sign = (uint64_t)1 << (bits - 1);
    return (int64_t)((u ^ sign) - sign);
}

/* Element i of a number array as double. */
static double num_at(const gsgdi_npy *a, uint64_t i) {
    if (a->kind != 'f') return (double)int_at(a, i);
    const uint64_t u = raw(a, i);
    if (a->esize == 4) {
        const uint32_t w = (uint32_t)u;
        float f;
        memcpy(&f, &w, sizeof f);
        return f;
    }
    double v;
    memcpy(&v, &u, sizeof v);
    return v;
}

static int is_int(const gsgdi_npy *a) { return a->kind == 'i' || a->kind == 'u'; }

/* The checks of the five arrays against each other; *n and *d the shape. */
static gsgd_status check_arrays(gsgd_context *ctx, const char *what, const member *m, size_t *n_out,
                                size_t *d_out) {
    const gsgdi_npy *fmt = &m[0].a, *shape = &m[1].a, *ptr = &m[2].a, *ind = &m[3].a,
                    *val = &m[4].a;
    char kind[8] = "";
    if (fmt->kind == 'S' && fmt->count == 1)
        snprintf(kind, sizeof kind, "%.*s", fmt->esize < 7 ? fmt->esize : 7, fmt->elems);
    else if (fmt->kind == 'U' && fmt->count == 1)
        for (int c = 0; c < fmt->esize / 4 && c < 7; c++) kind[c] = (char)fmt->elems[4 * c];
    GSGD_RETURN_ERROR_IF(strcmp(kind, "csr") != 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: a scipy.sparse matrix of format '%s', which gsgd does not read: "
                         "save it as CSR (scipy.sparse.save_npz(path, X.tocsr()))",
                         what, kind[0] ? kind : "?");
    GSGD_RETURN_ERROR_IF(!is_int(shape) || shape->count != 2, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: shape.npy is not two integers", what);
    const int64_t n = int_at(shape, 0), d = int_at(shape, 1);
    GSGD_RETURN_ERROR_IF(n < 1 || d < 1 || (uint64_t)n > UINT32_MAX || d > INT32_MAX, ctx,
                         GSGD_STATUS_TOO_LARGE,
                         "%s: shape %lld x %lld is outside the limits of sparse data (1 to "
                         "2^32 - 1 rows, 1 to 2^31 - 1 features)",
                         what, (long long)n, (long long)d);
    GSGD_RETURN_ERROR_IF(!is_int(ptr) || !is_int(ind) || ptr->ndim != 1 || ind->ndim != 1 ||
                             val->ndim != 1 ||
                             (val->kind != 'f' && !is_int(val) && val->kind != 'b'),
                         ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: indptr and indices must be 1-D integer arrays and data a 1-D "
                         "array of numbers",
                         what);
    GSGD_RETURN_ERROR_IF(ptr->count != (uint64_t)n + 1 || ind->count != val->count, ctx,
                         GSGD_STATUS_BAD_FORMAT,
                         "%s: %llu row pointers, %llu indices and %llu values for %lld rows "
                         "(rows + 1 pointers, one index a value)",
                         what, (unsigned long long)ptr->count, (unsigned long long)ind->count,
                         (unsigned long long)val->count, (long long)n);
    GSGD_RETURN_ERROR_IF(val->count > GSGD_MAX_ELEMENTS, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %llu values exceed the limit of 2^32", what,
                         (unsigned long long)val->count);
    *n_out = (size_t)n;
    *d_out = (size_t)d;
    return GSGD_STATUS_OK;
}

/* The rows into h, each checked. */
static gsgd_status copy_rows(gsgd_context *ctx, const char *what, const member *m, size_t n,
                             size_t d, gsgdi_host_data *h) {
    const gsgdi_npy *ptr = &m[2].a, *ind = &m[3].a, *val = &m[4].a;
    const size_t nnz = (size_t)val->count;
    void *a = NULL, *b = NULL, *c = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (n + 1) * sizeof(int64_t), &a));
    h->indptr = a;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(int32_t), &b));
    h->indices = b;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(float), &c));
    h->values = c;
    for (size_t i = 0; i <= n; i++) {
        const int64_t p = int_at(ptr, i);
        GSGD_RETURN_ERROR_IF((i == 0 && p != 0) || (i > 0 && p < h->indptr[i - 1]) ||
                                 (uint64_t)p > nnz || (i == n && (size_t)p != nnz),
                             ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: indptr[%zu] = %lld: row pointers go from 0 to the %zu values "
                             "and never decrease",
                             what, i, (long long)p, nnz);
        h->indptr[i] = p;
    }
    for (size_t i = 0; i < n; i++)
        for (int64_t k = h->indptr[i]; k < h->indptr[i + 1]; k++) {
            const int64_t j = int_at(ind, (uint64_t)k);
            const double v = num_at(val, (uint64_t)k);
            GSGD_RETURN_ERROR_IF(j < 0 || (uint64_t)j >= d, ctx, GSGD_STATUS_BAD_VALUE,
                                 "%s: row %zu: feature index %lld outside the shape's %zu "
                                 "features",
                                 what, i, (long long)j, d);
            GSGD_RETURN_ERROR_IF(!isfinite(v) || !isfinite((float)v), ctx, GSGD_STATUS_BAD_VALUE,
                                 "%s: row %zu, feature %lld: value %g is not a finite float; "
                                 "gsgd does not impute: fill or drop it first",
                                 what, i, (long long)j, v);
            h->indices[k] = (int32_t)j;
            h->values[k] = (float)v;
        }
    h->n = n;
    h->d = d;
    h->nnz = nnz;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_npz_csr(gsgd_context *ctx, const char *what, const void *zip, size_t len,
                          gsgdi_host_data *h) {
    static const char *const names[5] = {"format", "shape", "indptr", "indices", "data"};
    member m[5];
    memset(m, 0, sizeof m);
    size_t n = 0, d = 0;
    gsgd_status st = GSGD_STATUS_OK;
    for (int i = 0; i < 5 && st == GSGD_STATUS_OK; i++)
        st = get(ctx, what, zip, len, names[i], &m[i]);
    if (st == GSGD_STATUS_OK) st = check_arrays(ctx, what, m, &n, &d);
    if (st == GSGD_STATUS_OK) st = copy_rows(ctx, what, m, n, d, h);
    for (int i = 0; i < 5; i++) free(m[i].owned);
    if (st != GSGD_STATUS_OK) {
        free(h->indptr);
        free(h->indices);
        free(h->values);
        h->indptr = NULL;
        h->indices = NULL;
        h->values = NULL;
    }
    return st;
}
