/* What every dataset constructor shares, dense (dataset.c) or sparse
 * (sparse_dataset.c, csr_rows.c), in one leaf file they all call: the
 * check of caller targets, the meta (label map, source) copied, cleared,
 * or made for the caller's arrays, and the release of host data. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/dataset.h"

gsgd_status gsgdi_validate_target(gsgd_context *ctx, const char *who, size_t i, float t,
                                  int n_classes) {
    GSGD_RETURN_ERROR_IF(!isfinite(t), ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: sample %zu: target %g is not finite", who, i, (double)t);
    GSGD_RETURN_ERROR_IF(n_classes > 0 && (t < 0 || t >= (float)n_classes || t != floorf(t)), ctx,
                         GSGD_STATUS_BAD_VALUE,
                         "%s: sample %zu: label %g is not a class index in [0, %d)", who, i,
                         (double)t, n_classes);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_validate_targets(gsgd_context *ctx, const char *who, const float *y, size_t n,
                                   int n_classes) {
    for (size_t i = 0; i < n; i++)
        GSGD_FORWARD_IF_ERROR(gsgdi_validate_target(ctx, who, i, y[i], n_classes));
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_meta_copy(gsgd_context *ctx, gsgdi_data_meta *dst, const gsgdi_data_meta *src) {
    gsgdi_labels *labels = NULL;
    gsgdi_names *names = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_labels_copy(ctx, src->labels, &labels));
    gsgd_status st = gsgdi_names_copy(ctx, src->feature_names, &names);
    if (st != GSGD_STATUS_OK) {
        gsgdi_labels_free(labels);
        memset(dst, 0, sizeof *dst);
        return st;
    }
    *dst = *src;
    dst->labels = labels;
    dst->feature_names = names;
    return GSGD_STATUS_OK;
}

void gsgdi_meta_clear(gsgdi_data_meta *meta) {
    gsgdi_labels_free(meta->labels);
    gsgdi_names_free(meta->feature_names);
    memset(meta, 0, sizeof *meta);
}

gsgd_status gsgdi_arrays_meta(gsgd_context *ctx, const char *who, const float *y, size_t n,
                              int n_classes, gsgdi_data_meta *meta) {
    memset(meta, 0, sizeof *meta);
    snprintf(meta->source, sizeof meta->source, "%s", who);
    snprintf(meta->format, sizeof meta->format, "arrays");
    if (n_classes > 0) {
        meta->target_max = n_classes - 1;
        return gsgdi_labels_identity(ctx, n_classes, &meta->labels);
    }
    meta->target_min = n ? y[0] : 0.0;
    meta->target_max = meta->target_min;
    for (size_t i = 1; i < n; i++) {
        if (y[i] < meta->target_min) meta->target_min = y[i];
        if (y[i] > meta->target_max) meta->target_max = y[i];
    }
    return GSGD_STATUS_OK;
}

void gsgdi_host_data_free(gsgdi_host_data *h) {
    if (!h) return;
    if (!h->x_borrowed) free(h->X);
    free(h->X8);
    free(h->y);
    free(h->indptr);
    free(h->indices);
    free(h->values);
    if (h->release) h->release(h->keep);
    gsgdi_meta_clear(&h->meta);
    memset(h, 0, sizeof *h);
}
