/* Sparse (CSR) datasets: the public constructors from the caller's arrays
 * (copied from the host, or borrowed on the device), the upload of a
 * reader's host CSR, and the bookkeeping the planner reads (each batch's
 * bound on nonzeros). The rows' copies for split and subset are in
 * csr_rows.c. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "data/loaders.h"

/* Largest feature count of a sparse dataset: a batch's feature indices
 * are int32. */
#define CSR_MAX_FEATURES ((size_t)INT32_MAX)

static int cmp_desc_u32(const void *a, const void *b) {
    const uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x < y) - (x > y);
}

/* The host facts of a sparse dataset: its row pointers and the bound on
 * the nonzeros of any B rows (the B densest), from the host indptr. */
static gsgd_status host_facts(gsgd_context *ctx, gsgd_dataset *ds, const int64_t *indptr) {
    const size_t n = ds->n;
    void *p = NULL, *q = NULL, *l = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (n + 1) * sizeof(int64_t), &p));
    ds->host_indptr = p;
    memcpy(ds->host_indptr, indptr, (n + 1) * sizeof(int64_t));
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (n + 1) * sizeof(uint64_t), &q));
    ds->top_nnz = q;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (n ? n : 1) * sizeof(uint32_t), &l));
    uint32_t *len = l;
    for (size_t i = 0; i < n; i++) len[i] = (uint32_t)(indptr[i + 1] - indptr[i]);
    qsort(len, n, sizeof *len, cmp_desc_u32);
    ds->top_nnz[0] = 0;
    for (size_t i = 0; i < n; i++) ds->top_nnz[i + 1] = ds->top_nnz[i] + len[i];
    free(len);
    return GSGD_STATUS_OK;
}

/* Checks a CSR structure on the host: indptr from 0, non-decreasing, rows
 * under 2^31 nonzeros, nnz in all; indices in [0, d) (d 0: any, and *d_out
 * the largest + 1); finite values when values is not NULL. */
static gsgd_status check_structure(gsgd_context *ctx, const char *who, size_t n, size_t d,
                                   const int64_t *indptr, const void *indices, int idx64,
                                   const float *values, size_t *d_out) {
    GSGD_RETURN_ERROR_IF(indptr[0] != 0, ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: indptr[0] is %lld, must be 0", who, (long long)indptr[0]);
    for (size_t i = 0; i < n; i++)
        GSGD_RETURN_ERROR_IF(indptr[i + 1] < indptr[i] || indptr[i + 1] - indptr[i] > INT32_MAX,
                             ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: row %zu: indptr goes from %lld to %lld (must not decrease, "
                             "at most 2^31-1 nonzeros a row)",
                             who, i, (long long)indptr[i], (long long)indptr[i + 1]);
    const size_t nnz = (size_t)indptr[n];
    GSGD_RETURN_ERROR_IF((uint64_t)nnz > GSGD_MAX_ELEMENTS, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu nonzeros exceed the limit of 2^32", who, nnz);
    int64_t top = -1;
    size_t row = 0;
    for (size_t k = 0; k < nnz; k++) {
        while (indptr[row + 1] <= (int64_t)k) row++;
        const int64_t c = GSGD_CSR_COL(indices, idx64, k);
        GSGD_RETURN_ERROR_IF(c < 0 || (d && (uint64_t)c >= d) || (uint64_t)c >= CSR_MAX_FEATURES,
                             ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: row %zu, nonzero %zu: feature index %lld outside [0, %zu)", who,
                             row, k, (long long)c, d ? d : CSR_MAX_FEATURES);
        GSGD_RETURN_ERROR_IF(values && !isfinite(values[k]), ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: row %zu, feature %lld: value %g is not finite", who, row,
                             (long long)c, values ? (double)values[k] : 0.0);
        if (c > top) top = c;
    }
    *d_out = d ? d : (size_t)(top + 1);
    GSGD_RETURN_ERROR_IF(*d_out == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s: no nonzero and no feature count: give d", who);
    return GSGD_STATUS_OK;
}

/* A backend without the sparse ops (backend.h's csr_*) takes no sparse
 * data: said once, here, where every sparse dataset is made. */
static gsgd_status check_backend(gsgd_context *ctx) {
    GSGD_RETURN_ERROR_IF(!ctx->be->csr_gather || !ctx->be->update_rows, ctx,
                         GSGD_STATUS_UNSUPPORTED,
                         "the %s backend has no sparse (CSR) ops in this build; train sparse "
                         "data on the CPU (--device cpu)",
                         ctx->be->name);
    return GSGD_STATUS_OK;
}

static gsgd_dataset *new_sparse(gsgd_context *ctx, size_t n, size_t d, size_t nnz, int n_classes) {
    gsgd_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) return NULL;
    *ds =
        (gsgd_dataset){.ctx = ctx, .n = n, .d = d, .n_classes = n_classes, .sparse = 1, .nnz = nnz};
    return ds;
}

/* One block for the three arrays (indptr, int32 indices, values), in
 * device memory or, when it does not fit there, in mapped pinned host
 * memory the gather reads over the bus (as dense features). */
static gsgd_status alloc_block(gsgd_context *ctx, gsgd_dataset *ds) {
    const size_t n = ds->n, nnz = ds->nnz;
    const size_t ptr_b = (n + 1) * sizeof(int64_t), ind_b = (nnz * 4 + 7) / 8 * 8;
    ds->csr_bytes = ptr_b + ind_b + nnz * sizeof(float);
    gsgd_status st = gsgdi_mem_alloc(ctx, ds->csr_bytes, &ds->csr_block);
    if (st == GSGD_STATUS_DEVICE_OUT_OF_MEMORY && ctx->be->alloc_host_mapped) {
        GSGD_FORWARD_IF_ERROR(ctx->be->alloc_host_mapped(ctx, ds->csr_bytes, &ds->csr_block));
        ds->host_mapped = 1;
        gsgdi_log(ctx, GSGD_LOG_WARNING,
                  "dataset: %zu rows of %zu nonzeros (%zu bytes) do not fit the device's memory; "
                  "kept in pinned host memory, which every batch's gather reads over the bus",
                  n, nnz, ds->csr_bytes);
    } else {
        GSGD_FORWARD_IF_ERROR(st);
    }
    uint8_t *base = ds->csr_block;
    ds->csr = (gsgdi_csr){.indptr = (const int64_t *)base,
                          .indices = base + ptr_b,
                          .values = (const float *)(base + ptr_b + ind_b),
                          .idx64 = 0};
    return GSGD_STATUS_OK;
}

static gsgd_status put(gsgd_context *ctx, const gsgd_dataset *ds, const void *dst, const void *src,
                       size_t bytes) {
    if (ds->host_mapped) {
        memcpy((void *)dst, src, bytes);
        return GSGD_STATUS_OK;
    }
    return ctx->be->upload(ctx, (void *)dst, src, bytes);
}

/* Uploads checked host arrays with int32 indices. */
static gsgd_status upload_csr(gsgd_context *ctx, size_t n, size_t d, const int64_t *indptr,
                              const int32_t *indices, const float *values, const float *y,
                              int n_classes, gsgd_dataset **out) {
    *out = NULL;
    GSGD_FORWARD_IF_ERROR(check_backend(ctx));
    GSGD_RETURN_ERROR_IF((uint64_t)n > UINT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "dataset: %zu samples exceed the limit of 2^32-1", n);
    const size_t nnz = (size_t)indptr[n];
    gsgd_dataset *ds = new_sparse(ctx, n, d, nnz, n_classes);
    GSGD_RETURN_ERROR_IF(!ds, ctx, GSGD_STATUS_OUT_OF_MEMORY, "dataset: allocation failed");
    void *py = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, alloc_block(ctx, ds), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, n * sizeof(float), &py), fail);
    ds->y = py;
    GSGD_CHECK_GOTO(st, put(ctx, ds, ds->csr.indptr, indptr, (n + 1) * sizeof(int64_t)), fail);
    GSGD_CHECK_GOTO(st, put(ctx, ds, ds->csr.indices, indices, nnz * sizeof(int32_t)), fail);
    GSGD_CHECK_GOTO(st, put(ctx, ds, ds->csr.values, values, nnz * sizeof(float)), fail);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, ds->y, y, n * sizeof(float)), fail);
    GSGD_CHECK_GOTO(st, host_facts(ctx, ds, indptr), fail);
    *out = ds;
    return GSGD_STATUS_OK;
fail:
    gsgdi_csr_dataset_free(ds);
    return st;
}

gsgd_status gsgdi_dataset_from_csr_host(gsgd_context *ctx, const gsgdi_host_data *h,
                                        gsgd_dataset **out) {
    *out = NULL;
    GSGD_RETURN_ERROR_IF(!h->indptr || !h->y || h->n == 0 || h->d == 0, ctx, GSGD_STATUS_INTERNAL,
                         "dataset: empty host CSR");
    return upload_csr(ctx, h->n, h->d, h->indptr, h->indices, h->values, h->y, h->n_classes, out);
}

void gsgdi_csr_dataset_free(gsgd_dataset *ds) {
    if (!ds) return;
    gsgdi_csr_release(ds);
    gsgdi_meta_clear(&ds->meta);
    free(ds);
}

void gsgdi_csr_release(gsgd_dataset *ds) {
    gsgd_context *ctx = ds->ctx;
    if (!ds->borrowed) {
        if (ds->host_mapped)
            ctx->be->release_host_mapped(ctx, ds->csr_block);
        else
            gsgdi_mem_free(ctx, ds->csr_block, ds->csr_bytes);
        gsgdi_mem_free(ctx, ds->y, ds->n * sizeof(float));
    }
    free(ds->host_indptr);
    free(ds->top_nnz);
}

static gsgd_status check_common(gsgd_context *ctx, const char *who, size_t n, const void *indptr,
                                const void *indices, const float *values, const float *y,
                                gsgd_index_type it, int n_classes, gsgd_dataset **out) {
    GSGD_RETURN_ERROR_IF(!out, ctx, GSGD_STATUS_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    GSGD_RETURN_ERROR_IF(!indptr || !y || (!indices != !values), ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s: indptr, indices, values or y is NULL", who);
    GSGD_RETURN_ERROR_IF(n == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT, "%s: n = 0", who);
    GSGD_RETURN_ERROR_IF(
        it != GSGD_INDEX_INT32 && it != GSGD_INDEX_INT64, ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "%s: index type %d is neither GSGD_INDEX_INT32 nor GSGD_INDEX_INT64", who, (int)it);
    GSGD_RETURN_ERROR_IF(
        n_classes < 0 || n_classes > GSGD_MAX_CLASSES, ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "%s: n_classes = %d outside [0, %d] (0 = regression)", who, n_classes, GSGD_MAX_CLASSES);
    GSGD_RETURN_ERROR_IF((uint64_t)n > UINT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu samples exceed the limit of 2^32-1", who, n);
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_from_csr(gsgd_context *ctx, size_t n, size_t d, const int64_t *indptr,
                                  const void *indices, gsgd_index_type index_type,
                                  const float *values, const float *y, int n_classes,
                                  gsgd_dataset **out) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    const char *who = "dataset_from_csr";
    GSGD_FORWARD_IF_ERROR(
        check_common(ctx, who, n, indptr, indices, values, y, index_type, n_classes, out));
    GSGD_RETURN_ERROR_IF(d > CSR_MAX_FEATURES, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu features exceed the limit of 2^31-1", who, d);
    const int idx64 = index_type == GSGD_INDEX_INT64;
    size_t dd = 0;
    GSGD_FORWARD_IF_ERROR(check_structure(ctx, who, n, d, indptr, indices, idx64, values, &dd));
    GSGD_FORWARD_IF_ERROR(gsgdi_validate_targets(ctx, who, y, n, n_classes));
    const size_t nnz = (size_t)indptr[n];
    gsgd_status st;
    if (idx64) {
        /* int64 indices below 2^31 are stored as int32: half the memory. */
        void *p = NULL;
        GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (nnz ? nnz : 1) * sizeof(int32_t), &p));
        int32_t *i32 = p;
        for (size_t k = 0; k < nnz; k++) i32[k] = (int32_t)((const int64_t *)indices)[k];
        st = upload_csr(ctx, n, dd, indptr, i32, values, y, n_classes, out);
        free(i32);
    } else {
        st = upload_csr(ctx, n, dd, indptr, indices, values, y, n_classes, out);
    }
    if (st == GSGD_STATUS_OK)
        st = gsgdi_arrays_meta(ctx, "gsgd_dataset_from_csr", y, n, n_classes, &(*out)->meta);
    if (st != GSGD_STATUS_OK && *out) {
        gsgdi_csr_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

/* The structure is checked through host copies of indptr and indices,
 * and the targets through one of y; the values are not read (as
 * gsgd_dataset_from_device does not read X). */
gsgd_status gsgd_dataset_from_device_csr(gsgd_context *ctx, size_t n, size_t d, int64_t *indptr,
                                         void *indices, gsgd_index_type index_type, float *values,
                                         float *y, int n_classes, gsgd_dataset **out) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    const char *who = "dataset_from_device_csr";
    GSGD_FORWARD_IF_ERROR(
        check_common(ctx, who, n, indptr, indices, values, y, index_type, n_classes, out));
    GSGD_RETURN_ERROR_IF(d > CSR_MAX_FEATURES, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu features exceed the limit of 2^31-1", who, d);
    GSGD_FORWARD_IF_ERROR(check_backend(ctx));
    const int idx64 = index_type == GSGD_INDEX_INT64;
    const size_t isz = idx64 ? 8 : 4;
    void *hp = NULL, *hi = NULL, *hy = NULL;
    gsgd_dataset *ds = NULL;
    size_t dd = 0;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (n + 1) * sizeof(int64_t), &hp), done);
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, hp, indptr, (n + 1) * sizeof(int64_t)), done);
    const int64_t nnz = ((int64_t *)hp)[n];
    GSGD_CHECK_GOTO(st,
                    nnz >= 0 && (uint64_t)nnz <= GSGD_MAX_ELEMENTS
                        ? GSGD_STATUS_OK
                        : GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                                     "%s: indptr[n] = %lld nonzeros (at most 2^32)", who,
                                     (long long)nnz),
                    done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, ((size_t)nnz + 1) * isz, &hi), done);
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, hi, indices, (size_t)nnz * isz), done);
    GSGD_CHECK_GOTO(st, check_structure(ctx, who, n, d, hp, hi, idx64, NULL, &dd), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * sizeof(float), &hy), done);
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, hy, y, n * sizeof(float)), done);
    GSGD_CHECK_GOTO(st, gsgdi_validate_targets(ctx, who, hy, n, n_classes), done);
    ds = new_sparse(ctx, n, dd, (size_t)nnz, n_classes);
    GSGD_CHECK_GOTO(st,
                    ds ? GSGD_STATUS_OK
                       : GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", who),
                    done);
    GSGD_CHECK_GOTO(
        st, gsgdi_arrays_meta(ctx, "gsgd_dataset_from_device_csr", hy, n, n_classes, &ds->meta),
        done);
    ds->borrowed = 1;
    ds->csr = (gsgdi_csr){.indptr = indptr, .indices = indices, .values = values, .idx64 = idx64};
    ds->y = y;
    GSGD_CHECK_GOTO(st, host_facts(ctx, ds, hp), done);
    *out = ds;
    ds = NULL;
done:
    gsgdi_csr_dataset_free(ds);
    free(hp);
    free(hi);
    free(hy);
    return st;
}

gsgd_status gsgd_dataset_sparse(const gsgd_dataset *ds, int *sparse, size_t *nnz) {
    if (!ds) return GSGD_STATUS_INVALID_ARGUMENT;
    if (sparse) *sparse = ds->sparse;
    if (nnz) *nnz = ds->sparse ? ds->nnz : ds->n * ds->d;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_set_features(gsgd_dataset *ds, size_t d) {
    if (!ds) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = ds->ctx;
    GSGD_RETURN_ERROR_IF(!ds->sparse, ctx, GSGD_STATUS_UNSUPPORTED,
                         "dataset_set_features: the dataset is dense; only a sparse one can "
                         "take more features without a copy");
    GSGD_RETURN_ERROR_IF(d < ds->d || d > CSR_MAX_FEATURES, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "dataset_set_features: %zu features, the dataset has %zu (its indices "
                         "reach there) and the limit is 2^31-1",
                         d, ds->d);
    ds->d = d;
    return GSGD_STATUS_OK;
}
