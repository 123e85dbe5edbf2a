/* svmlight / LIBSVM text, read from memory into dense rows:
 *   <target> [qid:<q>] <index>:<value> ... [# comment]
 * one sample a line; blank lines and lines starting with # are skipped,
 * qid is ignored. Indices are 1-based (LIBSVM) unless an index 0 occurs
 * (then 0-based, scikit-learn's zero_based="auto") or the option says;
 * they must increase along a line. Missing indices are 0. Two passes over
 * the text: the first finds the rows and the largest index, so the dense
 * array is sized (and checked against the limits) before it is allocated.
 * Lines and columns (characters) in messages are 1-based. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"

typedef struct {
    gsgd_context *ctx;
    const char *what;
    const char *start, *end;
} text;

/* One token of a line: [s, e), and its column. */
typedef struct {
    const char *s, *e;
} token;

/* The next line's content [*ls, *le) (comments cut), from *p; 0 at the end. */
static int next_line(const text *x, const char **p, size_t *line, const char **ls,
                     const char **le) {
    while (*p < x->end) {
        const char *nl = memchr(*p, '\n', (size_t)(x->end - *p));
        const char *e = nl ? nl : x->end;
        *ls = *p;
        *p = nl ? nl + 1 : x->end;
        (*line)++;
        const char *hash = memchr(*ls, '#', (size_t)(e - *ls));
        if (hash) e = hash;
        while (e > *ls && isspace((unsigned char)e[-1])) e--;
        const char *s = *ls;
        while (s < e && isspace((unsigned char)*s)) s++;
        if (s == e) continue; /* blank or comment */
        *le = e;
        return 1;
    }
    return 0;
}

static int next_token(const char **q, const char *le, token *t) {
    while (*q < le && isspace((unsigned char)**q)) (*q)++;
    if (*q >= le) return 0;
    t->s = *q;
    while (*q < le && !isspace((unsigned char)**q)) (*q)++;
    t->e = *q;
    return 1;
}

static size_t col(const char *ls, const char *at) { return (size_t)(at - ls) + 1; }

/* Parses "index:value"; qid tokens set *skip. */
static gsgd_status pair(const text *x, size_t line, const char *ls, const token *t, uint64_t *index,
                        double *value, int *skip) {
    *skip = 0;
    const int len = (int)(t->e - t->s < 40 ? t->e - t->s : 40);
    const char *colon = memchr(t->s, ':', (size_t)(t->e - t->s));
    GSGD_RETURN_ERROR_IF(!colon, x->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu, column %zu: '%.*s' is not index:value (svmlight rows are "
                         "'label index:value ...'; if this is CSV, give the format)",
                         x->what, line, col(ls, t->s), len, t->s);
    if (colon - t->s == 3 && strncmp(t->s, "qid", 3) == 0) {
        *skip = 1;
        return GSGD_STATUS_OK;
    }
    uint64_t v = 0;
    const char *c = t->s;
    for (; c < colon && isdigit((unsigned char)*c) && v < ((uint64_t)1 << 40); c++)
        v = v * 10 + (uint64_t)(*c - '0');
    GSGD_RETURN_ERROR_IF(c != colon || colon == t->s, x->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu, column %zu: '%.*s' has no valid feature index (a "
                         "non-negative integer below 2^40)",
                         x->what, line, col(ls, t->s), len, t->s);
    double val = 0;
    GSGD_RETURN_ERROR_IF(
        !gsgdi_parse_number(colon + 1, (size_t)(t->e - colon - 1), &val), x->ctx,
        GSGD_STATUS_BAD_VALUE, "%s: line %zu, column %zu: value '%.*s' is not a number", x->what,
        line, col(ls, colon + 1), (int)(t->e - colon - 1 < 40 ? t->e - colon - 1 : 40), colon + 1);
    GSGD_RETURN_ERROR_IF(!isfinite(val) || !isfinite((float)val), x->ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: line %zu, column %zu: value '%.*s' is not a finite float; gsgd does "
                         "not impute: fill or drop it first",
                         x->what, line, col(ls, colon + 1),
                         (int)(t->e - colon - 1 < 40 ? t->e - colon - 1 : 40), colon + 1);
    *index = v;
    *value = val;
    return GSGD_STATUS_OK;
}

/* The target token: a number (+1, -1, 3, 2.5). */
static gsgd_status target(const text *x, size_t line, const char *ls, const token *t, double *v) {
    const int len = (int)(t->e - t->s < 40 ? t->e - t->s : 40);
    GSGD_RETURN_ERROR_IF(memchr(t->s, ',', (size_t)(t->e - t->s)) != NULL, x->ctx,
                         GSGD_STATUS_UNSUPPORTED,
                         "%s: line %zu, column 1: '%.*s' is a multi-label target, which gsgd does "
                         "not train; keep one label per row",
                         x->what, line, len, t->s);
    GSGD_RETURN_ERROR_IF(memchr(t->s, ':', (size_t)(t->e - t->s)) != NULL, x->ctx,
                         GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu, column 1: the row starts with '%.*s', not a target: "
                         "svmlight rows are 'label index:value ...'",
                         x->what, line, len, t->s);
    GSGD_RETURN_ERROR_IF(!gsgdi_parse_number(t->s, (size_t)(t->e - t->s), v), x->ctx,
                         GSGD_STATUS_BAD_VALUE,
                         "%s: line %zu, column 1: target '%.*s' is not a number (svmlight "
                         "targets are numbers: +1/-1, class integers or real values)",
                         x->what, line, len, t->s);
    (void)ls;
    return GSGD_STATUS_OK;
}

/* Pass 1: rows, the index range, and every token checked. */
static gsgd_status scan(const text *x, size_t *rows, uint64_t *max_index, int *has_zero,
                        uint64_t *pairs) {
    const char *p = x->start, *ls, *le;
    size_t line = 0;
    *rows = 0;
    *pairs = 0;
    *max_index = 0;
    *has_zero = 0;
    while (next_line(x, &p, &line, &ls, &le)) {
        const char *q = ls;
        token t = {ls, ls};
        double v;
        next_token(&q, le, &t);
        GSGD_FORWARD_IF_ERROR(target(x, line, ls, &t, &v));
        uint64_t last = 0;
        int first = 1;
        while (next_token(&q, le, &t)) {
            uint64_t idx;
            double val;
            int skip;
            GSGD_FORWARD_IF_ERROR(pair(x, line, ls, &t, &idx, &val, &skip));
            if (skip) continue;
            GSGD_RETURN_ERROR_IF(!first && idx <= last, x->ctx, GSGD_STATUS_BAD_FORMAT,
                                 "%s: line %zu, column %zu: index %llu after %llu: indices must "
                                 "increase along a line (LIBSVM format); sort them",
                                 x->what, line, col(ls, t.s), (unsigned long long)idx,
                                 (unsigned long long)last);
            first = 0;
            last = idx;
            (*pairs)++;
            *has_zero |= idx == 0;
            if (idx > *max_index) *max_index = idx;
        }
        (*rows)++;
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_svmlight_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                                 const gsgdi_read_opts *o, gsgdi_host_data *h,
                                 gsgdi_raw_targets *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->file, sizeof t->file, "%s", what);
    const text x = {ctx, what, data, (const char *)data + len};
    size_t n;
    uint64_t max_index;
    int has_zero;
    uint64_t pairs;
    GSGD_FORWARD_IF_ERROR(scan(&x, &n, &max_index, &has_zero, &pairs));
    GSGD_RETURN_ERROR_IF(n == 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         len ? "%s: no data rows (only blank or comment lines)" : "%s: empty file",
                         what);
    const int zero_based = o->zero_based >= 0 ? o->zero_based : has_zero;
    GSGD_RETURN_ERROR_IF(has_zero && !zero_based, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: feature index 0 in a file read as 1-based; read it as 0-based", what);
    const uint64_t found = zero_based ? max_index + 1 : max_index;
    uint64_t d = o->n_features ? o->n_features : found;
    GSGD_RETURN_ERROR_IF(found > d, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "%s: feature index %llu is past the model's %llu features (%s indices)",
                         what, (unsigned long long)max_index, (unsigned long long)d,
                         zero_based ? "0-based" : "1-based");
    GSGD_RETURN_ERROR_IF(d == 0, ctx, GSGD_STATUS_BAD_FORMAT, "%s: no feature in any row", what);
    GSGD_RETURN_ERROR_IF((uint64_t)n > GSGD_MAX_ELEMENTS / d, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: %zu rows x %llu features exceed the limit of 2^32 values (stored "
                         "dense); reduce the feature indices",
                         what, n, (unsigned long long)d);
    /* Dense storage of a file that is almost all zeros (a few large
     * indices) would take gigabytes for a few values. */
    const uint64_t values = (uint64_t)n * d;
    GSGD_RETURN_ERROR_IF(
        values > ((uint64_t)1 << 26) && pairs < values / 4096, ctx, GSGD_STATUS_TOO_LARGE,
        "%s: %zu rows x %llu features stored dense would take %.1f GiB for %llu "
        "values (density below 1/4096); renumber the feature indices densely",
        what, n, (unsigned long long)d, (double)values * 4 / (1 << 30), (unsigned long long)pairs);
    void *pX = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, n * (size_t)d * sizeof(float), &pX));
    float *X = pX;
    memset(X, 0, n * (size_t)d * sizeof(float));
    t->num = malloc(n * sizeof *t->num);
    t->line = malloc(n * sizeof *t->line);
    if (!t->num || !t->line) {
        free(X);
        gsgdi_raw_targets_free(t);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    }
    /* Pass 2: the text is known good. */
    const char *p = x.start, *ls, *le;
    size_t line = 0, i = 0;
    while (next_line(&x, &p, &line, &ls, &le)) {
        const char *q = ls;
        token tk = {ls, ls};
        next_token(&q, le, &tk);
        gsgdi_parse_number(tk.s, (size_t)(tk.e - tk.s), &t->num[i]);
        t->line[i] = line;
        while (next_token(&q, le, &tk)) {
            uint64_t idx;
            double val;
            int skip;
            pair(&x, line, ls, &tk, &idx, &val, &skip);
            if (!skip) X[i * (size_t)d + (size_t)(zero_based ? idx : idx - 1)] = (float)val;
        }
        i++;
    }
    t->n = n;
    t->column = 1;
    h->X = X;
    h->n = n;
    h->d = (size_t)d;
    snprintf(h->meta.detail, sizeof h->meta.detail, "%s indices, stored dense",
             zero_based ? "0-based" : "1-based");
    return GSGD_STATUS_OK;
}
