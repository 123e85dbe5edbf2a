/*
 * Model files: versioned binary with a CRC32, written atomically.
 *
 *   offset  size  field
 *   0       8     magic "GSGDMDL\0"
 *   8       4     format version (3; version 1 files, without a label map,
 *                 and version 2, without the columns' names, still load)
 *   12      4     byte-order mark 0x01020304 (files are native little-endian)
 *   16      128   model spec, NUL-padded
 *   144     8     n_features
 *   152     4     n_classes
 *   156     4     flags (bit 0: standardiser present; bit 1: label map
 *                 present, version 2; bits 2 and 3: target name and feature
 *                 names present, version 3)
 *   160     8     n_params
 *   168     4*n   parameters (flat buffer)
 *   ...     8*d   mean then inv_std, when flag bit 0
 *   ...     8+b   the training data's feature names, when flag bit 3: b,
 *                 then b bytes of NUL-terminated names (data/names.h's image)
 *   ...     64    the training data's target column name, NUL-padded, when
 *                 flag bit 2 (predict and eval find the columns by these)
 *   ...           the label map (data/labels.h's image), when flag bit 1
 *   end-4   4     CRC32 (zlib) of every byte before it
 *
 * gsgd_model_load also reads the model part of a checkpoint (checkpoint.c).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "io/fileio.h"
#include "core/memory.h"
#include "core/error.h"

#define MODEL_MAGIC "GSGDMDL"
#define MODEL_VERSION 3u
#define HEADER_BYTES 168

gsgd_status gsgd_model_save(const gsgd_model *m, const char *path) {
    if (!m) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(!path || !*path, ctx, GSGD_STATUS_INVALID_ARGUMENT, "save: empty path");
    const size_t d = m->n_features;
    const int has_std = m->mean != NULL;
    const unsigned tail = gsgdi_model_tail(m);
    gsgdi_bytes b = {0};
    b.cap = HEADER_BYTES + m->n_params * sizeof(float) + (has_std ? 2 * d * sizeof(float) : 0) +
            gsgdi_model_tail_bytes(m, tail) + 4;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, b.cap, (void **)&b.buf));
    char spec[GSGD_SPEC_LEN] = {0}; /* NUL-padded: the file never holds stack garbage */
    memcpy(spec, m->spec, strlen(m->spec));
    uint32_t version = MODEL_VERSION, bom = GSGD_FILE_BOM,
             flags = (has_std ? 1u : 0u) | ((tail & GSGDI_TAIL_LABELS) ? 2u : 0u) |
                     ((tail & GSGDI_TAIL_TARGET) ? 4u : 0u) | ((tail & GSGDI_TAIL_NAMES) ? 8u : 0u);
    uint64_t nf = d, np = m->n_params;
    int32_t nc = m->n_classes;
    gsgdi_bytes_put(&b, MODEL_MAGIC, 8);
    gsgdi_bytes_put(&b, &version, 4);
    gsgdi_bytes_put(&b, &bom, 4);
    gsgdi_bytes_put(&b, spec, sizeof spec);
    gsgdi_bytes_put(&b, &nf, 8);
    gsgdi_bytes_put(&b, &nc, 4);
    gsgdi_bytes_put(&b, &flags, 4);
    gsgdi_bytes_put(&b, &np, 8);
    gsgd_status st;
    GSGD_CHECK_GOTO(st, ctx->be->download(ctx, b.buf + b.len, m->params, np * sizeof(float)), done);
    b.len += np * sizeof(float);
    if (has_std) {
        GSGD_CHECK_GOTO(st, ctx->be->download(ctx, b.buf + b.len, m->mean, d * sizeof(float)),
                        done);
        b.len += d * sizeof(float);
        GSGD_CHECK_GOTO(st, ctx->be->download(ctx, b.buf + b.len, m->inv_std, d * sizeof(float)),
                        done);
        b.len += d * sizeof(float);
    }
    gsgdi_model_tail_put(&b, m, tail);
    gsgdi_bytes_put_crc(&b);
    st = gsgdi_write_atomically(ctx, path, b.buf, b.len);
done:
    free(b.buf);
    return st;
}

/* The size a model file's (or a checkpoint's) header describes (a
 * gsgdi_file_size_fn): a large file is checked against it before it is
 * read. */
static gsgd_status file_size(gsgd_context *ctx, const char *path, FILE *f,
                             const unsigned char *head, size_t n, uint64_t *size) {
    if (gsgdi_is_checkpoint(head, n))
        return gsgdi_checkpoint_file_size(ctx, path, f, head, n, size);
    GSGD_RETURN_ERROR_IF(n < HEADER_BYTES || memcmp(head, MODEL_MAGIC, 8) != 0, ctx,
                         GSGD_STATUS_BAD_FORMAT, "load: %s: not a gsgd model file (bad magic)",
                         path);
    uint64_t nf, np;
    uint32_t flags;
    memcpy(&nf, head + 144, 8);
    memcpy(&flags, head + 156, 4);
    memcpy(&np, head + 160, 8);
    const uint64_t words = gsgdi_size_mad((flags & 1u) ? nf : 0, 2, np);
    uint64_t end = gsgdi_size_mad(words, 4, HEADER_BYTES);
    if ((flags & 8u) && end != UINT64_MAX)
        GSGD_FORWARD_IF_ERROR(gsgdi_file_names_end(ctx, path, f, end, &end));
    if (flags & 4u) end = gsgdi_size_mad(1, end, GSGD_TARGET_NAME_LEN);
    /* The label map (version 2) says its own length. */
    if ((flags & 2u) && end != UINT64_MAX)
        GSGD_FORWARD_IF_ERROR(gsgdi_file_label_map_end(ctx, path, f, end, &end));
    *size = gsgdi_size_mad(1, end, 4);
    return GSGD_STATUS_OK;
}

static gsgd_status parse_model(gsgd_context *ctx, const char *path, const unsigned char *p,
                               size_t len, gsgd_model *m, gsgdi_model_offsets *off) {
    GSGD_RETURN_ERROR_IF(len < HEADER_BYTES + 4, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: truncated (%zu bytes, header needs %d)", path, len,
                         HEADER_BYTES + 4);
    GSGD_RETURN_ERROR_IF(memcmp(p, MODEL_MAGIC, 8) != 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: not a gsgd model file (bad magic)", path);
    uint32_t version, bom, flags;
    uint64_t nf, np;
    int32_t nc;
    char spec[GSGD_SPEC_LEN];
    memcpy(&version, p + 8, 4);
    memcpy(&bom, p + 12, 4);
    memcpy(spec, p + 16, sizeof spec);
    memcpy(&nf, p + 144, 8);
    memcpy(&nc, p + 152, 4);
    memcpy(&flags, p + 156, 4);
    memcpy(&np, p + 160, 8);
    GSGD_RETURN_ERROR_IF(version < 1 || version > MODEL_VERSION, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: format version %u, this build reads versions 1 to %u", path,
                         version, MODEL_VERSION);
    GSGD_RETURN_ERROR_IF(bom != GSGD_FILE_BOM, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: written on a host of another byte order", path);
    GSGD_RETURN_ERROR_IF(!gsgdi_crc_ok(p, len), ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: CRC mismatch (file corrupt or truncated)", path);
    GSGD_RETURN_ERROR_IF(spec[sizeof spec - 1] != '\0' || flags > (version == 1   ? 1u
                                                                   : version == 2 ? 3u
                                                                                  : 15u),
                         ctx, GSGD_STATUS_BAD_FORMAT, "load: %s: malformed header", path);
    gsgd_status st = gsgdi_model_layout(ctx, spec, (size_t)nf, nc, m);
    GSGD_RETURN_ERROR_IF(st != GSGD_STATUS_OK, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: invalid model header (spec '%s', %llu features, %d classes)",
                         path, spec, (unsigned long long)nf, (int)nc);
    const int has_std = (int)(flags & 1u), has_labels = (flags & 2u) != 0,
              has_target = (flags & 4u) != 0, has_names = (flags & 8u) != 0;
    size_t expect = HEADER_BYTES + 4 + (m->n_params + (has_std ? 2 * m->n_features : 0)) * 4;
    /* The feature names' length is in their image, read whole here. */
    size_t names_at = expect - 4, names_len = 0;
    GSGD_RETURN_ERROR_IF(np != m->n_params || len < expect, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: size %zu does not match the model (expected %zu)", path, len,
                         expect);
    if (has_names)
        GSGD_FORWARD_IF_ERROR(gsgdi_names_image_span(ctx, path, p + names_at, len - expect,
                                                     m->n_features, &names_len));
    expect += names_len + (has_target ? GSGD_TARGET_NAME_LEN : 0);
    /* The label map's length is in its own header: its end must be the CRC. */
    GSGD_RETURN_ERROR_IF(np != m->n_params || (has_labels ? len < expect : len != expect), ctx,
                         GSGD_STATUS_BAD_FORMAT,
                         "load: %s: size %zu does not match the model (expected %zu)", path, len,
                         expect);
    off->params = HEADER_BYTES;
    off->mean = has_std ? HEADER_BYTES + m->n_params * 4 : 0;
    off->inv_std = has_std ? off->mean + m->n_features * 4 : 0;
    off->names = has_names ? names_at : 0;
    off->names_len = names_len;
    off->target = has_target ? expect - 4 - GSGD_TARGET_NAME_LEN : 0;
    off->labels = has_labels ? expect - 4 : 0;
    off->labels_len = has_labels ? len - expect : 0;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_model_labels_from_image(gsgd_context *ctx, const char *path,
                                          const unsigned char *data, const gsgdi_model_offsets *off,
                                          gsgd_model *m) {
    if (!off->labels) return gsgdi_model_default_labels(m);
    char what[300];
    snprintf(what, sizeof what, "load: %s", path);
    gsgdi_labels *l = NULL;
    size_t used = 0;
    GSGD_FORWARD_IF_ERROR(
        gsgdi_labels_image_read(ctx, what, data + off->labels, off->labels_len, &used, &l));
    if (used != off->labels_len || m->n_classes == 0 || l->n != m->n_classes) {
        gsgdi_labels_free(l);
        return GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                          "load: %s: the label map does not fit the model (%d classes)", path,
                          m->n_classes);
    }
    gsgdi_labels_free(m->labels);
    m->labels = l;
    m->labels_given = 1;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_model_load(gsgd_context *ctx, const char *path, gsgd_model **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(!path, ctx, GSGD_STATUS_INVALID_ARGUMENT, "load: NULL path");
    unsigned char *data = NULL;
    size_t len = 0;
    gsgdi_model_offsets off = {0};
    GSGD_FORWARD_IF_ERROR(gsgdi_read_whole_file(ctx, path, file_size, &data, &len));
    gsgd_model *m = calloc(1, sizeof *m);
    gsgd_status st =
        m ? GSGD_STATUS_OK : GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "load: out of memory");
    if (st) goto fail;
    /* A checkpoint holds a model too: the one evaluation would see. */
    if (gsgdi_is_checkpoint(data, len))
        GSGD_CHECK_GOTO(st, gsgdi_checkpoint_model_part(ctx, path, data, len, m, &off), fail);
    else
        GSGD_CHECK_GOTO(st, parse_model(ctx, path, data, len, m, &off), fail);
    const size_t d = m->n_features, pbytes = m->n_params * sizeof(float);
    GSGD_CHECK_GOTO(st, gsgdi_model_alloc(m), fail);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, m->params, data + off.params, pbytes), fail);
    if (off.mean) {
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, d * sizeof(float), (void **)&m->mean), fail);
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, d * sizeof(float), (void **)&m->inv_std), fail);
        GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, m->mean, data + off.mean, d * sizeof(float)),
                        fail);
        GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, m->inv_std, data + off.inv_std, d * sizeof(float)),
                        fail);
        m->centered = gsgdi_mean_centres(data + off.mean, d);
    }
    GSGD_CHECK_GOTO(st, gsgdi_model_labels_from_image(ctx, path, data, &off, m), fail);
    if (off.target)
        GSGD_CHECK_GOTO(st, gsgdi_file_target_name(ctx, path, data + off.target, m->target_name),
                        fail);
    if (off.names) {
        char what[300];
        size_t used = 0;
        snprintf(what, sizeof what, "load: %s", path);
        GSGD_CHECK_GOTO(st,
                        gsgdi_names_image_read(ctx, what, data + off.names, off.names_len,
                                               m->n_features, &used, &m->feature_names),
                        fail);
    }
    free(data);
    *out = m;
    return GSGD_STATUS_OK;
fail:
    free(data);
    gsgd_model_free(m);
    return st;
}
