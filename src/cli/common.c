/* Error reporting, exit codes and device selection shared by subcommands. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/opttable.h"
#include "io/outpath.h"
#include "model/model.h"

void cli_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gsgd: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void cli_warn(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fputs("gsgd: warning: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

int cli_exit_code(gsgd_status s) {
    if (s == GSGD_STATUS_OK) return CLI_OK;
    if (s == GSGD_STATUS_INVALID_ARGUMENT || s == GSGD_STATUS_OUT_OF_RANGE ||
        s == GSGD_STATUS_SHAPE_MISMATCH || s == GSGD_STATUS_UNSUPPORTED)
        return CLI_USAGE;
    /* Writing an output failed at the time (disk full): not the input's. */
    if (s == GSGD_STATUS_WRITE_FAILED) return CLI_RUNTIME;
    if ((int)s >= 100 && (int)s <= 199) return CLI_USAGE; /* data and I/O */
    return CLI_RUNTIME;
}

int cli_fail(const gsgd_context *ctx, gsgd_status s) {
    const char *detail = ctx ? gsgd_last_error(ctx) : "";
    char line[2048];
    cli_flag_words(detail && *detail ? detail : gsgd_status_string(s), line, sizeof line);
    /* One line, whatever the message holds: scripts read errors by line. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    cli_error("%s", line);
    return cli_exit_code(s);
}

const char *cli_fmt_num(double v, char *buf, unsigned size) {
    if (isfinite(v) && v == floor(v) && fabs(v) < 1e16)
        snprintf(buf, size, "%.0f", v);
    else
        snprintf(buf, size, "%g", v);
    return buf;
}

const char *cli_device_name(gsgd_device d) {
    switch (d) {
    case GSGD_DEVICE_CPU:
        return "cpu";
    case GSGD_DEVICE_CUDA:
        return "cuda";
    case GSGD_DEVICE_AUTO:
        return "auto";
    }
    return "unknown";
}

/* Parses auto | cpu | cuda | cuda:N. */
static int parse_device(const char *s, gsgd_device *dev, int *index) {
    *index = 0;
    if (strcmp(s, "cpu") == 0) {
        *dev = GSGD_DEVICE_CPU;
        return CLI_OK;
    }
    /* auto[:N] (N: the GPU auto tries; --distributed picks it per rank)
     * and cuda[:N]. */
    size_t len = strncmp(s, "auto", 4) == 0 ? 4 : strncmp(s, "cuda", 4) == 0 ? 4 : 0;
    if (len && (s[len] == '\0' || s[len] == ':')) {
        *dev = s[0] == 'a' ? GSGD_DEVICE_AUTO : GSGD_DEVICE_CUDA;
        if (s[len] == '\0') return CLI_OK;
        const char *n = s + len + 1;
        /* Device ordinals are small; a long digit string is a typo. */
        if (*n && strlen(n) <= 4 && strspn(n, "0123456789") == strlen(n)) {
            *index = atoi(n);
            return CLI_OK;
        }
    }
    cli_error("--device: '%s' is not one of auto, cpu, cuda, cuda:N", s);
    return CLI_USAGE;
}

/* The library's log lines on stderr: warnings always, the rest unless
 * --quiet. */
static void log_line(gsgd_log_level level, const char *message, void *user) {
    const int quiet = user != NULL;
    char buf[1024];
    if (level >= GSGD_LOG_WARNING || !quiet)
        fprintf(stderr, "gsgd: %s\n", cli_flag_words(message, buf, sizeof buf));
}

/* The flag that sets the library parameter named name (len bytes), or
 * NULL. Only names with an underscore are taken: single words (epochs,
 * batch, tol) are also plain English in the library's messages. */
static const char *flag_of(const char *name, size_t len) {
    if (!memchr(name, '_', len)) return NULL;
    /* No row of its own: the percentage form of --mem-limit sets it. */
    if (len == 12 && strncmp(name, "mem_fraction", len) == 0) return "--mem-limit";
    for (int k = 0; k < CLI_N_OPTS; k++) {
        const cli_optrow *r = &CLI_OPTS[k];
        if (r->kind < CLI_NUM || r->kind > CLI_SIZE) continue;
        const char *p = gsgd_param_name(r->param);
        if (p && strlen(p) == len && strncmp(p, name, len) == 0) return r->name;
    }
    return NULL;
}

static int word_char(char c) { return isalnum((unsigned char)c) || c == '_'; }

const char *cli_flag_words(const char *text, char *buf, size_t size) {
    /* The library names its parameters as its API does; here the user
     * changes them with the program's flags. Quoted text ('a path') is
     * the user's own and stays as it is. */
    size_t n = 0;
    int quoted = 0;
    for (const char *p = text; *p && n + 1 < size;) {
        const char *flag = NULL;
        size_t len = 0;
        if (!quoted && word_char(*p) && (p == text || !word_char(p[-1]))) {
            while (word_char(p[len])) len++;
            flag = flag_of(p, len);
        }
        if (flag) {
            n += (size_t)snprintf(buf + n, size - n, "%s", flag);
            if (n >= size) n = size - 1;
            p += len;
        } else if (len) { /* a word that is no parameter: as it is */
            for (size_t k = 0; k < len && n + 1 < size; k++) buf[n++] = *p++;
        } else {
            /* An apostrophe ("device's") opens no quote. */
            if (*p == '\'' && (quoted || p == text || !word_char(p[-1]))) quoted = !quoted;
            buf[n++] = *p++;
        }
    }
    buf[n] = '\0';
    return buf;
}

void cli_log_warnings_only(gsgd_context *ctx) { gsgd_context_set_log(ctx, log_line, ctx); }

int cli_model_for(gsgd_context *ctx, const char *spec, const gsgd_dataset *train, uint64_t seed,
                  gsgd_model **model) {
    size_t d = 0;
    int k = 0;
    gsgd_status st = gsgd_dataset_shape(train, NULL, &d, &k);
    if (st == GSGD_STATUS_OK) st = gsgd_model_create(ctx, spec, d, k, seed, model);
    /* The data's labels, so that saved files, predictions and reports
     * speak them (a regression model has none to take). */
    if (st == GSGD_STATUS_OK) st = gsgd_model_set_labels(*model, train);
    return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(ctx, st);
}

int cli_standardize(gsgd_context *ctx, gsgd_model *model, const gsgd_dataset *train,
                    const gsgd_options *opts, cli_scaling *out) {
    int scaled = 0;
    double ratio = NAN;
    gsgd_status st = gsgd_model_standardize(model, train, opts, &scaled, &ratio);
    out->scaled = scaled;
    out->ratio = ratio;
    char *note = out->note;
    const size_t size = sizeof out->note;
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    double mode_v = GSGD_STANDARDIZE_AUTO;
    (void)gsgd_get(opts, GSGD_STANDARDIZE, &mode_v);
    const gsgd_standardize mode = (gsgd_standardize)mode_v;
    int sparse = 0;
    (void)gsgd_dataset_sparse(train, &sparse, NULL);
    if (mode == GSGD_STANDARDIZE_AUTO && !isnan(ratio))
        snprintf(note, size,
                 "%s (feature scales differ by %.3gx; --standardize auto scales above "
                 "%gx)",
                 scaled ? "standardized" : "not standardized", ratio, GSGD_STANDARDIZE_AUTO_RATIO);
    else if (mode == GSGD_STANDARDIZE_AUTO && sparse && !scaled)
        snprintf(note, size, "not standardized (sparse: --standardize auto leaves it unscaled)");
    else if (scaled)
        snprintf(note, size, "standardized%s",
                 mode == GSGD_STANDARDIZE_ON ? (sparse ? " (--standardize on: scaled, not "
                                                         "centred)"
                                                       : " (--standardize on)")
                                             : " (the model's own scaler)");
    else
        snprintf(note, size, "not standardized (--standardize off)");
    return CLI_OK;
}

int cli_context_open(const char *device, int quiet, int verbose, gsgd_context **ctx) {
    gsgd_device dev;
    int index;
    *ctx = NULL;
    int rc = parse_device(device ? device : "auto", &dev, &index);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_context_create(ctx, dev, index);
    if (st != GSGD_STATUS_OK) {
        /* A failed create leaves no context; the library keeps the reason
         * in the thread's buffer. */
        cli_error("--device %s: %s", device ? device : "auto", gsgd_last_error(NULL));
        return st == GSGD_STATUS_INVALID_ARGUMENT ? CLI_USAGE : CLI_RUNTIME;
    }
    /* Any non-NULL user pointer says "quiet". */
    gsgd_context_set_log(*ctx, log_line, quiet ? (void *)ctx : NULL);
    if (dev == GSGD_DEVICE_AUTO && !quiet) {
        /* No GPU is a normal machine, not a fault: the CUDA runtime's
         * reason (a driver, a missing device) only for who asks. */
        if (gsgd_context_device(*ctx) == GSGD_DEVICE_CPU && verbose)
            fprintf(stderr, "gsgd: running on the CPU (no usable GPU: %s)\n",
                    gsgd_last_error(NULL));
        else if (gsgd_context_device(*ctx) == GSGD_DEVICE_CPU)
            fprintf(stderr, "gsgd: running on the CPU (no usable GPU; --verbose says why)\n");
        else
            fprintf(stderr, "gsgd: running on cuda (--device auto)\n");
    }
    return CLI_OK;
}

/* The option that took standard output ("-"), if one did. */
static const char *stdout_taker;

FILE *cli_results_stream(void) { return stdout_taker ? stderr : stdout; }

int cli_check_output(const char *opt, const char *path, int stdout_ok) {
    if (path && strcmp(path, "-") == 0) {
        if (!stdout_ok) {
            cli_error("%s: '-' (standard output) is not possible for this binary output; give a "
                      "file name ('./-' for a file called '-')",
                      opt);
            return CLI_USAGE;
        }
        if (stdout_taker && strcmp(stdout_taker, opt) != 0) {
            cli_error("%s: '-': standard output is already %s's", opt, stdout_taker);
            return CLI_USAGE;
        }
        stdout_taker = opt;
        return CLI_OK;
    }
    if (!path || !*path || path[strlen(path) - 1] == '/') {
        cli_error("%s: '%s' is not a file name", opt, path ? path : "");
        return CLI_USAGE;
    }
    /* The library's rule (io/outpath.h): links are followed, and only a
     * regular file or a new path can be written. */
    char *target = NULL, why[96];
    mode_t mode;
    int r = gsgdi_output_target(path, &target, &mode, why, sizeof why);
    if (r > 0) {
        cli_error("%s: '%s' is %s; outputs go to a regular file%s", opt, path, why,
                  stdout_ok ? ", a new path or '-'" : " or a new path");
        return CLI_USAGE;
    }
    if (r < 0) {
        cli_error("%s: cannot write '%s': %s", opt, path, strerror(errno));
        return CLI_USAGE;
    }
    const char *slash = strrchr(target, '/');
    char dir[4096];
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else if (slash == target) {
        snprintf(dir, sizeof dir, "/");
    } else {
        size_t len = (size_t)(slash - target);
        if (len >= sizeof dir) {
            cli_error("%s: path '%s' is too long", opt, target);
            free(target);
            return CLI_USAGE;
        }
        memcpy(dir, target, len);
        dir[len] = '\0';
    }
    /* The file itself is written later through a temporary file in the same
     * directory and a rename, so the directory is what must be writable. */
    int rc = CLI_OK;
    if (access(dir, W_OK | X_OK) != 0) {
        const int linked = strcmp(target, path) != 0;
        cli_error("%s: cannot write '%s'%s%s%s: %s: %s", opt, path, linked ? " (a link to '" : "",
                  linked ? target : "", linked ? "')" : "", dir, strerror(errno));
        rc = CLI_USAGE;
    }
    free(target);
    return rc;
}

int cli_check_writable(const char *opt, const char *path) { return cli_check_output(opt, path, 0); }
