/* Feature names: the header names of a CSV file's feature columns, which a
 * dataset and a model keep so that data for the model is read column by
 * name, in the model's order, whatever the file's order (names.c). */
#ifndef GSGD_DATA_NAMES_H
#define GSGD_DATA_NAMES_H

#include <stddef.h>
#include <stdint.h>

#include "core/context.h"
#include "core/error.h"

/* Longest name kept (bytes, NUL not counted): a header with a longer one
 * keeps no names, and its columns are read by position. */
#define GSGD_MAX_NAME_TEXT 255

typedef struct {
    size_t n;
    char *pool;   /* the n names, each NUL-terminated, one after the other */
    size_t bytes; /* of pool */
    char **at;    /* n pointers into pool */
    int distinct; /* no name occurs twice: only then are columns matched by name */
} gsgdi_names;

/* Copies n texts into a new list; *out is NULL when a text is longer than
 * GSGD_MAX_NAME_TEXT (no names kept). */
gsgd_status gsgdi_names_make(gsgd_context *ctx, const char *const *texts, size_t n,
                             gsgdi_names **out);
/* A copy of src (NULL gives NULL). */
gsgd_status gsgdi_names_copy(gsgd_context *ctx, const gsgdi_names *src, gsgdi_names **out);
void gsgdi_names_free(gsgdi_names *names);

/* "13 named (alcohol, malic_acid, ash, ..., proline)" into buf, cut to
 * size. */
void gsgdi_names_summary(const gsgdi_names *names, char *buf, size_t size);

/* For each of the n texts have, the index of the same name in ref, or
 * SIZE_MAX when ref has none; O((n + ref->n) log) whatever the order. ref
 * must be distinct. */
gsgd_status gsgdi_names_match(gsgd_context *ctx, const gsgdi_names *ref, const char *const *have,
                              size_t n, size_t *index);

/* The image in model files and checkpoints: 8 bytes, the pool's length,
 * then the pool. */
size_t gsgdi_names_image_bytes(const gsgdi_names *names);
void gsgdi_names_image_write(const gsgdi_names *names, unsigned char *out);
/* Checks the image of n names at p[0, len) as gsgdi_names_image_read does,
 * without making the list (a file's layout needs only its length, *used). */
gsgd_status gsgdi_names_image_check(gsgd_context *ctx, const char *what, const unsigned char *p,
                                    size_t len, size_t n, size_t *used);
/* Reads the image of n names from p[0, len): every name NUL-terminated and
 * at most GSGD_MAX_NAME_TEXT long, the pool exactly n of them (what names
 * the file in BAD_FORMAT's message); *used: the image's bytes. */
gsgd_status gsgdi_names_image_read(gsgd_context *ctx, const char *what, const unsigned char *p,
                                   size_t len, size_t n, size_t *used, gsgdi_names **out);

#endif
