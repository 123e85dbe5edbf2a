/* CSV files: one sample per line, comma-separated numbers, the target in the
 * first or last column. Lines and fields in messages are 1-based, as an
 * editor shows them. Numbers are read with strtod, so the decimal point is
 * the C locale's unless the application changed LC_NUMERIC. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "core/error.h"

typedef struct {
    gsgd_context *ctx;
    const char *path;
    size_t line;   /* current line number */
    size_t fields; /* fields per row, fixed by the first data row */
    size_t n, cap; /* rows stored, rows allocated */
    float *X, *y;
    float max_label;
} csv_state;

static int is_blank(const char *s) {
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n') return 0;
    return 1;
}

static size_t count_fields(const char *s) {
    size_t k = 1;
    for (; *s; s++) k += *s == ',';
    return k;
}

/* Parses the field [s, end) as a finite float. Leading/trailing blanks are
 * allowed; anything else strtod does not consume is an error. */
static gsgd_status parse_field(csv_state *cs, char *s, char *end, size_t field, float *out) {
    while (s < end && (*s == ' ' || *s == '\t')) s++;
    while (end > s && (end[-1] == ' ' || end[-1] == '\t')) end--;
    GSGD_RETURN_ERROR_IF(s == end, cs->ctx, GSGD_STATUS_BAD_FORMAT,
                         "csv: %s: line %zu, field %zu: empty field", cs->path, cs->line, field);
    char saved = *end;
    *end = '\0'; /* strtod needs a terminated string; restored below */
    char *stop;
    double v = strtod(s, &stop);
    gsgd_status st = GSGD_STATUS_OK;
    if (stop != end)
        st = GSGD_ERROR(cs->ctx, GSGD_STATUS_BAD_VALUE,
                        "csv: %s: line %zu, field %zu: '%.40s' is not a number", cs->path, cs->line,
                        field, s);
    else if (!isfinite(v) || !isfinite((float)v)) /* overflow gives HUGE_VAL */
        st = GSGD_ERROR(cs->ctx, GSGD_STATUS_BAD_VALUE,
                        "csv: %s: line %zu, field %zu: '%.40s' is not a finite float", cs->path,
                        cs->line, field, s);
    *end = saved;
    *out = (float)v;
    return st;
}

/* Doubles the row capacity (capped at the element limit); the arrays only
 * ever hold about twice the rows that were read. */
static gsgd_status grow(csv_state *cs, size_t d) {
    const size_t max_rows = (size_t)(GSGD_MAX_ELEMENTS / d);
    GSGD_RETURN_ERROR_IF(cs->cap >= max_rows, cs->ctx, GSGD_STATUS_TOO_LARGE,
                         "csv: %s: line %zu: more than 2^32 values in the file", cs->path,
                         cs->line);
    size_t ncap = cs->cap ? cs->cap * 2 : 256;
    if (ncap > max_rows) ncap = max_rows;
    size_t bytes = ncap * d * sizeof(float); /* <= 2^34: no overflow on 64-bit size_t */
    float *X = realloc(cs->X, bytes);
    GSGD_RETURN_ERROR_IF(!X, cs->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                         "csv: %s: line %zu: cannot allocate %zu bytes", cs->path, cs->line, bytes);
    cs->X = X;
    float *y = realloc(cs->y, ncap * sizeof(float));
    GSGD_RETURN_ERROR_IF(!y, cs->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                         "csv: %s: line %zu: cannot allocate %zu bytes", cs->path, cs->line,
                         ncap * sizeof(float));
    cs->y = y;
    cs->cap = ncap;
    return GSGD_STATUS_OK;
}

/* Checks a classification target: a class index, small enough to be one. */
static gsgd_status check_label(csv_state *cs, float v, size_t field) {
    GSGD_RETURN_ERROR_IF(v != floorf(v), cs->ctx, GSGD_STATUS_BAD_VALUE,
                         "csv: %s: line %zu, field %zu: class label %g is not an integer (use "
                         "target=real for regression)",
                         cs->path, cs->line, field, (double)v);
    GSGD_RETURN_ERROR_IF(v < 0, cs->ctx, GSGD_STATUS_BAD_VALUE,
                         "csv: %s: line %zu, field %zu: class label %g is negative", cs->path,
                         cs->line, field, (double)v);
    GSGD_RETURN_ERROR_IF(v >= GSGD_MAX_CLASSES, cs->ctx, GSGD_STATUS_BAD_VALUE,
                         "csv: %s: line %zu, field %zu: class label %g exceeds the limit of %d "
                         "classes",
                         cs->path, cs->line, field, (double)v, GSGD_MAX_CLASSES);
    if (v > cs->max_label) cs->max_label = v;
    return GSGD_STATUS_OK;
}

/* Parses one non-blank data line (without its line terminator). */
static gsgd_status parse_row(csv_state *cs, char *line, int label_last, int regression) {
    size_t k = count_fields(line);
    if (cs->fields == 0) {
        GSGD_RETURN_ERROR_IF(
            k < 2, cs->ctx, GSGD_STATUS_BAD_FORMAT,
            "csv: %s: line %zu: a row needs a target and at least one feature, got "
            "%zu field",
            cs->path, cs->line, k);
        cs->fields = k;
    }
    GSGD_RETURN_ERROR_IF(k != cs->fields, cs->ctx, GSGD_STATUS_BAD_FORMAT,
                         "csv: %s: line %zu: expected %zu fields, got %zu", cs->path, cs->line,
                         cs->fields, k);
    const size_t d = k - 1;
    if (cs->n == cs->cap) GSGD_FORWARD_IF_ERROR(grow(cs, d));
    const size_t label_field = label_last ? k : 1;
    float *row = cs->X + cs->n * d;
    char *s = line;
    for (size_t f = 1, j = 0; f <= k; f++) {
        char *end = strchr(s, ',');
        if (!end) end = s + strlen(s);
        float v = 0.0f; /* set by parse_field on success */
        GSGD_FORWARD_IF_ERROR(parse_field(cs, s, end, f, &v));
        if (f == label_field) {
            if (!regression) GSGD_FORWARD_IF_ERROR(check_label(cs, v, f));
            cs->y[cs->n] = v;
        } else {
            row[j++] = v;
        }
        s = end + 1;
    }
    cs->n++;
    return GSGD_STATUS_OK;
}

/* Lines are read through a buffer of their own rather than getline, which
 * grows its buffer for as long as no newline comes: /dev/zero, or a
 * binary file without one, as CSV would take all of memory. A line is cut
 * at CSV_MAX_LINE (no row of numbers comes near) or at the first NUL in
 * the bytes read, which the caller then reports. */
#define CSV_MAX_LINE ((size_t)1 << 26)
#define CSV_CHUNK ((size_t)1 << 16)

typedef struct {
    FILE *fp;
    char *buf;
    size_t cap, start, end; /* unread bytes are buf[start, end) */
    int eof;
} line_reader;

/* The next line, NUL-terminated, without its '\n' (a '\r' is kept), its
 * length in *len; NULL at the end of the file, or on an allocation
 * failure or a line past CSV_MAX_LINE (*too_long set). The line stays
 * valid until the next call. */
static char *next_line(line_reader *r, size_t *len, int *too_long) {
    size_t scanned = 0; /* of the line so far: no '\n' and no NUL there */
    if (!r->buf) {      /* the first call: p below is never NULL + 0 */
        r->buf = malloc(4 * CSV_CHUNK);
        if (!r->buf) return NULL;
        r->cap = 4 * CSV_CHUNK;
    }
    for (;;) {
        char *p = r->buf + r->start, *stop = NULL;
        const size_t have = r->end - r->start;
        char *nl = have > scanned ? memchr(p + scanned, '\n', have - scanned) : NULL;
        char *nul = have > scanned
                        ? memchr(p + scanned, '\0', (nl ? (size_t)(nl - p) : have) - scanned)
                        : NULL;
        if (nul)
            stop = nul + 1; /* handed over with its NUL: reported */
        else if (nl)
            stop = nl; /* the line */
        else if (r->eof && have)
            stop = p + have; /* a last line without newline */
        else if (r->eof)
            return NULL;
        if (stop) {
            *len = (size_t)(stop - p);
            r->start += *len + (stop == nl); /* past the newline */
            p[*len] = '\0';                  /* over the '\n', or one past the end: cap > end */
            return p;
        }
        scanned = have;
        if (r->start > 0) { /* keep the partial line at the front */
            memmove(r->buf, p, have);
            r->start = 0;
            r->end = have;
        }
        if (r->cap - r->end < CSV_CHUNK + 1) {
            if (r->cap >= CSV_MAX_LINE) {
                *too_long = 1;
                return NULL;
            }
            size_t ncap = 2 * r->cap;
            char *grown = realloc(r->buf, ncap);
            if (!grown) return NULL;
            r->buf = grown;
            r->cap = ncap;
        }
        size_t got = fread(r->buf + r->end, 1, r->cap - r->end - 1, r->fp);
        r->end += got;
        if (got == 0) r->eof = 1; /* end of file or error: ferror tells */
    }
}

static gsgd_status parse_lines(csv_state *cs, FILE *fp, int label_last, int header,
                               int regression) {
    line_reader r = {.fp = fp};
    size_t blank_at = 0, len = 0;
    int too_long = 0;
    char *line;
    gsgd_status st = GSGD_STATUS_OK;
    errno = 0;
    while ((line = next_line(&r, &len, &too_long)) != NULL) {
        cs->line++;
        /* The string functions below would stop at a NUL and misreport the
         * rest of the line (a UTF-16 file is half NULs). */
        const char *nul = memchr(line, '\0', len);
        if (nul) {
            st = GSGD_ERROR(cs->ctx, GSGD_STATUS_BAD_FORMAT,
                            "csv: %s: line %zu, column %zu: a NUL byte; the file is binary or "
                            "UTF-16, not CSV text",
                            cs->path, cs->line, (size_t)(nul - line) + 1);
            break;
        }
        while (len > 0 && line[len - 1] == '\r') line[--len] = '\0';
        if (header && cs->line == 1) continue;
        /* Spreadsheet exports often start with a UTF-8 byte-order mark. */
        if (cs->line == 1 && strncmp(line, "\xEF\xBB\xBF", 3) == 0)
            memmove(line, line + 3, (size_t)len - 2);
        if (is_blank(line)) {
            if (!blank_at) blank_at = cs->line;
            continue;
        }
        /* Trailing blank lines are common; a blank line between rows more
         * likely means two files were glued together. */
        if (blank_at) {
            st = GSGD_ERROR(cs->ctx, GSGD_STATUS_BAD_FORMAT,
                            "csv: %s: line %zu: blank line inside the data", cs->path, blank_at);
            break;
        }
        GSGD_CHECK_GOTO(st, parse_row(cs, line, label_last, regression), done);
    }
    if (st == GSGD_STATUS_OK && too_long)
        st = GSGD_ERROR(cs->ctx, GSGD_STATUS_TOO_LARGE,
                        "csv: %s: line %zu is longer than %zu MiB (a binary file, or no line "
                        "breaks?)",
                        cs->path, cs->line + 1, CSV_MAX_LINE >> 20);
    else if (st == GSGD_STATUS_OK && !r.eof)
        st = GSGD_ERROR(cs->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                        "csv: %s: line %zu: cannot allocate %zu bytes", cs->path, cs->line + 1,
                        2 * r.cap);
    if (st == GSGD_STATUS_OK && ferror(fp))
        st = GSGD_ERROR(cs->ctx, GSGD_STATUS_IO, "csv: %s: read failed after line %zu: %s",
                        cs->path, cs->line, strerror(errno));
done:
    free(r.buf);
    return st;
}

gsgd_status gsgdi_load_csv(gsgd_context *ctx, const char *path, int label_last, int header,
                           int regression, gsgdi_host_data *out) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(!path || !out, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "csv: NULL path or output");
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    GSGD_RETURN_ERROR_IF(!fp, ctx, GSGD_STATUS_IO, "csv: %s: cannot open: %s", path,
                         strerror(errno));
    csv_state cs = {.ctx = ctx, .path = path};
    gsgd_status st = parse_lines(&cs, fp, label_last, header, regression);
    fclose(fp);
    if (st == GSGD_STATUS_OK && cs.line == 0)
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "csv: %s: empty file", path);
    else if (st == GSGD_STATUS_OK && cs.n == 0)
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "csv: %s: no data rows in %zu line%s", path,
                        cs.line, cs.line == 1 ? "" : "s");
    if (st != GSGD_STATUS_OK) {
        free(cs.X);
        free(cs.y);
        return st;
    }
    out->X = cs.X;
    out->y = cs.y;
    out->n = cs.n;
    out->d = cs.fields - 1;
    out->n_classes = regression ? 0 : (cs.max_label + 1 > 2 ? (int)cs.max_label + 1 : 2);
    return GSGD_STATUS_OK;
}
