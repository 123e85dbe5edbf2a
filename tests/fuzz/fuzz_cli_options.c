/*
 * The command line's one parser (src/cli/cmdline.c) against the option
 * table compiled in (opttable.c, commands.c), then the values turned into
 * library options as every command does (optset.c, args.c) and bench's
 * batch lists (bench_batches.c). Input: one byte that picks the command,
 * then its arguments separated by NUL bytes. What a parse accepts is
 * checked: every value belongs to an option the command takes (or is its
 * own default), a flag's value is empty, the required options are there;
 * options built from the values hold every parameter within its bounds;
 * counts given within their rows' ranges; batch lists positive, ascending and
 * distinct; a bare "--standardize" is its row's bare value; parameter names
 * turned into flags fit their buffer. The program's messages go to
 * /dev/null.
 */
#include "fuzz_common.h"
#include "cli/bench/bench.h"
#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/optset.h"

#define MAX_ARGS 64

/* 1 when p points into one of the n strings of argv. */
static int in_argv(const char *p, char **argv, int n) {
    for (int i = 0; i < n; i++)
        if (p >= argv[i] && p <= argv[i] + strlen(argv[i])) return 1;
    return 0;
}

static void check_options(const char *const *v) {
    gsgd_options *opts = NULL;
    const int rc = cli_options_build(&opts, v);
    FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_RUNTIME);
    if (rc == CLI_OK) {
        for (int p = 0; p < GSGD_N_PARAMS; p++) {
            double x = 0, lo = 0, hi = 0;
            FUZZ_CHECK(gsgd_get(opts, (gsgd_param)p, &x) == GSGD_STATUS_OK);
            FUZZ_CHECK(gsgd_param_bounds((gsgd_param)p, &lo, &hi, NULL) == GSGD_STATUS_OK);
            FUZZ_CHECK(x >= lo && x <= hi);
        }
    }
    gsgd_options_free(opts);
}

static void check_counts(const cli_command *cmd, const char *const *v) {
    for (int k = 0; k < CLI_N_OPTS; k++) {
        /* Absent, a count is its row's default, which may say "never" (0). */
        if (CLI_OPTS[k].kind != CLI_COUNT || !cli_command_has(cmd, k) || !v[k]) continue;
        int n = -1;
        if (cli_count(v, k, &n) == CLI_OK) FUZZ_CHECK(n >= CLI_OPTS[k].lo && n <= CLI_OPTS[k].hi);
    }
}

static void check_batches(const char *opt, const char *s) {
    size_t b[BENCH_MAX_POINTS];
    int count = -1, sweep = -1;
    if (bench_parse_batches(opt, s, b, BENCH_MAX_POINTS, &count, &sweep) != CLI_OK) return;
    FUZZ_CHECK(sweep ? count == 0 : count >= 1 && count <= BENCH_MAX_POINTS);
    for (int i = 0; i < count; i++) FUZZ_CHECK(b[i] >= 1 && b[i] <= UINT32_MAX);
    for (int i = 1; i < count; i++) FUZZ_CHECK(b[i - 1] < b[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int quiet;
    if (!quiet) { /* the parser's errors and --help, not libFuzzer's output */
        stdout = fopen("/dev/null", "w");
        stderr = fopen("/dev/null", "w");
        FUZZ_CHECK(stdout && stderr);
        quiet = 1;
    }
    if (size < 1 || size > 4096) return 0;
    int ncmd = 0;
    while (CLI_COMMANDS[ncmd]) ncmd++;
    const cli_command *cmd = CLI_COMMANDS[data[0] % ncmd];
    /* The arguments: NUL-separated, each its own allocation for ASan. */
    char *argv[MAX_ARGS + 1];
    int argc = 0;
    argv[argc++] = strdup(cmd->name);
    for (size_t i = 1; i < size && argc < MAX_ARGS;) {
        const uint8_t *end = memchr(data + i, '\0', size - i);
        const size_t n = end ? (size_t)(end - (data + i)) : size - i;
        argv[argc] = malloc(n + 1);
        FUZZ_CHECK(argv[argc] != NULL);
        memcpy(argv[argc], data + i, n);
        argv[argc++][n] = '\0';
        i += n + 1;
    }
    argv[argc] = NULL;

    /* Library messages turned into flags (cli_flag_words): any text, any
     * room, always a terminated string no longer than the room. */
    for (int i = 1; i < argc; i++) {
        char words[64];
        const size_t room = 1 + (size_t)i % sizeof words;
        FUZZ_CHECK(cli_flag_words(argv[i], words, room) == words && strlen(words) < room);
    }
    const char *v[CLI_N_OPTS];
    const int rc = cli_parse_command(cmd, argc, argv, v);
    FUZZ_CHECK(rc == CLI_OK || rc == CLI_USAGE || rc == CLI_HELP_SHOWN);
    if (rc == CLI_OK) {
        for (int k = 0; k < CLI_N_OPTS; k++) {
            if (!v[k]) continue;
            const char *dflt = cli_command_default(cmd, k);
            FUZZ_CHECK(cli_command_has(cmd, k) || v[k] == dflt);
            FUZZ_CHECK(v[k] == dflt || in_argv(v[k], argv + 1, argc - 1) ||
                       (!CLI_OPTS[k].meta && !v[k][0]) || v[k] == CLI_OPTS[k].bare);
            if (!CLI_OPTS[k].meta) FUZZ_CHECK(v[k][0] == '\0');
        }
        for (const int *k = cmd->required; k && *k >= 0; k++) FUZZ_CHECK(v[*k] != NULL);
        check_options(v);
        check_counts(cmd, v);
        if (v[CLI_O_BATCHES]) check_batches("--batches", v[CLI_O_BATCHES]);
        if (v[CLI_O_NOISE_BATCHES]) check_batches("--noise-batches", v[CLI_O_NOISE_BATCHES]);
    }
    for (int i = 0; i < argc; i++) free(argv[i]);
    return 0;
}
