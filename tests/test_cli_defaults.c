/*
 * Issue 17's defaults from the command line: `gsgd train --data D --model
 * M` alone trains with --epochs auto and says why it stopped; --epochs N
 * runs N epochs; --standardize auto|on|off decides on the training data
 * and the data line says so; --max-epochs, --min-steps, --min-epoch-steps
 * reach the library; bad values exit 2 with one line naming the flag.
 * Small sets only: each run takes well under a second.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/options.h"
#include "model/model.h"
#include "testutil.h"

#define OUT_SIZE 16384
#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

/* 480 training rows, 16 steps of 30 an epoch (the small-data cap). */
#define SMALL "--device cpu --data synth:600,6,3:seed=4"

/* A CSV whose second feature is ~1000 times the first: 300 rows, the label
 * the sign of their (scaled) sum. Returns its path. */
static const char *write_spread_csv(void) {
    const char *path = tu_path("spread.csv");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs("label,a,b\n", f);
    unsigned s = 12345u;
    for (int i = 0; i < 300; i++) {
        double x[2];
        for (int j = 0; j < 2; j++) { /* uniform in [-1, 1) from an LCG */
            s = s * 1103515245u + 12345u;
            x[j] = (double)(s >> 8) / (double)(1u << 24) * 2.0 - 1.0;
        }
        fprintf(f, "%d,%.5f,%.3f\n", x[0] + x[1] > 0, x[0], 1000.0 * x[1]);
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

/* The JSON string value of key in json ("converged"), in buf. */
static const char *json_text(const char *json, const char *key, char *buf, size_t size) {
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": \"", key);
    const char *p = strstr(json, pat);
    buf[0] = '\0';
    if (!p) return buf;
    p += strlen(pat);
    size_t n = strcspn(p, "\"");
    if (n >= size) n = size - 1;
    memcpy(buf, p, n);
    buf[n] = '\0';
    return buf;
}

/* ---- how long a run goes ------------------------------------------------------ */

Test(cli_defaults, train_alone_converges_and_says_why_it_stopped) {
    char out[OUT_SIZE], reason[32];
    const char *summary = tu_path("auto.json");
    int rc = gsgd(out, "train --quiet " SMALL " --model softmax --summary '%s'", summary);
    cr_assert_eq(rc, 0, "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect_str_eq(json_text(json, "stop_reason", reason, sizeof reason), "converged", "%s",
                     json);
    const double epochs = tu_json_number(json, "epochs"), steps = tu_json_number(json, "steps"),
                 cooldown = tu_json_number(json, "cooldown_epochs");
    /* The default cosine schedule ends in a cooldown of --cooldown 0.2 of
     * the epochs before it, and no stop comes before --min-steps. */
    cr_expect(cooldown >= 1 && cooldown < epochs, "cooldown %g of %g epochs", cooldown, epochs);
    cr_expect_eq(cooldown, floor(GSGD_DEFAULT_COOLDOWN * (epochs - cooldown) + 0.5));
    cr_expect_geq(steps, GSGD_DEFAULT_MIN_STEPS, "%s", json);
    cr_expect_gt(tu_json_number(json, "test_accuracy"), 0.9, "%s", json);
    char line[256];
    snprintf(line, sizeof line,
             "\nstopped: converged after %.0f epochs (loss improved by < 0.001 for 5 epochs, then "
             "a %.0f-epoch cosine cooldown)\n",
             epochs, cooldown);
    cr_expect(strstr(out, line), "no '%s' in %s", line + 1, out);
}

Test(cli_defaults, epochs_n_runs_n_epochs_and_says_so) {
    char out[OUT_SIZE], reason[32];
    const char *summary = tu_path("three.json");
    int rc =
        gsgd(out, "train --quiet " SMALL " --model softmax --epochs 3 --summary '%s'", summary);
    cr_assert_eq(rc, 0, "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect_eq(tu_json_number(json, "epochs"), 3, "%s", json);
    cr_expect_eq(tu_json_number(json, "cooldown_epochs"), 0, "%s", json);
    cr_expect_str_eq(json_text(json, "stop_reason", reason, sizeof reason), "epochs");
    cr_expect(strstr(out, "\nstopped: ran the 3 epochs asked\n"), "%s", out);
}

Test(cli_defaults, max_epochs_and_min_steps_bound_an_auto_run) {
    char out[OUT_SIZE], reason[32];
    const char *summary = tu_path("max.json");
    /* Far more steps asked than 7 epochs give: --max-epochs ends it. */
    int rc = gsgd(out,
                  "train --quiet " SMALL " --model softmax --max-epochs 7 --min-steps 100000 "
                  "--summary '%s'",
                  summary);
    cr_assert_eq(rc, 0, "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect_eq(tu_json_number(json, "epochs"), 7, "%s", json);
    cr_expect_str_eq(json_text(json, "stop_reason", reason, sizeof reason), "max_epochs");
    cr_expect(strstr(out, "\nstopped: --max-epochs 7 reached"), "%s", out);
    /* --min-steps 0 lets the plateau stop the run long before the default
     * 5000 steps (313 epochs of 16 steps here). */
    rc = gsgd(out, "train --quiet " SMALL " --model softmax --min-steps 0 --summary '%s'", summary);
    cr_assert_eq(rc, 0, "%s", out);
    json = tu_read_text(summary);
    cr_expect_str_eq(json_text(json, "stop_reason", reason, sizeof reason), "converged");
    cr_expect_lt(tu_json_number(json, "steps"), GSGD_DEFAULT_MIN_STEPS, "%s", json);
}

Test(cli_defaults, progress_shows_no_epoch_count_until_the_cooldown_fixes_one) {
    char out[OUT_SIZE], json_path[1024];
    snprintf(json_path, sizeof json_path, "%s", tu_path("progress.json"));
    int rc = gsgd(out, "train " SMALL " --model softmax --min-steps 0 --summary '%s'", json_path);
    cr_assert_eq(rc, 0, "%s", out);
    const char *json = tu_read_text(json_path);
    const int epochs = (int)tu_json_number(json, "epochs");
    const int cooldown = (int)tu_json_number(json, "cooldown_epochs");
    cr_assert(cooldown >= 1 && cooldown < epochs, "%s", json);
    /* Before the cooldown the end is open: "epoch 1  loss", not "1/1000";
     * in it the end is known: "epoch E/E" for the last. */
    cr_expect(strstr(out, "\nepoch 1  loss ") || strncmp(out, "epoch 1  loss ", 14) == 0, "%s",
              out);
    cr_expect_null(strstr(out, "/1000"), "%s", out);
    char last[64];
    snprintf(last, sizeof last, "\nepoch %d/%d  loss ", epochs, epochs);
    cr_expect(strstr(out, last), "no '%s' in %s", last + 1, out);
}

Test(cli_defaults, options_read_only_by_epochs_auto_are_warned_about_with_epochs_n) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --quiet " SMALL " --model softmax --epochs 2 --max-epochs 9");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "gsgd: warning: --max-epochs is ignored: only --epochs auto reads it"),
              "%s", out);
}

/* ---- --standardize ---------------------------------------------------------- */

Test(cli_defaults, standardize_auto_scales_spread_features_and_the_data_line_says_so) {
    char out[OUT_SIZE];
    const char *csv = write_spread_csv(), *model = tu_path("spread.gsgd");
    const char *summary = tu_path("spread.json");
    int rc = gsgd(out,
                  "train --device cpu --data '%s' --test-fraction 0.2 --model logistic --save "
                  "'%s' --summary '%s'",
                  csv, model, summary);
    cr_assert_eq(rc, 0, "%s", out);
    const char *line = strstr(out, "gsgd: train: ");
    cr_assert_not_null(line, "%s", out);
    cr_expect(strstr(line, "; standardized (feature scales differ by ") &&
                  strstr(line, "--standardize auto scales above 10x)"),
              "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect_eq(tu_json_number(json, "standardized"), 1, "%s", json);
    const double ratio = tu_json_number(json, "scale_ratio");
    /* Column b's root mean square is ~577 (1000/sqrt(3)), a's ~0.58. */
    cr_expect(ratio > GSGD_STANDARDIZE_AUTO_RATIO && ratio > 500 && ratio < 2000, "%g", ratio);
    cr_expect_gt(tu_json_number(json, "test_accuracy"), 0.9, "%s", json);
    /* The scaler is the model's: eval applies it and agrees with train. */
    const double trained = tu_json_number(json, "test_accuracy");
    rc = gsgd(out, "eval --quiet --model-file '%s' --data '%s' --test-fraction 0.2 --summary '%s'",
              model, csv, tu_path("eval.json"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect_eq(tu_json_number(tu_read_text(tu_path("eval.json")), "accuracy"), trained);
    rc = gsgd(out, "info '%s'", model);
    cr_expect(strstr(out, "input: standardized"), "%s", out);
}

Test(cli_defaults, standardize_off_and_on_do_as_told) {
    char out[OUT_SIZE];
    const char *csv = write_spread_csv();
    const char *summary = tu_path("onoff.json");
    struct {
        const char *flag, *note;
        int scaled;
    } cases[] = {{"--standardize off", "; not standardized (--standardize off)\n", 0},
                 {"--standardize on", "; standardized (--standardize on)\n", 1},
                 {"--standardize=on", "; standardized (--standardize on)\n", 1},
                 /* bare, as before it took a value; then another option */
                 {"--standardize --seed 1", "; standardized (--standardize on)\n", 1}};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        int rc = gsgd(out,
                      "train --device cpu --data '%s' --test-fraction 0.2 --model logistic "
                      "--epochs 2 %s --summary '%s'",
                      csv, cases[k].flag, summary);
        cr_assert_eq(rc, 0, "%s: %s", cases[k].flag, out);
        cr_expect(strstr(out, cases[k].note), "%s: %s", cases[k].flag, out);
        const char *json = tu_read_text(summary);
        cr_expect_eq(tu_json_number(json, "standardized"), cases[k].scaled, "%s", json);
    }
    /* Bare, as the last argument. */
    int rc = gsgd(out,
                  "train --device cpu --data '%s' --test-fraction 0.2 --model logistic --epochs 1 "
                  "--standardize",
                  csv);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "; standardized (--standardize on)\n"), "%s", out);
}

Test(cli_defaults, standardize_auto_leaves_features_of_one_scale_and_says_so) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "train " SMALL " --model softmax --epochs 1");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "; not standardized (feature scales differ by ") &&
                  strstr(out, "--standardize auto scales above 10x)\n"),
              "%s", out);
}

/* ---- planning ------------------------------------------------------------- */

Test(cli_defaults, plan_takes_min_epoch_steps_and_names_flags_in_its_reason) {
    char out[OUT_SIZE];
    /* 480 rows: at least 16 steps caps the batch at 30; at least 4 leaves
     * the CPU's max useful batch 64 (120 > 64). */
    int rc = gsgd(out, "plan " SMALL " --model softmax");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "batch      30:") && strstr(out, "--min-epoch-steps 16") &&
                  !strstr(out, "min_epoch_steps"),
              "%s", out);
    rc = gsgd(out, "plan " SMALL " --model softmax --min-epoch-steps 4");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "batch      64:"), "%s", out);
    rc = gsgd(out,
              "bench --quiet " SMALL " --model softmax --min-epoch-steps 4 --batches 16 --steps 1 "
              "--warmup-steps 0 --noise-samples 0");
    cr_expect_eq(rc, 0, "%s", out);
}

/* ---- refused ---------------------------------------------------------------- */

Test(cli_defaults, bad_values_exit_2_with_one_line_naming_the_flag) {
    const char *bad[][2] = {{"--epochs -1", "--epochs"},
                            {"--epochs 0", "--epochs auto"},
                            {"--epochs 2.5", "--epochs"},
                            {"--epochs forever", "--epochs"},
                            {"--standardize maybe", "--standardize: 'maybe' is not one of off, "
                                                    "on, auto"},
                            {"--max-epochs 0", "--max-epochs"},
                            {"--min-steps -5", "--min-steps"},
                            {"--min-epoch-steps x", "--min-epoch-steps"},
                            {"--cooldown -0.5", "--cooldown"}};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        char out[OUT_SIZE];
        int rc = gsgd(out, "train " SMALL " --model softmax %s", bad[k][0]);
        cr_expect_eq(rc, 2, "%s: %s", bad[k][0], out);
        cr_expect_eq(tu_count_lines(out), 1, "%s: %s", bad[k][0], out);
        cr_expect(strstr(out, bad[k][1]), "%s: %s", bad[k][0], out);
    }
}

/* ---- help ------------------------------------------------------------------- */

Test(cli_defaults, help_gives_the_defaults_and_their_rules) {
    char out[OUT_SIZE];
    cr_assert_eq(gsgd(out, "train --help"), 0, "%s", out);
    /* The help wraps: compare with runs of blanks made single. */
    char flat[OUT_SIZE];
    size_t n = 0;
    for (const char *p = out; *p && n + 1 < sizeof flat; p++)
        if (!(*p == ' ' || *p == '\n') || (n && flat[n - 1] != ' '))
            flat[n++] = *p == '\n' ? ' ' : *p;
    flat[n] = '\0';
    char ratio[64];
    snprintf(ratio, sizeof ratio, "min(s_median, 1) > %g", GSGD_STANDARDIZE_AUTO_RATIO);
    const char *want[] = {"--epochs auto|N",
                          "until the loss (or the validation accuracy) stops improving by --tol",
                          "(default auto)",
                          "-1 = auto: 1e-3 under --epochs auto, else 0",
                          "with --epochs auto the rate holds until the loss stops improving",
                          "default cosine)",
                          "--standardize [auto|on|off]",
                          ratio,
                          "default auto)",
                          "--min-epoch-steps N",
                          "(default 16,",
                          "--max-epochs N",
                          "(default 1000,",
                          "--min-steps N",
                          "(default 5000,",
                          "--cooldown F"};
    for (size_t k = 0; k < sizeof want / sizeof want[0]; k++)
        cr_expect(strstr(flat, want[k]), "no '%s' in the help: %s", want[k], flat);
}
