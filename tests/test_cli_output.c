/*
 * The program's output files (src/cli/outfile.c, cli_check_output, and the
 * library's writer behind --save): at every output option, a symbolic link
 * is followed (its target replaced, the link kept); a device node or a FIFO
 * is refused with exit 2 and one line, and left as it was; "-" is standard
 * output for the text formats and refused for the binary ones; a full disk
 * exits 1 naming the file and leaves nothing partial.
 */
#define _XOPEN_SOURCE 700 /* S_IFLNK, S_IFIFO */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

#define OUT_SIZE 16384
#define SYNTH "synth:400,5,3"
#define TRAIN "train --quiet --device cpu --data " SYNTH " --model softmax --epochs 2"

#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

/* One output option of one command: the command with "%s" where the path
 * goes, what the file holds (a string it contains; "GSGDCKP" is a
 * checkpoint's magic) and whether "-" may stand for standard output. */
typedef struct {
    const char *name, *cmd, *holds;
    int text;
    int slow; /* gsgd bench: seconds per run; fewer of its runs */
} output_case;

/* eval reads the checkpoint that make_model writes. */
#define MODEL_FILE "model-for-eval.ckpt"

static const output_case CASES[] = {
    {"train --summary", TRAIN " --summary %s", "\"test_accuracy\"", 1, 0},
    {"train --log", TRAIN " --log %s", "\"train_loss\"", 1, 0},
    {"train --save", TRAIN " --save %s", "GSGDCKP", 0, 0},
    {"train --checkpoint-every", TRAIN " --checkpoint-every 1 --save %s", "GSGDCKP", 0, 0},
    {"eval --summary", "eval --quiet --device cpu --model-file @ --data " SYNTH " --summary %s",
     "\"test_accuracy\"", 1, 0},
    {"plan --json", "plan --quiet --device cpu --data " SYNTH " --model softmax --json %s",
     "\"batch\"", 1, 0},
    {"bench --json",
     "bench --quiet --device cpu --data " SYNTH " --batches 32 --steps 3 --noise-samples 0 "
     "--json %s",
     "\"points\"", 1, 1},
    {"bench --csv",
     "bench --quiet --device cpu --data " SYNTH " --batches 32 --steps 3 --noise-samples 0 "
     "--csv %s",
     "batch", 1, 1},
};
#define N_CASES (sizeof CASES / sizeof CASES[0])

/* The model file eval reads, trained once per test. */
static const char *make_model(void) {
    const char *path = tu_path(MODEL_FILE);
    if (tu_exists(path)) return path;
    char out[OUT_SIZE];
    cr_assert_eq(gsgd(out, TRAIN " --save '%s'", path), 0, "%s", out);
    return path;
}

/* The case's command line with path as its output ('@' is the model). */
static void command(const output_case *c, const char *path, char *buf, size_t size) {
    char quoted[1024], fmt[1024];
    snprintf(quoted, sizeof quoted, "'%s'", path);
    snprintf(fmt, sizeof fmt, "%s", c->cmd);
    char *at = strchr(fmt, '@');
    if (at) {
        char rest[1024];
        snprintf(rest, sizeof rest, "%s", at + 1);
        snprintf(at, sizeof fmt - (size_t)(at - fmt), "'%s'%s", make_model(), rest);
    }
    snprintf(buf, size, fmt, quoted);
}

static int run_case(const output_case *c, const char *path, char *out) {
    char cmd[2048];
    command(c, path, cmd, sizeof cmd);
    return gsgd(out, "%s", cmd);
}

/* The output's content: the string it must hold. */
static void expect_holds(const char *path, const char *holds, const char *name) {
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    char *text = malloc(n + 1);
    memcpy(text, b, n);
    text[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!text[i]) text[i] = ' '; /* a checkpoint's binary holds NULs */
    cr_expect(strstr(text, holds), "%s: %s lacks %s", name, path, holds);
    free(text);
    free(b);
}

Test(cli_output, a_symlink_at_each_output_is_followed_its_target_replaced_and_kept) {
    cr_assert_eq(mkdir(tu_path("targets"), 0700), 0);
    for (size_t k = 0; k < N_CASES; k++) {
        const output_case *c = &CASES[k];
        char target[64], link[64], rel[80], out[OUT_SIZE];
        snprintf(target, sizeof target, "targets/out-%zu", k);
        snprintf(link, sizeof link, "link-%zu", k);
        snprintf(rel, sizeof rel, "targets/out-%zu", k);
        cr_assert_eq(tu_write_text(tu_path(target), "old"), 0);
        cr_assert_eq(symlink(rel, tu_path(link)), 0);
        int rc = run_case(c, tu_path(link), out);
        cr_expect_eq(rc, 0, "%s: %s", c->name, out);
        cr_expect_eq(tu_file_type(tu_path(link)), (unsigned)S_IFLNK, "%s: the link is kept",
                     c->name);
        cr_expect_eq(tu_file_type(tu_path(target)), (unsigned)S_IFREG, "%s", c->name);
        expect_holds(tu_path(target), c->holds, c->name);
    }
    cr_expect_eq(tu_count_entries(tu_path("targets"), "tmp"), 0, "no temporary is left");
    cr_expect_eq(tu_count_entries(tu_tmpdir(), "tmp"), 0, "no temporary is left");
}

/* Every case, and --plot, refuses path with exit 2 in one line that names
 * the option and says what is there. */
static void expect_each_refuses(const char *path, const char *what) {
    for (size_t k = 0; k < N_CASES; k++) {
        char out[OUT_SIZE];
        int rc = run_case(&CASES[k], path, out);
        cr_expect_eq(rc, 2, "%s: %s", CASES[k].name, out);
        cr_expect_eq(tu_count_lines(out), 1, "%s: %s", CASES[k].name, out);
        cr_expect(strstr(out, path) && strstr(out, what), "%s: %s", CASES[k].name, out);
    }
    char out[OUT_SIZE];
    int rc = gsgd(out, "bench --quiet --device cpu --data " SYNTH " --plot '%s'", path);
    cr_expect_eq(rc, 2, "--plot: %s", out);
    cr_expect(strstr(out, "--plot") && strstr(out, what), "%s", out);
}

Test(cli_output, a_device_node_at_each_output_is_refused_and_left_as_it_was) {
    const char *node = tu_device_node();
    if (!node) cr_skip_test("running as root without the right to mknod: no safe device node");
    struct stat before, after;
    cr_assert_eq(stat(node, &before), 0);
    expect_each_refuses(node, "a character device");
    cr_assert_eq(lstat(node, &after), 0);
    cr_expect(S_ISCHR(after.st_mode) && after.st_rdev == before.st_rdev &&
                  after.st_ino == before.st_ino,
              "%s is untouched", node);
}

Test(cli_output, a_fifo_at_each_output_is_refused_and_left_as_it_was) {
    const char *fifo = tu_path("fifo");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    expect_each_refuses(fifo, "a FIFO"); /* a FIFO opened to write would block */
    cr_expect_eq(tu_file_type(fifo), (unsigned)S_IFIFO);
    cr_expect_eq(tu_count_entries(tu_tmpdir(), "tmp"), 0);
}

Test(cli_output, dash_is_standard_output_for_the_text_formats_only) {
    for (size_t k = 0; k < N_CASES; k++) {
        const output_case *c = &CASES[k];
        char cmd[2048], out[OUT_SIZE];
        command(c, "-", cmd, sizeof cmd);
        if (!c->text) {
            cr_expect_eq(gsgd(out, "%s", cmd), 2, "%s: %s", c->name, out);
            cr_expect(strstr(out, "'-'") && strstr(out, "standard output"), "%s: %s", c->name, out);
            continue;
        }
        if (c->slow && strcmp(c->name, "bench --csv") != 0) continue; /* one bench run */
        /* stdout alone: the file's content, the results line gone to stderr. */
        char sub[2200];
        snprintf(sub, sizeof sub, "(\"%s\" %s 2>/dev/null)", GSGD_CLI_PATH, cmd);
        int rc = tu_run(sub, out, sizeof out);
        cr_expect_eq(rc, 0, "%s: %s", c->name, out);
        cr_expect(strstr(out, c->holds), "%s: %s", c->name, out);
        if (c->holds[0] == '"' && !strstr(c->name, "--log"))
            cr_expect(tu_json_valid(out), "%s: stdout is not one JSON value: %s", c->name, out);
        cr_expect_not(strstr(out, "test accuracy "), "%s: %s", c->name, out);
    }
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, TRAIN " --summary - --log -"), 2, "%s", out);
    cr_expect(strstr(out, "already"), "%s", out);
    cr_expect_not(tu_exists(tu_path("-")), "no file named '-'");
}

/* gsgd runs in the full directory, so the relative names are in it. */
Test(cli_output, a_full_disk_at_each_output_exits_1_naming_the_file_leaving_nothing) {
    const char *model = make_model();
    for (size_t k = 0; k < N_CASES; k++) {
        const output_case *c = &CASES[k];
        if (c->slow) continue; /* bench writes its files as plan does */
        char dir[64], cmd[2048], out[OUT_SIZE];
        snprintf(dir, sizeof dir, "full-%zu", k);
        /* "keep" holds "old": replacing it must leave it so. */
        for (int replace = 0; replace < 2; replace++) {
            const char *name = replace ? "keep" : "new-output";
            command(c, name, cmd, sizeof cmd);
            int rc = tu_gsgd_full_disk(out, sizeof out, tu_path(dir), cmd);
            if (rc == -2)
                cr_skip_test("no tmpfs can be mounted here (no user namespaces): %s", out);
            cr_expect_eq(rc, 1, "%s: %s", c->name, out);
            cr_expect(strstr(out, name) && strstr(out, "No space left on device"), "%s: %s",
                      c->name, out);
            const char *listing = strstr(out, "-- dir:");
            cr_assert(listing);
            cr_expect_not(strstr(listing, "tmp"), "%s: a temporary is left: %s", c->name, out);
            cr_expect_not(strstr(listing, "new-output"), "%s: a partial file: %s", c->name, out);
            cr_expect(strstr(out, "-- keep: old\n"), "%s: keep was changed: %s", c->name, out);
        }
    }
    (void)model;
}

Test(cli_output, a_write_past_the_file_size_limit_exits_1_and_leaves_the_file) {
    /* The same failure as a full disk, reached without a tmpfs: RLIMIT_FSIZE
     * 0 makes every write to a file fail (EFBIG, SIGXFSZ ignored). */
    for (size_t k = 0; k < N_CASES; k++) {
        const output_case *c = &CASES[k];
        if (c->slow) continue;
        char name[64], cmd[2048], shell[2400], out[OUT_SIZE];
        snprintf(name, sizeof name, "limited-%zu", k);
        const char *path = tu_path(name);
        cr_assert_eq(tu_write_text(path, "old"), 0);
        command(c, path, cmd, sizeof cmd);
        snprintf(shell, sizeof shell, "sh -c \"trap '' XFSZ; ulimit -f 0; exec \\\"%s\\\" %s\"",
                 GSGD_CLI_PATH, cmd);
        int rc = tu_run(shell, out, sizeof out);
        cr_expect_eq(rc, 1, "%s: %s", c->name, out);
        cr_expect(strstr(out, name) && strstr(out, "File too large"), "%s: %s", c->name, out);
        cr_expect_str_eq(tu_read_text(path), "old", "%s", c->name);
    }
    cr_expect_eq(tu_count_entries(tu_tmpdir(), "tmp"), 0, "no temporary is left");
}

Test(cli_output, the_help_names_both_exit_codes_of_an_output) {
    char out[OUT_SIZE];
    cr_assert_eq(gsgd(out, "train --help"), 0, "%s", out);
    const char *exit = strstr(out, "Exit status:");
    cr_assert(exit, "%s", out);
    cr_expect(strstr(exit, "1 runtime failure") &&
                  strstr(exit, "an output that\ncould not be written: disk full"),
              "%s", exit);
    cr_expect(strstr(exit, "an output path refused"), "%s", exit);
    cr_expect(strstr(out, "--summary F.json") && strstr(out, "- is standard"), "%s", out);
}
