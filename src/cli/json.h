/*
 * A tiny writer for flat JSON objects: the summary files and the per-epoch
 * log lines. Non-finite numbers are written as null, since JSON has no NaN.
 */
#ifndef GSGD_CLI_JSON_H
#define GSGD_CLI_JSON_H

#include <stdio.h>

typedef struct {
    FILE *f;
    int pretty; /* one key per line (summaries) or one line (log records) */
    int count;  /* members written so far */
} cli_json;

/* Starts an object on f. Write errors show in ferror(f). */
void cli_json_begin(cli_json *j, FILE *f, int pretty);
/* Members. A NaN or infinite number and a NULL string are written as null. */
void cli_json_num(cli_json *j, const char *key, double v);
void cli_json_int(cli_json *j, const char *key, long long v);
void cli_json_str(cli_json *j, const char *key, const char *s);
/* A member whose value is an array of n strings. */
void cli_json_strs(cli_json *j, const char *key, const char *const *s, int n);
/* Ends the object and its line. */
void cli_json_end(cli_json *j);
/* For nesting: writes the key of a member whose value (an array of
 * objects) the caller writes itself, and ends an object without a newline
 * (one inside an array). */
void cli_json_key(cli_json *j, const char *key);
void cli_json_close(cli_json *j);

#endif
