/* Label maps: the sorted list of a classification target's original labels
 * (integers, or text), whose position is the class index the models use.
 * Datasets carry one, models store one, predictions give the labels back.
 * Never installed. */
#ifndef GSGD_DATA_LABELS_H
#define GSGD_DATA_LABELS_H

#include <stddef.h>
#include <stdint.h>

#include "gsgd.h"

/* Longest label text a map takes: a longer "label" is a column of free
 * text, not of classes. */
#define GSGD_MAX_LABEL_TEXT 255

typedef struct {
    int n;           /* classes */
    int numeric;     /* 1: integers, values[] ascending; 0: texts ascending by strcmp
                        (byte order, as numpy.unique sorts str) */
    int64_t *values; /* n labels when numeric, else NULL */
    char **text;     /* n texts (numeric labels in decimal), into pool */
    char *pool;
    size_t pool_bytes;
} gsgdi_labels;

/* The map of the class indices themselves: 0, 1, ..., n-1. */
gsgd_status gsgdi_labels_identity(gsgd_context *ctx, int n, gsgdi_labels **out);
/* A map of n distinct integers given in ascending order. */
gsgd_status gsgdi_labels_from_values(gsgd_context *ctx, const int64_t *values, int n,
                                     gsgdi_labels **out);
/* A map of n distinct texts given in ascending strcmp order. */
gsgd_status gsgdi_labels_from_texts(gsgd_context *ctx, const char *const *texts, int n,
                                    gsgdi_labels **out);
/* A copy of src (NULL gives NULL). */
gsgd_status gsgdi_labels_copy(gsgd_context *ctx, const gsgdi_labels *src, gsgdi_labels **out);
void gsgdi_labels_free(gsgdi_labels *l);

/* 1 when both maps hold the same labels in the same order (two NULLs too). */
int gsgdi_labels_equal(const gsgdi_labels *a, const gsgdi_labels *b);
/* 1 when l is 0, 1, ..., n-1. */
int gsgdi_labels_is_identity(const gsgdi_labels *l);
/* The class of an integer label, or -1 (texts of a text map compared as
 * the integer's decimal). */
int gsgdi_labels_find_value(const gsgdi_labels *l, int64_t v);
/* The class of a label text, or -1: a numeric map parses it as an integer
 * ("+1" and "1.0" find label 1). */
int gsgdi_labels_find_text(const gsgdi_labels *l, const char *s);

/* "3 classes (1, 2, 3)", "10 classes (0, 1, 2, ..., 9)": the first and last
 * few labels. Always NUL-terminated. */
void gsgdi_labels_summary(const gsgdi_labels *l, char *buf, size_t size);

/* The map as bytes in model files and checkpoints (native little-endian):
 *   u32 kind (1 integers, 2 texts), u32 n,
 *   then n int64 (kind 1), or u64 bytes and the texts NUL-terminated (2). */
size_t gsgdi_labels_image_bytes(const gsgdi_labels *l);
void gsgdi_labels_image_write(const gsgdi_labels *l, unsigned char *out);
/* The length of the image whose first len >= 16 bytes are p, from its
 * header alone, in *bytes; 0 when they are no image's (a bad kind or
 * count). A file's size is checked with it before the file is read. */
int gsgdi_labels_image_size(const unsigned char *p, size_t len, uint64_t *bytes);
/* Reads an image from p[0, len), every count and text checked (what names
 * the file in the message); *used gets its length. BAD_FORMAT. */
gsgd_status gsgdi_labels_image_read(gsgd_context *ctx, const char *what, const unsigned char *p,
                                    size_t len, size_t *used, gsgdi_labels **out);

#endif
