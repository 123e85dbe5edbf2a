/* Datasets in backend memory, and the host data loaders produce before
 * upload. */
#ifndef GSGD_DATA_DATASET_H
#define GSGD_DATA_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "data/labels.h"
#include "data/names.h"
#include "gsgd.h"

/* Longest target column name a dataset and a model keep, NUL included. */
#define GSGD_TARGET_NAME_LEN 64

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
    gsgdi_names *feature_names;    /* the feature columns' header names (CSV), in
                                      order (owned); NULL when none */
    /* The target column's header name (CSV), "" when none: a model keeps
     * it to find the column again. */
    char target_name[GSGD_TARGET_NAME_LEN];
} gsgdi_data_meta;

/* Copies src into dst (a fresh copy of the label map); dst is cleared on
 * failure (meta.c, as the rest of the meta functions). */
gsgd_status gsgdi_meta_copy(gsgd_context *ctx, gsgdi_data_meta *dst, const gsgdi_data_meta *src);
/* Frees the label map and zeroes meta. */
void gsgdi_meta_clear(gsgdi_data_meta *meta);
/* The meta of arrays handed over by the caller (who names the function):
 * class indices, whose labels are the indices themselves, or real targets
 * and their range. */
gsgd_status gsgdi_arrays_meta(gsgd_context *ctx, const char *who, const float *y, size_t n,
                              int n_classes, gsgdi_data_meta *meta);

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
    /* Sparse datasets (X NULL): the rows in CSR (backend/sparse.h). */
    int sparse;
    size_t nnz;
    gsgdi_csr csr;        /* backend memory: one block of csr_bytes (gsgd's)
                             or the caller's arrays (borrowed) */
    void *csr_block;      /* that block, or NULL when borrowed */
    size_t csr_bytes;     /* its bytes */
    int64_t *host_indptr; /* host copy of csr.indptr (n + 1) */
    uint64_t *top_nnz;    /* host, n + 1: top_nnz[B] = nonzeros of the B
                             densest rows, the bound on any batch of B */
    gsgdi_data_meta meta;
};

/* Bytes of backend memory the dataset's features take (X, or the CSR). */
static inline size_t gsgdi_dataset_x_bytes(const gsgd_dataset *ds) {
    return ds->sparse ? ds->csr_bytes : ds->n * ds->d * gsgdi_xtype_size(ds->xt);
}

/* Nonzeros a batch of B rows of a sparse dataset can hold at most: those
 * of its B densest rows, whatever the permutation (0 for dense data). */
static inline size_t gsgdi_dataset_batch_nnz(const gsgd_dataset *ds, size_t B) {
    if (!ds->sparse) return 0;
    return (size_t)ds->top_nnz[B < ds->n ? B : ds->n];
}

/* Allocates backend memory for n x d features of type xt and n targets and
 * copies the host arrays in (X NULL: the features are left to the caller);
 * the meta is left empty. */
gsgd_status gsgdi_dataset_upload(gsgd_context *ctx, const void *X, gsgdi_xtype xt, const float *y,
                                 size_t n, size_t d, int n_classes, gsgd_dataset **out);

/* Copies rows [start, start + count) of ds's features to host floats out
 * (count x d), converting stored bytes exactly as the gather does. */
gsgd_status gsgdi_dataset_read_rows(const gsgd_dataset *ds, size_t start, size_t count, float *out);

/* Target t of sample i finite, and a class index below n_classes when
 * n_classes > 0 (BAD_VALUE naming who and the sample otherwise); and the
 * same for every target of y. */
gsgd_status gsgdi_validate_target(gsgd_context *ctx, const char *who, size_t i, float t,
                                  int n_classes);
gsgd_status gsgdi_validate_targets(gsgd_context *ctx, const char *who, const float *y, size_t n,
                                   int n_classes);

/* Host-side data as produced by the loaders before upload: dense rows (X
 * or X8), or sparse rows in CSR (indptr, indices, values), exactly one of
 * the three. */
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
    /* CSR rows (svmlight, scipy's save_npz, synth-sparse), all malloc'd:
     * row i's nonzeros are indices/values[indptr[i] .. indptr[i + 1]),
     * every index below d; NULL for dense rows. */
    int64_t *indptr;  /* n + 1 */
    int32_t *indices; /* nnz */
    float *values;    /* nnz */
    size_t nnz;
} gsgdi_host_data;

void gsgdi_host_data_free(gsgdi_host_data *h);

/* Whether h holds rows (dense or sparse): a loader's part that is there. */
static inline int gsgdi_host_data_has_rows(const gsgdi_host_data *h) {
    return h->X || h->X8 || h->indptr;
}

/* Uploads h's CSR rows, which the reader validated (finite values and
 * targets, indices below d), into a sparse dataset; h keeps its arrays,
 * the meta is left empty (gsgdi_dataset_from_host_data copies it). */
gsgd_status gsgdi_dataset_from_csr_host(gsgd_context *ctx, const gsgdi_host_data *h,
                                        gsgd_dataset **out);
/* A host copy of a sparse dataset's rows (int32 indices) and targets into
 * out's CSR fields, y, n, d and n_classes (no meta). */
gsgd_status gsgdi_dataset_csr_download(const gsgd_dataset *ds, gsgdi_host_data *out);
/* The sparse cases of gsgd_dataset_split, gsgd_dataset_subset and
 * gsgdi_dataset_read_rows (dense rows out of CSR), and the release of a
 * sparse dataset's memory (gsgd_dataset_free). */
gsgd_status gsgdi_csr_split(const gsgd_dataset *ds, const size_t *perm, size_t n_train,
                            gsgd_dataset **train, gsgd_dataset **test);
gsgd_status gsgdi_csr_subset(const gsgd_dataset *ds, size_t first, size_t count, size_t stride,
                             gsgd_dataset **out);
gsgd_status gsgdi_csr_read_rows(const gsgd_dataset *ds, size_t start, size_t count, float *out);
void gsgdi_csr_release(gsgd_dataset *ds);
/* gsgd_dataset_free of a sparse dataset (NULL: no-op), for the sparse
 * files, which sit below dataset.c. */
void gsgdi_csr_dataset_free(gsgd_dataset *ds);
/* Mean squared norm of a sparse dataset's rows, each value times
 * inv_std[its feature] when inv_std (backend memory, d floats) is not
 * NULL: the rows a scaled model sees (0 for dense data). */
gsgd_status gsgdi_dataset_mean_sq_norm(const gsgd_dataset *ds, const float *inv_std, double *out);
/* Uploads h into a dataset (h keeps ownership of its arrays; the dataset
 * gets a copy of its meta). Bytes kept by default become floats on a CPU
 * context, as they would have been read there. */
gsgd_status gsgdi_dataset_from_host_data(gsgd_context *ctx, const gsgdi_host_data *h,
                                         gsgd_dataset **out);

#endif
