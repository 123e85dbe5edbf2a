/* Data loaders: files and generators that produce host data (gsgdi_host_data,
 * see internal.h) before it is uploaded into a gsgd_dataset.
 *
 * Every loader validates what it reads and names the file and the record or
 * line in gsgd_last_error. On failure *out is left empty ({0}) and nothing
 * is leaked; on success the caller frees it with gsgdi_host_data_free. */
#ifndef GSGD_DATA_H
#define GSGD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* Largest class count any loader produces or gsgd_dataset_from_host accepts:
 * a softmax layer wider than this is a label-file mistake, not a dataset. */
#define GSGD_MAX_CLASSES 65536

/* Largest n x d any loader accepts: 2^32 floats (16 GiB). Larger headers are
 * GSGD_STATUS_TOO_LARGE before anything is allocated. */
#define GSGD_MAX_ELEMENTS ((uint64_t)1 << 32)

/* How a loader should store the features (the spec's storage= option). */
typedef enum {
    GSGD_STORAGE_AUTO, /* bytes for ubyte IDX images (exact), floats otherwise;
                          the specs ask for F32 on a CPU context (data_spec.c) */
    GSGD_STORAGE_F32,  /* floats always */
    GSGD_STORAGE_U8    /* bytes; only ubyte IDX images can be stored so */
} gsgdi_storage;

/* Reads an IDX image file (ubyte, byte, short, int, float or double; 2 to 4
 * dimensions, the first one is the sample count) and an IDX label file (one
 * dimension, integer type). Either may be gzip-compressed. ubyte images are
 * scaled to [0,1] (GSGD_U8_FEATURE); other types are kept as they are.
 * With storage AUTO or U8, ubyte images stay bytes in out->X8 (out->X is
 * NULL): the same features in a quarter of the memory. n_classes is the
 * largest label + 1, at least 2. Statuses: IO (open/read), BAD_FORMAT
 * (header, truncation, count mismatch), BAD_VALUE (NaN/Inf, negative
 * label), TOO_LARGE (absurd dimensions), INVALID_ARGUMENT (storage U8 for
 * images that are not ubyte). */
gsgd_status gsgdi_load_idx(gsgd_context *ctx, const char *images_path, const char *labels_path,
                           gsgdi_storage storage, gsgdi_host_data *out);

/* Reads comma-separated numbers, one sample per line, the target in the first
 * column (label_last == 0) or the last one. header skips the first line.
 * Classification targets (regression == 0) must be non-negative integers and
 * n_classes is the largest + 1 (at least 2); regression gives n_classes 0.
 * Statuses: IO, BAD_FORMAT (ragged rows, empty file), BAD_VALUE. */
gsgd_status gsgdi_load_csv(gsgd_context *ctx, const char *path, int label_last, int header,
                           int regression, gsgdi_host_data *out);

/* A learnable problem from a random teacher: x ~ N(0, I_d), teacher W (d x k)
 * ~ N(0, 1/d); label = argmax_k (x W)_k for k >= 2, and for k == 1 a
 * regression target y = x.w + 0.1 N(0,1). The first floor(0.8 n) samples
 * (at least 1, at most n-1) go to train, the rest to test. Deterministic for
 * a seed. Statuses: INVALID_ARGUMENT (n < 2, d < 1, k outside [1, 65536]),
 * TOO_LARGE (n x d above GSGD_MAX_ELEMENTS). */
gsgd_status gsgdi_synth(gsgd_context *ctx, size_t n, size_t d, int k, uint64_t seed,
                        gsgdi_host_data *train, gsgdi_host_data *test);

/* ---- sparse (CSR) readers: gsgdi_csr_host (data/dataset.h) ------------- */

/* STOPGAP (svmlight_csr.c), to be replaced by the data-in branch's svmlight
 * parser filling the same struct: svmlight/LIBSVM text at path, gzip or
 * plain, streamed. base: -1 detects (0-based when an index 0 occurs, else
 * 1-based), 0 zero-based, 1 one-based; n_features 0 takes the largest index
 * + 1. Errors name the file and the line. Statuses: IO, BAD_FORMAT (a
 * malformed line), BAD_VALUE (a label, an index past n_features),
 * OUT_OF_MEMORY. */
gsgd_status gsgdi_load_svmlight_csr(gsgd_context *ctx, const char *path, int base,
                                    size_t n_features, gsgdi_csr_host *out);
/* Labels to out->y (allocated, n) and out->n_classes: all -1/+1 become
 * classes 0/1, else each must be a class index (a non-negative integer);
 * n_classes is the largest + 1, at least 2. BAD_VALUE naming what and the
 * sample otherwise. */
gsgd_status gsgdi_csr_classes(gsgd_context *ctx, const char *what, const double *labels, size_t n,
                              gsgdi_csr_host *out);
/* scipy.sparse.save_npz's CSR file at path and its labels (a 1-D .npy, or
 * text with one label a line) (npz_csr.c). Statuses: IO, BAD_FORMAT (not a
 * zip, a member missing or corrupt, not csr), BAD_VALUE, TOO_LARGE,
 * OUT_OF_MEMORY. */
gsgd_status gsgdi_load_npz_csr(gsgd_context *ctx, const char *path, const char *labels,
                               gsgdi_csr_host *out);
/* synth-sparse (synth_sparse.c): see gsgd_dataset_load. */
gsgd_status gsgdi_synth_sparse(gsgd_context *ctx, size_t n, size_t D, int k, size_t nnz,
                               uint64_t seed, gsgdi_csr_host *train, gsgdi_csr_host *test);
/* The sparse specs of gsgd_dataset_load (sparse_spec.c): *handled is 0
 * when spec is none of them (nothing done), else 1 and the datasets are
 * loaded as gsgd_dataset_load returns them. */
gsgd_status gsgdi_load_sparse_spec(gsgd_context *ctx, const char *spec, gsgd_dataset **train,
                                   gsgd_dataset **test, int *handled);

#endif
