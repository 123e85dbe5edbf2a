/* How host rows are stored: sparse (CSR) or dense, the rule that picks one
 * when the caller does not (GSGD_STORAGE_AUTO), and the conversions: CSR
 * rows to dense ones, with the limits a dense array must keep, and dense
 * rows to CSR when the caller asks (storage=csr). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "data/loaders.h"

int gsgdi_storage_prefers_csr(size_t n, size_t d, size_t nnz) {
    /* Dense when at least GSGD_DENSE_FROM of the values are nonzero: there
     * the dense step's GEMMs beat CSR x W (measured, see loaders.h), and
     * the dense array is at most 1 / (2 GSGD_DENSE_FROM) times the bytes of
     * the CSR's 8 per nonzero. */
    return (double)nnz < GSGD_DENSE_FROM * (double)n * (double)d;
}

gsgd_status gsgdi_host_densify(gsgd_context *ctx, const char *what, gsgdi_host_data *h) {
    if (!h->indptr) return GSGD_STATUS_OK;
    const size_t n = h->n, d = h->d;
    GSGD_RETURN_ERROR_IF((uint64_t)n > GSGD_MAX_ELEMENTS / d, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu rows x %zu features exceed the limit of 2^32 values (stored "
                         "dense); reduce the feature indices, or keep the rows sparse "
                         "(storage=csr)",
                         what, n, d);
    /* Dense storage of a file that is almost all zeros (a few large
     * indices) would take gigabytes for a few values. */
    const uint64_t values = (uint64_t)n * d;
    GSGD_RETURN_ERROR_IF(values > ((uint64_t)1 << 26) && h->nnz < values / 4096, ctx,
                         GSGD_STATUS_TOO_LARGE,
                         "%s: %zu rows x %zu features stored dense would take %.1f GiB for %zu "
                         "values (density below 1/4096); renumber the feature indices densely, "
                         "or keep the rows sparse (storage=csr)",
                         what, n, d, (double)values * 4 / (1 << 30), h->nnz);
    GSGD_RETURN_ERROR_IF(d > INT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: rows of %zu features exceed the limit of 2^31 - 1 a row; renumber "
                         "the feature indices densely",
                         what, d);
    void *p = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, n * d * sizeof(float), &p));
    float *X = p;
    memset(X, 0, n * d * sizeof(float));
    /* A repeated index adds up, as every sparse op reads it. */
    for (size_t i = 0; i < n; i++)
        for (int64_t k = h->indptr[i]; k < h->indptr[i + 1]; k++)
            X[i * d + (size_t)h->indices[k]] += h->values[k];
    free(h->indptr);
    free(h->indices);
    free(h->values);
    h->indptr = NULL;
    h->indices = NULL;
    h->values = NULL;
    h->nnz = 0;
    h->X = X;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_host_sparsify(gsgd_context *ctx, const char *what, gsgdi_host_data *h) {
    if (h->indptr) return GSGD_STATUS_OK;
    const size_t n = h->n, d = h->d;
    GSGD_RETURN_ERROR_IF(d > INT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu features exceed the limit of sparse data (2^31 - 1)", what, d);
    size_t nnz = 0;
    for (size_t k = 0; k < n * d; k++) nnz += h->X ? h->X[k] != 0.0f : h->X8[k] != 0;
    void *a = NULL, *b = NULL, *c = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (n + 1) * sizeof(int64_t), &a), fail);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(int32_t), &b), fail);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(float), &c), fail);
    int64_t *ptr = a;
    int32_t *ind = b;
    float *val = c;
    size_t at = 0;
    ptr[0] = 0;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < d; j++) {
            /* bytes as the gather converts them */
            const float v = h->X ? h->X[i * d + j] : GSGD_U8_FEATURE(h->X8[i * d + j]);
            if (v == 0.0f) continue;
            ind[at] = (int32_t)j;
            val[at++] = v;
        }
        ptr[i + 1] = (int64_t)at;
    }
    if (!h->x_borrowed) free(h->X);
    free(h->X8);
    h->X = NULL;
    h->X8 = NULL;
    h->x_borrowed = 0;
    h->indptr = ptr;
    h->indices = ind;
    h->values = val;
    h->nnz = nnz;
    return GSGD_STATUS_OK;
fail:
    free(a);
    free(b);
    free(c);
    return st;
}

gsgd_status gsgdi_host_store(gsgd_context *ctx, const char *what, int csr, gsgdi_host_data *h) {
    if (csr > 0) return gsgdi_host_sparsify(ctx, what, h);
    if (!h->indptr) return GSGD_STATUS_OK; /* dense rows stay dense unless asked */
    if (csr < 0) csr = gsgdi_storage_prefers_csr(h->n, h->d, h->nnz);
    return csr ? GSGD_STATUS_OK : gsgdi_host_densify(ctx, what, h);
}
