/* Rows of sparse datasets copied out: to the host (a host CSR, or dense
 * rows), and into new datasets for split and subset, through the host as
 * the dense ones go (split) or as a gather of chosen rows (subset); and
 * the rows' mean squared norm, which the automatic sparse rate takes. */
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "data/loaders.h"

/* Host arrays for n rows of nnz nonzeros. */
static gsgd_status host_csr_alloc(gsgd_context *ctx, size_t n, size_t nnz, gsgdi_host_data *h) {
    memset(h, 0, sizeof *h);
    void *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (n + 1) * sizeof(int64_t), &a), fail);
    h->indptr = a;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(int32_t), &b), fail);
    h->indices = b;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(float), &c), fail);
    h->values = c;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (n ? n : 1) * sizeof(float), &d), fail);
    h->y = d;
    h->n = n;
    h->nnz = nnz;
    return GSGD_STATUS_OK;
fail:
    gsgdi_host_data_free(h);
    return st;
}

gsgd_status gsgdi_dataset_csr_download(const gsgd_dataset *ds, gsgdi_host_data *out) {
    gsgd_context *ctx = ds->ctx;
    const size_t n = ds->n, nnz = ds->nnz;
    GSGD_FORWARD_IF_ERROR(host_csr_alloc(ctx, n, nnz, out));
    out->d = ds->d;
    out->n_classes = ds->n_classes;
    memcpy(out->indptr, ds->host_indptr, (n + 1) * sizeof(int64_t));
    gsgd_status st = GSGD_STATUS_OK;
    if (ds->csr.idx64) {
        void *p = NULL;
        st = gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(int64_t), &p);
        if (st == GSGD_STATUS_OK)
            st = ctx->be->download(ctx, p, ds->csr.indices, nnz * sizeof(int64_t));
        for (size_t k = 0; st == GSGD_STATUS_OK && k < nnz; k++)
            out->indices[k] = (int32_t)((const int64_t *)p)[k];
        free(p);
    } else {
        st = ctx->be->download(ctx, out->indices, ds->csr.indices, nnz * sizeof(int32_t));
    }
    if (st == GSGD_STATUS_OK)
        st = ctx->be->download(ctx, out->values, ds->csr.values, nnz * sizeof(float));
    if (st == GSGD_STATUS_OK) st = ctx->be->download(ctx, out->y, ds->y, n * sizeof(float));
    if (st != GSGD_STATUS_OK) gsgdi_host_data_free(out);
    return st;
}

/* A dataset of rows[0 .. count) of the host CSR h, in that order. */
static gsgd_status take_rows(gsgd_context *ctx, const gsgdi_host_data *h, const size_t *rows,
                             size_t count, gsgd_dataset **out) {
    size_t nnz = 0;
    for (size_t i = 0; i < count; i++) nnz += (size_t)(h->indptr[rows[i] + 1] - h->indptr[rows[i]]);
    gsgdi_host_data t;
    GSGD_FORWARD_IF_ERROR(host_csr_alloc(ctx, count, nnz, &t));
    t.d = h->d;
    t.n_classes = h->n_classes;
    t.indptr[0] = 0;
    for (size_t i = 0; i < count; i++) {
        const int64_t lo = h->indptr[rows[i]], len = h->indptr[rows[i] + 1] - lo;
        memcpy(t.indices + t.indptr[i], h->indices + lo, (size_t)len * sizeof(int32_t));
        memcpy(t.values + t.indptr[i], h->values + lo, (size_t)len * sizeof(float));
        t.indptr[i + 1] = t.indptr[i] + len;
        t.y[i] = h->y[rows[i]];
    }
    gsgd_status st = gsgdi_dataset_from_csr_host(ctx, &t, out);
    gsgdi_host_data_free(&t);
    return st;
}

gsgd_status gsgdi_csr_split(const gsgd_dataset *ds, const size_t *perm, size_t n_train,
                            gsgd_dataset **train, gsgd_dataset **test) {
    gsgd_context *ctx = ds->ctx;
    gsgdi_host_data h;
    GSGD_FORWARD_IF_ERROR(gsgdi_dataset_csr_download(ds, &h));
    gsgd_status st = take_rows(ctx, &h, perm, n_train, train);
    if (st == GSGD_STATUS_OK) {
        st = take_rows(ctx, &h, perm + n_train, ds->n - n_train, test);
        if (st != GSGD_STATUS_OK) {
            gsgdi_csr_dataset_free(*train);
            *train = NULL;
        }
    }
    gsgdi_host_data_free(&h);
    return st;
}

gsgd_status gsgdi_csr_subset(const gsgd_dataset *ds, size_t first, size_t count, size_t stride,
                             gsgd_dataset **out) {
    gsgd_context *ctx = ds->ctx;
    void *p = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, count * sizeof(size_t), &p));
    size_t *rows = p;
    for (size_t i = 0; i < count; i++) rows[i] = first + i * stride;
    gsgdi_host_data h;
    gsgd_status st = gsgdi_dataset_csr_download(ds, &h);
    if (st == GSGD_STATUS_OK) st = take_rows(ctx, &h, rows, count, out);
    gsgdi_host_data_free(&h);
    free(rows);
    return st;
}

/* Dense rows: zeros, then each nonzero added (a repeated index sums, as
 * every sparse op treats it). */
gsgd_status gsgdi_csr_read_rows(const gsgd_dataset *ds, size_t start, size_t count, float *out) {
    gsgd_context *ctx = ds->ctx;
    const int64_t lo = ds->host_indptr[start], hi = ds->host_indptr[start + count];
    const size_t m = (size_t)(hi - lo), isz = ds->csr.idx64 ? 8 : 4;
    void *ind = NULL, *val = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (m ? m : 1) * isz, &ind), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (m ? m : 1) * sizeof(float), &val), done);
    GSGD_CHECK_GOTO(
        st, ctx->be->download(ctx, ind, (const uint8_t *)ds->csr.indices + lo * isz, m * isz),
        done);
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, val, ds->csr.values + lo, m * sizeof(float)), done);
    memset(out, 0, count * ds->d * sizeof(float));
    for (size_t i = 0; i < count; i++)
        for (int64_t k = ds->host_indptr[start + i]; k < ds->host_indptr[start + i + 1]; k++)
            out[i * ds->d + (size_t)GSGD_CSR_COL(ind, ds->csr.idx64, k - lo)] +=
                ((const float *)val)[k - lo];
done:
    free(ind);
    free(val);
    return st;
}

/* Scaled rows: through a host copy (once per plan). */
static gsgd_status scaled_mean_sq_norm(const gsgd_dataset *ds, const float *inv_std, double *out) {
    gsgd_context *ctx = ds->ctx;
    gsgdi_host_data h;
    float *inv = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, ds->d * sizeof(float), (void **)&inv));
    gsgd_status st = ctx->be->download(ctx, inv, inv_std, ds->d * sizeof(float));
    if (st == GSGD_STATUS_OK) st = gsgdi_dataset_csr_download(ds, &h);
    if (st == GSGD_STATUS_OK) {
        double s = 0.0;
        for (size_t k = 0; k < h.nnz; k++) {
            const double v = (double)h.values[k] * inv[h.indices[k]];
            s += v * v;
        }
        *out = s / (double)ds->n;
        gsgdi_host_data_free(&h);
    }
    free(inv);
    return st;
}

gsgd_status gsgdi_dataset_mean_sq_norm(const gsgd_dataset *ds, const float *inv_std, double *out) {
    gsgd_context *ctx = ds->ctx;
    *out = 0.0;
    if (!ds->sparse || ds->nnz == 0) return GSGD_STATUS_OK;
    if (inv_std) return scaled_mean_sq_norm(ds, inv_std, out);
    float *sum = NULL, host = 0.0f;
    const size_t seg[2] = {0, ds->nnz};
    GSGD_FORWARD_IF_ERROR(gsgdi_mem_alloc(ctx, sizeof(float), (void **)&sum));
    gsgd_status st = ctx->be->sumsq(ctx, ds->csr.values, seg, 1, sum);
    if (st == GSGD_STATUS_OK) st = ctx->be->download(ctx, &host, sum, sizeof host);
    gsgdi_mem_free(ctx, sum, sizeof(float));
    *out = (double)host / (double)ds->n;
    return st;
}
