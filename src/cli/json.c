/* Flat JSON objects (see json.h). */
#include "cli/json.h"

#include <math.h>
#include <stdlib.h>

void cli_json_begin(cli_json *j, FILE *f, int pretty) {
    j->f = f;
    j->pretty = pretty;
    j->count = 0;
    fputc('{', f);
}

static void write_string(FILE *f, const char *s) {
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f); /* UTF-8 passes through unchanged */
    }
    fputc('"', f);
}

static void write_key(cli_json *j, const char *key) {
    if (j->count++) fputc(',', j->f);
    fputs(j->pretty ? "\n  " : (j->count > 1 ? " " : ""), j->f);
    write_string(j->f, key);
    fputs(": ", j->f);
}

void cli_json_num(cli_json *j, const char *key, double v) {
    write_key(j, key);
    if (!isfinite(v)) {
        fputs("null", j->f);
        return;
    }
    /* The shortest of %.15g..%.17g that reads back exactly: 0.845 instead
     * of 0.84499999999999997, yet no value is ever rounded. */
    char buf[40];
    for (int prec = 15; prec <= 17; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, j->f);
}

void cli_json_int(cli_json *j, const char *key, long long v) {
    write_key(j, key);
    fprintf(j->f, "%lld", v);
}

void cli_json_str(cli_json *j, const char *key, const char *s) {
    write_key(j, key);
    if (s)
        write_string(j->f, s);
    else
        fputs("null", j->f);
}

void cli_json_strs(cli_json *j, const char *key, const char *const *s, int n) {
    write_key(j, key);
    fputc('[', j->f);
    for (int k = 0; k < n; k++) {
        if (k) fputs(", ", j->f);
        if (s[k])
            write_string(j->f, s[k]);
        else
            fputs("null", j->f);
    }
    fputc(']', j->f);
}

void cli_json_end(cli_json *j) { fputs(j->pretty && j->count ? "\n}\n" : "}\n", j->f); }

void cli_json_key(cli_json *j, const char *key) { write_key(j, key); }

void cli_json_close(cli_json *j) { fputs(j->pretty && j->count ? "\n}" : "}", j->f); }
