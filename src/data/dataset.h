/* Datasets in backend memory, and the host data loaders produce before
 * upload. */
#ifndef GSGD_DATA_DATASET_H
#define GSGD_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "data/labels.h"
#include "gsgd.h"

/* What a dataset is besides its numbers: the label map, the targets'
 * range, and where it came from (gsgd_dataset_describe's line). */
typedef struct {
    gsgdi_labels *labels;          /* classes: the map from class index to original
                                      label (owned); NULL for regression */
    int no_targets;                /* loaded without a target column: y is all 0 */
    double target_min, target_max; /* range of the targets as given (labels
                                      of a numeric map, real values) */
    char source[256];              /* path or spec as given, cut to fit */
    char format[24];               /* "CSV", "svmlight", "npy", "npz", "IDX", "synth", "arrays" */
    char detail[96];               /* "comma-separated, header", "1-based indices", ... */
    char part[32];                 /* "train part, 80%" after a split, else "" */
} gsgdi_data_meta;

/* Copies src into dst (a fresh copy of the label map); dst is cleared on
 * failure. */
gsgd_status gsgdi_meta_copy(gsgd_context *ctx, gsgdi_data_meta *dst, const gsgdi_data_meta *src);
/* Frees the label map and zeroes meta. */
void gsgdi_meta_clear(gsgdi_data_meta *meta);

struct gsgd_dataset {
    gsgd_context *ctx;
    size_t n, d;
    int n_classes;   /* 0 = regression */
    gsgdi_xtype xt;  /* how X stores the features (backend.h) */
    void *X;         /* backend memory, n x d values of type xt */
    float *y;        /* backend memory, n */
    int borrowed;    /* X and y are the caller's (gsgd_dataset_from_device):
                        never freed, never counted as gsgd's memory */
    int host_mapped; /* X did not fit the device's memory: it is in mapped
                        pinned host memory (be->alloc_host_mapped), read by
                        the gather over the bus; not counted as device
                        memory */
    gsgdi_data_meta meta;
};

/* Bytes of backend memory the dataset's X takes. */
static inline size_t gsgdi_dataset_x_bytes(const gsgd_dataset *ds) {
    return ds->n * ds->d * gsgdi_xtype_size(ds->xt);
}

/* Allocates backend memory for n x d features of type xt and n targets and
 * copies the host arrays in (X NULL: the features are left to the caller);
 * the meta is left empty. */
gsgd_status gsgdi_dataset_upload(gsgd_context *ctx, const void *X, gsgdi_xtype xt, const float *y,
                                 size_t n, size_t d, int n_classes, gsgd_dataset **out);

/* Copies rows [start, start + count) of ds's features to host floats out
 * (count x d), converting stored bytes exactly as the gather does. */
gsgd_status gsgdi_dataset_read_rows(const gsgd_dataset *ds, size_t start, size_t count, float *out);

/* Host-side data as produced by the loaders before upload. */
typedef struct {
    float *X;    /* n x d, malloc'd (or borrowed); NULL when X8 holds the features */
    uint8_t *X8; /* n x d ubyte pixels (GSGD_XTYPE_U8), malloc'd, or NULL */
    float *y;    /* n, malloc'd */
    size_t n, d;
    int n_classes;
    gsgdi_data_meta meta; /* owned: freed with the host data */
    int x_borrowed;       /* X points into memory release() frees (a mapped
                             file read in place), never free()d itself */
    int bytes_by_default; /* X8 holds ubyte pixels because the storage was
                             left to the device (GSGD_STORAGE_AUTO) and none
                             was known when they were read: a CPU context
                             takes them as floats (the IDX loader's own) */
    void (*release)(void *keep);
    void *keep;
} gsgdi_host_data;

void gsgdi_host_data_free(gsgdi_host_data *h);
/* Uploads h into a dataset (h keeps ownership of its arrays; the dataset
 * gets a copy of its meta). Bytes kept by default become floats on a CPU
 * context, as they would have been read there. */
gsgd_status gsgdi_dataset_from_host_data(gsgd_context *ctx, const gsgdi_host_data *h,
                                         gsgd_dataset **out);

#endif
