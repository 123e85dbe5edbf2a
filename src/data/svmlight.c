/* svmlight / LIBSVM text:
 *   <target> [qid:<q>] <index>:<value> ... [# comment]
 * one sample a line; blank lines and lines starting with # are skipped,
 * qid is ignored. Indices are 1-based (LIBSVM) unless an index 0 occurs
 * (then 0-based, scikit-learn's zero_based="auto") or the option says;
 * they must increase along a line. Targets are numbers (+1/-1, class
 * integers, real values) or label texts, which the label map takes.
 *
 * One pass: each line's pairs go straight into CSR arrays that grow by
 * doubling, from memory (a mapped file, standard input) or from a stream
 * read a piece at a time (gzip: never the whole text in memory). At the
 * end the rows stay sparse or become dense (storage.c's rule, or the
 * caller's choice). Numbers are parsed by hand where that is exact (up to
 * 2^53 as digits, times or over a power of ten up to 10^22: one correctly
 * rounded operation, what strtod gives), else by strtod. Lines and
 * columns (characters) in messages are 1-based. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/memory.h"
#include "data/loaders.h"

/* What separates tokens (isspace without the locale, and '\n' ends lines). */
#define SEP(c) ((c) == ' ' || (c) == '\t' || (c) == '\r' || (c) == '\v' || (c) == '\f')
#define DIGIT(c) ((unsigned)((c) - '0') < 10u)

typedef struct {
    gsgd_context *ctx;
    const char *what;
    const gsgdi_read_opts *o;
    gsgdi_raw_targets *t;
    size_t line; /* the line being read, 1-based */
    int64_t *indptr;
    uint32_t *ind; /* indices as read (saturated at 2^32 - 1; finish checks) */
    float *val;
    size_t n, cap_rows, nnz, cap_nnz;
    uint64_t max_index;
    size_t max_line; /* the line of max_index */
    int has_zero;
    int text; /* the targets are texts (t->pool) */
} reader;

static const double POW10[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                 1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

/* The number at s, in a token that ends at a separator or le: *v and 1
 * when the token is one number in strtod's syntax, with *end at its end.
 * Plain decimals are read here in one pass; anything else (inf, nan, hex,
 * long mantissas, large exponents, junk) goes to strtod. */
static int number(const char *s, const char *le, double *v, const char **end) {
    const char *p = s;
    int neg = 0, any = 0, over = 0, exp10 = 0;
    if (p < le && (*p == '-' || *p == '+')) neg = *p++ == '-';
    uint64_t m = 0;
    for (; p < le && DIGIT(*p); p++, any = 1) {
        if (m < 100000000000000000ull)
            m = m * 10 + (uint64_t)(*p - '0');
        else
            over = 1;
    }
    if (p < le && *p == '.')
        for (p++; p < le && DIGIT(*p); p++, any = 1) {
            if (m < 100000000000000000ull)
                m = m * 10 + (uint64_t)(*p - '0'), exp10--;
            else
                over = 1;
        }
    if (any && p < le && (*p == 'e' || *p == 'E')) {
        const char *q = p++;
        int eneg = 0, x = 0;
        if (p < le && (*p == '+' || *p == '-')) eneg = *p++ == '-';
        const char *digits = p;
        for (; p < le && DIGIT(*p); p++)
            if (x < 100000) x = x * 10 + (*p - '0');
        if (p == digits) p = q; /* "1e": not an exponent, the token is not a number */
        exp10 += eneg ? -x : x;
    }
    if (any && (p == le || SEP(*p)) && !over && m <= ((uint64_t)1 << 53) && exp10 >= -22 &&
        exp10 <= 22) {
        /* m exact, 10^|exp10| exact: one correctly rounded operation */
        const double x = exp10 < 0 ? (double)m / POW10[-exp10] : (double)m * POW10[exp10];
        *v = neg ? -x : x;
        *end = p;
        return 1;
    }
    while (p < le && !SEP(*p)) p++;
    *end = p;
    return gsgdi_parse_number(s, (size_t)(p - s), v);
}

static size_t col(const char *ls, const char *at) { return (size_t)(at - ls) + 1; }

static int clip(const char *s, const char *e) { return (int)(e - s < 40 ? e - s : 40); }

static gsgd_status oom(const reader *r) {
    return GSGD_ERROR(r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory at line %zu", r->what,
                      r->line);
}

static gsgd_status grow_nnz(reader *r) {
    const size_t c = r->cap_nnz ? 2 * r->cap_nnz : (size_t)1 << 16;
    uint32_t *i = realloc(r->ind, c * sizeof *i);
    if (!i) return oom(r);
    r->ind = i;
    float *v = realloc(r->val, c * sizeof *v);
    if (!v) return oom(r);
    r->val = v;
    r->cap_nnz = c;
    return GSGD_STATUS_OK;
}

/* Room for one more row: indptr, and the numeric targets with their lines
 * (text targets grow in gsgdi_raw_targets_push_text). */
static gsgd_status grow_rows(reader *r) {
    const size_t c = r->cap_rows ? 2 * r->cap_rows : (size_t)1 << 12;
    int64_t *p = realloc(r->indptr, (c + 1) * sizeof *p);
    if (!p) return oom(r);
    r->indptr = p;
    if (!r->text) {
        double *num = realloc(r->t->num, c * sizeof *num);
        if (!num) return oom(r);
        r->t->num = num;
        size_t *ln = realloc(r->t->line, c * sizeof *ln);
        if (!ln) return oom(r);
        r->t->line = ln;
    }
    r->cap_rows = c;
    return GSGD_STATUS_OK;
}

/* From here on the targets are texts: the numbers so far become their
 * shortest exact decimal ("%.17g"), the label map sorts them with the
 * rest. */
static gsgd_status to_text(reader *r) {
    gsgdi_raw_targets *t = r->t, text = {0};
    snprintf(text.file, sizeof text.file, "%s", t->file);
    text.column = t->column;
    for (size_t i = 0; i < r->n; i++) {
        char b[32];
        snprintf(b, sizeof b, "%.17g", t->num[i]);
        const gsgd_status st = gsgdi_raw_targets_push_text(r->ctx, &text, b, strlen(b), t->line[i]);
        if (st != GSGD_STATUS_OK) {
            gsgdi_raw_targets_free(&text);
            return st;
        }
    }
    gsgdi_raw_targets_free(t);
    *t = text;
    r->text = 1;
    return GSGD_STATUS_OK;
}

/* The target token [s, e): a number, or a label text. */
static gsgd_status target(reader *r, const char *ls, const char *s, const char *e) {
    GSGD_RETURN_ERROR_IF(memchr(s, ',', (size_t)(e - s)) != NULL, r->ctx, GSGD_STATUS_UNSUPPORTED,
                         "%s: line %zu, column %zu: '%.*s' is a multi-label target, which gsgd "
                         "does not train; keep one label per row",
                         r->what, r->line, col(ls, s), clip(s, e), s);
    GSGD_RETURN_ERROR_IF(memchr(s, ':', (size_t)(e - s)) != NULL, r->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu, column %zu: the row starts with '%.*s', not a target: "
                         "svmlight rows are 'label index:value ...'",
                         r->what, r->line, col(ls, s), clip(s, e), s);
    double v;
    const char *stop;
    const int is_num = number(s, e, &v, &stop) && stop == e;
    if (!r->text && !is_num) GSGD_FORWARD_IF_ERROR(to_text(r));
    if (r->text) return gsgdi_raw_targets_push_text(r->ctx, r->t, s, (size_t)(e - s), r->line);
    r->t->num[r->n] = v;
    r->t->line[r->n] = r->line;
    return GSGD_STATUS_OK;
}

/* A token at s that is not "index:value" with digits before the colon:
 * qid (*skip), or the error naming it. */
static gsgd_status odd_token(const reader *r, const char *ls, const char *s, const char *le,
                             const char **end, int *skip) {
    const char *e = s;
    while (e < le && !SEP(*e)) e++;
    *end = e;
    const char *colon = memchr(s, ':', (size_t)(e - s));
    GSGD_RETURN_ERROR_IF(!colon, r->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu, column %zu: '%.*s' is not index:value (svmlight rows are "
                         "'label index:value ...'; if this is CSV, give the format)",
                         r->what, r->line, col(ls, s), clip(s, e), s);
    *skip = colon - s == 3 && strncmp(s, "qid", 3) == 0;
    GSGD_RETURN_ERROR_IF(!*skip, r->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu, column %zu: '%.*s' has no valid feature index (a "
                         "non-negative integer below 2^40)",
                         r->what, r->line, col(ls, s), clip(s, e), s);
    return GSGD_STATUS_OK;
}

/* One line [ls, le), without its '\n'. */
static gsgd_status parse_line(reader *r, const char *ls, const char *le) {
    const char *hash = memchr(ls, '#', (size_t)(le - ls));
    if (hash) le = hash;
    const char *p = ls;
    while (p < le && SEP(*p)) p++;
    while (le > p && SEP(le[-1])) le--;
    if (p == le) return GSGD_STATUS_OK; /* blank or comment */
    if (r->n == r->cap_rows) GSGD_FORWARD_IF_ERROR(grow_rows(r));
    const char *s = p;
    while (p < le && !SEP(*p)) p++;
    GSGD_FORWARD_IF_ERROR(target(r, ls, s, p));
    uint64_t last = 0;
    int first = 1;
    for (;;) {
        while (p < le && SEP(*p)) p++;
        if (p == le) break;
        s = p;
        uint64_t idx = 0;
        while (p < le && DIGIT(*p) && idx < ((uint64_t)1 << 40))
            idx = idx * 10 + (uint64_t)(*p++ - '0');
        if (p == s || p == le || *p != ':') {
            int skip;
            GSGD_FORWARD_IF_ERROR(odd_token(r, ls, s, le, &p, &skip));
            continue; /* qid */
        }
        const char *vs = ++p;
        double v;
        const int ok = number(vs, le, &v, &p);
        GSGD_RETURN_ERROR_IF(!ok, r->ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: line %zu, column %zu: value '%.*s' is not a number", r->what,
                             r->line, col(ls, vs), clip(vs, p), vs);
        GSGD_RETURN_ERROR_IF(!isfinite(v) || !isfinite((float)v), r->ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: line %zu, column %zu: value '%.*s' is not a finite float; gsgd "
                             "does not impute: fill or drop it first",
                             r->what, r->line, col(ls, vs), clip(vs, p), vs);
        GSGD_RETURN_ERROR_IF(!first && idx <= last, r->ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: line %zu, column %zu: index %llu after %llu: indices must "
                             "increase along a line (LIBSVM format); sort them",
                             r->what, r->line, col(ls, s), (unsigned long long)idx,
                             (unsigned long long)last);
        first = 0;
        last = idx;
        if (r->nnz == r->cap_nnz) GSGD_FORWARD_IF_ERROR(grow_nnz(r));
        r->ind[r->nnz] = idx > UINT32_MAX ? UINT32_MAX : (uint32_t)idx;
        r->val[r->nnz++] = (float)v;
        r->has_zero |= idx == 0;
        if (idx > r->max_index) r->max_index = idx, r->max_line = r->line;
    }
    r->indptr[++r->n] = (int64_t)r->nnz;
    return GSGD_STATUS_OK;
}

/* Every whole line of [p, end) (the last one too when final); the bytes of
 * an unfinished last line are left for the next piece (*used). */
static gsgd_status feed(reader *r, const char *p, const char *end, int final, size_t *used) {
    const char *start = p;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl && !final) break;
        r->line++;
        GSGD_FORWARD_IF_ERROR(parse_line(r, p, nl ? nl : end));
        p = nl ? nl + 1 : end;
    }
    *used = (size_t)(p - start);
    return GSGD_STATUS_OK;
}

/* The rows, their width and indices' base checked; h takes the CSR arrays
 * (then stored as the options say), t the targets. */
static gsgd_status finish(reader *r, size_t len, gsgdi_host_data *h) {
    const gsgdi_read_opts *o = r->o;
    const char *what = r->what;
    gsgd_context *ctx = r->ctx;
    GSGD_RETURN_ERROR_IF(r->n == 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         len ? "%s: no data rows (only blank or comment lines)" : "%s: empty file",
                         what);
    const int zero_based = o->zero_based >= 0 ? o->zero_based : r->has_zero;
    GSGD_RETURN_ERROR_IF(r->has_zero && !zero_based, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: feature index 0 in a file read as 1-based; read it as 0-based", what);
    const uint64_t found = r->nnz ? (zero_based ? r->max_index + 1 : r->max_index) : 0;
    uint64_t d = o->n_features ? o->n_features : found;
    /* Past the reference's features: only as sparse rows of a test set,
     * whose training set is widened to match. */
    const int wider = found > d && o->wider_ok && o->csr != 0 &&
                      (o->csr > 0 || gsgdi_storage_prefers_csr(r->n, (size_t)found, r->nnz));
    if (wider) d = found;
    GSGD_RETURN_ERROR_IF(found > d, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "%s: line %zu: feature index %llu is past %s %llu features (%s "
                         "indices)",
                         what, r->max_line, (unsigned long long)r->max_index,
                         o->n_features_from ? o->n_features_from : "the model's",
                         (unsigned long long)d, zero_based ? "0-based" : "1-based");
    GSGD_RETURN_ERROR_IF(d == 0, ctx, GSGD_STATUS_BAD_FORMAT, "%s: no feature in any row", what);
    const int csr = o->csr >= 0 ? o->csr : gsgdi_storage_prefers_csr(r->n, (size_t)d, r->nnz);
    GSGD_RETURN_ERROR_IF(csr && d > INT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: line %zu: feature index %llu makes %llu features, past the limit "
                         "of sparse data (2^31 - 1); renumber the feature indices (hash them "
                         "into fewer)",
                         what, r->max_line, (unsigned long long)r->max_index,
                         (unsigned long long)d);
    GSGD_RETURN_ERROR_IF((uint64_t)r->nnz > GSGD_MAX_ELEMENTS, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu values exceed the limit of 2^32", what, r->nnz);
    if (!zero_based)
        for (size_t k = 0; k < r->nnz; k++) r->ind[k]--;
    r->indptr[0] = 0;
    h->indptr = r->indptr;
    /* Every index is below d: under 2^31 for CSR; a dense d past that is
     * refused by gsgdi_host_densify before an index is read. */
    h->indices = (int32_t *)r->ind;
    h->values = r->val;
    r->indptr = NULL, r->ind = NULL, r->val = NULL;
    h->n = r->n;
    h->d = (size_t)d;
    h->nnz = r->nnz;
    GSGD_FORWARD_IF_ERROR(csr ? GSGD_STATUS_OK : gsgdi_host_densify(ctx, what, h));
    const char *base = zero_based ? "0-based" : "1-based";
    if (csr)
        snprintf(h->meta.detail, sizeof h->meta.detail,
                 "%s indices, stored sparse (%.3g%% nonzero)", base,
                 100.0 * (double)r->nnz / ((double)r->n * (double)d));
    else
        snprintf(h->meta.detail, sizeof h->meta.detail, "%s indices, stored dense", base);
    r->t->n = r->n;
    r->t->column = 1;
    return GSGD_STATUS_OK;
}

static void reader_init(reader *r, gsgd_context *ctx, const char *what, const gsgdi_read_opts *o,
                        gsgdi_raw_targets *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->file, sizeof t->file, "%s", what);
    *r = (reader){.ctx = ctx, .what = what, .o = o, .t = t};
}

/* Frees what the reader holds; on failure h and t too. */
static gsgd_status reader_end(reader *r, gsgd_status st, gsgdi_host_data *h) {
    free(r->indptr);
    free(r->ind);
    free(r->val);
    if (st != GSGD_STATUS_OK) {
        gsgdi_raw_targets_free(r->t);
        gsgdi_host_data_free(h);
    }
    return st;
}

gsgd_status gsgdi_svmlight_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                                 const gsgdi_read_opts *o, gsgdi_host_data *h,
                                 gsgdi_raw_targets *t) {
    reader r;
    reader_init(&r, ctx, what, o, t);
    size_t used;
    gsgd_status st = gsgdi_text_no_nul(ctx, what, "svmlight", data, len, 0);
    if (st == GSGD_STATUS_OK) st = feed(&r, data, (const char *)data + len, 1, &used);
    if (st == GSGD_STATUS_OK) st = finish(&r, len, h);
    return reader_end(&r, st, h);
}

gsgd_status gsgdi_svmlight_stream(gsgd_context *ctx, const char *what, gsgdi_stream *s,
                                  const gsgdi_read_opts *o, gsgdi_host_data *h,
                                  gsgdi_raw_targets *t) {
    reader r;
    reader_init(&r, ctx, what, o, t);
    size_t cap = (size_t)4 << 20, have = 0, total = 0;
    char *buf = malloc(cap);
    gsgd_status st = buf ? GSGD_STATUS_OK
                         : GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    for (int eof = 0; st == GSGD_STATUS_OK && !eof;) {
        if (have == cap) { /* one line fills the buffer: a larger one */
            /* A longer line is no row (a binary file, or no line breaks):
             * the bound the whole-file readers keep (GSGD_MAX_LINE_BYTES). */
            if (cap >= GSGD_MAX_LINE_BYTES) {
                st = GSGD_ERROR(ctx, GSGD_STATUS_TOO_LARGE,
                                "%s: line %zu is longer than %zu MiB (a binary file, or no line "
                                "breaks?); svmlight rows are lines",
                                what, r.line + 1, GSGD_MAX_LINE_BYTES >> 20);
                break;
            }
            char *b = realloc(buf, 2 * cap);
            if (!b) {
                st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY,
                                "%s: out of memory for line %zu (%zu bytes so far)", what,
                                r.line + 1, cap);
                break;
            }
            buf = b;
            cap *= 2;
        }
        size_t got = 0, used = 0;
        st = gsgdi_stream_read(ctx, s, buf + have, cap - have, &got);
        if (st != GSGD_STATUS_OK) break;
        eof = have + got < cap;
        /* The buffer starts at a line (feed takes whole lines): r.line
         * lines of the source are before it. */
        if (memchr(buf + have, '\0', got)) {
            st = gsgdi_text_no_nul(ctx, what, "svmlight", buf, have + got, r.line);
            break;
        }
        have += got;
        total += got;
        st = feed(&r, buf, buf + have, eof, &used);
        have -= used;
        memmove(buf, buf + used, have);
    }
    free(buf);
    if (st == GSGD_STATUS_OK) st = finish(&r, total, h);
    return reader_end(&r, st, h);
}
