/* Datasets: validation, upload to the context's device, seeded splits. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "core/rng.h"
#include "core/memory.h"
#include "core/error.h"

/* Checks every value a model will read, so that training never meets a NaN
 * that came from the input rather than from divergence. */
static gsgd_status validate_host(gsgd_context *ctx, const float *X, const float *y, size_t n,
                                 size_t d, int n_classes) {
    for (size_t i = 0; i < n; i++) {
        const float *row = X + i * d;
        for (size_t j = 0; j < d; j++)
            GSGD_RETURN_ERROR_IF(!isfinite(row[j]), ctx, GSGD_STATUS_BAD_VALUE,
                                 "dataset: sample %zu, feature %zu: value %g is not finite", i, j,
                                 (double)row[j]);
        GSGD_FORWARD_IF_ERROR(gsgdi_validate_target(ctx, "dataset", i, y[i], n_classes));
    }
    return GSGD_STATUS_OK;
}

/* The checks both constructors from caller arrays make; who names the
 * function in the message. Clears *out first. */
static gsgd_status check_arguments(gsgd_context *ctx, const char *who, const void *X, const void *y,
                                   size_t n, size_t d, int n_classes, gsgd_dataset **out) {
    GSGD_RETURN_ERROR_IF(!out, ctx, GSGD_STATUS_INVALID_ARGUMENT, "%s: out is NULL", who);
    *out = NULL;
    GSGD_RETURN_ERROR_IF(!X || !y, ctx, GSGD_STATUS_INVALID_ARGUMENT, "%s: X or y is NULL", who);
    GSGD_RETURN_ERROR_IF(n == 0 || d == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s: n = %zu and d = %zu must both be positive", who, n, d);
    GSGD_RETURN_ERROR_IF(
        n_classes < 0 || n_classes > GSGD_MAX_CLASSES, ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "%s: n_classes = %d outside [0, %d] (0 = regression)", who, n_classes, GSGD_MAX_CLASSES);
    size_t nd;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(n, d, &nd), ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu x %zu overflows", who, n, d);
    return GSGD_STATUS_OK;
}

/* Memory for ds's x_bytes of features: the device's, or, when they do not
 * fit there (the device or the caller's limit) and the backend can map
 * host memory, pinned host memory the gather reads over the bus. Training
 * then works as before, slower; planning leaves the features out of the
 * device budget. */
static gsgd_status alloc_features(gsgd_context *ctx, gsgd_dataset *ds, size_t x_bytes) {
    gsgd_status st = gsgdi_mem_alloc(ctx, x_bytes, &ds->X);
    if (st != GSGD_STATUS_DEVICE_OUT_OF_MEMORY || !ctx->be->alloc_host_mapped) return st;
    char why[GSGD_ERROR_LEN];
    snprintf(why, sizeof why, "%s", ctx->last_error);
    GSGD_FORWARD_IF_ERROR(ctx->be->alloc_host_mapped(ctx, x_bytes, &ds->X));
    ds->host_mapped = 1;
    gsgdi_log(ctx, GSGD_LOG_WARNING,
              "dataset: %zu x %zu features (%zu bytes) do not fit the device's memory (%s); "
              "kept in pinned host memory, which every batch's gather reads over the bus",
              ds->n, ds->d, x_bytes, why);
    return GSGD_STATUS_OK;
}

/* Copies host features into ds->X, wherever alloc_features put it. */
static gsgd_status put_features(gsgd_context *ctx, gsgd_dataset *ds, const void *X,
                                size_t x_bytes) {
    if (ds->host_mapped) {
        memcpy(ds->X, X, x_bytes);
        return GSGD_STATUS_OK;
    }
    return ctx->be->upload(ctx, ds->X, X, x_bytes);
}

/* Allocates backend memory for n x d features of type xt and n targets and
 * copies the host arrays in (the features only when X is not NULL). */
gsgd_status gsgdi_dataset_upload(gsgd_context *ctx, const void *X, gsgdi_xtype xt, const float *y,
                                 size_t n, size_t d, int n_classes, gsgd_dataset **out) {
    *out = NULL;
    size_t nd, x_bytes;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(n, d, &nd) ||
                             !gsgdi_mul_ok(nd, gsgdi_xtype_size(xt), &x_bytes) ||
                             (uint64_t)nd > GSGD_MAX_ELEMENTS,
                         ctx, GSGD_STATUS_TOO_LARGE,
                         "dataset: %zu x %zu features exceed the limit of "
                         "2^32 values",
                         n, d);
    /* Epoch permutations index samples with uint32 (backend.h). */
    GSGD_RETURN_ERROR_IF((uint64_t)n > UINT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "dataset: %zu samples exceed the limit of 2^32-1", n);

    gsgd_dataset *ds = calloc(1, sizeof *ds);
    GSGD_RETURN_ERROR_IF(!ds, ctx, GSGD_STATUS_OUT_OF_MEMORY, "dataset: allocation failed");
    ds->ctx = ctx;
    ds->n = n;
    ds->d = d;
    ds->n_classes = n_classes;
    ds->xt = xt;
    void *py = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, alloc_features(ctx, ds, x_bytes), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, n * sizeof(float), &py), fail);
    ds->y = py;
    if (X) GSGD_CHECK_GOTO(st, put_features(ctx, ds, X, x_bytes), fail);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, ds->y, y, n * sizeof(float)), fail);
    *out = ds;
    return GSGD_STATUS_OK;
fail:
    gsgd_dataset_free(ds);
    return st;
}

gsgd_status gsgd_dataset_from_host(gsgd_context *ctx, const float *X, const float *y, size_t n,
                                   size_t d, int n_classes, gsgd_dataset **out) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_arguments(ctx, "dataset_from_host", X, y, n, d, n_classes, out));
    GSGD_FORWARD_IF_ERROR(validate_host(ctx, X, y, n, d, n_classes));
    GSGD_FORWARD_IF_ERROR(gsgdi_dataset_upload(ctx, X, GSGD_XTYPE_F32, y, n, d, n_classes, out));
    gsgd_status st =
        gsgdi_arrays_meta(ctx, "gsgd_dataset_from_host", y, n, n_classes, &(*out)->meta);
    if (st != GSGD_STATUS_OK) {
        gsgd_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

/* The targets are checked on the host: n floats, a small copy beside X,
 * which is not checked (that would read, or copy, the whole array). */
gsgd_status gsgd_dataset_from_device(gsgd_context *ctx, float *X, float *y, size_t n, size_t d,
                                     int n_classes, gsgd_dataset **out) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_arguments(ctx, "dataset_from_device", X, y, n, d, n_classes, out));
    size_t nd = n * d; /* checked above */
    GSGD_RETURN_ERROR_IF((uint64_t)nd > GSGD_MAX_ELEMENTS || (uint64_t)n > UINT32_MAX, ctx,
                         GSGD_STATUS_TOO_LARGE,
                         "dataset_from_device: %zu x %zu exceeds the limits (2^32 values, 2^32-1 "
                         "samples)",
                         n, d);
    float *host_y = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, n * sizeof(float), (void **)&host_y));
    gsgd_status st = ctx->be->download(ctx, host_y, y, n * sizeof(float));
    for (size_t i = 0; st == GSGD_STATUS_OK && i < n; i++)
        st = gsgdi_validate_target(ctx, "dataset_from_device", i, host_y[i], n_classes);
    gsgdi_data_meta meta;
    if (st == GSGD_STATUS_OK)
        st = gsgdi_arrays_meta(ctx, "gsgd_dataset_from_device", host_y, n, n_classes, &meta);
    free(host_y);
    GSGD_FORWARD_IF_ERROR(st);
    gsgd_dataset *ds = calloc(1, sizeof *ds);
    if (!ds) gsgdi_meta_clear(&meta);
    GSGD_RETURN_ERROR_IF(!ds, ctx, GSGD_STATUS_OUT_OF_MEMORY, "dataset_from_device: out of memory");
    *ds = (gsgd_dataset){.ctx = ctx,
                         .n = n,
                         .d = d,
                         .n_classes = n_classes,
                         .xt = GSGD_XTYPE_F32,
                         .X = X,
                         .y = y,
                         .borrowed = 1,
                         .meta = meta};
    *out = ds;
    return GSGD_STATUS_OK;
}

/* The loaders have already validated h, with messages that name the file
 * and record; checking again here would only repeat that pass. */
gsgd_status gsgdi_dataset_from_host_data(gsgd_context *ctx, const gsgdi_host_data *h,
                                         gsgd_dataset **out) {
    *out = NULL;
    GSGD_RETURN_ERROR_IF((!h->X + !h->X8 + !h->indptr != 2) || !h->y || h->n == 0 || h->d == 0, ctx,
                         GSGD_STATUS_INTERNAL, "dataset: empty host data");
    if (h->indptr)
        GSGD_FORWARD_IF_ERROR(gsgdi_dataset_from_csr_host(ctx, h, out));
    else if (h->X8 && h->bytes_by_default && ctx->device == GSGD_DEVICE_CPU) {
        /* Floats on the CPU (see data_options.c), bitwise the IDX
         * loader's: its conversion is GSGD_U8_FEATURE too. The CPU's
         * memory is the host's: converted in place of the copy. */
        GSGD_FORWARD_IF_ERROR(
            gsgdi_dataset_upload(ctx, NULL, GSGD_XTYPE_F32, h->y, h->n, h->d, h->n_classes, out));
        float *X = (*out)->X;
        const size_t count = h->n * h->d;
        for (size_t i = 0; i < count; i++) X[i] = GSGD_U8_FEATURE(h->X8[i]);
    } else if (h->X8)
        GSGD_FORWARD_IF_ERROR(
            gsgdi_dataset_upload(ctx, h->X8, GSGD_XTYPE_U8, h->y, h->n, h->d, h->n_classes, out));
    else
        GSGD_FORWARD_IF_ERROR(
            gsgdi_dataset_upload(ctx, h->X, GSGD_XTYPE_F32, h->y, h->n, h->d, h->n_classes, out));
    gsgd_status st = gsgdi_meta_copy(ctx, &(*out)->meta, &h->meta);
    if (st != GSGD_STATUS_OK) {
        gsgd_dataset_free(*out);
        *out = NULL;
    }
    return st;
}

gsgd_status gsgd_dataset_shape(const gsgd_dataset *ds, size_t *n, size_t *d, int *n_classes) {
    if (!ds) return GSGD_STATUS_INVALID_ARGUMENT;
    if (n) *n = ds->n;
    if (d) *d = ds->d;
    if (n_classes) *n_classes = ds->n_classes;
    return GSGD_STATUS_OK;
}

void gsgd_dataset_free(gsgd_dataset *ds) {
    if (!ds) return;
    if (ds->sparse) {
        gsgdi_csr_release(ds);
    } else if (!ds->borrowed) {
        if (ds->host_mapped)
            ds->ctx->be->release_host_mapped(ds->ctx, ds->X);
        else
            gsgdi_mem_free(ds->ctx, ds->X, gsgdi_dataset_x_bytes(ds));
        gsgdi_mem_free(ds->ctx, ds->y, ds->n * sizeof(float));
    }
    gsgdi_meta_clear(&ds->meta);
    free(ds);
}

gsgd_status gsgd_dataset_subset(const gsgd_dataset *ds, size_t first, size_t count, size_t stride,
                                gsgd_dataset **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!ds) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = ds->ctx;
    GSGD_RETURN_ERROR_IF(count == 0 || stride == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "dataset_subset: count %zu and stride %zu must both be positive", count,
                         stride);
    GSGD_RETURN_ERROR_IF(
        first >= ds->n || count - 1 > (ds->n - 1 - first) / stride, ctx, GSGD_STATUS_OUT_OF_RANGE,
        "dataset_subset: %zu rows from %zu with stride %zu run past the %zu samples", count, first,
        stride, ds->n);
    if (ds->sparse) {
        GSGD_FORWARD_IF_ERROR(gsgdi_csr_subset(ds, first, count, stride, out));
        gsgd_status st = gsgdi_meta_copy(ctx, &(*out)->meta, &ds->meta);
        if (st != GSGD_STATUS_OK) {
            gsgd_dataset_free(*out);
            *out = NULL;
        }
        return st;
    }
    /* Strided rows copied on the device, in the dataset's own storage type:
     * no host round trip of the (possibly large) full dataset. */
    const size_t row_bytes = ds->d * gsgdi_xtype_size(ds->xt);
    gsgd_dataset *sub = calloc(1, sizeof *sub);
    GSGD_RETURN_ERROR_IF(!sub, ctx, GSGD_STATUS_OUT_OF_MEMORY, "dataset_subset: allocation failed");
    sub->ctx = ctx;
    sub->n = count;
    sub->d = ds->d;
    sub->n_classes = ds->n_classes;
    sub->xt = ds->xt;
    void *py = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, alloc_features(ctx, sub, count * row_bytes), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, count * sizeof(float), &py), fail);
    sub->y = py;
    const uint8_t *X = ds->X;
    GSGD_CHECK_GOTO(st,
                    ctx->be->copy_2d(ctx, sub->X, row_bytes, X + first * row_bytes,
                                     stride * row_bytes, row_bytes, count),
                    fail);
    GSGD_CHECK_GOTO(st,
                    ctx->be->copy_2d(ctx, sub->y, sizeof(float), ds->y + first,
                                     stride * sizeof(float), sizeof(float), count),
                    fail);
    GSGD_CHECK_GOTO(st, gsgdi_meta_copy(ctx, &sub->meta, &ds->meta), fail);
    *out = sub;
    return GSGD_STATUS_OK;
fail:
    gsgd_dataset_free(sub);
    return st;
}

gsgd_status gsgdi_dataset_read_rows(const gsgd_dataset *ds, size_t start, size_t count,
                                    float *out) {
    gsgd_context *ctx = ds->ctx;
    const size_t m = count * ds->d;
    if (ds->sparse) return gsgdi_csr_read_rows(ds, start, count, out);
    if (ds->xt == GSGD_XTYPE_F32)
        return ctx->be->download(ctx, out, (const float *)ds->X + start * ds->d, m * sizeof(float));
    uint8_t *bytes = NULL;
    void *p = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, m, &p));
    bytes = p;
    gsgd_status st = ctx->be->download(ctx, bytes, (const uint8_t *)ds->X + start * ds->d, m);
    if (st == GSGD_STATUS_OK)
        for (size_t i = 0; i < m; i++) out[i] = GSGD_U8_FEATURE(bytes[i]);
    free(bytes);
    return st;
}
