/* Batch, memory and learning-rate scaling options (see planopts.h). */
#include "cli/planopts.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/fmt.h"

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

static int set(gsgd_options *opts, gsgd_param p, const char *opt, double v) {
    gsgd_status st = gsgd_set(opts, p, v);
    if (st == GSGD_STATUS_OK) return CLI_OK;
    cli_error("%s: %s", opt, gsgd_status_string(st));
    return cli_exit_code(st);
}

/* --batch auto | fastest | N */
static int set_batch(gsgd_options *opts, const char *s) {
    if (strcmp(s, "auto") == 0 || strcmp(s, "fastest") == 0) {
        int rc = set(opts, GSGD_BATCH, "--batch", 0);
        if (rc == CLI_OK)
            rc = set(opts, GSGD_BATCH_POLICY, "--batch",
                     s[0] == 'a' ? GSGD_BATCH_LARGEST : GSGD_BATCH_FASTEST);
        return rc;
    }
    /* 0 is the library's "planned", which the words above say better. */
    if (strcmp(s, "0") == 0) {
        cli_error("--batch: 0 is not a batch size; use --batch auto or a positive number");
        return CLI_USAGE;
    }
    if (strspn(s, "0123456789") != strlen(s) || !*s) {
        cli_error("--batch: '%s' is not auto, fastest or a positive integer", s);
        return CLI_USAGE;
    }
    return cli_set_param(opts, GSGD_BATCH, "--batch", s, 1);
}

static int set_lr_scaling(gsgd_options *opts, const char *s) {
    static const char *const names[] = {[GSGD_LR_SCALING_NONE] = "none",
                                        [GSGD_LR_SCALING_LINEAR] = "linear",
                                        [GSGD_LR_SCALING_SQRT] = "sqrt"};
    for (int k = 0; k < 3; k++)
        if (strcmp(s, names[k]) == 0) return set(opts, GSGD_LR_SCALING, "--lr-scaling", k);
    cli_error("--lr-scaling: '%s' is not one of none, linear, sqrt", s);
    return CLI_USAGE;
}

int cli_plan_options(gsgd_options *opts, const cli_plan_args *a) {
    int rc = CLI_OK;
    if (rc == CLI_OK && a->batch) rc = set_batch(opts, a->batch);
    if (rc == CLI_OK && a->max_batch) {
        double hi = 0;
        gsgd_param_bounds(GSGD_MAX_BATCH, NULL, &hi, NULL);
        rc = strcmp(a->max_batch, "none") == 0
                 ? set(opts, GSGD_MAX_BATCH, "--max-batch", hi)
                 : cli_set_param(opts, GSGD_MAX_BATCH, "--max-batch", a->max_batch, 1);
    }
    if (rc == CLI_OK && a->mem_limit) {
        double bytes, fraction;
        rc = cli_parse_size("--mem-limit", a->mem_limit, 1, &bytes, &fraction);
        if (rc == CLI_OK && fraction == 0.0 && bytes < 1.0) {
            cli_error("--mem-limit: %s leaves no memory at all", a->mem_limit);
            rc = CLI_USAGE;
        }
        if (rc == CLI_OK)
            rc = fraction > 0.0 ? set(opts, GSGD_MEM_FRACTION, "--mem-limit", fraction)
                                : set(opts, GSGD_MEM_LIMIT, "--mem-limit", bytes);
    }
    if (rc == CLI_OK && a->mem_reserve) {
        double bytes, fraction;
        rc = cli_parse_size("--mem-reserve", a->mem_reserve, 0, &bytes, &fraction);
        if (rc == CLI_OK) rc = set(opts, GSGD_MEM_RESERVE, "--mem-reserve", bytes);
    }
    if (rc == CLI_OK && a->mem_headroom)
        rc = cli_set_param(opts, GSGD_MEM_HEADROOM, "--mem-headroom", a->mem_headroom, 0);
    if (rc == CLI_OK && a->lr_scaling) rc = set_lr_scaling(opts, a->lr_scaling);
    if (rc == CLI_OK && a->lr_ref_batch)
        rc = cli_set_param(opts, GSGD_LR_REF_BATCH, "--lr-ref-batch", a->lr_ref_batch, 1);
    if (rc == CLI_OK && a->warmup) rc = cli_set_param(opts, GSGD_WARMUP, "--warmup", a->warmup, 0);
    return rc;
}

void cli_print_curve(FILE *f, const gsgd_batch_plan *plan) {
    int n = gsgd_plan_curve_count(plan);
    if (n == 0) return;
    fprintf(f, "gsgd: --batch fastest, samples/s by batch (median of timed steps):");
    for (int i = 0; i < n; i++) {
        size_t b = 0;
        double sps = 0;
        char buf[32];
        gsgd_plan_curve(plan, i, &b, &sps);
        fprintf(f, "%s %zu: %s", i ? "," : "", b, cli_fmt_si(sps, buf, sizeof buf));
    }
    fprintf(f, "; chose %zu\n", gsgd_plan_batch(plan));
}
