/* The batch sizes gsgd bench measures (see bench.h). */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench/bench.h"
#include "cli/cli.h"

static int cmp_size(const void *a, const void *b) {
    size_t x = *(const size_t *)a, y = *(const size_t *)b;
    return (x > y) - (x < y);
}

/* Sorts ascending and drops duplicates; returns the new count. */
static int sort_unique(size_t *b, int count) {
    qsort(b, (size_t)count, sizeof *b, cmp_size);
    int k = 0;
    for (int i = 0; i < count; i++)
        if (k == 0 || b[i] != b[k - 1]) b[k++] = b[i];
    return k;
}

int bench_parse_batches(const char *opt, const char *s, size_t *out, int max, int *count,
                        int *sweep) {
    *count = 0;
    *sweep = strcmp(s, "sweep") == 0;
    if (*sweep) return CLI_OK;
    const char *p = s;
    for (;;) {
        size_t len = strcspn(p, ",");
        char item[32];
        if (len == 0 || len >= sizeof item || strspn(p, "0123456789") < len) {
            cli_error("%s: '%.*s' in '%s' is not a positive integer (or use 'sweep')", opt,
                      (int)len, p, s);
            return CLI_USAGE;
        }
        memcpy(item, p, len);
        item[len] = '\0';
        errno = 0;
        unsigned long long v = strtoull(item, NULL, 10);
        if (v == 0 || errno == ERANGE || v > UINT32_MAX) {
            cli_error("%s: %s is not a batch size in [1, %u]", opt, item, UINT32_MAX);
            return CLI_USAGE;
        }
        if (*count == max) {
            cli_error("%s: more than %d batch sizes", opt, max);
            return CLI_USAGE;
        }
        out[(*count)++] = (size_t)v;
        if (p[len] == '\0') break;
        p += len + 1;
    }
    *count = sort_unique(out, *count);
    return CLI_OK;
}

int bench_clamp_batches(size_t *b, int count, size_t n) {
    for (int i = 0; i < count; i++)
        if (b[i] > n) b[i] = n;
    return sort_unique(b, count);
}

int bench_sweep_batches(size_t bstar, size_t n, size_t *out, int max) {
    if (bstar > n) bstar = n;
    if (bstar == 0 || max <= 0) return 0;
    int count = 0;
    for (size_t b = bstar < 32 ? 1 : 32; b <= bstar && count < max; b *= 2) out[count++] = b;
    /* The planner's own batch is the point the curve is about. */
    if (out[count - 1] != bstar) {
        if (count == max) count--;
        out[count++] = bstar;
    }
    return count;
}
