/* CSV and .npy files of predictions (see pred_out.h). */
#include "cli/pred_out.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *label(const cli_pred_out *o, int k) {
    const char *text = NULL;
    return gsgd_model_label(o->model, k, &text) == GSGD_STATUS_OK && text ? text : "?";
}

int cli_pred_is_npy(const char *path) {
    size_t len = strlen(path);
    return len > 4 && strcmp(path + len - 4, ".npy") == 0;
}

/* A label that is an integer in its plainest form ("-1", "7", not "07" or
 * "7.0"), which int64 keeps exactly. */
static int is_integer(const char *s, long long *v) {
    char *end = NULL, back[32];
    errno = 0;
    *v = strtoll(s, &end, 10);
    if (errno || end == s || *end) return 0;
    snprintf(back, sizeof back, "%lld", *v);
    return strcmp(back, s) == 0;
}

/* Decodes one UTF-8 character at *p (advancing it); U+FFFD for a bad byte. */
static uint32_t utf8_next(const unsigned char **p) {
    const unsigned char *s = *p;
    int len = s[0] < 0x80         ? 1
              : (s[0] >> 5) == 6  ? 2
              : (s[0] >> 4) == 14 ? 3
              : (s[0] >> 3) == 30 ? 4
                                  : 0;
    uint32_t c = len == 1 ? s[0] : len == 2 ? s[0] & 0x1fu : len == 3 ? s[0] & 0x0fu : s[0] & 0x07u;
    for (int i = 1; i < len; i++) {
        if ((s[i] >> 6) != 2) len = 0;
        if (!len) break;
        c = c << 6 | (s[i] & 0x3fu);
    }
    if (!len) {
        *p = s + 1;
        return 0xfffdu;
    }
    *p = s + len;
    return c;
}

static size_t code_points(const char *s) {
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; n++) utf8_next(&p);
    return n;
}

static int little_endian(void) {
    const uint16_t one = 1;
    return *(const unsigned char *)&one == 1;
}

/* .npy format 1.0: magic, version, the dict's length, the dict padded
 * with blanks and a newline so the data starts on a 64-byte boundary, as
 * numpy.save writes it. */
static void npy_header(FILE *f, const char *descr, size_t n, int cols) {
    char dict[160], shape[64];
    if (cols > 0)
        snprintf(shape, sizeof shape, "(%zu, %d)", n, cols);
    else
        snprintf(shape, sizeof shape, "(%zu,)", n);
    int len = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                       descr, shape);
    const int total = (10 + len + 1 + 63) / 64 * 64; /* + the newline */
    const int hlen = total - 10;
    fwrite("\x93NUMPY\x01\x00", 1, 8, f);
    fputc(hlen & 0xff, f);
    fputc(hlen >> 8, f);
    fprintf(f, "%s%*s\n", dict, hlen - len - 1, "");
}

/* A CSV field, quoted when it holds a comma, a quote, a line break or
 * blanks at its ends (RFC 4180). */
static void csv_field(FILE *f, const char *s) {
    size_t len = strlen(s);
    if (len && !strpbrk(s, ",\"\r\n") && s[0] != ' ' && s[len - 1] != ' ') {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', f);
        fputc(*p, f);
    }
    fputc('"', f);
}

int cli_pred_begin(cli_pred_out *o, FILE *f, const gsgd_model *model, cli_pred_kind kind, int npy,
                   size_t n) {
    *o = (cli_pred_out){.f = f, .model = model, .kind = kind, .npy = npy};
    (void)gsgd_model_shape(model, NULL, NULL, &o->k);
    o->int_labels = 1;
    for (int k = 0; k < o->k; k++) {
        long long v;
        const char *text = label(o, k);
        if (!is_integer(text, &v)) o->int_labels = 0;
        size_t w = code_points(text);
        if (w > o->width) o->width = w;
    }
    if (o->width == 0) o->width = 1;
    const char end = little_endian() ? '<' : '>';
    char descr[32];
    if (npy) {
        if (kind == CLI_PRED_LABELS && o->int_labels)
            snprintf(descr, sizeof descr, "%ci8", end);
        else if (kind == CLI_PRED_LABELS)
            snprintf(descr, sizeof descr, "%cU%zu", end, o->width);
        else
            snprintf(descr, sizeof descr, "%cf4", end);
        npy_header(f, descr, n, kind == CLI_PRED_PROBA ? o->k : 0);
        return 0;
    }
    if (kind != CLI_PRED_PROBA) {
        fputs("prediction\n", f);
        return 0;
    }
    for (int k = 0; k < o->k; k++) {
        if (k) fputc(',', f);
        csv_field(f, label(o, k));
    }
    fputc('\n', f);
    return 0;
}

/* One label as .npy's fixed-width UTF-32 string (padded with zeros). */
static void npy_string(const cli_pred_out *o, const char *s) {
    const unsigned char *p = (const unsigned char *)s;
    for (size_t i = 0; i < o->width; i++) {
        uint32_t c = *p ? utf8_next(&p) : 0;
        fwrite(&c, sizeof c, 1, o->f);
    }
}

void cli_pred_write(cli_pred_out *o, const int32_t *classes, const float *values, size_t count) {
    FILE *f = o->f;
    if (o->kind == CLI_PRED_PROBA) {
        const size_t cols = (size_t)o->k;
        if (o->npy) {
            fwrite(values, sizeof *values, count * cols, f);
            return;
        }
        for (size_t i = 0; i < count; i++)
            for (size_t c = 0; c < cols; c++)
                fprintf(f, "%.9g%c", values[i * cols + c], c + 1 < cols ? ',' : '\n');
        return;
    }
    if (o->kind == CLI_PRED_VALUES) {
        if (o->npy) {
            fwrite(values, sizeof *values, count, f);
            return;
        }
        for (size_t i = 0; i < count; i++) fprintf(f, "%.9g\n", values[i]);
        return;
    }
    for (size_t i = 0; i < count; i++) {
        const char *text = label(o, classes[i]);
        long long v = 0;
        if (!o->npy) {
            csv_field(f, text);
            fputc('\n', f);
        } else if (o->int_labels) {
            is_integer(text, &v);
            int64_t w = (int64_t)v;
            fwrite(&w, sizeof w, 1, f);
        } else {
            npy_string(o, text);
        }
    }
}
