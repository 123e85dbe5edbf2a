/* scipy.sparse.save_npz CSR files: a zip (stored or deflated, zip64 as
 * numpy writes it) of indptr.npy, indices.npy, data.npy, shape.npy and
 * format.npy ("csr"). Kept minimal and apart, so that it can merge with
 * the data-in branch's .npz reader (src/data/npz.c) into one later. The
 * labels come from a second file: a 1-D .npy, or text with one label a
 * line, -1/+1 or class indices (gsgdi_csr_classes). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/memory.h"
#include "data/loaders.h"

typedef struct {
    const unsigned char *p;
    size_t len;
} span;

static uint64_t le(const unsigned char *p, int bytes) {
    uint64_t v = 0;
    for (int i = bytes - 1; i >= 0; i--) v = v << 8 | p[i];
    return v;
}

static gsgd_status read_all(gsgd_context *ctx, const char *path, unsigned char **data,
                            size_t *len) {
    FILE *f = fopen(path, "rb");
    GSGD_RETURN_ERROR_IF(!f, ctx, GSGD_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
    size_t cap = 1 << 16, n = 0, got;
    unsigned char *b = malloc(cap);
    while (b && (got = fread(b + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            unsigned char *g = realloc(b, cap *= 2);
            if (!g) free(b);
            b = g;
        }
    }
    const int err = ferror(f);
    fclose(f);
    if (!b || err) {
        free(b);
        return GSGD_ERROR(ctx, b ? GSGD_STATUS_IO : GSGD_STATUS_OUT_OF_MEMORY, "%s: %s", path,
                          b ? "read failed" : "out of memory");
    }
    *data = b;
    *len = n;
    return GSGD_STATUS_OK;
}

#define BADZ(...) GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, __VA_ARGS__)

/* Member `name` of the zip z, inflated into a fresh malloc (*out, *out_len). */
static gsgd_status zip_member(gsgd_context *ctx, const char *path, span z, const char *name,
                              unsigned char **out, size_t *out_len) {
    *out = NULL;
    size_t e = z.len >= 22 ? z.len - 22 : 0;
    while (e > 0 && le(z.p + e, 4) != 0x06054b50u && z.len - e < 65557) e--;
    if (z.len < 22 || le(z.p + e, 4) != 0x06054b50u)
        return BADZ("%s: not a zip file (no end of central directory)", path);
    uint64_t count = le(z.p + e + 10, 2), cd = le(z.p + e + 16, 4);
    if ((cd == 0xffffffffu || count == 0xffff) && e >= 20 && le(z.p + e - 20, 4) == 0x07064b50u) {
        const uint64_t z64 = le(z.p + e - 12, 8);
        if (z64 + 56 > z.len || le(z.p + z64, 4) != 0x06064b50u)
            return BADZ("%s: bad zip64 end of central directory", path);
        count = le(z.p + z64 + 32, 8);
        cd = le(z.p + z64 + 48, 8);
    }
    const size_t want = strlen(name);
    for (uint64_t i = 0, at = cd; i < count; i++) {
        if (at + 46 > z.len || le(z.p + at, 4) != 0x02014b50u)
            return BADZ("%s: bad central directory entry %llu", path, (unsigned long long)i);
        const unsigned char *h = z.p + at;
        const unsigned method = (unsigned)le(h + 10, 2), nl = (unsigned)le(h + 28, 2),
                       xl = (unsigned)le(h + 30, 2), cl = (unsigned)le(h + 32, 2);
        uint64_t csize = le(h + 20, 4), usize = le(h + 24, 4), off = le(h + 42, 4);
        if (at + 46 + nl + xl > z.len) return BADZ("%s: truncated central directory", path);
        for (const unsigned char *x = h + 46 + nl; x + 4 <= h + 46 + nl + xl;) {
            const unsigned id = (unsigned)le(x, 2), sz = (unsigned)le(x + 2, 2);
            const unsigned char *v = x + 4;
            const unsigned char *vend = x + 4 + sz;
            if (vend > h + 46 + nl + xl) break; /* a field past the extra block */
            if (id == 1) { /* zip64: the 32-bit fields that overflowed, in order */
                if (usize == 0xffffffffu && v + 8 <= vend) usize = le(v, 8), v += 8;
                if (csize == 0xffffffffu && v + 8 <= vend) csize = le(v, 8), v += 8;
                if (off == 0xffffffffu && v + 8 <= vend) off = le(v, 8);
            }
            x += 4 + sz;
        }
        at += 46 + nl + xl + cl;
        if (nl != want || memcmp(h + 46, name, want) != 0) continue;
        if (off + 30 > z.len || le(z.p + off, 4) != 0x04034b50u)
            return BADZ("%s: %s: bad local header", path, name);
        const uint64_t data = off + 30 + le(z.p + off + 26, 2) + le(z.p + off + 28, 2);
        /* deflate expands at most 1032-fold: a larger size is a lie, not
         * an allocation to attempt */
        if (data + csize > z.len || usize > csize * 1032 + 64)
            return BADZ("%s: %s: truncated or absurd member (%llu bytes)", path, name,
                        (unsigned long long)usize);
        unsigned char *u = malloc(usize ? usize : 1);
        GSGD_RETURN_ERROR_IF(!u, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
        if (method == 0 && csize == usize) {
            memcpy(u, z.p + data, usize);
        } else if (method == 8) {
            z_stream s = {0};
            int rc = inflateInit2(&s, -15);
            s.next_in = (unsigned char *)(uintptr_t)(z.p + data);
            s.avail_in = (uInt)csize;
            s.next_out = u;
            s.avail_out = (uInt)usize;
            if (rc == Z_OK) rc = inflate(&s, Z_FINISH);
            inflateEnd(&s);
            if (rc != Z_STREAM_END || s.total_out != usize) {
                free(u);
                return BADZ("%s: %s: corrupt deflate data", path, name);
            }
        } else {
            free(u);
            return BADZ("%s: %s: compression method %u not supported (stored or deflate)", path,
                        name, method);
        }
        *out = u;
        *out_len = usize;
        return GSGD_STATUS_OK;
    }
    return BADZ("%s: no member %s (is it a scipy.sparse.save_npz CSR file?)", path, name);
}

/* A .npy array: its type ('i', 'u', 'f' or 'S'), item size, element count
 * and data. */
typedef struct {
    char kind;
    int size;
    size_t count;
    const unsigned char *data;
} npy;

static gsgd_status npy_parse(gsgd_context *ctx, const char *what, const unsigned char *b,
                             size_t len, npy *a) {
    if (len < 10 || memcmp(b, "\x93NUMPY", 6) != 0) return BADZ("%s: not a .npy array", what);
    const size_t hl = b[6] == 1 ? le(b + 8, 2) : le(b + 8, 4), h0 = b[6] == 1 ? 10 : 12;
    if (h0 + hl > len) return BADZ("%s: truncated .npy header", what);
    char hdr[512];
    snprintf(hdr, sizeof hdr, "%.*s", (int)(hl < 511 ? hl : 511), (const char *)b + h0);
    const char *d = strstr(hdr, "'descr':"), *sh = strstr(hdr, "'shape':");
    if (!d || !sh || strstr(hdr, "'fortran_order': True"))
        return BADZ("%s: .npy header '%s' not understood", what, hdr);
    d = strchr(d + 8, '\'');
    if (!d || (d[1] != '<' && d[1] != '|' && d[1] != '=') || !strchr("iufS", d[2]))
        return BADZ("%s: dtype in '%s' not supported (little-endian ints, floats)", what, hdr);
    a->kind = d[2];
    a->size = atoi(d + 3);
    a->count = 1;
    const char *open = strchr(sh, '(');
    if (!open) return BADZ("%s: .npy header '%s' has no shape tuple", what, hdr);
    for (const char *p = open + 1; *p && *p != ')'; p++)
        if (*p >= '0' && *p <= '9') {
            a->count *= strtoull(p, (char **)&p, 10);
            p--;
        }
    a->data = b + h0 + hl;
    if (a->size < 1 || a->size > 8 || a->count > (len - h0 - hl) / (size_t)a->size)
        return BADZ("%s: %zu items of %d bytes run past the file", what, a->count, a->size);
    return GSGD_STATUS_OK;
}

static double npy_at(const npy *a, size_t i) {
    const unsigned char *p = a->data + i * (size_t)a->size;
    if (a->kind == 'f') {
        if (a->size == 4) {
            float f;
            memcpy(&f, p, 4);
            return f;
        }
        double v;
        memcpy(&v, p, 8);
        return v;
    }
    const uint64_t u = le(p, a->size);
    if (a->kind == 'u' || a->size == 8) return a->kind == 'u' ? (double)u : (double)(int64_t)u;
    const uint64_t sign = (uint64_t)1 << (8 * a->size - 1);
    return (double)(int64_t)((u ^ sign) - sign);
}

/* Labels from a .npy (1-D) or text file, one per row. */
static gsgd_status load_labels(gsgd_context *ctx, const char *path, size_t n, gsgdi_csr_host *h) {
    unsigned char *b = NULL;
    size_t len = 0;
    GSGD_FORWARD_IF_ERROR(read_all(ctx, path, &b, &len));
    double *lab = malloc((n ? n : 1) * sizeof *lab);
    gsgd_status st =
        lab ? GSGD_STATUS_OK : GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "out of memory");
    size_t got = 0;
    if (st == GSGD_STATUS_OK && len >= 6 && memcmp(b, "\x93NUMPY", 6) == 0) {
        npy a;
        st = npy_parse(ctx, path, b, len, &a);
        if (st == GSGD_STATUS_OK && (a.kind == 'S' || a.count != n))
            st = BADZ("%s: %zu labels for %zu rows", path, a.count, n);
        for (; st == GSGD_STATUS_OK && got < n; got++) lab[got] = npy_at(&a, got);
    } else if (st == GSGD_STATUS_OK) {
        char *p = (char *)b, *end = p + len, *e;
        for (size_t line = 1; st == GSGD_STATUS_OK && p < end; line++) {
            char *nl = memchr(p, '\n', (size_t)(end - p));
            if (!nl) nl = end;
            while (p < nl && (*p == ' ' || *p == '\t' || *p == '\r')) p++;
            if (p < nl) {
                const double v = strtod(p, &e);
                if (e == p || got >= n)
                    st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "%s: line %zu: %s", path, line,
                                    e == p ? "not a number" : "more labels than rows");
                else
                    lab[got++] = v;
            }
            p = nl + 1;
        }
        if (st == GSGD_STATUS_OK && got != n)
            st = BADZ("%s: %zu labels for %zu rows", path, got, n);
    }
    if (st == GSGD_STATUS_OK) st = gsgdi_csr_classes(ctx, path, lab, n, h);
    free(lab);
    free(b);
    return st;
}

gsgd_status gsgdi_load_npz_csr(gsgd_context *ctx, const char *path, const char *labels,
                               gsgdi_csr_host *out) {
    memset(out, 0, sizeof *out);
    static const char *names[5] = {"format.npy", "shape.npy", "indptr.npy", "indices.npy",
                                   "data.npy"};
    unsigned char *zip = NULL, *m[5] = {0};
    size_t zlen = 0, ml[5] = {0};
    npy a[5];
    gsgd_status st = read_all(ctx, path, &zip, &zlen);
    for (int i = 0; i < 5 && st == GSGD_STATUS_OK; i++) {
        char what[600];
        snprintf(what, sizeof what, "%s: %s", path, names[i]);
        st = zip_member(ctx, path, (span){zip, zlen}, names[i], &m[i], &ml[i]);
        if (st == GSGD_STATUS_OK) st = npy_parse(ctx, what, m[i], ml[i], &a[i]);
    }
    if (st == GSGD_STATUS_OK && (a[0].kind != 'S' || a[0].size != 3 || memcmp(a[0].data, "csr", 3)))
        st = BADZ("%s: format is not csr (save_npz of a csr_matrix)", path);
    if (st == GSGD_STATUS_OK && (a[1].count != 2 || a[1].kind == 'f' || a[1].kind == 'S'))
        st = BADZ("%s: shape.npy is not two integers", path);
    const size_t n = st == GSGD_STATUS_OK ? (size_t)npy_at(&a[1], 0) : 0;
    const size_t d = st == GSGD_STATUS_OK ? (size_t)npy_at(&a[1], 1) : 0;
    if (st == GSGD_STATUS_OK &&
        (a[2].count != n + 1 || a[3].count != a[4].count || a[2].kind == 'f' || a[3].kind == 'f'))
        st = BADZ("%s: %zu row pointers, %zu indices and %zu values for %zu rows", path, a[2].count,
                  a[3].count, a[4].count, n);
    if (st == GSGD_STATUS_OK &&
        (n == 0 || d == 0 || d > INT32_MAX || (uint64_t)a[4].count > GSGD_MAX_ELEMENTS))
        st = GSGD_ERROR(ctx, GSGD_STATUS_TOO_LARGE,
                        "%s: %zu x %zu with %zu nonzeros is outside "
                        "the limits (rows and features >= 1, features < 2^31, nonzeros <= 2^32)",
                        path, n, d, a[4].count);
    const size_t nnz = st == GSGD_STATUS_OK ? a[4].count : 0;
    if (st == GSGD_STATUS_OK) {
        out->indptr = malloc((n + 1) * sizeof *out->indptr);
        out->indices = malloc((nnz ? nnz : 1) * sizeof *out->indices);
        out->values = malloc((nnz ? nnz : 1) * sizeof *out->values);
        out->y = malloc(n * sizeof *out->y);
        if (!out->indptr || !out->indices || !out->values || !out->y)
            st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    }
    for (size_t i = 0; st == GSGD_STATUS_OK && i <= n; i++) {
        out->indptr[i] = (int64_t)npy_at(&a[2], i);
        if ((i == 0 && out->indptr[0] != 0) || (i > 0 && out->indptr[i] < out->indptr[i - 1]) ||
            out->indptr[i] > (int64_t)nnz)
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE, "%s: row %zu: bad row pointer %lld", path,
                            i, (long long)out->indptr[i]);
    }
    for (size_t k = 0; st == GSGD_STATUS_OK && k < nnz; k++) {
        const double c = npy_at(&a[3], k), v = npy_at(&a[4], k);
        out->indices[k] = (int32_t)c;
        out->values[k] = (float)v;
        if (c < 0 || c >= (double)d || !isfinite(out->values[k]))
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                            "%s: nonzero %zu: feature %g of %zu, value %g", path, k, c, d, v);
    }
    if (st == GSGD_STATUS_OK && out->indptr[n] != (int64_t)nnz)
        st = BADZ("%s: the last row pointer %lld is not the %zu nonzeros", path,
                  (long long)out->indptr[n], nnz);
    out->n = n, out->d = d, out->nnz = nnz;
    if (st == GSGD_STATUS_OK) st = load_labels(ctx, labels, n, out);
    for (int i = 0; i < 5; i++) free(m[i]);
    free(zip);
    if (st != GSGD_STATUS_OK) gsgdi_csr_host_free(out);
    return st;
}
