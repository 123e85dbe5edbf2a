/*
 * Sparse (CSR) data as the backend ops see it (backend.h's csr_* ops and
 * the row-sparse update): a dataset's rows, a step's batch of them, and
 * the state of the lazy weight decay. Everything is backend memory unless
 * a field says "host". Included by backend.h; never installed.
 */
#ifndef GSGD_BACKEND_SPARSE_H
#define GSGD_BACKEND_SPARSE_H

#include <stddef.h>
#include <stdint.h>

/* The rows of a CSR dataset: row i's nonzeros are
 * indices[indptr[i] .. indptr[i + 1]) and values[same]. Column indices are
 * int32, or int64 (idx64) as a caller's device arrays may hold them. */
typedef struct {
    const int64_t *indptr; /* n + 1 */
    const void *indices;   /* nnz column indices, int32 or int64 */
    const float *values;   /* nnz */
    int idx64;
} gsgdi_csr;

/* Column index k of a CSR's indices (host or device code). */
#define GSGD_CSR_COL(ind, idx64, k)                                                                \
    ((idx64) ? (int64_t)((const int64_t *)(ind))[k] : (int64_t)((const int32_t *)(ind))[k])

/* A step's batch of B CSR rows, as csr_gather writes it, with room for
 * cap nonzeros (the planner's bound on the densest batch). csr_compact
 * then groups the nonzeros by feature: feat[0 .. *n_feat) are the batch's
 * distinct features in increasing order, and the nonzeros of feat[i] are
 * order[fptr[i] .. fptr[i + 1]), in batch order. The weight gradient of a
 * layer over this batch is then row-sparse: n_feat rows, one per distinct
 * feature, in that order (a "compact" gradient). */
typedef struct {
    size_t cap;      /* nonzeros the arrays below hold */
    int32_t *ptr;    /* B + 1: row i's nonzeros are [ptr[i], ptr[i + 1]) */
    int32_t *col;    /* cap: the feature of each nonzero */
    float *val;      /* cap: its value, scaled by 1/std when standardised */
    int32_t *row;    /* cap: the batch row of each nonzero */
    int32_t *feat;   /* cap: distinct features, ascending */
    int32_t *n_feat; /* 1: how many */
    int32_t *fptr;   /* cap + 1 */
    int32_t *order;  /* cap */
    void *scratch;   /* csr_compact's scratch, csr_compact_scratch bytes */
    size_t scratch_bytes;
} gsgdi_csr_batch;

/* The lazy L2 weight decay of plain SGD over the rows of one weight
 * matrix (d rows of K): instead of shrinking every row by
 * f_s = 1 - lr_s wd at every step s, a row takes the shrinking it missed
 * when a batch next touches it, or at a flush. logf[s] is the sum of
 * log f over the steps before step s of this epoch (logf[0] = 0; step s's
 * row update writes logf[s + 1]), and upto[j] the number of steps whose
 * shrinking row j has had. Row j caught up to step s is multiplied by
 * exp(logf[s] - logf[upto[j]]), computed in double: the dense product
 * of the f's up to rounding (tests/test_sparse_update.c bounds it). A
 * flush catches every row up and zeroes both arrays. */
typedef struct {
    uint32_t *upto; /* d */
    double *logf;   /* steps of an epoch + 1 */
    size_t len;     /* entries of logf */
} gsgdi_lazy_decay;

#endif
