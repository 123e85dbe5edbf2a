/*
 * The file `gsgd predict` writes: one row per input row, the predicted
 * label as the training data had it (classes), the predicted value
 * (regression), or with --proba the probability of each class, one column
 * per class. As CSV (a header line, RFC 4180 quoting) or as NumPy's .npy
 * (format 1.0): int64 labels when every label is an integer, else
 * unicode strings; float32 values; an n x K float32 array of
 * probabilities, the columns in the order of the model's labels
 * (`gsgd info MODEL` lists them).
 */
#ifndef GSGD_CLI_PRED_OUT_H
#define GSGD_CLI_PRED_OUT_H

#include <stdint.h>
#include <stdio.h>

#include "gsgd.h"

typedef enum {
    CLI_PRED_LABELS, /* class labels */
    CLI_PRED_VALUES, /* regression values */
    CLI_PRED_PROBA   /* one probability per class */
} cli_pred_kind;

typedef struct {
    FILE *f;
    const gsgd_model *model;
    cli_pred_kind kind;
    int npy;        /* .npy, else CSV */
    int k;          /* the model's classes (0: regression) */
    int int_labels; /* every label is an integer: .npy writes int64 */
    size_t width;   /* .npy string labels: code points of the longest */
} cli_pred_out;

/* 1 when path names a .npy file (else CSV is written). */
int cli_pred_is_npy(const char *path);

/* Sets up o for n rows of model's predictions of kind to f and writes the
 * header (CSV's line, or .npy's dict). Returns 0, or -1 when out of
 * memory. */
int cli_pred_begin(cli_pred_out *o, FILE *f, const gsgd_model *model, cli_pred_kind kind, int npy,
                   size_t n);

/* Writes count rows: class indices for LABELS, values for VALUES,
 * count x k probabilities for PROBA. Write errors show in ferror(o->f). */
void cli_pred_write(cli_pred_out *o, const int32_t *classes, const float *values, size_t count);

#endif
