/* IDX files (the MNIST / Fashion-MNIST format), plain or gzip-compressed.
 *
 * Layout: magic bytes 0, 0, type, ndims; ndims big-endian uint32 sizes; then
 * the elements, big-endian, row-major. The first size is the record
 * (sample) count. Headers are untrusted: the data buffer grows with the
 * bytes that actually arrive, so a short file that claims billions of
 * elements costs no more memory than its real content. Record numbers in
 * messages are 0-based sample indices. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/loaders.h"
#include "core/memory.h"
#include "core/error.h"

#define IDX_MAX_DIMS 4
#define IDX_CHUNK ((size_t)1 << 20)     /* raw bytes read per gzread */
#define IDX_FIRST_CAP ((size_t)1 << 16) /* values allocated before data arrives */

typedef struct {
    const char *path;
    gzFile gz;
    uint8_t type; /* element type code */
    size_t esize; /* bytes per element */
    int ndims;
    uint32_t dims[IDX_MAX_DIMS];
    size_t n;   /* records */
    size_t per; /* elements per record */
} idx_file;

typedef enum { ROLE_IMAGES, ROLE_LABELS } idx_role;

static size_t type_size(uint8_t type) {
    switch (type) {
    case 0x08: /* ubyte */
    case 0x09: /* byte */
        return 1;
    case 0x0B: /* short */
        return 2;
    case 0x0C: /* int */
    case 0x0D: /* float */
        return 4;
    case 0x0E: /* double */
        return 8;
    default:
        return 0;
    }
}

static uint64_t be_read(const uint8_t *p, size_t size) {
    uint64_t v = 0;
    for (size_t i = 0; i < size; i++) v = (v << 8) | p[i];
    return v;
}

/* Reads up to len bytes; *got < len only at the end of the file. */
static gsgd_status idx_read(gsgd_context *ctx, idx_file *f, void *buf, size_t len, size_t *got) {
    *got = 0;
    while (*got < len) {
        size_t want = len - *got;
        if (want > IDX_CHUNK) want = IDX_CHUNK;
        int r = gzread(f->gz, (uint8_t *)buf + *got, (unsigned)want);
        if (r < 0) {
            int zerr = 0;
            const char *msg = gzerror(f->gz, &zerr);
            /* zlib prefixes "<fd:N>: " for gzdopen'd files; we name the path. */
            const char *sep = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
            if (sep) msg = sep + 2;
            GSGD_RETURN_ERROR_IF(zerr == Z_ERRNO, ctx, GSGD_STATUS_IO, "idx: %s: read failed: %s",
                                 f->path, strerror(errno));
            return GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "idx: %s: corrupt gzip data: %s",
                              f->path, msg);
        }
        if (r == 0) break;
        *got += (size_t)r;
    }
    return GSGD_STATUS_OK;
}

/* Opens path (plain or gzip: zlib reads plain files transparently) and
 * checks the header against what the role needs. */
static gsgd_status idx_open(gsgd_context *ctx, const char *path, idx_role role, idx_file *f) {
    memset(f, 0, sizeof *f);
    f->path = path;
    /* open(2) first so that a missing file reports errno exactly. */
    int fd = open(path, O_RDONLY);
    GSGD_RETURN_ERROR_IF(fd < 0, ctx, GSGD_STATUS_IO, "idx: %s: cannot open: %s", path,
                         strerror(errno));
    f->gz = gzdopen(fd, "rb");
    if (!f->gz) {
        close(fd);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "idx: %s: gzdopen failed", path);
    }
    gzbuffer(f->gz, 1u << 17);

    uint8_t head[4 + 4 * IDX_MAX_DIMS];
    size_t got;
    GSGD_FORWARD_IF_ERROR(idx_read(ctx, f, head, 4, &got));
    GSGD_RETURN_ERROR_IF(got == 0, ctx, GSGD_STATUS_BAD_FORMAT, "idx: %s: empty file", path);
    GSGD_RETURN_ERROR_IF(got < 4, ctx, GSGD_STATUS_BAD_FORMAT,
                         "idx: %s: truncated header (%zu of 4 magic bytes)", path, got);
    uint32_t magic = (uint32_t)be_read(head, 4);
    unsigned expect = role == ROLE_IMAGES ? 0x803u : 0x801u;
    GSGD_RETURN_ERROR_IF(head[0] != 0 || head[1] != 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "idx: %s: expected magic 0x%08x, got 0x%08x (not an IDX file?)", path,
                         expect, magic);
    f->type = head[2];
    f->esize = type_size(f->type);
    GSGD_RETURN_ERROR_IF(f->esize == 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "idx: %s: unknown element type 0x%02x in magic 0x%08x", path, f->type,
                         magic);
    f->ndims = head[3];
    GSGD_RETURN_ERROR_IF(f->ndims < 1 || f->ndims > IDX_MAX_DIMS, ctx, GSGD_STATUS_BAD_FORMAT,
                         "idx: %s: %d dimensions in magic 0x%08x (1 to %d supported)", path,
                         f->ndims, magic, IDX_MAX_DIMS);
    if (role == ROLE_IMAGES) {
        GSGD_RETURN_ERROR_IF(f->ndims < 2, ctx, GSGD_STATUS_BAD_FORMAT,
                             "idx: %s: expected magic 0x%08x, got 0x%08x (an image file needs at "
                             "least 2 dimensions; is this a label file?)",
                             path, ((unsigned)f->type << 8) | 3u, magic);
    } else {
        GSGD_RETURN_ERROR_IF(f->ndims != 1, ctx, GSGD_STATUS_BAD_FORMAT,
                             "idx: %s: expected magic 0x%08x, got 0x%08x (a label file has 1 "
                             "dimension; is this an image file?)",
                             path, expect, magic);
        GSGD_RETURN_ERROR_IF(f->type == 0x0D || f->type == 0x0E, ctx, GSGD_STATUS_BAD_FORMAT,
                             "idx: %s: labels must have an integer type, got %s", path,
                             f->type == 0x0D ? "float" : "double");
    }

    size_t dlen = 4 * (size_t)f->ndims;
    GSGD_FORWARD_IF_ERROR(idx_read(ctx, f, head + 4, dlen, &got));
    GSGD_RETURN_ERROR_IF(got < dlen, ctx, GSGD_STATUS_BAD_FORMAT,
                         "idx: %s: truncated header (%zu of %zu dimension bytes)", path, got, dlen);
    /* 64-bit product with a check per factor: four 32-bit sizes can
     * overflow even 64 bits, and any product above the limit is refused
     * before it is used for anything. */
    uint64_t total = 1;
    for (int i = 0; i < f->ndims; i++) {
        f->dims[i] = (uint32_t)be_read(head + 4 + 4 * i, 4);
        GSGD_RETURN_ERROR_IF(f->dims[i] == 0, ctx, GSGD_STATUS_BAD_FORMAT,
                             "idx: %s: dimension %d is zero", path, i);
        total *= f->dims[i];
        GSGD_RETURN_ERROR_IF(total > GSGD_MAX_ELEMENTS, ctx, GSGD_STATUS_TOO_LARGE,
                             "idx: %s: dimensions exceed the limit of 2^32 elements (2^34 bytes as "
                             "float)",
                             path);
    }
    f->n = f->dims[0];
    f->per = (size_t)(total / f->dims[0]);
    return GSGD_STATUS_OK;
}

/* Converts one big-endian element to float. Labels are checked here, while
 * the exact integer is still at hand (a float cannot hold every int32). */
static gsgd_status convert(gsgd_context *ctx, const idx_file *f, idx_role role, const uint8_t *p,
                           size_t index, float *out) {
    uint64_t raw = be_read(p, f->esize);
    int64_t iv = 0;
    switch (f->type) {
    case 0x08:
        *out = role == ROLE_IMAGES ? GSGD_U8_FEATURE(raw) : (float)raw;
        iv = (int64_t)raw;
        break;
    case 0x09:
        iv = (int8_t)(uint8_t)raw;
        *out = (float)iv;
        break;
    case 0x0B:
        iv = (int16_t)(uint16_t)raw;
        *out = (float)iv;
        break;
    case 0x0C:
        iv = (int32_t)(uint32_t)raw;
        *out = (float)iv;
        break;
    case 0x0D: {
        uint32_t bits = (uint32_t)raw;
        memcpy(out, &bits, sizeof bits);
        break;
    }
    default: { /* 0x0E */
        double v;
        memcpy(&v, &raw, sizeof v);
        GSGD_RETURN_ERROR_IF(isfinite(v) && !isfinite((float)v), ctx, GSGD_STATUS_BAD_VALUE,
                             "idx: %s: record %zu, feature %zu: %g is outside the float range",
                             f->path, index / f->per, index % f->per, v);
        *out = (float)v;
        break;
    }
    }
    GSGD_RETURN_ERROR_IF(!isfinite(*out), ctx, GSGD_STATUS_BAD_VALUE,
                         "idx: %s: record %zu, feature %zu: value %g is not finite", f->path,
                         index / f->per, index % f->per, (double)*out);
    /* Labels go through a label map (any integers), read here as floats:
     * exact up to 2^24. */
    GSGD_RETURN_ERROR_IF(role == ROLE_LABELS && (iv > (1 << 24) || iv < -(1 << 24)), ctx,
                         GSGD_STATUS_BAD_VALUE,
                         "idx: %s: record %zu: label %lld is beyond +-2^24, which gsgd reads "
                         "exactly; renumber the labels",
                         f->path, index / f->per, (long long)iv);
    return GSGD_STATUS_OK;
}

/* Reads the n x per elements of an opened file into a new array: floats,
 * or with keep_bytes (ubyte images only) the bytes as they are. */
static gsgd_status idx_read_body(gsgd_context *ctx, idx_file *f, idx_role role, int keep_bytes,
                                 void **out) {
    *out = NULL;
    const size_t total = f->n * f->per; /* <= 2^32, checked by idx_open */
    const size_t osize = keep_bytes ? 1 : sizeof(float);
    size_t cap = total < IDX_FIRST_CAP ? total : IDX_FIRST_CAP, count = 0;
    uint8_t *data = NULL, *raw = NULL;
    gsgd_status st = GSGD_STATUS_OK;
    void *p = NULL;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, IDX_CHUNK, &p), fail);
    raw = p;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, cap * osize, &p), fail);
    data = p;

    while (count < total) {
        size_t want = (total - count) * f->esize, got;
        if (want > IDX_CHUNK) want = IDX_CHUNK; /* IDX_CHUNK is a multiple of esize */
        GSGD_CHECK_GOTO(st, idx_read(ctx, f, raw, want, &got), fail);
        size_t elems = got / f->esize;
        if (count + elems > cap) {
            /* Doubling keeps the copies O(total); the cap at the declared
             * size keeps the buffer exact at the end. */
            size_t ncap = cap * 2 > count + elems ? cap * 2 : count + elems;
            if (ncap > total) ncap = total;
            uint8_t *grown = realloc(data, ncap * osize);
            if (!grown) {
                st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY,
                                "idx: %s: cannot allocate %zu bytes", f->path, ncap * osize);
                goto fail;
            }
            data = grown;
            cap = ncap;
        }
        float *fdata = (float *)(void *)data;
        if (keep_bytes) {
            memcpy(data + count, raw, elems);
        } else if (f->type == 0x08 && role == ROLE_IMAGES) {
            /* The common case (MNIST pixels): no per-element checks needed. */
            for (size_t i = 0; i < elems; i++) fdata[count + i] = GSGD_U8_FEATURE(raw[i]);
        } else {
            for (size_t i = 0; i < elems; i++)
                GSGD_CHECK_GOTO(
                    st, convert(ctx, f, role, raw + i * f->esize, count + i, &fdata[count + i]),
                    fail);
        }
        count += elems;
        if (got < want) {
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                            "idx: %s: truncated at record %zu of %zu (file ends after %zu of "
                            "%zu values)",
                            f->path, count / f->per, f->n, count, total);
            goto fail;
        }
    }
    /* A file longer than its header says was most likely written with the
     * wrong dimensions; refusing it beats training on misaligned rows. */
    size_t extra;
    GSGD_CHECK_GOTO(st, idx_read(ctx, f, raw, 1, &extra), fail);
    if (extra) {
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                        "idx: %s: trailing data after the %zu records the header declares", f->path,
                        f->n);
        goto fail;
    }
    free(raw);
    *out = data;
    return GSGD_STATUS_OK;
fail:
    free(raw);
    free(data);
    return st;
}

static void idx_close(idx_file *f) {
    if (f->gz) gzclose(f->gz);
    f->gz = NULL;
}

gsgd_status gsgdi_load_idx(gsgd_context *ctx, const char *images_path, const char *labels_path,
                           gsgdi_storage storage, gsgdi_host_data *out, gsgdi_raw_targets *t) {
    /* ctx may be NULL (gsgd_host_data_read): errors go to the thread's. */
    GSGD_RETURN_ERROR_IF(!images_path || !out || !t, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "idx: NULL path or output");
    memset(out, 0, sizeof *out);
    memset(t, 0, sizeof *t);
    idx_file img = {0}, lab = {0};
    void *X = NULL, *yv = NULL;
    float *y = NULL;
    gsgd_status st;
    /* Both headers first: a count mismatch is found before any data is read. */
    GSGD_CHECK_GOTO(st, idx_open(ctx, images_path, ROLE_IMAGES, &img), done);
    if (labels_path) GSGD_CHECK_GOTO(st, idx_open(ctx, labels_path, ROLE_LABELS, &lab), done);
    if (labels_path && img.n != lab.n) {
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "idx: %s has %zu labels but %s has %zu images",
                        labels_path, lab.n, images_path, img.n);
        goto done;
    }
    /* Bytes are exact for ubyte pixels, so they are the default there. */
    const int ubyte = img.type == 0x08, keep_bytes = ubyte && storage != GSGD_STORAGE_F32;
    if (storage == GSGD_STORAGE_U8 && !ubyte) {
        st = GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                        "idx: %s: storage=u8 needs ubyte images (type 0x08), this file has type "
                        "0x%02x; use storage=f32",
                        images_path, img.type);
        goto done;
    }
    GSGD_CHECK_GOTO(st, idx_read_body(ctx, &img, ROLE_IMAGES, keep_bytes, &X), done);
    if (labels_path) {
        GSGD_CHECK_GOTO(st, idx_read_body(ctx, &lab, ROLE_LABELS, 0, &yv), done);
        y = yv;
        t->num = malloc(lab.n * sizeof *t->num);
        if (!t->num) {
            st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "idx: %s: out of memory", labels_path);
            goto done;
        }
        for (size_t i = 0; i < lab.n; i++) t->num[i] = y[i];
        t->n = lab.n;
        snprintf(t->file, sizeof t->file, "idx: %s", labels_path);
        snprintf(t->name, sizeof t->name, "record");
    }
    out->bytes_by_default = keep_bytes && storage == GSGD_STORAGE_AUTO;
    if (keep_bytes)
        out->X8 = X;
    else
        out->X = X;
    out->n = img.n;
    out->d = img.per;
    static const char *const types[] = {"ubyte", "byte", "", "short", "int", "float", "double"};
    snprintf(out->meta.detail, sizeof out->meta.detail, "%s images", types[img.type - 0x08]);
    X = NULL;
done:
    idx_close(&img);
    idx_close(&lab);
    free(X);
    free(y);
    if (st != GSGD_STATUS_OK) gsgdi_raw_targets_free(t);
    return st;
}
