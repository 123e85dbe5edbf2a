/* Option tables and strict number parsing (see args.h). */
#include "cli/args.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Index of the option called name (len bytes) in defs, or -1. */
static int find_option(const cli_optdef *defs, const char *name, size_t len) {
    for (int k = 0; defs[k].name; k++)
        if (strlen(defs[k].name) == len && strncmp(defs[k].name, name, len) == 0) return k;
    return -1;
}

int cli_parse_options(const char *cmd, int argc, char **argv, const cli_optdef *defs,
                      const char **values) {
    for (int k = 0; defs[k].name; k++) values[k] = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0) arg = "--help";
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            cli_error("%s: unexpected argument '%s' (see 'gsgd %s --help')", cmd, arg, cmd);
            return CLI_USAGE;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = find_option(defs, arg, len);
        if (k < 0) {
            cli_error("%s: unknown option '%.*s' (see 'gsgd %s --help')", cmd, (int)len, arg, cmd);
            return CLI_USAGE;
        }
        if (!defs[k].has_value) {
            if (eq) {
                cli_error("%s takes no value (got '%s')", defs[k].name, eq + 1);
                return CLI_USAGE;
            }
            values[k] = "";
            continue;
        }
        if (eq) {
            values[k] = eq + 1;
            continue;
        }
        /* "--data --model x" is a forgotten value, not a data spec named
         * "--model"; a lone "-" or "-1" is still accepted as a value. */
        if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
            cli_error("%s: missing value", defs[k].name);
            return CLI_USAGE;
        }
        values[k] = argv[++i];
    }
    return CLI_OK;
}

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
        if (isinf(hi) || hi >= 1e300)
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
