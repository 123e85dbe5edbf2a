/* Delimited text (CSV, TSV, ';' or blank-separated), read from memory: a
 * detected or given delimiter, an optional header (detected), quoted fields
 * (RFC 4180: "a, ""b""" holds a, "b"; a quoted field may span lines), the
 * target column chosen by name or index. Lines and columns in messages are
 * 1-based, as an editor shows them. Numbers are read with strtod in the C
 * locale: the decimal mark is '.', or ',' when the options say so (files
 * of locales that write 1,5), read as if it were '.'. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "data/loaders.h"

typedef struct {
    const char *s; /* first byte of the field (inside the quotes when quoted) */
    size_t len;
    int quoted;
} field;

typedef struct {
    gsgd_context *ctx;
    const char *what;
    const char *p, *end;
    size_t line;  /* line of p */
    char delim;   /* 0: runs of blanks */
    char decimal; /* '.' or ',' */
    field *f;     /* the current record's fields */
    size_t nf, cap;
    size_t rec_line; /* line the current record starts on */
    char *text;      /* scratch for an unquoted label */
    size_t text_cap;
} reader;

static int is_blank_char(char c) { return c == ' ' || c == '\t'; }

static gsgd_status push_field(reader *r, const char *s, size_t len, int quoted) {
    if (r->nf == r->cap) {
        GSGD_RETURN_ERROR_IF(r->cap >= GSGD_MAX_COLUMNS, r->ctx, GSGD_STATUS_TOO_LARGE,
                             "%s: line %zu: more than %zu columns", r->what, r->rec_line,
                             GSGD_MAX_COLUMNS);
        const size_t cap = r->cap ? 2 * r->cap : 64;
        field *f = realloc(r->f, cap * sizeof *f);
        GSGD_RETURN_ERROR_IF(!f, r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", r->what);
        r->f = f;
        r->cap = cap;
    }
    r->f[r->nf++] = (field){s, len, quoted};
    return GSGD_STATUS_OK;
}

/* Consumes a line end at p (\n, \r\n or \r); 1 when there was one. */
static int eat_eol(reader *r) {
    if (r->p < r->end && *r->p == '\r') {
        r->p++;
        if (r->p < r->end && *r->p == '\n') r->p++;
        r->line++;
        return 1;
    }
    if (r->p < r->end && *r->p == '\n') {
        r->p++;
        r->line++;
        return 1;
    }
    return 0;
}

static int at_eol(const reader *r) { return r->p == r->end || *r->p == '\n' || *r->p == '\r'; }

/* A quoted field: p is just past the opening quote. */
static gsgd_status quoted_field(reader *r) {
    const char *start = r->p;
    const size_t open_line = r->line;
    for (;;) {
        const char *q = memchr(r->p, '"', (size_t)(r->end - r->p));
        for (const char *c = r->p; c < (q ? q : r->end); c++) r->line += *c == '\n';
        GSGD_RETURN_ERROR_IF(!q, r->ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: line %zu: a quoted field is never closed; check the quotes "
                             "(a quote inside a quoted field is written \"\")",
                             r->what, open_line);
        r->p = q + 1;
        if (r->p < r->end && *r->p == '"') { /* "" inside: a quote */
            r->p++;
            continue;
        }
        GSGD_FORWARD_IF_ERROR(push_field(r, start, (size_t)(q - start), 1));
        while (r->delim != 0 && r->p < r->end && is_blank_char(*r->p) && *r->p != r->delim) r->p++;
        GSGD_RETURN_ERROR_IF(!at_eol(r) && *r->p != r->delim &&
                                 !(r->delim == 0 && is_blank_char(*r->p)),
                             r->ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: line %zu: text after the closing quote of field %zu; quote the "
                             "whole field",
                             r->what, r->line, r->nf);
        return GSGD_STATUS_OK;
    }
}

/* Reads one record into r->f (nf == 0: a blank line); *more is 0 at the
 * end of the input. */
static gsgd_status next_record(reader *r, int *more) {
    r->nf = 0;
    r->rec_line = r->line;
    *more = r->p < r->end;
    if (!*more) return GSGD_STATUS_OK;
    for (;;) {
        if (r->delim == 0)
            while (r->p < r->end && is_blank_char(*r->p)) r->p++;
        if (r->delim == 0 && at_eol(r)) break;
        if (r->p < r->end && *r->p == '"') {
            r->p++;
            GSGD_FORWARD_IF_ERROR(quoted_field(r));
        } else {
            const char *s = r->p;
            while (r->p < r->end && *r->p != '\n' && *r->p != '\r' &&
                   (r->delim ? *r->p != r->delim : !is_blank_char(*r->p)))
                r->p++;
            GSGD_FORWARD_IF_ERROR(push_field(r, s, (size_t)(r->p - s), 0));
        }
        if (r->delim != 0 && r->p < r->end && *r->p == r->delim) {
            r->p++;
            continue;
        }
        if (r->delim == 0 && r->p < r->end && is_blank_char(*r->p)) continue;
        break;
    }
    eat_eol(r);
    /* A line of blanks only is blank, whatever the delimiter. */
    if (r->nf == 1 && !r->f[0].quoted) {
        size_t k = 0;
        while (k < r->f[0].len && is_blank_char(r->f[0].s[k])) k++;
        if (k == r->f[0].len) r->nf = 0;
    }
    return GSGD_STATUS_OK;
}

/* [s, s + len) as a number whose decimal mark is decimal: with ',' the
 * text is read with '.' in its place, and one that has a '.' as well
 * ("1.234,5": a thousands mark) is none. */
static int number_with(char decimal, const char *s, size_t len, double *v) {
    if (decimal != ',') return gsgdi_parse_number(s, len, v);
    char buf[128];
    if (len >= sizeof buf || memchr(s, '.', len)) return 0;
    for (size_t k = 0; k < len; k++) buf[k] = s[k] == ',' ? '.' : s[k];
    return gsgdi_parse_number(buf, len, v);
}

/* A number under the file's decimal mark, or, to decide on a header, under
 * ',' too: a file of decimal commas read without --decimal still gets its
 * header found, and then the message that names the fix. */
static int field_is_number(char decimal, const field *f) {
    double v;
    return number_with(decimal, f->s, f->len, &v) ||
           (f->len && memchr(f->s, ',', f->len) && number_with(',', f->s, f->len, &v));
}

/* A field's text without the blanks around it (unquoted) and with "" as "
 * (quoted), in r->text. */
static gsgd_status field_text(reader *r, const field *f, const char **s, size_t *len) {
    const char *a = f->s;
    size_t n = f->len;
    if (!f->quoted) {
        while (n && is_blank_char(*a)) a++, n--;
        while (n && is_blank_char(a[n - 1])) n--;
        *s = a;
        *len = n;
        return GSGD_STATUS_OK;
    }
    if (n + 1 > r->text_cap) {
        char *t = realloc(r->text, n + 1);
        GSGD_RETURN_ERROR_IF(!t, r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", r->what);
        r->text = t;
        r->text_cap = n + 1;
    }
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        r->text[k++] = a[i];
        if (a[i] == '"' && i + 1 < n && a[i + 1] == '"') i++;
    }
    *s = r->text;
    *len = k;
    return GSGD_STATUS_OK;
}

typedef struct {
    size_t cols;  /* fields per row */
    long label;   /* target column, -1 none */
    char **names; /* header names (cols), or NULL */
    char *name_pool;
    size_t *pos; /* the place in a row of each feature column (the k-th that
                    is not the target), by its name among the reference's;
                    NULL: the file's order */
    char *skip;  /* cols flags: 1 for a column left out (GSGD_DATA_IGNORE), or NULL */
    size_t n_skip;
} layout;

static void layout_free(layout *L) {
    free(L->names);
    free(L->name_pool);
    free(L->pos);
    free(L->skip);
}

/* Whether column j holds a feature: neither the target nor left out. */
static int is_feature(const layout *L, size_t j) {
    return (long)j != L->label && !(L->skip && L->skip[j]);
}

/* Feature columns per row (the target is never left out). */
static size_t feature_count(const layout *L) {
    return L->cols - L->n_skip - (L->label >= 0 ? 1 : 0);
}

/* Keeps the header's names (the fields are views into the input). */
static gsgd_status keep_names(reader *r, layout *L) {
    size_t bytes = 0;
    for (size_t j = 0; j < r->nf; j++) bytes += r->f[j].len + 1;
    L->names = calloc(r->nf, sizeof *L->names);
    L->name_pool = malloc(bytes + 1);
    GSGD_RETURN_ERROR_IF(!L->names || !L->name_pool, r->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                         "%s: out of memory", r->what);
    size_t at = 0;
    for (size_t j = 0; j < r->nf; j++) {
        const char *s;
        size_t len;
        GSGD_FORWARD_IF_ERROR(field_text(r, &r->f[j], &s, &len));
        L->names[j] = L->name_pool + at;
        memcpy(L->names[j], s, len);
        L->names[j][len] = '\0';
        at += len + 1;
    }
    return GSGD_STATUS_OK;
}

static gsgd_status place_by_name(reader *r, const gsgdi_read_opts *o, layout *L);

/* The columns GSGD_DATA_IGNORE leaves out: comma-separated header names or
 * indices (0 the first, -1 the last), each the file must have. */
static gsgd_status resolve_ignore(reader *r, const gsgdi_read_opts *o, layout *L) {
    if (!o->ignore || !*o->ignore) return GSGD_STATUS_OK;
    const size_t C = L->cols;
    L->skip = calloc(C, 1);
    char *list = malloc(strlen(o->ignore) + 1);
    if (!L->skip || !list) {
        free(list);
        return GSGD_ERROR(r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", r->what);
    }
    strcpy(list, o->ignore);
    gsgd_status st = GSGD_STATUS_OK;
    for (char *item = list, *next; item && st == GSGD_STATUS_OK; item = next) {
        next = strchr(item, ',');
        if (next) *next++ = '\0';
        while (is_blank_char(*item)) item++; /* "id, date" */
        for (size_t n = strlen(item); n && is_blank_char(item[n - 1]); n--) item[n - 1] = '\0';
        long col = -1;
        for (size_t j = 0; L->names && col < 0 && j < C; j++)
            if (strcmp(L->names[j], item) == 0) col = (long)j;
        if (col < 0) {
            char *end;
            errno = 0;
            const long v = strtol(item, &end, 10);
            if (end == item || *end || errno || v >= (long)C || v < -(long)C) {
                st = GSGD_ERROR(r->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                                "%s: --ignore '%.60s': %s; give column names or indices (0 the "
                                "first column, -1 the last), comma-separated",
                                r->what, item,
                                L->names ? "no column of the header has that name"
                                         : "the file has no header line to find that name in");
                break;
            }
            col = v < 0 ? (long)C + v : v;
        }
        L->n_skip += !L->skip[col];
        L->skip[col] = 1;
    }
    free(list);
    return st;
}

/* The target column from the option (a header name, an index, "none") or
 * the default, checked against the reference's feature count (a header
 * and the reference's feature names name the column in excess or
 * missing). */
static gsgd_status resolve_label(reader *r, const gsgdi_read_opts *o, layout *L) {
    const size_t C = L->cols;
    const char *opt = o->label;
    long col = 0; /* the default: the first column not left out */
    while (L->skip && col < (long)C - 1 && L->skip[col]) col++;
    int found = 0;
    if (opt && strcmp(opt, "none") == 0) {
        col = -1;
        found = 1;
    }
    for (size_t j = 0; opt && !found && L->names && j < C; j++)
        if (strcmp(L->names[j], opt) == 0) col = (long)j, found = 1;
    if (opt && !found) {
        char *end;
        errno = 0;
        const long v = strtol(opt, &end, 10);
        GSGD_RETURN_ERROR_IF(end == opt || *end || errno, r->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "%s: --label '%s': %s; give a column name or an index (0 the first "
                             "column, -1 the last)",
                             r->what, opt,
                             L->names ? "no column of the header has that name"
                                      : "the file has no header line to find that name in");
        GSGD_RETURN_ERROR_IF(v >= (long)C || v < -(long)C, r->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "%s: --label %ld: the rows have %zu columns (indices 0 to %zu, or -1 "
                             "for the last)",
                             r->what, v, C, C - 1);
        col = v < 0 ? (long)C + v : v;
        found = 1;
    }
    /* The column the reference's targets came from, by its header name:
     * a model finds its training target again wherever the file has it. */
    for (size_t j = 0; !opt && o->ref_target && L->names && !found && j < C; j++)
        if (!(L->skip && L->skip[j]) && strcmp(L->names[j], o->ref_target) == 0)
            col = (long)j, found = 1;
    static const char *const names[] = {"label", "target", "class", "y"};
    for (size_t k = 0; !found && L->names && k < 4; k++)
        for (size_t j = 0; !found && j < C; j++)
            if (!(L->skip && L->skip[j]) && strcasecmp(L->names[j], names[k]) == 0)
                col = (long)j, found = 1;
    const size_t F = o->n_features;
    if (F && !opt && C - L->n_skip == F) col = -1; /* rows of features only, for a model */
    GSGD_RETURN_ERROR_IF(col >= 0 && L->skip && L->skip[col], r->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s: column %ld%s%s%s is both the target and left out by --ignore; "
                         "give the target with --label",
                         r->what, col + 1, L->names ? " ('" : "", L->names ? L->names[col] : "",
                         L->names ? "')" : "");
    L->label = col;
    const size_t d = feature_count(L);
    if (F && d != F && L->names && o->ref_names && o->ref_names->distinct)
        GSGD_FORWARD_IF_ERROR(place_by_name(r, o, L));
    GSGD_RETURN_ERROR_IF(F && d != F, r->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "%s: line %zu: %zu columns%s, but the model takes %zu features (rows of "
                         "%zu columns, or %zu with the target); check the delimiter (detected %s) "
                         "and --label",
                         r->what, r->rec_line, C, col >= 0 ? " with the target" : "", F, F, F + 1,
                         gsgdi_csv_delimiter_name(r->delim));
    GSGD_RETURN_ERROR_IF(d == 0, r->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu: one column only (%s-separated): a row needs a target and "
                         "at least one feature; if the file uses another delimiter, give it",
                         r->what, r->rec_line, gsgdi_csv_delimiter_name(r->delim));
    return GSGD_STATUS_OK;
}

typedef struct {
    float *X;
    size_t n, cap, d;
} rows;

static gsgd_status grow(reader *r, rows *R) {
    const size_t max_rows = (size_t)(GSGD_MAX_ELEMENTS / R->d);
    GSGD_RETURN_ERROR_IF(R->cap >= max_rows, r->ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: line %zu: more than 2^32 values in the file", r->what, r->rec_line);
    size_t ncap = R->cap ? R->cap * 2 : 256;
    if (ncap > max_rows) ncap = max_rows;
    const size_t bytes = ncap * R->d * sizeof(float); /* <= 2^34 */
    float *X = realloc(R->X, bytes);
    GSGD_RETURN_ERROR_IF(!X, r->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                         "%s: line %zu: cannot allocate %zu bytes", r->what, r->rec_line, bytes);
    R->X = X;
    R->cap = ncap;
    return GSGD_STATUS_OK;
}

/* "column 3 ('alcohol')" */
static const char *column_name(const layout *L, size_t j, char *buf, size_t size) {
    if (L->names)
        snprintf(buf, size, "column %zu ('%.40s')", j + 1, L->names[j]);
    else
        snprintf(buf, size, "column %zu", j + 1);
    return buf;
}

static gsgd_status feature_value(reader *r, const layout *L, size_t j, const field *f, int header,
                                 float *out) {
    double v = 0;
    char c[80];
    if (number_with(r->decimal, f->s, f->len, &v) && !isnan(v)) {
        GSGD_RETURN_ERROR_IF(!isfinite(v) || !isfinite((float)v), r->ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: line %zu, %s: '%.*s' is not a finite float", r->what, r->rec_line,
                             column_name(L, j, c, sizeof c), (int)(f->len < 40 ? f->len : 40),
                             f->s);
        *out = (float)v;
        return GSGD_STATUS_OK;
    }
    /* A header that ends in an empty name and a row that ends in an empty
     * field: lines that end with a delimiter, not a missing value. */
    if (f->len == 0 && j + 1 == L->cols && L->names && L->names[j][0] == '\0')
        return GSGD_ERROR(r->ctx, GSGD_STATUS_BAD_FORMAT,
                          "%s: line %zu, column %zu: empty, and the header names no column %zu: "
                          "the lines end with a %s delimiter; remove it from every line",
                          r->what, r->rec_line, j + 1, j + 1, gsgdi_csv_delimiter_name(r->delim));
    if (gsgdi_is_missing(f->s, f->len))
        return GSGD_ERROR(r->ctx, GSGD_STATUS_BAD_VALUE,
                          "%s: line %zu, %s: missing value '%.*s'; gsgd does not impute: fill or "
                          "drop such rows first (pandas: fillna, dropna)",
                          r->what, r->rec_line, column_name(L, j, c, sizeof c),
                          (int)(f->len < 40 ? f->len : 40), f->s);
    /* "1,5" in a file of another delimiter: a decimal comma, most likely. */
    const int comma =
        r->decimal != ',' && memchr(f->s, ',', f->len) && number_with(',', f->s, f->len, &v);
    return GSGD_ERROR(r->ctx, GSGD_STATUS_BAD_VALUE,
                      "%s: line %zu, %s: '%.*s' is not a number; %s%s", r->what, r->rec_line,
                      column_name(L, j, c, sizeof c), (int)(f->len < 40 ? f->len : 40), f->s,
                      comma ? "the file seems to write decimals with a comma: give --decimal ,"
                            : "features must be numbers: encode or drop this column, or make it "
                              "the target with --label NAME|INDEX",
                      !header && r->rec_line == 1 ? "; if the first line is a header, say so" : "");
}

static gsgd_status parse_row(reader *r, const layout *L, rows *R, gsgdi_raw_targets *t,
                             int header) {
    GSGD_RETURN_ERROR_IF(r->nf != L->cols, r->ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: line %zu: expected %zu fields, got %zu (%s-separated%s); check the "
                         "delimiter and the quotes",
                         r->what, r->rec_line, L->cols, r->nf, gsgdi_csv_delimiter_name(r->delim),
                         header ? ", as the header" : "");
    if (R->n == R->cap) GSGD_FORWARD_IF_ERROR(grow(r, R));
    float *row = R->X + R->n * R->d;
    for (size_t j = 0, k = 0; j < r->nf; j++) {
        if (L->skip && L->skip[j]) continue;
        if ((long)j == L->label) {
            const char *s;
            size_t len;
            GSGD_FORWARD_IF_ERROR(field_text(r, &r->f[j], &s, &len));
            char num[128];
            double v;
            /* A decimal-comma number with '.' for its mark: the target rules
             * read it as the number it is. */
            if (r->decimal == ',' && len < sizeof num && memchr(s, ',', len) &&
                number_with(',', s, len, &v)) {
                for (size_t k = 0; k < len; k++) num[k] = s[k] == ',' ? '.' : s[k];
                s = num;
            }
            GSGD_FORWARD_IF_ERROR(gsgdi_raw_targets_push_text(r->ctx, t, s, len, r->rec_line));
        } else {
            float *at = &row[L->pos ? L->pos[k] : k];
            k++;
            GSGD_FORWARD_IF_ERROR(feature_value(r, L, j, &r->f[j], header, at));
        }
    }
    R->n++;
    return GSGD_STATUS_OK;
}

/* The header's feature names (all columns but the target), in file order,
 * into a new array (*have, d of them; views into L's names). */
static gsgd_status feature_names_of(reader *r, const layout *L, const char ***have, size_t *d) {
    *d = feature_count(L);
    *have = malloc((*d ? *d : 1) * sizeof **have);
    GSGD_RETURN_ERROR_IF(!*have, r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", r->what);
    for (size_t j = 0, k = 0; j < L->cols; j++)
        if (is_feature(L, j)) (*have)[k++] = L->names[j];
    return GSGD_STATUS_OK;
}

/* With a header and the names of the reference's features (a model's, a
 * training set's; all distinct): each feature column goes to the place of
 * its name among them, so a file with its columns in another order reads
 * as the reference was trained; a column whose name the reference lacks
 * is refused, naming it and the name the header lacks. */
static gsgd_status place_by_name(reader *r, const gsgdi_read_opts *o, layout *L) {
    const gsgdi_names *ref = o->ref_names;
    const char **have = NULL;
    size_t d = 0;
    GSGD_FORWARD_IF_ERROR(feature_names_of(r, L, &have, &d));
    size_t *index = malloc((d ? d : 1) * sizeof *index);
    char *seen = calloc(ref->n ? ref->n : 1, 1);
    gsgd_status st =
        index && seen ? gsgdi_names_match(r->ctx, ref, have, d, index)
                      : GSGD_ERROR(r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", r->what);
    int same = d == ref->n;
    size_t stray = SIZE_MAX; /* a column the reference lacks, or names twice */
    for (size_t k = 0; st == GSGD_STATUS_OK && k < d; k++) {
        same &= index[k] == k;
        if (stray == SIZE_MAX && (index[k] == SIZE_MAX || seen[index[k]])) stray = k;
        if (index[k] != SIZE_MAX) seen[index[k]] = 1;
    }
    size_t missing = 0;
    while (st == GSGD_STATUS_OK && missing < ref->n && seen[missing]) missing++;
    if (st == GSGD_STATUS_OK && stray == SIZE_MAX && missing < ref->n)
        st = GSGD_ERROR(r->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                        "%s: line %zu: the header lacks %s's feature '%.60s'; it must name the "
                        "features of %s, in any order",
                        r->what, r->rec_line, o->ref_what, ref->at[missing], o->ref_what);
    if (st == GSGD_STATUS_OK && !same && stray != SIZE_MAX) {
        size_t col = 0; /* the stray's column in the file, 1-based */
        for (size_t j = 0, k = 0; j < L->cols; j++)
            if (is_feature(L, j) && k++ == stray) col = j + 1;
        st = GSGD_ERROR(r->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                        "%s: line %zu, column %zu ('%.60s'): %s among %s's features%s%.60s%s; "
                        "the header must name the features of %s, in any order: rename it, "
                        "leave it out (--ignore NAME), or drop the header line to read the "
                        "columns by position",
                        r->what, r->rec_line, col, have[stray],
                        index[stray] == SIZE_MAX ? "not" : "twice", o->ref_what,
                        missing < ref->n ? ", which has '" : "",
                        missing < ref->n ? ref->at[missing] : "",
                        missing < ref->n ? "' that the header lacks" : "", o->ref_what);
    }
    free(have);
    free(seen);
    if (st == GSGD_STATUS_OK && !same && d == ref->n)
        L->pos = index;
    else
        free(index);
    return st;
}

/* Header: given, or detected as a first row that has text in every column
 * where the second row has a number (a column of text labels decides
 * nothing; one number among names means a data row with a typo). */
static int detect_header(char decimal, const field *a, size_t na, const field *b, size_t nb) {
    int numeric_columns = 0;
    for (size_t j = 0; j < na; j++) {
        if (b && (j >= nb || !field_is_number(decimal, &b[j]))) continue;
        numeric_columns++;
        if (field_is_number(decimal, &a[j]) || gsgdi_is_missing(a[j].s, a[j].len)) return 0;
    }
    return numeric_columns > 0;
}

/* The first two records, to decide on a header without consuming them. */
static gsgd_status peek_two(reader *r, field **first, size_t *n1, field **second, size_t *n2) {
    reader probe = *r;
    probe.f = NULL;
    probe.nf = probe.cap = 0;
    probe.text = NULL;
    probe.text_cap = 0;
    *first = *second = NULL;
    *n1 = *n2 = 0;
    gsgd_status st = GSGD_STATUS_OK;
    int more = 1;
    for (int got = 0; got < 2 && st == GSGD_STATUS_OK;) {
        st = next_record(&probe, &more);
        if (st != GSGD_STATUS_OK || !more) break;
        if (probe.nf == 0) continue;
        field *copy = malloc(probe.nf * sizeof *copy);
        if (!copy) {
            st = GSGD_ERROR(r->ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", r->what);
            break;
        }
        memcpy(copy, probe.f, probe.nf * sizeof *copy);
        if (got++ == 0)
            *first = copy, *n1 = probe.nf;
        else
            *second = copy, *n2 = probe.nf;
    }
    free(probe.f);
    free(probe.text);
    if (st != GSGD_STATUS_OK) {
        free(*first);
        free(*second);
        *first = *second = NULL;
    }
    return st;
}

static gsgd_status parse_all(reader *r, const gsgdi_read_opts *o, layout *L, rows *R,
                             gsgdi_raw_targets *t, int *header_out) {
    field *a, *b;
    size_t na, nb;
    GSGD_FORWARD_IF_ERROR(peek_two(r, &a, &na, &b, &nb));
    const int header = o->header >= 0 ? o->header : (a && detect_header(r->decimal, a, na, b, nb));
    free(a);
    free(b);
    *header_out = header;
    int more = 1;
    size_t blank_at = 0;
    int have_layout = 0;
    for (;;) {
        GSGD_FORWARD_IF_ERROR(next_record(r, &more));
        if (!more) break;
        if (r->nf == 0) {
            if (!blank_at && have_layout) blank_at = r->rec_line;
            continue;
        }
        /* Trailing blank lines are common; a blank line between rows more
         * likely means two files were glued together. */
        GSGD_RETURN_ERROR_IF(blank_at, r->ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: line %zu: blank line inside the data", r->what, blank_at);
        if (!have_layout) {
            L->cols = r->nf;
            if (header) GSGD_FORWARD_IF_ERROR(keep_names(r, L));
            GSGD_FORWARD_IF_ERROR(resolve_ignore(r, o, L));
            GSGD_FORWARD_IF_ERROR(resolve_label(r, o, L));
            R->d = feature_count(L);
            if (header && o->ref_names && o->ref_names->distinct)
                GSGD_FORWARD_IF_ERROR(place_by_name(r, o, L));
            if (L->label >= 0) {
                t->column = (size_t)L->label + 1;
                if (L->names) snprintf(t->name, sizeof t->name, "%s", L->names[L->label]);
            }
            have_layout = 1;
            if (header) continue;
        }
        GSGD_FORWARD_IF_ERROR(parse_row(r, L, R, t, header));
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_csv_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                            const gsgdi_read_opts *o, gsgdi_host_data *h, gsgdi_raw_targets *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->file, sizeof t->file, "%s", what);
    GSGD_FORWARD_IF_ERROR(gsgdi_text_no_nul(ctx, what, "CSV", data, len, 0));
    reader r = {.ctx = ctx, .what = what, .p = data, .end = (const char *)data + len, .line = 1};
    /* Spreadsheet exports often start with a UTF-8 byte-order mark. */
    if (len >= 3 && memcmp(r.p, "\xEF\xBB\xBF", 3) == 0) r.p += 3;
    GSGD_RETURN_ERROR_IF(r.p == r.end, ctx, GSGD_STATUS_BAD_FORMAT, "%s: empty file", what);
    r.delim = o->delimiter == ' ' ? 0
              : o->delimiter      ? (char)o->delimiter
                                  : gsgdi_csv_sniff_delimiter(r.p, r.end);
    r.decimal = o->decimal == ',' ? ',' : '.';
    layout L = {0};
    rows R = {0};
    int header = 0;
    gsgd_status st = parse_all(&r, o, &L, &R, t, &header);
    if (st == GSGD_STATUS_OK && R.n == 0)
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "%s: no data rows in %zu line%s%s", what,
                        r.line - 1, r.line == 2 ? "" : "s",
                        header ? " (the first is a header)" : "");
    free(r.f);
    free(r.text);
    if (st != GSGD_STATUS_OK) {
        layout_free(&L);
        free(R.X);
        gsgdi_raw_targets_free(t);
        return st;
    }
    if (R.n < R.cap) { /* give back the doubling's slack */
        float *X = realloc(R.X, R.n * R.d * sizeof(float));
        if (X) R.X = X;
    }
    h->X = R.X;
    h->n = R.n;
    h->d = R.d;
    snprintf(h->meta.detail, sizeof h->meta.detail, "%s-separated, %s",
             gsgdi_csv_delimiter_name(r.delim), header ? "header" : "no header");
    if (L.label < 0) {
        /* No target column: the raw targets stay empty. */
        t->column = 0;
    }
    /* The features' names in the rows' order: the reference's when placed
     * by them, else the header's. */
    const char **names = NULL;
    size_t d = 0;
    if (L.names && L.pos) {
        st = gsgdi_names_copy(ctx, o->ref_names, &h->meta.feature_names);
    } else if (L.names && (st = feature_names_of(&r, &L, &names, &d)) == GSGD_STATUS_OK) {
        st = gsgdi_names_make(ctx, names, d, &h->meta.feature_names);
        free(names);
    }
    layout_free(&L);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(h);
        gsgdi_raw_targets_free(t);
    }
    return st;
}
