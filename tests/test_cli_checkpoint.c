/*
 * Checkpoints from the command line: `gsgd train --save` then `--resume`
 * continues a run bit for bit, --checkpoint-every writes during the run,
 * SIGINT and SIGTERM stop it with a checkpoint and exit 128 + the signal,
 * and bad checkpoints or options are refused with exit 2 and one line.
 */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "testutil.h"

#define OUT_SIZE 16384
#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

/* 480 training samples: 15 steps of 32 per epoch, milliseconds each. */
#define SMALL "--data synth:600,6,3:seed=4 --batch 32"
/* For the signal tests: 100 steps of 32 per epoch, a few ms per epoch, and
 * far more epochs than a test waits for. */
#define LONG_RUN                                                                                   \
    "--data", "synth:4000,20,5:seed=2", "--model", "mlp:32", "--batch", "32", "--epochs",          \
        "1000000", "--device", "cpu"

/* The checkpoint's fixed header and options (checkpoint.c's layout,
 * version 2). */
#define OPTIONS_OFF 296
#define OPTIONS_END (OPTIONS_OFF + 8 * GSGD_N_PARAMS)

/* Two checkpoints hold the same state when they agree on every byte but
 * the options (where only EPOCHS may differ) and the CRC. */
static void expect_same_state(const char *a_path, const char *b_path) {
    size_t na, nb;
    unsigned char *a = tu_read_file(a_path, &na), *b = tu_read_file(b_path, &nb);
    cr_assert_eq(na, nb);
    cr_expect(memcmp(a, b, OPTIONS_OFF) == 0, "headers (counters, guard) differ");
    cr_expect(memcmp(a + OPTIONS_END, b + OPTIONS_END, na - 4 - OPTIONS_END) == 0,
              "parameters, standardiser, average or optimizer state differ");
    for (int k = 0; k < GSGD_N_PARAMS; k++) {
        double x, y;
        memcpy(&x, a + OPTIONS_OFF + 8 * k, 8);
        memcpy(&y, b + OPTIONS_OFF + 8 * k, 8);
        if (k != GSGD_EPOCHS) cr_expect(x == y, "option %s: %g vs %g", gsgd_param_name(k), x, y);
    }
    free(a);
    free(b);
}

Test(cli_checkpoint, two_epochs_and_a_resume_of_two_equal_four_straight) {
    /* --schedule constant, the default before issue 17: 2 + 2 epochs equal 4
     * only where the rate does not follow --epochs, as a cosine over all
     * of them would. */
    const char *opts[] = {"--optim momentum --warmup 1 --schedule constant",
                          "--optim adam --average 20 --schedule constant"};
    for (int k = 0; k < 2; k++) {
        char out[OUT_SIZE], straight_line[OUT_SIZE];
        const char *a = tu_path("a.ckpt"), *b = tu_path("b.ckpt"), *c = tu_path("c.ckpt");
        int rc = gsgd(out,
                      "train --quiet " SMALL " --model mlp:8 --standardize %s --epochs 4 "
                      "--save '%s'",
                      opts[k], a);
        cr_assert_eq(rc, 0, "%s", out);
        snprintf(straight_line, sizeof straight_line, "%s", out);
        rc = gsgd(out,
                  "train --quiet " SMALL " --model mlp:8 --standardize %s --epochs 2 "
                  "--save '%s'",
                  opts[k], b);
        cr_assert_eq(rc, 0, "%s", out);
        rc = gsgd(out,
                  "train --quiet --data synth:600,6,3:seed=4 --resume '%s' --epochs 2 "
                  "--save '%s'",
                  b, c);
        cr_assert_eq(rc, 0, "%s", out);
        expect_same_state(a, c);
        /* Same model, same test set: the same accuracy and loss printed. */
        cr_expect(
            strncmp(strstr(out, "test accuracy"), strstr(straight_line, "test accuracy"), 30) == 0,
            "%s vs %s", out, straight_line);
    }
}

Test(cli_checkpoint, an_auto_run_stopped_at_max_epochs_resumes_to_the_straight_run) {
    /* --epochs auto (the default) with the constant schedule: its stop is
     * the plateau alone, so a run cut at --max-epochs 100 and resumed
     * without --epochs (the checkpoint's EPOCHS 0, the plateau count
     * restored) ends where the straight run ends, bit for bit. */
    char out[OUT_SIZE], straight_line[OUT_SIZE];
    const char *a = tu_path("auto_a.ckpt"), *b = tu_path("auto_b.ckpt"),
               *c = tu_path("auto_c.ckpt");
    int rc =
        gsgd(out, "train --quiet " SMALL " --model softmax --schedule constant --save '%s'", a);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "stopped: converged after"), "%s", out);
    snprintf(straight_line, sizeof straight_line, "%s", out);
    rc = gsgd(out,
              "train --quiet " SMALL " --model softmax --schedule constant --max-epochs 100 "
              "--save '%s'",
              b);
    cr_assert_eq(rc, 0, "%s", out);
    cr_assert(strstr(out, "stopped: --max-epochs 100 reached"), "%s", out);
    rc = gsgd(out,
              "train --quiet --data synth:600,6,3:seed=4 --resume '%s' --max-epochs 1000 --save "
              "'%s'",
              b, c);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "stopped: converged after"), "%s", out);
    expect_same_state(a, c);
    cr_expect(strncmp(strstr(out, "test accuracy"), strstr(straight_line, "test accuracy"), 30) ==
                  0,
              "%s vs %s", out, straight_line);
}

Test(cli_checkpoint, an_auto_cosine_run_refuses_epochs_n_on_resume) {
    char out[OUT_SIZE];
    const char *f = tu_path("auto_cos.ckpt");
    int rc = gsgd(out, "train --quiet " SMALL " --model softmax --max-epochs 3 --save '%s'", f);
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "train --quiet --data synth:600,6,3:seed=4 --resume '%s' --epochs 5", f);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--epochs 5") && strstr(out, "--epochs auto") && strstr(out, f), "%s",
              out);
    /* Without --epochs (or with --epochs auto) it goes on. */
    rc = gsgd(out, "train --quiet --data synth:600,6,3:seed=4 --resume '%s' --max-epochs 6", f);
    cr_expect_eq(rc, 0, "%s", out);
    rc = gsgd(out,
              "train --quiet --data synth:600,6,3:seed=4 --resume '%s' --epochs auto "
              "--max-epochs 6",
              f);
    cr_expect_eq(rc, 0, "%s", out);
}

Test(cli_checkpoint, eval_reads_a_checkpoint) {
    char out[OUT_SIZE];
    const char *f = tu_path("eval.ckpt");
    cr_assert_eq(gsgd(out, "train --quiet " SMALL " --model softmax --epochs 1 --save '%s'", f), 0,
                 "%s", out);
    cr_expect_eq(gsgd(out, "eval --quiet --model-file '%s' --data synth:600,6,3:seed=4", f), 0,
                 "%s", out);
    cr_expect(strstr(out, "accuracy "), "%s", out);
}

/* ---- refused ------------------------------------------------------------------ */

Test(cli_checkpoint, corrupt_checkpoint_exits_2_with_one_line_naming_it) {
    char out[OUT_SIZE];
    const char *f = tu_path("bad.ckpt");
    cr_assert_eq(gsgd(out, "train --quiet " SMALL " --model softmax --epochs 1 --save '%s'", f), 0,
                 "%s", out);
    size_t n;
    unsigned char *b = tu_read_file(f, &n);
    b[n / 2] ^= 0x10;
    cr_assert_eq(tu_write_file(f, b, n), 0);
    int rc = gsgd(out, "train --quiet --data synth:600,6,3:seed=4 --resume '%s'", f);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, f) && strstr(out, "CRC"), "%s", out);
    rc = gsgd(out, "eval --quiet --model-file '%s' --data synth:600,6,3:seed=4", f);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, f) && strstr(out, "CRC"), "%s", out);
    cr_assert_eq(tu_write_file(f, b, 200), 0);
    rc = gsgd(out, "train --quiet --data synth:600,6,3:seed=4 --resume '%s'", f);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, f) && strstr(out, "truncated"), "%s", out);
    free(b);
}

Test(cli_checkpoint, options_that_change_the_run_are_refused_with_resume) {
    char out[OUT_SIZE];
    const char *f = tu_path("opts.ckpt");
    cr_assert_eq(gsgd(out, "train --quiet " SMALL " --model softmax --epochs 1 --save '%s'", f), 0,
                 "%s", out);
    const char *refused[] = {"--lr 0.5", "--model mlp:4", "--batch 16", "--seed 3",
                             "--standardize"};
    for (size_t k = 0; k < sizeof refused / sizeof refused[0]; k++) {
        int rc =
            gsgd(out, "train --quiet --data synth:600,6,3:seed=4 --resume '%s' %s", f, refused[k]);
        cr_expect_eq(rc, 2, "%s: %s", refused[k], out);
        cr_expect_eq(tu_count_lines(out), 1, "%s", out);
        char name[32];
        snprintf(name, sizeof name, "%s", refused[k]);
        strtok(name, " ");
        cr_expect(strstr(out, name) && strstr(out, "--resume"), "%s", out);
    }
    /* Other data (the sample count differs) is no longer refused: it goes
     * on as partial_fit, with a warning that this is not an exact resume
     * (test_cli_data.c checks that path). */
    int rc = gsgd(out, "train --quiet --data synth:700,6,3:seed=4 --resume '%s'", f);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "gsgd: warning: --data differs from the run of --resume") &&
                  strstr(out, "not an exact resume"),
              "%s", out);
}

Test(cli_checkpoint, checkpoint_every_needs_save) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --quiet " SMALL " --model softmax --checkpoint-every 2");
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--checkpoint-every") && strstr(out, "--save"), "%s", out);
    rc = gsgd(out, "train --quiet " SMALL " --model softmax --save '%s' --checkpoint-every 0",
              tu_path("x.ckpt"));
    cr_expect_eq(rc, 2, "%s", out);
}

/* ---- runs stopped from outside ---------------------------------------------- */

/* Starts the program in dir with stdout and stderr going to log. */
static pid_t spawn(const char *dir, const char *log, const char *const *argv) {
    fflush(NULL);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || chdir(dir) != 0) _exit(126);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(GSGD_CLI_PATH, (char *const *)argv);
        _exit(127);
    }
    return pid;
}

static void sleep_ms(long ms) {
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000};
    nanosleep(&ts, NULL);
}

/* Waits up to 20 s for text to appear in file; kills pid (the run that
 * writes it) when it does not, so a failed test leaves no run behind. */
static void wait_for_text(pid_t pid, const char *file, const char *text) {
    for (int i = 0; i < 2000; i++) {
        FILE *f = fopen(file, "r");
        if (f) {
            char buf[OUT_SIZE];
            size_t n = fread(buf, 1, sizeof buf - 1, f);
            fclose(f);
            buf[n] = '\0';
            if (strstr(buf, text)) return;
        }
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    cr_assert_fail("'%s' never appeared in %s", text, file);
}

/* Waits up to 20 s for pid to end; returns its wait status. */
static int wait_exit(pid_t pid) {
    int status;
    for (int i = 0; i < 2000; i++) {
        if (waitpid(pid, &status, WNOHANG) == pid) return status;
        sleep_ms(10);
    }
    kill(pid, SIGKILL);
    waitpid(pid, &status, 0);
    cr_assert_fail("the program did not stop within 20 s of the signal");
    return status;
}

Test(cli_checkpoint, sigint_saves_a_checkpoint_that_resumes_and_exits_130) {
    const char *f = tu_path("sigint.ckpt"), *log = tu_path("sigint.log");
    const char *argv[] = {"gsgd", "train", LONG_RUN, "--save", f, NULL};
    pid_t pid = spawn(tu_tmpdir(), log, argv);
    wait_for_text(pid, log, "epoch 3/");
    kill(pid, SIGINT);
    int status = wait_exit(pid);
    const char *text = tu_read_text(log);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d: %s", status, text);
    cr_expect(strstr(text, "interrupted by SIGINT") && strstr(text, f) && strstr(text, "--resume"),
              "%s", text);
    int done = -1;
    size_t step = 0;
    cr_assert_eq(gsgd_checkpoint_options(NULL, f, NULL, &done, &step), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(NULL));
    cr_expect_geq(done, 3, "%d epochs done", done);
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --quiet --data synth:4000,20,5:seed=2 --resume '%s' --epochs 1", f);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "test accuracy"), "%s", out);
}

Test(cli_checkpoint, sigint_of_an_auto_run_says_to_resume_without_epochs) {
    const char *f = tu_path("sigint_auto.ckpt"), *log = tu_path("sigint_auto.log");
    /* --epochs auto that would go on for a very long time. */
    const char *argv[] = {"gsgd",        "train",      "--data",       "synth:4000,20,5:seed=2",
                          "--model",     "mlp:32",     "--batch",      "32",
                          "--device",    "cpu",        "--max-epochs", "1000000",
                          "--min-steps", "1000000000", "--save",       f,
                          NULL};
    pid_t pid = spawn(tu_tmpdir(), log, argv);
    wait_for_text(pid, log, "epoch 3  loss"); /* an open end: no "/N" */
    kill(pid, SIGINT);
    int status = wait_exit(pid);
    const char *text = tu_read_text(log);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 130, "status %d: %s", status, text);
    const char *line = strstr(text, "interrupted by SIGINT");
    cr_assert_not_null(line, "%s", text);
    cr_expect(strstr(line, "of at most 1000000") && strstr(line, "--resume") &&
                  !strstr(line, "--epochs"),
              "%s", line);
    int done = -1;
    cr_assert_eq(gsgd_checkpoint_options(NULL, f, NULL, &done, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(NULL));
    /* The resume goes on under --epochs auto, to a bound given now. */
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --quiet --data synth:4000,20,5:seed=2 --resume '%s' --max-epochs %d",
                  f, done + 1);
    cr_expect_eq(rc, 0, "%s", out);
    char want[64];
    snprintf(want, sizeof want, "stopped: --max-epochs %d reached", done + 1);
    cr_expect(strstr(out, want), "%s", out);
}

Test(cli_checkpoint, sigterm_without_save_writes_gsgd_interrupted_ckpt_and_exits_143) {
    const char *log = tu_path("sigterm.log");
    const char *argv[] = {"gsgd", "train", LONG_RUN, "--quiet", "--log", "epochs.jsonl", NULL};
    pid_t pid = spawn(tu_tmpdir(), log, argv);
    char tmp_log[64]; /* the log is published at the end (outfile.c) */
    snprintf(tmp_log, sizeof tmp_log, "epochs.jsonl.tmp.%ld", (long)pid);
    wait_for_text(pid, tu_path(tmp_log), "\"epoch\": 2");
    kill(pid, SIGTERM);
    int status = wait_exit(pid);
    const char *text = tu_read_text(log);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 143, "status %d: %s", status, text);
    cr_expect_eq(tu_count_lines(text), 1, "one line: %s", text);
    const char *f = tu_path("gsgd-interrupted.ckpt");
    cr_expect_eq(gsgd_checkpoint_options(NULL, f, NULL, NULL, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(NULL));
    cr_expect(tu_exists(tu_path("epochs.jsonl")), "the log of the finished epochs is kept");
}

Test(cli_checkpoint, checkpoint_every_writes_during_the_run) {
    const char *f = tu_path("every.ckpt"), *log = tu_path("every.log");
    const char *argv[] = {"gsgd", "train", LONG_RUN, "--save", f, "--checkpoint-every", "2", NULL};
    pid_t pid = spawn(tu_tmpdir(), log, argv);
    wait_for_text(pid, log, "epoch 5/");
    kill(pid, SIGKILL); /* no chance to save on the way out */
    int status;
    waitpid(pid, &status, 0);
    int done = -1;
    cr_assert_eq(gsgd_checkpoint_options(NULL, f, NULL, &done, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(NULL));
    cr_expect(done >= 4 && done % 2 == 0, "saved after epoch %d", done);
}
