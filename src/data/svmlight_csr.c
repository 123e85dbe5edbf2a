/* STOPGAP, to be replaced: a small svmlight/LIBSVM reader that fills a
 * host CSR (gsgdi_csr_host) for this branch's tests and benchmarks. The
 * data-in branch owns the svmlight parser (src/data/svmlight.c) and the
 * label maps; when both land, its parser fills gsgdi_csr_host through the
 * same call (gsgdi_load_svmlight_csr) and this file goes.
 *
 *   <label> [qid:<q>] <index>:<value> ... [# comment]
 *
 * Streamed (gzip or plain, through zlib's gzread) in large chunks, never
 * the whole text in memory; numbers parsed by hand (a value of up to 19
 * significant digits is exact in a uint64 and scaled by an exact power of
 * ten in double, then rounded to float: what numpy's float64 then
 * float32 gives, see number(); longer ones fall back to strtod). Indices 1-based unless
 * a 0 occurs (auto) or the caller says; labels -1/+1 (to classes 0/1) or
 * non-negative integers (class indices). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "core/error.h"
#include "core/memory.h"
#include "data/loaders.h"

#define CHUNK ((size_t)4 << 20)

typedef struct {
    gsgd_context *ctx;
    const char *path;
    size_t line;
    int64_t *indptr;
    int32_t *ind;
    float *val;
    double *y;
    size_t n, cap_rows, nnz, cap_nnz;
    int64_t min_idx, max_idx;
    size_t max_line;
    int base; /* -1 auto, 0 zero-based, 1 one-based */
} reader;

static const double POW10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                               1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                               1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* A decimal number at p; *end past it (p when none). */
static double number(const char *p, const char **end) {
    const char *s = p;
    int neg = 0;
    if (*s == '-' || *s == '+') neg = *s++ == '-';
    uint64_t m = 0;
    int digits = 0, exp10 = 0, cut = 0;
    const char *d0 = s;
    while ((unsigned)(*s - '0') < 10) {
        if (digits < 19)
            m = m * 10 + (uint64_t)(*s - '0'), digits += m > 0;
        else
            exp10++, cut |= *s != '0';
        s++;
    }
    if (*s == '.') {
        s++;
        while ((unsigned)(*s - '0') < 10) {
            if (digits < 19)
                m = m * 10 + (uint64_t)(*s - '0'), digits += m > 0, exp10--;
            else
                cut |= *s != '0';
            s++;
        }
    }
    if (s == d0 || (s == d0 + 1 && *d0 == '.')) { /* no digits: nan, inf, junk */
        char *e;
        const double v = strtod(p, &e);
        *end = e;
        return v;
    }
    if (*s == 'e' || *s == 'E') {
        char *e;
        const long x = strtol(s + 1, &e, 10);
        if (e == s + 1) {
            *end = p;
            return 0;
        }
        exp10 += x > 400 ? 400 : x < -400 ? -400 : (int)x;
        s = e;
    }
    *end = s;
    /* m exact below 2^53, and one rounding of m / 10^k, k <= 22: the
     * correctly rounded double; up to 19 digits, two roundings (within an
     * ulp of double, so the float differs from rounding the exact value
     * only at a float halfway point, about once in 2^28 values) */
    if (!cut && exp10 >= -22 && exp10 <= 22) {
        const double v = exp10 < 0 ? (double)m / POW10[-exp10] : (double)m * POW10[exp10];
        return neg ? -v : v;
    }
    char *e;
    const double v = strtod(p, &e); /* rare: long mantissas, large exponents */
    return v;
}

#define BAD(r, ...) GSGD_ERROR((r)->ctx, GSGD_STATUS_BAD_FORMAT, __VA_ARGS__)

static gsgd_status grow(reader *r) {
    if (r->nnz + 64 > r->cap_nnz) {
        const size_t c = r->cap_nnz ? 2 * r->cap_nnz : 1 << 16;
        int32_t *i = realloc(r->ind, c * sizeof *i);
        if (i) r->ind = i;
        float *v = realloc(r->val, c * sizeof *v);
        if (v) r->val = v;
        GSGD_RETURN_ERROR_IF(!i || !v, r->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                             "%s: out of memory at line %zu", r->path, r->line);
        r->cap_nnz = c;
    }
    if (r->n + 2 > r->cap_rows) {
        const size_t c = r->cap_rows ? 2 * r->cap_rows : 1 << 12;
        int64_t *p = realloc(r->indptr, c * sizeof *p);
        if (p) r->indptr = p;
        double *y = realloc(r->y, c * sizeof *y);
        if (y) r->y = y;
        GSGD_RETURN_ERROR_IF(!p || !y, r->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                             "%s: out of memory at line %zu", r->path, r->line);
        r->cap_rows = c;
    }
    return GSGD_STATUS_OK;
}

#define SPACE(c) ((c) == ' ' || (c) == '\t' || (c) == '\r')

/* One line [p, nl), nl pointing at its '\n'. */
static gsgd_status parse_line(reader *r, const char *p, const char *nl) {
    while (p < nl && SPACE(*p)) p++;
    if (p == nl || *p == '#') return GSGD_STATUS_OK;
    GSGD_FORWARD_IF_ERROR(grow(r));
    const char *e;
    const double label = number(p, &e);
    if (e == p || !(e == nl || SPACE(*e) || *e == '#') || !isfinite(label))
        return BAD(r, "%s: line %zu: the label '%.*s' is not a number", r->path, r->line,
                   (int)(e > p && e - p < 40 ? e - p : 20), p);
    r->y[r->n] = label;
    p = e;
    for (;;) {
        while (p < nl && SPACE(*p)) p++;
        if (p == nl || *p == '#') break;
        if (p[0] == 'q' && p[1] == 'i' && p[2] == 'd' && p[3] == ':') { /* ignored */
            while (p < nl && !SPACE(*p)) p++;
            continue;
        }
        int64_t idx = 0;
        const char *s = p;
        while ((unsigned)(*p - '0') < 10 && idx < ((int64_t)1 << 40)) idx = idx * 10 + (*p++ - '0');
        if (p == s || *p != ':')
            return BAD(r, "%s: line %zu: '%.*s' is not index:value", r->path, r->line,
                       (int)(nl - s < 40 ? nl - s : 40), s);
        const double v = number(p + 1, &e);
        if (e == p + 1 || !(e == nl || SPACE(*e) || *e == '#') || !isfinite(v))
            return BAD(r, "%s: line %zu: index %lld: value '%.*s' is not a finite number", r->path,
                       r->line, (long long)idx, (int)(e > p + 1 && e - p < 40 ? e - p - 1 : 20),
                       p + 1);
        if (idx == 0 && r->base == 1)
            return BAD(r, "%s: line %zu: index 0 in a one-based file", r->path, r->line);
        if (idx < r->min_idx) r->min_idx = idx;
        if (idx > r->max_idx) r->max_idx = idx, r->max_line = r->line;
        if (r->nnz + 1 > r->cap_nnz) GSGD_FORWARD_IF_ERROR(grow(r));
        r->ind[r->nnz] = (int32_t)(idx > INT32_MAX ? INT32_MAX : idx);
        r->val[r->nnz++] = (float)v;
        p = e;
        if (r->nnz + 1 > r->cap_nnz) GSGD_FORWARD_IF_ERROR(grow(r));
    }
    r->indptr[++r->n] = (int64_t)r->nnz;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_csr_classes(gsgd_context *ctx, const char *what, const double *labels, size_t n,
                              gsgdi_csr_host *out) {
    int pm1 = 1;
    double top = 0;
    for (size_t i = 0; i < n; i++) {
        const double l = labels[i];
        pm1 &= l == 1.0 || l == -1.0;
        GSGD_RETURN_ERROR_IF(l != floor(l) || (l < 0 && l != -1.0) || l >= GSGD_MAX_CLASSES, ctx,
                             GSGD_STATUS_BAD_VALUE,
                             "%s: sample %zu: label %g is neither -1/+1 nor a class index in "
                             "[0, %d)",
                             what, i + 1, l, GSGD_MAX_CLASSES);
        if (l > top) top = l;
    }
    for (size_t i = 0; i < n; i++) {
        const double l = labels[i];
        if (!pm1)
            GSGD_RETURN_ERROR_IF(l < 0, ctx, GSGD_STATUS_BAD_VALUE,
                                 "%s: sample %zu: label -1 among labels other than -1/+1", what,
                                 i + 1);
        out->y[i] = pm1 ? (l > 0 ? 1.0f : 0.0f) : (float)l;
    }
    out->n_classes = pm1 ? 2 : (int)top + 1 < 2 ? 2 : (int)top + 1;
    return GSGD_STATUS_OK;
}

static gsgd_status finish(reader *r, size_t n_features, gsgdi_csr_host *out) {
    GSGD_RETURN_ERROR_IF(r->n == 0, r->ctx, GSGD_STATUS_BAD_FORMAT, "%s: no samples", r->path);
    const int64_t shift = r->base == 0 ? 0 : r->base == 1 ? 1 : r->min_idx == 0 ? 0 : 1;
    const int64_t top = r->max_idx - shift;
    GSGD_RETURN_ERROR_IF(
        top >= INT32_MAX || (n_features && r->nnz && (uint64_t)top >= n_features), r->ctx,
        GSGD_STATUS_BAD_VALUE, "%s: line %zu: feature index %lld past the %zu features given",
        r->path, r->max_line, (long long)r->max_idx, n_features ? n_features : (size_t)INT32_MAX);
    if (shift)
        for (size_t k = 0; k < r->nnz; k++) r->ind[k]--;
    out->d = n_features ? n_features : r->nnz ? (size_t)top + 1 : 1;
    out->n = r->n;
    out->nnz = r->nnz;
    void *y = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(r->ctx, r->n * sizeof(float), &y));
    out->y = y;
    GSGD_FORWARD_IF_ERROR(gsgdi_csr_classes(r->ctx, r->path, r->y, r->n, out));
    out->indptr = r->indptr, out->indices = r->ind, out->values = r->val;
    r->indptr = NULL, r->ind = NULL, r->val = NULL;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_load_svmlight_csr(gsgd_context *ctx, const char *path, int base,
                                    size_t n_features, gsgdi_csr_host *out) {
    memset(out, 0, sizeof *out);
    reader r = {.ctx = ctx, .path = path, .base = base, .min_idx = INT64_MAX, .max_idx = -1};
    gzFile f = gzopen(path, "rb");
    GSGD_RETURN_ERROR_IF(!f, ctx, GSGD_STATUS_IO, "%s: cannot open: %s", path,
                         errno ? strerror(errno) : "out of memory");
    gzbuffer(f, 1 << 20);
    char *buf = malloc(CHUNK + 2);
    gsgd_status st =
        buf ? grow(&r) : GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    if (st == GSGD_STATUS_OK) r.indptr[0] = 0;
    size_t have = 0;
    int eof = 0;
    while (st == GSGD_STATUS_OK && !eof) {
        const int got = gzread(f, buf + have, (unsigned)(CHUNK - have));
        if (got < 0) {
            int zerr;
            st = GSGD_ERROR(ctx, GSGD_STATUS_IO, "%s: read failed after line %zu: %s", path, r.line,
                            gzerror(f, &zerr));
            break;
        }
        have += (size_t)got;
        eof = got == 0 || have < CHUNK;
        if (eof && have && buf[have - 1] != '\n') buf[have++] = '\n';
        buf[have] = '\0';
        const char *p = buf, *end = buf + have, *nl;
        while (st == GSGD_STATUS_OK && (nl = memchr(p, '\n', (size_t)(end - p)))) {
            r.line++;
            st = parse_line(&r, p, nl);
            p = nl + 1;
        }
        if (st == GSGD_STATUS_OK && p == buf && have == CHUNK)
            st = BAD(&r, "%s: line %zu is longer than %zu bytes", path, r.line + 1, CHUNK);
        have = (size_t)(end - p);
        memmove(buf, p, have);
    }
    gzclose(f);
    free(buf);
    if (st == GSGD_STATUS_OK) st = finish(&r, n_features, out);
    if (st != GSGD_STATUS_OK) gsgdi_csr_host_free(out);
    free(r.indptr);
    free(r.ind);
    free(r.val);
    free(r.y);
    return st;
}
