/* Whole-file binary I/O shared by model files (model_io.c) and checkpoints
 * (checkpoint.c): an append buffer, atomic replacement, whole-file reads.
 * Never installed. */
#ifndef GSGD_FILEIO_H
#define GSGD_FILEIO_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* Files are native little-endian; this mark in the header tells a reader
 * on a host of the other byte order that it cannot use the file. */
#define GSGD_FILE_BOM 0x01020304u

/* A fixed-capacity byte buffer that a file image is assembled in. */
typedef struct {
    unsigned char *buf;
    size_t len, cap;
} gsgdi_bytes;

/* Appends n bytes; returns -1 (and appends nothing) past cap. */
int gsgdi_bytes_put(gsgdi_bytes *b, const void *p, size_t n);

/* Appends the zlib CRC32 of every byte so far. */
void gsgdi_bytes_put_crc(gsgdi_bytes *b);

/* 1 when the last 4 bytes of data[0, len) are the CRC32 of the rest. */
int gsgdi_crc_ok(const unsigned char *data, size_t len);

/* Replaces path by len bytes so that path is never seen half-written: the
 * bytes go to "<path>.tmp", which is fsynced and renamed over path, then
 * the directory is fsynced. The temporary's name is fixed so that a save
 * killed half-way leaves one stale "<path>.tmp" that the next save to path
 * truncates and reuses (readers never look at it). Concurrent saves to the
 * same path take turns through an flock on the temporary. path follows
 * outpath.h's rule: a symbolic link's target is replaced (the temporary is
 * "<target>.tmp") and the link kept; a device, FIFO, socket or directory
 * is refused. Fails naming path: IO when the path is refused or cannot be
 * created (its directory missing or unwritable), WRITE_FAILED when writing
 * fails (disk full, I/O error), which leaves path as it was. */
gsgd_status gsgdi_write_atomically(gsgd_context *ctx, const char *path, const void *data,
                                   size_t len);

/* The size in bytes of the file f (path) whose first n bytes are head (n
 * <= GSGD_FILE_HEAD, fewer only when the file is shorter), from its header
 * and, where a part's length is in that part's own header (a label map),
 * the few bytes read there (gsgdi_file_read_at); BAD_FORMAT naming path
 * when they describe no file of the format. */
typedef gsgd_status (*gsgdi_file_size_fn)(gsgd_context *ctx, const char *path, FILE *f,
                                          const unsigned char *head, size_t n, uint64_t *size);
#define GSGD_FILE_HEAD 512
/* Files up to this size are read whole before their header is looked at. */
#define GSGD_FILE_READ_UNCHECKED ((uint64_t)1 << 20)

/* Reads a whole regular file into a malloc'd buffer (*data, freed by the
 * caller). A file larger than GSGD_FILE_READ_UNCHECKED must be the size
 * its header describes (size_of) before anything is allocated for it: a
 * large file that is not what it claims (a data set given as a model)
 * costs a header read, not its size in memory. GSGD_STATUS_IO naming path
 * when it cannot be read, BAD_FORMAT when its size is not its header's. */
gsgd_status gsgdi_read_whole_file(gsgd_context *ctx, const char *path, gsgdi_file_size_fn size_of,
                                  unsigned char **data, size_t *len);

/* Reads n bytes at offset off of f (without moving its position); 0, or
 * -1 when the file ends before them. */
int gsgdi_file_read_at(FILE *f, uint64_t off, void *buf, size_t n);

/* What a model file and a checkpoint end with, in this order, before the
 * CRC: the feature names, the target column's name and the label map,
 * each when the model has it (GSGDI_TAIL_* bits of gsgdi_model_tail). */
enum { GSGDI_TAIL_NAMES = 1, GSGDI_TAIL_TARGET = 2, GSGDI_TAIL_LABELS = 4 };
unsigned gsgdi_model_tail(const gsgd_model *m);
/* The tail's bytes, and the tail appended to b (which has room for it). */
size_t gsgdi_model_tail_bytes(const gsgd_model *m, unsigned tail);
void gsgdi_model_tail_put(gsgdi_bytes *b, const gsgd_model *m, unsigned tail);

/* Where the feature names' image (data/names.h) that starts at offset at
 * of f (path) ends, from its length field, in *end; BAD_FORMAT naming path
 * when the file ends first. For a gsgdi_file_size_fn. */
gsgd_status gsgdi_file_names_end(gsgd_context *ctx, const char *path, FILE *f, uint64_t at,
                                 uint64_t *end);
/* The feature names' image at p, no more than len bytes, of a model with
 * n features: its length in *bytes (BAD_FORMAT naming path when it does not
 * fit in len), every name checked (gsgdi_names_image_check). */
gsgd_status gsgdi_names_image_span(gsgd_context *ctx, const char *path, const unsigned char *p,
                                   size_t len, size_t n, size_t *bytes);

/* Copies the target column's name, GSGD_TARGET_NAME_LEN NUL-padded bytes
 * at p of a model file or checkpoint (path), into name; BAD_FORMAT naming
 * path when they are no NUL-terminated, non-empty name. */
gsgd_status gsgdi_file_target_name(gsgd_context *ctx, const char *path, const unsigned char *p,
                                   char *name);

/* Where the label map that starts at offset at of f (path) ends, from the
 * map's own header (data/labels.h's image), in *end; BAD_FORMAT naming
 * path when there is no map there. For a gsgdi_file_size_fn. */
gsgd_status gsgdi_file_label_map_end(gsgd_context *ctx, const char *path, FILE *f, uint64_t at,
                                     uint64_t *end);

/* Checked size arithmetic for file sizes: a * b + c, or UINT64_MAX when it
 * overflows. */
uint64_t gsgdi_size_mad(uint64_t a, uint64_t b, uint64_t c);

#endif
