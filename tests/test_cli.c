/*
 * The `gsgd` program as a user meets it: exit codes (0 ok, 1 runtime
 * failure, 2 bad usage or bad input), one-line error messages that name the
 * option, file and line, no output files left behind by a failed run, and
 * summaries that are valid JSON agreeing with `gsgd eval`.
 *
 * Every test runs the built program (GSGD_CLI_PATH) through a shell with
 * stdout and stderr captured together, in its own temporary directory.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define OUT_SIZE 16384

/* A small learnable problem that trains in milliseconds: 320 train and 80
 * test samples of 5 features, 3 classes. */
#define SYNTH "synth:400,5,3"

#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)
#define count_lines tu_count_lines
#define read_text tu_read_text

/* ---- a checker for the flat JSON objects the program writes ------------ */

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r') p++;
    return p;
}

/* A JSON string starting at p; returns the position after it or NULL. */
static const char *parse_string(const char *p) {
    if (*p++ != '"') return NULL;
    for (; *p && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\' && !*++p) return NULL;
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *skip_ws(const char *p);
static const char *parse_scalar(const char *p);

/* An array of scalars ("labels": ["a", "b"]). */
static const char *parse_array(const char *p) {
    p = skip_ws(p + 1);
    if (*p == ']') return p + 1;
    for (;;) {
        if (!(p = parse_scalar(skip_ws(p)))) return NULL;
        p = skip_ws(p);
        if (*p == ']') return p + 1;
        if (*p++ != ',') return NULL;
    }
}

/* A JSON number, string or null, or an array of them (the only values a
 * summary holds). */
static const char *parse_value(const char *p) {
    return *p == '[' ? parse_array(p) : parse_scalar(p);
}

static const char *parse_scalar(const char *p) {
    if (*p == '"') return parse_string(p);
    if (strncmp(p, "null", 4) == 0) return p + 4;
    char *end;
    if (*p != '-' && !isdigit((unsigned char)*p)) return NULL;
    strtod(p, &end);
    return end > p ? end : NULL;
}

/* 1 when s is exactly one flat JSON object, optionally followed by blanks. */
static int is_flat_json_object(const char *s) {
    const char *p = skip_ws(s);
    if (*p++ != '{') return 0;
    p = skip_ws(p);
    if (*p == '}') return *skip_ws(p + 1) == '\0';
    for (;;) {
        if (!(p = parse_string(p))) return 0;
        p = skip_ws(p);
        if (*p++ != ':') return 0;
        if (!(p = parse_value(skip_ws(p)))) return 0;
        p = skip_ws(p);
        if (*p == '}') return *skip_ws(p + 1) == '\0';
        if (*p++ != ',') return 0;
        p = skip_ws(p);
    }
}

/* The number stored under key; fails the test when absent or null. */
static double json_number(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    cr_assert_not_null(p, "key %s missing in %s", key, json);
    p += strlen(pat);
    char *end;
    double v = strtod(p, &end);
    cr_assert(end > p, "key %s is not a number in %s", key, json);
    return v;
}

/* ---- usage errors --------------------------------------------------------- */

Test(cli, unknown_option_exits_2_with_one_line) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --frobnicate"), 2);
    cr_expect_eq(count_lines(out), 1, "expected one line, got: %s", out);
    cr_expect(strncmp(out, "gsgd: ", 6) == 0, "%s", out);
    cr_expect(strstr(out, "--frobnicate"), "%s", out);
}

Test(cli, non_numeric_value_names_option_and_value) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --lr abc"), 2);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--lr: 'abc' is not a number"), "%s", out);
}

Test(cli, trailing_garbage_is_not_a_number) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --epochs 3x"), 2);
    cr_expect(strstr(out, "--epochs") && strstr(out, "3x"), "%s", out);
}

Test(cli, out_of_range_lr_names_the_bounds) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --lr=5e6"), 2);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--lr: 5e6 is outside ["), "%s", out);
}

Test(cli, missing_data_exits_2) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --model softmax"), 2);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--data"), "%s", out);
}

Test(cli, missing_option_value_exits_2) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --lr"), 2);
    cr_expect(strstr(out, "--lr: missing value"), "%s", out);
}

Test(cli, batch_words_other_than_auto_and_fastest_are_refused) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --batch biggest"), 2);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--batch: 'biggest' is not auto, fastest"), "%s", out);
}

/* ---- bad input ------------------------------------------------------------ */

Test(cli, unknown_model_spec_exits_2) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --quiet --data " SYNTH " --model frob"), 2);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "frob"), "%s", out);
}

Test(cli, missing_data_file_exits_2_naming_the_file) {
    char out[OUT_SIZE];
    const char *path = tu_path("no-such-file.csv");
    cr_expect_eq(gsgd(out, "train --quiet --data 'csv:%s' --model softmax", path), 2);
    cr_expect(strstr(out, path), "%s", out);
}

Test(cli, malformed_csv_exits_2_naming_file_and_line) {
    char out[OUT_SIZE];
    const char *path = tu_path("bad.csv");
    /* Labels in the first and the last column: bad on line 3 whichever
     * column the loader takes the label from. */
    cr_assert_eq(tu_write_text(path, "0,0.5,0\n1,2.5,1\n0,oops,0\n"), 0);
    cr_expect_eq(gsgd(out, "train --quiet --data 'csv:%s' --model softmax", path), 2);
    cr_expect(strstr(out, path), "%s", out);
    cr_expect(strstr(out, "line 3"), "%s", out);
}

Test(cli, eval_shape_mismatch_exits_2) {
    char out[OUT_SIZE];
    const char *model = tu_path("m.gsgd");
    int rc =
        gsgd(out, "train --quiet --data " SYNTH " --model softmax --epochs 1 --save '%s'", model);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect_eq(gsgd(out, "eval --quiet --model-file '%s' --data synth:400,7,3", model), 2);
    cr_expect(strstr(out, "features"), "%s", out);
}

/* ---- failed runs leave no files ------------------------------------------- */

/* A learning rate of 100 on squared loss blows up within a few steps. */
Test(cli, diverging_run_exits_1_and_leaves_no_files) {
    char out[OUT_SIZE];
    const char *model = tu_path("diverged.gsgd"), *summary = tu_path("diverged.json");
    int rc = gsgd(out,
                  "train --quiet --data " SYNTH " --model linear --lr 100 --epochs 50 "
                  "--save '%s' --summary '%s'",
                  model, summary);
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect(!tu_exists(model), "a failed run left %s", model);
    cr_expect(!tu_exists(summary), "a failed run left %s", summary);
}

Test(cli, bad_data_with_save_leaves_no_file) {
    char out[OUT_SIZE];
    const char *model = tu_path("never.gsgd");
    int rc = gsgd(out, "train --quiet --data 'csv:%s' --model softmax --save '%s'",
                  tu_path("absent.csv"), model);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(!tu_exists(model));
}

/* What `gsgd train --summary` promises (design.md, "Command line"). */
static const char *const SUMMARY_KEYS[] = {"test_accuracy",
                                           "train_loss",
                                           "test_loss",
                                           "epochs",
                                           "steps",
                                           "batch",
                                           "samples_per_second",
                                           "samples_per_second_warm",
                                           "seconds",
                                           "time_to_target_s",
                                           "device",
                                           "model",
                                           "optim",
                                           "lr",
                                           "precision",
                                           "data",
                                           "stop_reason",
                                           "cooldown_epochs"};

/* Where the run's time went: the summary's one nested object. */
static const char *const BREAKDOWN_KEYS[] = {
    "process_start_s", "data_read_s", "context_s", "data_wait_s", "upload_s", "model_s",
    "plan_s",          "train_s",     "eval_s",    "other_s",     "total_s",  "read_overlapped"};

/* The summary's "breakdown" member cut out of json (in place, the member
 * and the comma before it), returned as a string of its own; NULL when
 * absent. What is left must be flat. */
static char *cut_breakdown(char *json) {
    char *key = strstr(json, ",\n  \"breakdown\": {");
    if (!key) return NULL;
    char *open = strchr(key, '{'), *close = strchr(open, '}');
    cr_assert_not_null(close, "unterminated breakdown in %s", json);
    const size_t len = (size_t)(close - open) + 1;
    char *b = malloc(len + 1);
    memcpy(b, open, len);
    b[len] = '\0';
    memmove(key, close + 1, strlen(close + 1) + 1);
    return b;
}

/* ---- successful runs -------------------------------------------------------- */

Test(cli, summary_of_tiny_run_is_json_with_required_keys) {
    char out[OUT_SIZE];
    const char *summary = tu_path("run.json");
    int rc = gsgd(out,
                  "train --quiet --device cpu --data " SYNTH
                  " --model softmax --epochs 3 --summary '%s'",
                  summary);
    cr_assert_eq(rc, 0, "%s", out);
    char *json = read_text(summary);
    char *breakdown = cut_breakdown(json);
    cr_assert_not_null(breakdown, "no breakdown in %s", json);
    cr_expect(is_flat_json_object(json), "not a flat JSON object but the breakdown: %s", json);
    cr_expect(is_flat_json_object(breakdown), "breakdown not a flat object: %s", breakdown);
    for (size_t k = 0; k < sizeof SUMMARY_KEYS / sizeof SUMMARY_KEYS[0]; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", SUMMARY_KEYS[k]);
        cr_expect(strstr(json, pat), "missing key %s in %s", SUMMARY_KEYS[k], json);
    }
    for (size_t k = 0; k < sizeof BREAKDOWN_KEYS / sizeof BREAKDOWN_KEYS[0]; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", BREAKDOWN_KEYS[k]);
        cr_expect(strstr(breakdown, pat), "missing %s in %s", BREAKDOWN_KEYS[k], breakdown);
    }
    /* The parts measured in line add up to no more than the whole: the
     * read ran in line (--device cpu), so it did not overlap. */
    const double total = json_number(breakdown, "total_s");
    const double parts = json_number(breakdown, "data_read_s") +
                         json_number(breakdown, "upload_s") + json_number(breakdown, "context_s") +
                         json_number(breakdown, "plan_s") + json_number(breakdown, "train_s") +
                         json_number(breakdown, "eval_s");
    cr_expect(json_number(breakdown, "train_s") > 0 && parts <= total, "%s", breakdown);
    cr_expect(strstr(breakdown, "\"read_overlapped\": 0"), "%s", breakdown);
    cr_expect(strstr(json, "\"precision\": \"fp32\""), "%s", json);
    free(breakdown);
    cr_expect_eq(json_number(json, "epochs"), 3);
    double acc = json_number(json, "test_accuracy");
    cr_expect(acc >= 0 && acc <= 1, "%g", acc);
    cr_expect(strstr(json, "\"time_to_target_s\": null"), "%s", json);
    cr_expect(strstr(json, "\"device\": \"cpu\""), "%s", json);
    /* --quiet leaves only the results: the result line and why it stopped. */
    cr_expect_eq(count_lines(out), 2, "%s", out);
    cr_expect(strstr(out, "test accuracy "), "%s", out);
    cr_expect(strstr(out, "\nstopped: ran the 3 epochs asked"), "%s", out);
    cr_expect(strstr(json, "\"stop_reason\": \"epochs\""), "%s", json);
    cr_expect_eq(json_number(json, "cooldown_epochs"), 0);
}

/* With a device to open (auto here, which may fall back to the CPU), the
 * data is read on a thread meanwhile, and the wait for it is measured;
 * the result line ends with the whole run's time from exec. */
Test(cli, the_read_overlaps_the_context_and_the_result_line_gives_the_time_from_exec) {
    char out[OUT_SIZE];
    const char *summary = tu_path("auto.json");
    int rc = gsgd(out,
                  "train --quiet --device auto --data " SYNTH
                  " --model softmax --epochs 1 --summary '%s'",
                  summary);
    cr_assert_eq(rc, 0, "%s", out);
    char *json = read_text(summary);
    char *breakdown = cut_breakdown(json);
    cr_assert_not_null(breakdown, "%s", json);
    cr_expect(strstr(breakdown, "\"read_overlapped\": 1"), "%s", breakdown);
    cr_expect(json_number(breakdown, "data_wait_s") >= 0, "%s", breakdown);
    cr_expect(json_number(breakdown, "data_read_s") > 0, "%s", breakdown);
    cr_expect(strstr(out, " s from exec\n"), "%s", out);
    free(breakdown);
}

Test(cli, log_has_one_json_line_per_epoch) {
    char out[OUT_SIZE];
    const char *log = tu_path("run.jsonl");
    int rc = gsgd(out, "train --quiet --data " SYNTH " --model softmax --epochs 4 --log '%s'", log);
    cr_assert_eq(rc, 0, "%s", out);
    char *text = read_text(log);
    cr_expect_eq(count_lines(text), 4, "%s", text);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        cr_expect(is_flat_json_object(line), "%s", line);
        cr_expect(strstr(line, "\"train_loss\": "), "%s", line);
    }
}

Test(cli, progress_is_one_plain_line_per_epoch_when_not_a_terminal) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --device cpu --data " SYNTH " --model softmax --epochs 2");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(!strchr(out, '\r'), "live-line output on a pipe: %s", out);
    cr_expect(strstr(out, "epoch 1/2"), "%s", out);
    cr_expect(strstr(out, "epoch 2/2"), "%s", out);
    /* One line per split, the planner's line, two epoch lines, the
     * result line and the line that says why training stopped. */
    const char *first = "gsgd: train: synth:400,5,3 (train part, 80%): synth";
    cr_expect(strncmp(out, first, strlen(first)) == 0, "%s", out);
    cr_expect(strstr(out, "\ngsgd: test: synth:400,5,3 (test part, 20%)"), "%s", out);
    cr_expect(strstr(out, "\ngsgd: batch "), "%s", out);
    cr_expect(strstr(out, "\nstopped: ran the 2 epochs asked\n"), "%s", out);
    cr_expect_eq(count_lines(out), 7, "%s", out);
}

Test(cli, eval_of_saved_model_matches_train_summary) {
    char out[OUT_SIZE];
    const char *model = tu_path("model.gsgd");
    const char *train_json = tu_path("train.json"), *eval_json = tu_path("eval.json");
    int rc = gsgd(out,
                  "train --quiet --data " SYNTH " --model mlp:8 --optim momentum --standardize "
                  "--epochs 3 --save '%s' --summary '%s'",
                  model, train_json);
    cr_assert_eq(rc, 0, "%s", out);
    double trained = json_number(read_text(train_json), "test_accuracy");
    rc = gsgd(out, "eval --quiet --model-file '%s' --data " SYNTH " --summary '%s'", model,
              eval_json);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "accuracy ") && strstr(out, "test part"), "%s", out);
    const char *json = read_text(eval_json);
    cr_expect(is_flat_json_object(json), "%s", json);
    /* Same parameters, same standardiser, same 80 test samples: the count of
     * correct predictions, hence the accuracy, is exactly the same. */
    cr_expect_eq(json_number(json, "test_accuracy"), trained, "%s", json);
    cr_expect_eq(json_number(json, "n"), 80);
}

/* ---- help and info ---------------------------------------------------------- */

Test(cli, help_exits_0) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "--help"), 0);
    cr_expect(strstr(out, "train"), "%s", out);
    cr_expect_eq(gsgd(out, "help"), 0);
    cr_expect_eq(gsgd(out, "train --help"), 0);
    cr_expect(strstr(out, "--lr"), "%s", out);
    cr_expect_eq(gsgd(out, "eval --help"), 0);
    cr_expect_eq(gsgd(out, "--version"), 0);
}

Test(cli, info_exits_0) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "info"), 0, "%s", out);
    cr_expect(strstr(out, "cuda"), "%s", out);
}

Test(cli, device_names_take_an_index_and_refuse_the_rest) {
    char out[OUT_SIZE];
    /* auto:N tries GPU N and falls back to the CPU where there is none. */
    int rc = gsgd(out, "train --device auto:0 --quiet --data " SYNTH " --model softmax --epochs 1");
    cr_expect_eq(rc, 0, "%s", out);
    static const char *bad[] = {"auto:x", "cuda:", "gpu", "cpu:0", "cuda:12345"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        rc = gsgd(out, "train --device %s --data " SYNTH " --model softmax", bad[k]);
        cr_expect_eq(rc, 2, "--device %s: %s", bad[k], out);
        cr_expect(strstr(out, "is not one of auto, cpu, cuda"), "--device %s: %s", bad[k], out);
    }
}

Test(cli, optimizer_and_schedule_names_are_checked) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --optim adamx --data " SYNTH " --model softmax");
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--optim: 'adamx' is not one of sgd, momentum"), "%s", out);
    rc = gsgd(out, "train --schedule cosin --data " SYNTH " --model softmax");
    cr_expect_eq(rc, 2, "%s", out);
    rc = gsgd(out, "train --schedule step --data " SYNTH " --model softmax");
    cr_expect_eq(rc, 2, "--schedule step without --lr-step: %s", out);
    cr_expect(strstr(out, "--lr-step"), "%s", out);
    rc = gsgd(out, "train --schedule optimal --data " SYNTH " --model softmax");
    cr_expect_eq(rc, 2, "--schedule optimal without alpha: %s", out);
    rc = gsgd(out, "train --on-nan maybe --data " SYNTH " --model softmax");
    cr_expect_eq(rc, 2, "%s", out);
    /* A known rule trains; an option the rule never reads is a warning. */
    rc = gsgd(out,
              "train --optim adam --beta1 0.8 --trust-coef 0.01 --quiet --epochs 1 --data " SYNTH
              " --model softmax");
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "--trust-coef is ignored: only lars reads it"), "%s", out);
    cr_expect(!strstr(out, "--beta1 is ignored"), "%s", out);
}
