/* Datasets in backend memory, and the host data loaders produce before
 * upload. */
#ifndef GSGD_DATA_DATASET_H
#define GSGD_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "gsgd.h"

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
};

/* Bytes of backend memory the dataset's X takes. */
static inline size_t gsgdi_dataset_x_bytes(const gsgd_dataset *ds) {
    return ds->n * ds->d * gsgdi_xtype_size(ds->xt);
}

/* Copies rows [start, start + count) of ds's features to host floats out
 * (count x d), converting stored bytes exactly as the gather does. */
gsgd_status gsgdi_dataset_read_rows(const gsgd_dataset *ds, size_t start, size_t count, float *out);

/* Host-side data as produced by the loaders before upload. */
typedef struct {
    float *X;    /* n x d, malloc'd; NULL when X8 holds the features */
    uint8_t *X8; /* n x d ubyte pixels (GSGD_XTYPE_U8), malloc'd, or NULL */
    float *y;    /* n, malloc'd */
    size_t n, d;
    int n_classes;
} gsgdi_host_data;

void gsgdi_host_data_free(gsgdi_host_data *h);
/* Uploads h into a dataset (h keeps ownership of its arrays). */
gsgd_status gsgdi_dataset_from_host_data(gsgd_context *ctx, const gsgdi_host_data *h,
                                         gsgd_dataset **out);

#endif
