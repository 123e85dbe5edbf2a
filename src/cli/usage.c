/* Help texts (see usage.h). */
#include "cli/usage.h"

#include <stdarg.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/train/distributed.h"

#define WIDTH 80
#define INDENT 25 /* "  " + 22 columns of option, then a blank */

static const char *const SECTIONS[CLI_G_COUNT] = {
    [CLI_G_DATA] = "Data",
    [CLI_G_MODEL] = "Model",
    [CLI_G_OPTIM] = "Optimizer and regularisation",
    [CLI_G_SCHEDULE] = "Learning-rate schedule",
    [CLI_G_MEMORY] = "Batch and memory",
    [CLI_G_RUN] = "Run",
    [CLI_G_MEASURE] = "Measurements",
    [CLI_G_OUTPUT] = "Output",
};

static const char *const DATA_SPECS =
    "Data SPEC:\n"
    "  PATH              a file: CSV or TSV (header line and delimiter detected;\n"
    "                    --label picks the target column), svmlight/LIBSVM, NumPy\n"
    "                    .npy (targets from --labels F) or .npz (arrays X and y),\n"
    "                    IDX; also gzip-compressed. The format from the content,\n"
    "                    then the extension (--format says it).\n"
    "  -                 CSV or svmlight on standard input\n"
    "  fashion-mnist[:DIR][:storage=u8|f32]\n"
    "                    IDX files (default DIR /usr/share/datasets/fashion-mnist)\n"
    "  idx:IMAGES,LABELS[:storage=u8|f32]\n"
    "                    an IDX image file and its labels (.gz allowed)\n"
    "  csv:PATH[:label=first|last][:header][:target=real|class]\n"
    "  tsv:PATH, npy:X[,Y]\n"
    "                    that format, whatever the file's name\n"
    "  svmlight:PATH[:zero-based|one-based][:features=N][:storage=csr|f32]\n"
    "                    svmlight/LIBSVM text (or any svmlight PATH, .gz too)\n"
    "  npz:PATH[,LABELS][:storage=csr|f32]\n"
    "                    numpy.savez X and y, or scipy.sparse.save_npz CSR with\n"
    "                    LABELS (.npy, or text with one label a line)\n"
    "  synth:N,D,K[:seed=S]\n"
    "                    a learnable synthetic problem, split 80/20 (K = 1:\n"
    "                    regression)\n"
    "  synth-sparse:N,D,K,NNZ[:seed=S]\n"
    "                    rows of ~NNZ power-law features out of D, split 80/20\n"
    "Class labels are kept as the data has them (3/7/9, -1/+1, or text): predictions,\n"
    "reports and 'gsgd info MODEL' give them back. --model linear reads real targets.\n"
    "Every error in a file names its line and column, and the likely fix.\n"
    "svmlight and scipy CSR rows are kept sparse (CSR) below 5% nonzero values,\n"
    "dense from there on; storage=csr or f32 decides otherwise.\n"
    "storage: u8 (the default for ubyte images on cuda) keeps each pixel as one byte\n"
    "on the device, converted as batches are gathered: a quarter of the memory, the\n"
    "same training; f32 (the default on the cpu) keeps floats.\n";

static const char *const EXIT_CODES =
    "Exit status: 0 success, 1 runtime failure (divergence, device, an output that\n"
    "could not be written: disk full, I/O error; the file is left as it was), 2 bad\n"
    "usage or bad input (options, data files, model files, an output path refused).\n";

void cli_usage_main(FILE *f) {
    fprintf(f,
            "gsgd %s - minibatch stochastic gradient descent\n"
            "\n"
            "Usage: gsgd <command> [options]\n"
            "\n"
            "Commands:\n"
            "  train    train a model on a dataset\n"
            "  eval     evaluate a saved model on a dataset\n"
            "  predict  a saved model's predictions for the rows of a file\n"
            "  plan     memory table of a run and the largest batch that fits\n"
            "  bench    step time, samples/s and time to target across batch sizes\n"
            "  info     build configuration and devices; 'info MODEL' describes a model\n"
            "  help     this text; 'gsgd <command> --help' describes a command\n"
            "\n"
            "Options: --help, --version\n"
            "\n"
            "%s",
            gsgd_version_string(), EXIT_CODES);
}

/* Appends printf-style text to buf (size bytes, used *n), truncating. */
static void add(char *buf, size_t size, size_t *n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void add(char *buf, size_t size, size_t *n, const char *fmt, ...) {
    if (*n >= size) return;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + *n, size - *n, fmt, ap);
    va_end(ap);
    if (k > 0) *n = *n + (size_t)k < size ? *n + (size_t)k : size - 1;
}

/* NB joins words the wrapping must keep on one line ("range [0, 1]"). */
#define NB "\x01"

/* " (default D, range [L, H])", or "at least L" for an open-ended range. */
static void range(char *buf, size_t size, size_t *n, const char *dflt, double lo, double hi) {
    char l[32], h[32];
    cli_fmt_num(lo, l, sizeof l);
    cli_fmt_num(hi, h, sizeof h);
    if (cli_open_ended(hi))
        add(buf, size, n, " (default" NB "%s," NB "at" NB "least" NB "%s)", dflt, l);
    else
        add(buf, size, n, " (default" NB "%s," NB "range" NB "[%s," NB "%s])", dflt, l, h);
}

/* The parenthesis after a row's help: its choices, default and range;
 * the command's own default where it has one. */
static void trailer(char *buf, size_t size, size_t *n, const cli_command *cmd, int id) {
    const cli_optrow *r = &CLI_OPTS[id];
    const char *dflt = cli_command_default(cmd, id);
    if (!dflt) dflt = r->dflt_text;
    double lo = 0, hi = 0, d = 0;
    char num[32];
    if (r->kind >= CLI_NUM) gsgd_param_bounds(r->param, &lo, &hi, &d);
    switch (r->kind) {
    case CLI_CHOICE:
        add(buf, size, n, " (");
        for (int k = 0; k < r->n_choices; k++)
            add(buf, size, n, "%s%s", k ? " | " : "", r->choices[k]);
        add(buf, size, n, ";" NB "default" NB "%s)", dflt ? dflt : cli_choice_name(id, (int)d));
        return;
    case CLI_BATCH: /* 0 is the library's "planned": auto says it */
        range(buf, size, n, dflt ? dflt : "auto", lo < 1 ? 1 : lo, hi);
        return;
    case CLI_NUM:
    case CLI_INT:
    case CLI_MAX_BATCH:
        range(buf, size, n, dflt ? dflt : cli_fmt_num(d, num, sizeof num), lo, hi);
        return;
    case CLI_COUNT:
        range(buf, size, n, dflt ? dflt : cli_fmt_num(r->dflt, num, sizeof num), r->lo, r->hi);
        return;
    default: /* texts, flags and sizes: a default only where one says something */
        if (dflt) add(buf, size, n, " (default %s)", dflt);
        return;
    }
}

/* Prints text word by word from column INDENT, breaking lines before
 * WIDTH (never at an NB). */
static void wrap(FILE *f, const char *text) {
    int col = INDENT, first = 1;
    for (const char *p = text; *p;) {
        while (*p == ' ') p++;
        const int len = (int)strcspn(p, " ");
        if (!len) break;
        if (!first && col + 1 + len > WIDTH) {
            fprintf(f, "\n%*s", INDENT, "");
            col = INDENT;
            first = 1;
        }
        if (!first) col += fputc(' ', f) != EOF;
        for (int k = 0; k < len; k++) fputc(p[k] == NB[0] ? ' ' : p[k], f);
        col += len;
        first = 0;
        p += len;
    }
    fputc('\n', f);
}

static void option_line(FILE *f, const cli_command *cmd, int id) {
    const cli_optrow *r = &CLI_OPTS[id];
    char opt[64], text[1024];
    size_t n = 0;
    snprintf(opt, sizeof opt, "%s%s%s", r->name, r->meta ? " " : "", r->meta ? r->meta : "");
    add(text, sizeof text, &n, "%s", r->help);
    if (id == CLI_O_DISTRIBUTED && !cli_dist_available())
        add(text, sizeof text, &n, " (not in this build: no MPI)");
    trailer(text, sizeof text, &n, cmd, id);
    /* A long option name gets a line of its own. */
    if (strlen(opt) > INDENT - 3)
        fprintf(f, "  %s\n%*s", opt, INDENT, "");
    else
        fprintf(f, "  %-*s ", INDENT - 3, opt);
    wrap(f, text);
}

void cli_usage(FILE *f, const cli_command *cmd) {
    fputs(cmd->synopsis, f);
    for (int g = 0; g < CLI_G_COUNT; g++) {
        int shown = 0;
        for (int id = 0; id < CLI_N_OPTS; id++) {
            if (CLI_OPTS[id].group != (cli_group)g || !cli_command_has(cmd, id)) continue;
            if (!shown++) fprintf(f, "\n%s:\n", SECTIONS[g]);
            option_line(f, cmd, id);
        }
    }
    if (cli_command_has(cmd, CLI_O_DATA)) fprintf(f, "\n%s\n%s", DATA_SPECS, EXIT_CODES);
}
