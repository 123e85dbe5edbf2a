/* What a dataset holds, for people (gsgd_dataset_describe) and for code
 * (labels, target range, rows back on the host). */
#include <stdio.h>
#include <string.h>

#include "data/loaders.h"

/* "7.9 KiB" */
static void human_bytes(double b, char *buf, size_t size) {
    static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    int u = 0;
    while (b >= 1024.0 && u < 4) b /= 1024.0, u++;
    snprintf(buf, size, u ? "%.1f %s" : "%.0f %s", b, unit[u]);
}

gsgd_status gsgd_dataset_describe(const gsgd_dataset *ds, char *buf, size_t size) {
    if (!ds || !buf || !size) return GSGD_STATUS_INVALID_ARGUMENT;
    const gsgdi_data_meta *m = &ds->meta;
    char targets[256], mem[32];
    if (m->no_targets && ds->n_classes == 0)
        snprintf(targets, sizeof targets, "no targets");
    else if (m->no_targets)
        snprintf(targets, sizeof targets, "no targets (for %d classes)", ds->n_classes);
    else if (ds->n_classes > 0 && m->labels)
        gsgdi_labels_summary(m->labels, targets, sizeof targets);
    else if (ds->n_classes > 0)
        snprintf(targets, sizeof targets, "%d classes", ds->n_classes);
    else
        snprintf(targets, sizeof targets, "target %.6g .. %.6g", m->target_min, m->target_max);
    human_bytes((double)gsgdi_dataset_x_bytes(ds) + (double)ds->n * sizeof(float), mem, sizeof mem);
    char storage[64];
    if (ds->sparse)
        snprintf(storage, sizeof storage, "CSR, %zu nonzeros", ds->nnz);
    else
        snprintf(storage, sizeof storage, "%s", ds->xt == GSGD_XTYPE_U8 ? "u8" : "f32");
    snprintf(buf, size, "%s%s%s%s: %s%s%s%s, %zu rows x %zu features, %s, %s%s, %s",
             m->source[0] ? m->source : "dataset", m->part[0] ? " (" : "", m->part,
             m->part[0] ? ")" : "", m->format[0] ? m->format : "arrays", m->detail[0] ? " (" : "",
             m->detail, m->detail[0] ? ")" : "", ds->n, ds->d, targets, storage,
             ds->host_mapped ? " in pinned host memory" : "", mem);
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_label(const gsgd_dataset *ds, int k, const char **text) {
    if (!ds || !text) return GSGD_STATUS_INVALID_ARGUMENT;
    *text = NULL;
    GSGD_RETURN_ERROR_IF(
        !ds->meta.labels || k < 0 || k >= ds->meta.labels->n, ds->ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "dataset_label: class %d out of range (the dataset has %d classes)", k, ds->n_classes);
    *text = ds->meta.labels->text[k];
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_targets(const gsgd_dataset *ds, int *has, double *lo, double *hi) {
    if (!ds) return GSGD_STATUS_INVALID_ARGUMENT;
    if (has) *has = !ds->meta.no_targets;
    if (lo) *lo = ds->meta.target_min;
    if (hi) *hi = ds->meta.target_max;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_feature_name(const gsgd_dataset *ds, size_t j, const char **name) {
    if (!ds || !name) return GSGD_STATUS_INVALID_ARGUMENT;
    *name = NULL;
    GSGD_RETURN_ERROR_IF(j >= ds->d, ds->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "dataset_feature_name: feature %zu out of range (the data has %zu)", j,
                         ds->d);
    const gsgdi_names *names = ds->meta.feature_names;
    *name = names && j < names->n ? names->at[j] : "";
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_target_name(const gsgd_dataset *ds, const char **name) {
    if (!ds || !name) return GSGD_STATUS_INVALID_ARGUMENT;
    *name = ds->meta.target_name;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_dataset_read(const gsgd_dataset *ds, size_t first, size_t count, float *X,
                              float *y) {
    if (!ds) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = ds->ctx;
    GSGD_RETURN_ERROR_IF(first > ds->n || count > ds->n - first, ctx, GSGD_STATUS_OUT_OF_RANGE,
                         "dataset_read: rows %zu to %zu of %zu", first, first + count, ds->n);
    if (count == 0) return GSGD_STATUS_OK;
    if (X) GSGD_FORWARD_IF_ERROR(gsgdi_dataset_read_rows(ds, first, count, X));
    if (y) GSGD_FORWARD_IF_ERROR(ctx->be->download(ctx, y, ds->y + first, count * sizeof(float)));
    return GSGD_STATUS_OK;
}
