/* Strict parsing of option values (see args.h). */
#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/cli.h"

int cli_parse_double(const char *opt, const char *s, double *out) {
    char *end = NULL;
    /* strtod would skip leading blanks; a value with blanks around it is a
     * quoting mistake worth reporting, so only a bare number passes. */
    double v = isspace((unsigned char)s[0]) ? 0.0 : strtod(s, &end);
    if (!end || end == s || *end != '\0') {
        cli_error("%s: '%s' is not a number", opt, s);
        return CLI_USAGE;
    }
    /* Overflow gives inf; "nan" and "inf" parse too. None is a meaningful
     * hyperparameter. Underflow to a tiny value is harmless and kept. */
    if (!isfinite(v)) {
        cli_error("%s: '%s' is not a finite number", opt, s);
        return CLI_USAGE;
    }
    *out = v;
    return CLI_OK;
}

int cli_parse_u64(const char *opt, const char *s, uint64_t *out) {
    /* strtoull silently negates "-1" into a huge value: only digits pass. */
    if (*s == '\0' || strspn(s, "0123456789") != strlen(s)) {
        cli_error("%s: '%s' is not a non-negative integer", opt, s);
        return CLI_USAGE;
    }
    errno = 0;
    unsigned long long v = strtoull(s, NULL, 10);
    if (errno == ERANGE) {
        cli_error("%s: %s is too large", opt, s);
        return CLI_USAGE;
    }
    *out = (uint64_t)v;
    return CLI_OK;
}

static const struct {
    const char *name;
    double factor;
} UNITS[] = {{"", 1.0},
             {"B", 1.0},
             {"KB", 1e3},
             {"MB", 1e6},
             {"GB", 1e9},
             {"TB", 1e12},
             {"KiB", 1024.0},
             {"MiB", 1048576.0},
             {"GiB", 1073741824.0},
             {"TiB", 1099511627776.0}};

int cli_parse_size(const char *opt, const char *s, int allow_percent, double *bytes,
                   double *fraction) {
    *bytes = *fraction = 0.0;
    char *end = NULL;
    /* Only a bare non-negative number, as cli_parse_double demands. */
    double v = (isdigit((unsigned char)s[0]) || s[0] == '.') ? strtod(s, &end) : NAN;
    if (!end || end == s || !isfinite(v)) {
        cli_error("%s: '%s' is not a size (bytes, e.g. 512MiB or 2GB%s)", opt, s,
                  allow_percent ? ", or a percentage such as 50%" : "");
        return CLI_USAGE;
    }
    if (*end == '%') {
        if (!allow_percent || end[1] != '\0') {
            cli_error("%s: '%s' is not a size%s", opt, s,
                      allow_percent ? "" : " (a percentage is not accepted here)");
            return CLI_USAGE;
        }
        if (!(v > 0.0 && v <= 100.0)) {
            cli_error("%s: %s is not a percentage in (0%%, 100%%]", opt, s);
            return CLI_USAGE;
        }
        *fraction = v / 100.0;
        return CLI_OK;
    }
    for (size_t k = 0; k < sizeof UNITS / sizeof UNITS[0]; k++) {
        if (strcasecmp(end, UNITS[k].name) != 0) continue;
        double b = floor(v * UNITS[k].factor);
        if (b > 9007199254740992.0) { /* 2^53: what a double holds exactly */
            cli_error("%s: %s is too large", opt, s);
            return CLI_USAGE;
        }
        *bytes = b;
        return CLI_OK;
    }
    cli_error("%s: '%s': unknown unit '%s' (B, KB, MB, GB, TB, KiB, MiB, GiB, TiB%s)", opt, s, end,
              allow_percent ? " or %" : "");
    return CLI_USAGE;
}

int cli_open_ended(double hi) { return isinf(hi) || hi >= 9007199254740992.0; }

int cli_set_param(gsgd_options *opts, gsgd_param p, const char *opt, const char *s, int integer) {
    double v;
    if (integer) {
        uint64_t u;
        if (cli_parse_u64(opt, s, &u) != CLI_OK) return CLI_USAGE;
        v = (double)u;
    } else if (cli_parse_double(opt, s, &v) != CLI_OK) {
        return CLI_USAGE;
    }
    double lo = 0, hi = 0;
    gsgd_status st = gsgd_param_bounds(p, &lo, &hi, NULL);
    if (st != GSGD_STATUS_OK) {
        cli_error("%s: %s", opt, gsgd_status_string(st));
        return cli_exit_code(st);
    }
    char l[32], h[32];
    cli_fmt_num(lo, l, sizeof l);
    cli_fmt_num(hi, h, sizeof h);
    if (v < lo || v > hi) {
        /* An open-ended upper bound reads better as a minimum. */
        if (v < lo && cli_open_ended(hi))
            cli_error("%s: %s is below the minimum %s", opt, s, l);
        else
            cli_error("%s: %s is outside [%s, %s]", opt, s, l, h);
        return CLI_USAGE;
    }
    st = gsgd_set(opts, p, v);
    if (st == GSGD_STATUS_OUT_OF_RANGE) {
        /* Within bounds yet refused: the library wants an integer. */
        cli_error("%s: %s is not a valid value (an integer in [%s, %s] is expected)", opt, s, l, h);
        return CLI_USAGE;
    }
    if (st != GSGD_STATUS_OK) {
        cli_error("%s: %s: %s", opt, s, gsgd_status_string(st));
        return cli_exit_code(st);
    }
    return CLI_OK;
}

/* Levenshtein distance between a[0..la) and b, for b up to 63 bytes
 * (option and choice names are short); a large value beyond that. */
static size_t edit_distance(const char *a, size_t la, const char *b) {
    size_t lb = strlen(b), row[64];
    if (lb >= 64 || la >= 64) return (size_t)-1;
    for (size_t j = 0; j <= lb; j++) row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j], best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best) best = up + 1;
            if (row[j - 1] + 1 < best) best = row[j - 1] + 1;
            diag = up;
            row[j] = best;
        }
    }
    return row[lb];
}

const char *cli_nearest(const char *s, size_t len, const char *const *names, int n) {
    const char *best = NULL;
    size_t best_d = (size_t)-1;
    for (int k = 0; k < n; k++) {
        if (!names[k]) continue;
        size_t d = edit_distance(s, len, names[k]);
        if (d < best_d) {
            best_d = d;
            best = names[k];
        }
    }
    return best && best_d > 0 && 3 * best_d <= len + 1 ? best : NULL;
}
