/* NumPy .npy arrays (format versions 1 to 3), read from memory: a mapped
 * file or a member of an .npz. The header is a Python dict literal,
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (150, 4), }
 * and the elements follow. Types: float16 excluded, float32/64, signed and
 * unsigned integers of 1 to 8 bytes, bool; either byte order; C or
 * Fortran order. Little-endian float32 features in C order are used where
 * they lie (no copy); everything else is converted once. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"

/* The value after 'key': in the dict, or NULL. */
static const char *dict_value(const char *h, size_t len, const char *key) {
    char pat[32];
    const int n = snprintf(pat, sizeof pat, "'%s'", key);
    for (size_t i = 0; i + (size_t)n <= len; i++) {
        if (memcmp(h + i, pat, (size_t)n) != 0) continue;
        const char *p = h + i + n, *end = h + len;
        while (p < end && (*p == ' ' || *p == ':')) p++;
        return p < end ? p : NULL;
    }
    return NULL;
}

static gsgd_status parse_descr(gsgd_context *ctx, const char *what, const char *v, const char *end,
                               gsgdi_npy *a) {
    GSGD_RETURN_ERROR_IF(!v || *v != '\'', ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: the array has a structured dtype (fields): save plain numeric "
                         "arrays",
                         what);
    const char *q = memchr(v + 1, '\'', (size_t)(end - v - 1));
    GSGD_RETURN_ERROR_IF(!q || q - v < 3, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: malformed dtype in the header", what);
    const char order = v[1], kind = v[2];
    int esize = 0;
    /* Saturated: any size past 1024 is refused below, and '|4444...i1'
     * must not overflow an int on the way (found by fuzz_npy). */
    for (const char *c = v + 3; c < q && isdigit((unsigned char)*c); c++)
        esize = esize > 99999 ? 100000 : esize * 10 + (*c - '0');
    const int sized = q - v - 3 > 0 && isdigit((unsigned char)v[3]);
    const int ok_kind =
        ((kind == 'U' || kind == 'S') && esize >= 1 && esize <= 1024) ||
        (kind == 'f' && (esize == 4 || esize == 8)) ||
        ((kind == 'i' || kind == 'u') && (esize == 1 || esize == 2 || esize == 4 || esize == 8)) ||
        (kind == 'b' && esize == 1);
    GSGD_RETURN_ERROR_IF(!sized || !ok_kind ||
                             (order != '<' && order != '>' && order != '|' && order != '='),
                         ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: dtype '%.*s' is not supported: save float32, float64, int8..int64, "
                         "uint8..uint64 or bool (e.g. X.astype(numpy.float32)); str labels too",
                         what, (int)(q - v - 1 < 20 ? q - v - 1 : 20), v + 1);
    a->kind = kind;
    a->esize = kind == 'U' ? 4 * esize : esize; /* UCS-4 code units */
    a->swap = order == '>' && a->esize > 1;
    return GSGD_STATUS_OK;
}

static gsgd_status parse_shape(gsgd_context *ctx, const char *what, const char *v, const char *end,
                               gsgdi_npy *a) {
    GSGD_RETURN_ERROR_IF(!v || *v != '(', ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: malformed shape in the header", what);
    const char *p = v + 1;
    a->ndim = 0;
    a->count = 1;
    int overflow = 0;
    while (p < end && *p != ')') {
        while (p < end && (*p == ' ' || *p == ',')) p++;
        if (p < end && *p == ')') break;
        GSGD_RETURN_ERROR_IF(p >= end || !isdigit((unsigned char)*p) || a->ndim == 8, ctx,
                             GSGD_STATUS_BAD_FORMAT, "%s: malformed shape in the header", what);
        uint64_t s = 0;
        for (; p < end && isdigit((unsigned char)*p); p++) {
            if (s > ((uint64_t)1 << 40))
                overflow = 1;
            else
                s = s * 10 + (uint64_t)(*p - '0');
        }
        a->shape[a->ndim++] = s;
        if (s && a->count > UINT64_MAX / s)
            overflow = 1;
        else
            a->count *= s;
    }
    GSGD_RETURN_ERROR_IF(p >= end, ctx, GSGD_STATUS_BAD_FORMAT, "%s: malformed shape in the header",
                         what);
    GSGD_RETURN_ERROR_IF(overflow || a->count > GSGD_MAX_ELEMENTS, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: the array's shape exceeds the limit of 2^32 values", what);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_npy_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                            gsgdi_npy *a) {
    memset(a, 0, sizeof *a);
    const unsigned char *p = data;
    GSGD_RETURN_ERROR_IF(len < 10 || memcmp(p, "\x93NUMPY", 6) != 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: not a .npy file (no \\x93NUMPY magic; write it with numpy.save)",
                         what);
    const int major = p[6];
    GSGD_RETURN_ERROR_IF(major < 1 || major > 3, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: .npy format version %d.%d; this build reads 1.0 to 3.0", what, major,
                         p[7]);
    size_t hlen, start;
    if (major == 1) {
        hlen = (size_t)p[8] | (size_t)p[9] << 8;
        start = 10;
    } else {
        GSGD_RETURN_ERROR_IF(len < 12, ctx, GSGD_STATUS_BAD_FORMAT, "%s: truncated header", what);
        hlen = (size_t)p[8] | (size_t)p[9] << 8 | (size_t)p[10] << 16 | (size_t)p[11] << 24;
        start = 12;
    }
    GSGD_RETURN_ERROR_IF(hlen > len - start, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: truncated header (%zu bytes, the file has %zu)", what, hlen,
                         len - start);
    const char *h = (const char *)p + start, *hend = h + hlen;
    GSGD_FORWARD_IF_ERROR(parse_descr(ctx, what, dict_value(h, hlen, "descr"), hend, a));
    const char *fo = dict_value(h, hlen, "fortran_order");
    GSGD_RETURN_ERROR_IF(!fo || (strncmp(fo, "True", 4) != 0 && strncmp(fo, "False", 5) != 0), ctx,
                         GSGD_STATUS_BAD_FORMAT, "%s: malformed fortran_order in the header", what);
    a->fortran = fo[0] == 'T';
    GSGD_FORWARD_IF_ERROR(parse_shape(ctx, what, dict_value(h, hlen, "shape"), hend, a));
    const size_t body = len - start - hlen, want = (size_t)a->count * (size_t)a->esize;
    GSGD_RETURN_ERROR_IF(body < want, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: truncated: the shape needs %zu bytes of data, the file has %zu", what,
                         want, body);
    GSGD_RETURN_ERROR_IF(body > want, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: %zu bytes after the %zu the shape needs (not one array?)", what,
                         body - want, want);
    a->elems = p + start + hlen;
    return GSGD_STATUS_OK;
}

/* Element i (in storage order) as a double. */
static double element(const gsgdi_npy *a, uint64_t i) {
    unsigned char b[8];
    const unsigned char *s = a->elems + i * (uint64_t)a->esize;
    for (int k = 0; k < a->esize; k++) b[k] = a->swap ? s[a->esize - 1 - k] : s[k];
    switch (a->kind) {
    case 'f':
        if (a->esize == 4) {
            float f;
            memcpy(&f, b, 4);
            return f;
        } else {
            double f;
            memcpy(&f, b, 8);
            return f;
        }
    case 'i':
        switch (a->esize) {
        case 1:
            return (int8_t)b[0];
        case 2: {
            int16_t v;
            memcpy(&v, b, 2);
            return v;
        }
        case 4: {
            int32_t v;
            memcpy(&v, b, 4);
            return v;
        }
        default: {
            int64_t v;
            memcpy(&v, b, 8);
            return (double)v;
        }
        }
    default: /* 'u', 'b' */
        switch (a->esize) {
        case 1:
            return b[0];
        case 2: {
            uint16_t v;
            memcpy(&v, b, 2);
            return v;
        }
        case 4: {
            uint32_t v;
            memcpy(&v, b, 4);
            return v;
        }
        default: {
            uint64_t v;
            memcpy(&v, b, 8);
            return (double)v;
        }
        }
    }
}

/* Storage index of row i, feature j of the array seen as n x d. */
static uint64_t index_of(const gsgdi_npy *a, uint64_t i, uint64_t j, uint64_t n, uint64_t d) {
    if (!a->fortran) return i * d + j;
    /* Column-major: the first axis varies fastest. j flattens the trailing
     * axes in C order (as numpy's reshape(n, -1) does). */
    uint64_t idx = i, stride = n, rest = j;
    uint64_t digits[8];
    for (int k = a->ndim - 1; k >= 1; k--) {
        digits[k] = rest % a->shape[k];
        rest /= a->shape[k];
    }
    for (int k = 1; k < a->ndim; k++) {
        idx += digits[k] * stride;
        stride *= a->shape[k];
    }
    return idx;
}

gsgd_status gsgdi_npy_features(gsgd_context *ctx, const char *what, const gsgdi_npy *a, float **X,
                               size_t *n, size_t *d, int *borrowed) {
    *X = NULL;
    *borrowed = 0;
    GSGD_RETURN_ERROR_IF(a->ndim < 2, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: features need 2 dimensions (rows x features), the array has %d; "
                         "reshape it (X.reshape(-1, 1) for one feature)",
                         what, a->ndim);
    *n = (size_t)a->shape[0];
    *d = *n ? (size_t)(a->count / a->shape[0]) : 0;
    GSGD_RETURN_ERROR_IF(*n == 0 || *d == 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: the array is empty (shape has a 0)", what);
    GSGD_RETURN_ERROR_IF(a->kind == 'U' || a->kind == 'S', ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: features are strings (dtype %s); features must be numbers: encode "
                         "them first",
                         what, a->kind == 'U' ? "str" : "bytes");
    const int in_place = a->kind == 'f' && a->esize == 4 && !a->swap && (!a->fortran || *d == 1) &&
                         ((uintptr_t)a->elems % 4) == 0;
    float *out = NULL;
    if (in_place) {
        out = (float *)(uintptr_t)a->elems;
    } else {
        void *p = NULL;
        GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (size_t)a->count * sizeof(float), &p));
        out = p;
    }
    const uint64_t N = *n, D = *d;
    for (uint64_t i = 0; i < N; i++)
        for (uint64_t j = 0; j < D; j++) {
            const double v = in_place ? out[i * D + j] : element(a, index_of(a, i, j, N, D));
            if (!isfinite(v) || !isfinite((float)v)) {
                if (!in_place) free(out);
                return GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                                  "%s: row %llu, column %llu: %g%s; gsgd does not impute: fill "
                                  "or drop such rows first (numpy.isfinite finds them)",
                                  what, (unsigned long long)i, (unsigned long long)j, v,
                                  isnan(v) ? " (a missing value)" : " is not a finite float");
            }
            if (!in_place) out[i * D + j] = (float)v;
        }
    *X = out;
    *borrowed = in_place;
    return GSGD_STATUS_OK;
}

/* String labels (numpy str, UCS-4, or bytes), as UTF-8 texts without the
 * trailing NULs numpy pads them with. */
static gsgd_status text_targets(gsgd_context *ctx, const char *what, const gsgdi_npy *a,
                                gsgdi_raw_targets *t) {
    const int unit = a->kind == 'U' ? 4 : 1, chars = a->esize / unit;
    char *buf = malloc((size_t)chars * 4 + 1);
    GSGD_RETURN_ERROR_IF(!buf, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    gsgd_status st = GSGD_STATUS_OK;
    for (uint64_t i = 0; i < a->count && st == GSGD_STATUS_OK; i++) {
        const unsigned char *s = a->elems + i * (uint64_t)a->esize;
        size_t len = 0;
        for (int c = 0; c < chars; c++) {
            uint32_t u = 0;
            for (int k = 0; k < unit; k++)
                u |= (uint32_t)s[c * unit + k] << (8 * (a->swap ? unit - 1 - k : k));
            if (u == 0) break;
            if (u < 0x80) {
                buf[len++] = (char)u;
            } else if (u < 0x800) {
                buf[len++] = (char)(0xC0 | u >> 6);
                buf[len++] = (char)(0x80 | (u & 0x3F));
            } else if (u < 0x10000) {
                buf[len++] = (char)(0xE0 | u >> 12);
                buf[len++] = (char)(0x80 | (u >> 6 & 0x3F));
                buf[len++] = (char)(0x80 | (u & 0x3F));
            } else {
                buf[len++] = (char)(0xF0 | (u >> 18 & 0x07));
                buf[len++] = (char)(0x80 | (u >> 12 & 0x3F));
                buf[len++] = (char)(0x80 | (u >> 6 & 0x3F));
                buf[len++] = (char)(0x80 | (u & 0x3F));
            }
        }
        st = gsgdi_raw_targets_push_text(ctx, t, buf, len, 0);
    }
    free(buf);
    /* Texts from an array are named by index, not by line. */
    free(t->line);
    t->line = NULL;
    if (st != GSGD_STATUS_OK) gsgdi_raw_targets_free(t);
    return st;
}

gsgd_status gsgdi_npy_targets(gsgd_context *ctx, const char *what, const gsgdi_npy *a,
                              gsgdi_raw_targets *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->file, sizeof t->file, "%s", what);
    snprintf(t->name, sizeof t->name, "y");
    GSGD_RETURN_ERROR_IF(a->ndim < 1 || a->ndim > 2 || (a->ndim == 2 && a->shape[1] != 1), ctx,
                         GSGD_STATUS_BAD_FORMAT,
                         "%s: targets need shape (n,) or (n, 1), the array has %d dimension%s%s",
                         what, a->ndim, a->ndim == 1 ? "" : "s",
                         a->ndim == 2 ? " with more than one column (one target per row)" : "");
    if (a->kind == 'U' || a->kind == 'S') return text_targets(ctx, what, a, t);
    t->num = malloc(((size_t)a->count ? (size_t)a->count : 1) * sizeof *t->num);
    GSGD_RETURN_ERROR_IF(!t->num, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    for (uint64_t i = 0; i < a->count; i++) t->num[i] = element(a, i);
    t->n = (size_t)a->count;
    return GSGD_STATUS_OK;
}
