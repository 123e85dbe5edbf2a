/*
 * Your own data through the `gsgd` program (src/cli/data.c): each format
 * read by --data and --test with the data options (--label, --labels,
 * --delimiter, --header, --format, --test-fraction), the line said per
 * split, classes with the labels as the file has them and real targets
 * for --model linear, and every data error as exit 2 with one line naming
 * the file, line and column and the fix, leaving no file behind.
 *
 * The tables are written by tu_write_table: a learnable problem with a
 * header, labels in the middle column.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define OUT_SIZE 16384
#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

static const char *const WINE[] = {"barolo", "grignolino", "barbera"};

/* wine.csv (300 rows) and wine_test.csv (90): 5 features, the label in
 * column 2, named cultivar. */
static void write_wine(void) {
    cr_assert_eq(tu_write_table(tu_path("wine.csv"), 300, 5, 3, WINE, 2, "cultivar", 1, ',', 1), 0);
    cr_assert_eq(tu_write_table(tu_path("wine_test.csv"), 90, 5, 3, WINE, 2, "cultivar", 1, ',', 2),
                 0);
}

Test(cli_data, csv_with_header_and_string_labels_is_said_and_trained) {
    char out[OUT_SIZE];
    write_wine();
    const char *summary = tu_path("s.json");
    int rc = gsgd(out,
                  "train --device cpu --data '%s' --test '%s' --label cultivar --model softmax "
                  "--standardize --epochs 20 --summary '%s'",
                  tu_path("wine.csv"), tu_path("wine_test.csv"), summary);
    cr_assert_eq(rc, 0, "%s", out);
    char want[1024];
    snprintf(want, sizeof want,
             "gsgd: train: %s: CSV (comma-separated, header), 300 rows x 5 features, 3 classes "
             "(barbera, barolo, grignolino), f32, ",
             tu_path("wine.csv"));
    cr_expect(strstr(out, want), "%s", out);
    snprintf(want, sizeof want, "gsgd: test: %s: CSV (comma-separated, header), 90 rows x 5 ",
             tu_path("wine_test.csv"));
    cr_expect(strstr(out, want), "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect(tu_json_valid(json), "%s", json);
    cr_expect_eq(tu_json_number(json, "n_classes"), 3);
    cr_expect(strstr(json, "\"labels\": [\"barbera\", \"barolo\", \"grignolino\"]"), "%s", json);
    cr_expect(strstr(json, "\"loss_function\": \"cross-entropy\""), "%s", json);
    const double acc = tu_json_number(json, "accuracy");
    cr_expect(acc > 0.8 && acc == tu_json_number(json, "test_accuracy"), "%s", json);
    cr_expect(tu_json_number(json, "log_loss") > 0 && tu_json_number(json, "macro_f1") > 0.8, "%s",
              json);
    cr_expect(strstr(out, "test accuracy ") && strstr(out, "log loss ") &&
                  strstr(out, "macro F1 ") && strstr(out, "train loss ") &&
                  strstr(out, "(cross-entropy)"),
              "%s", out);
}

Test(cli_data, npz_with_labels_3_7_9_trains_three_classes) {
    char out[OUT_SIZE];
    const char *ckpt = tu_path("n.ckpt");
    int rc = gsgd(
        out, "train --device cpu --data '%s/labels379.npz' --model softmax --epochs 2 --save '%s'",
        GSGD_TEST_DATA_DIR, ckpt);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "labels379.npz: npz, 6 rows x 2 features, 3 classes (3, 7, 9)"), "%s",
              out);
    rc = gsgd(out, "info '%s'", ckpt);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "labels: 3 classes (3, 7, 9)"), "%s", out);
}

Test(cli_data, regression_csv_with_a_named_target_gives_r2_rmse_mae) {
    char out[OUT_SIZE];
    const char *train = tu_path("reg.csv"), *test = tu_path("reg_test.csv");
    const char *summary = tu_path("r.json");
    cr_assert_eq(tu_write_table(train, 400, 4, 0, NULL, 1, "price", 1, ',', 3), 0);
    cr_assert_eq(tu_write_table(test, 100, 4, 0, NULL, 1, "price", 1, ',', 4), 0);
    int rc = gsgd(out,
                  "train --device cpu --data '%s' --test '%s' --label price --model linear "
                  "--standardize --epochs 30 --summary '%s'",
                  train, test, summary);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "400 rows x 4 features, target "), "%s", out);
    cr_expect(strstr(out, "test r2 ") && strstr(out, "rmse ") && strstr(out, "mae ") &&
                  strstr(out, "(half the squared error)"),
              "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect(tu_json_valid(json), "%s", json);
    cr_expect_eq(tu_json_number(json, "n_classes"), 0);
    cr_expect(strstr(json, "\"labels\": null"), "%s", json);
    cr_expect(strstr(json, "\"loss_function\": \"half the squared error\""), "%s", json);
    /* The noise is 0.1 against a signal of spread about 7: r2 near 1. */
    const double mse = tu_json_number(json, "mse"), rmse = tu_json_number(json, "rmse");
    cr_expect(tu_json_number(json, "r2") > 0.99, "%s", json);
    cr_expect(fabs(rmse * rmse - mse) <= 1e-12 * mse, "%s", json);
    cr_expect(tu_json_number(json, "mae") <= rmse, "%s", json);
    /* test_loss is the loss trained on: half the mse, summed in float. */
    cr_expect(fabs(tu_json_number(json, "test_loss") - mse / 2) <= 1e-5 * mse, "%s", json);
}

Test(cli_data, test_fraction_holds_out_a_seeded_part_that_eval_finds_again) {
    char out[OUT_SIZE];
    write_wine();
    const char *ckpt = tu_path("tf.ckpt"), *summary = tu_path("tf.json");
    int rc = gsgd(out,
                  "train --device cpu --data '%s' --label cultivar --test-fraction 0.25 --seed 5 "
                  "--model softmax --standardize --epochs 10 --save '%s' --summary '%s'",
                  tu_path("wine.csv"), ckpt, summary);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "(train part") && strstr(out, "225 rows x 5 features"), "%s", out);
    cr_expect(strstr(out, "(test part") && strstr(out, "75 rows x 5 features"), "%s", out);
    const double acc = tu_json_number(tu_read_text(summary), "accuracy");
    rc = gsgd(out,
              "eval --quiet --model-file '%s' --data '%s' --label cultivar --test-fraction 0.25 "
              "--seed 5 --summary '%s'",
              ckpt, tu_path("wine.csv"), summary);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "test part of "), "%s", out);
    const char *json = tu_read_text(summary);
    cr_expect_eq(tu_json_number(json, "n"), 75);
    cr_expect_eq(tu_json_number(json, "accuracy"), acc, "%s", json);
}

/* Every format the loader knows, through --data (and standard input). */
Test(cli_data, each_format_reads_through_the_command_line) {
    char out[OUT_SIZE];
    write_wine();
    struct {
        const char *file, *options, *said;
        char delim;
        int header, col;
    } csvs[] = {
        {"semi.csv", "--label cultivar", "CSV (semicolon-separated, header)", ';', 1, 2},
        {"w.tsv", "--label 2", "CSV (tab-separated, header)", '\t', 1, 2},
        {"plain.txt", "--delimiter , --header no --label -1", "CSV (comma-separated, no header)",
         ',', 0, 5},
        {"first.csv", "--format csv", "CSV (comma-separated, no header)", ',', 0, 0},
    };
    for (size_t k = 0; k < sizeof csvs / sizeof csvs[0]; k++) {
        const char *path = tu_path(csvs[k].file);
        cr_assert_eq(tu_write_table(path, 120, 5, 3, WINE, csvs[k].col, "cultivar", csvs[k].header,
                                    csvs[k].delim, 7),
                     0);
        int rc = gsgd(out, "train --device cpu --epochs 1 --model softmax --data '%s' %s", path,
                      csvs[k].options);
        cr_expect_eq(rc, 0, "%s: %s", csvs[k].file, out);
        cr_expect(strstr(out, csvs[k].said) && strstr(out, "120 rows x 5 features, 3 classes"),
                  "%s: %s", csvs[k].file, out);
    }
    /* gzip, svmlight, .npy with --labels, standard input. */
    const char *csv = tu_read_text(tu_path("wine.csv"));
    cr_assert_eq(tu_write_gzip(tu_path("w.csv.gz"), csv, strlen(csv)), 0);
    int rc = gsgd(out, "train --device cpu --epochs 1 --model softmax --label cultivar --data '%s'",
                  tu_path("w.csv.gz"));
    cr_expect(rc == 0 && strstr(out, "CSV (comma-separated, header, gzip), 300 rows"), "%s", out);
    cr_assert_eq(tu_write_text(tu_path("s.svm"), "1 1:0.5 3:1\n-1 2:0.3\n1 1:0.7 2:0.1\n"
                                                 "-1 2:0.5 3:-1 # a comment\n"),
                 0);
    rc = gsgd(out, "train --device cpu --epochs 1 --model logistic --data '%s'", tu_path("s.svm"));
    cr_expect(rc == 0 && strstr(out, "svmlight (1-based indices, stored dense), 4 rows x 3 "
                                     "features, 2 classes (-1, 1)"),
              "%s", out);
    rc = gsgd(out,
              "train --device cpu --epochs 1 --model hinge --data '%s/X_f4.npy' --labels "
              "'%s/y_pm1.npy'",
              GSGD_TEST_DATA_DIR, GSGD_TEST_DATA_DIR);
    cr_expect(rc == 0 && strstr(out, "6 rows x 2 features, 2 classes (-1, 1)"), "%s", out);
    char cmd[2048];
    snprintf(cmd, sizeof cmd,
             "cat '%s' | '%s' train --device cpu --epochs 1 --model softmax --label cultivar "
             "--data - --test '%s'",
             tu_path("wine.csv"), GSGD_CLI_PATH, tu_path("wine_test.csv"));
    rc = tu_run(cmd, out, sizeof out);
    cr_expect(rc == 0 && strstr(out, "gsgd: train: stdin: CSV (comma-separated, header), 300 rows"),
              "%s", out);
}

/* One bad input per case: exit 2, one line naming what the case says,
 * and neither --save's nor --summary's file. */
Test(cli_data, each_data_error_is_one_line_naming_file_line_column_and_fix) {
    char out[OUT_SIZE];
    write_wine();
    cr_assert_eq(tu_write_text(tu_path("miss.csv"), "a,b,label\n1,2,x\n3,,y\n4,5,x\n"), 0);
    cr_assert_eq(tu_write_text(tu_path("ragged.csv"), "a,b,label\n1,2,x\n3,4\n"), 0);
    cr_assert_eq(tu_write_text(tu_path("text.csv"), "a,b,label\n1,2,x\n3,abc,y\n"), 0);
    cr_assert_eq(tu_write_text(tu_path("unknown.csv"),
                               "f0,f1,cultivar,f2,f3,f4\n1,2,barolo,3,4,5\n1,2,nebbiolo,3,4,5\n"),
                 0);
    cr_assert_eq(tu_write_text(tu_path("narrow.csv"), "f0,f1,cultivar\n1,2,barolo\n"), 0);
    cr_assert_eq(tu_write_table(tu_path("real.csv"), 50, 3, 0, NULL, 3, "price", 1, ',', 9), 0);
    struct {
        const char *args, *says[3];
    } cases[] = {
        {"--data '%s/miss.csv'", {"miss.csv: line 3, column 2 ('b')", "missing", "fill or drop"}},
        {"--data '%s/ragged.csv'", {"ragged.csv: line 3", "fields", "delimiter"}},
        {"--data '%s/text.csv'", {"text.csv: line 3, column 2", "'abc'", "--label"}},
        {"--data '%s/wine.csv' --label cultivar --test '%s/unknown.csv'",
         {"unknown.csv: line 3, column 3 ('cultivar')", "nebbiolo", "--label"}},
        {"--data '%s/wine.csv' --label cultivar --test '%s/narrow.csv'",
         {"narrow.csv", "features", NULL}},
        {"--data '%s/wine.csv' --label grape", {"wine.csv", "grape", "index"}},
        {"--data '%s/real.csv' --label price", {"real.csv", "price", "--model linear"}},
        {"--data '%s/wine.csv' --label cultivar --delimiter x", {"--delimiter", "'x'", NULL}},
        {"--data '%s/wine.csv' --header maybe", {"--header", "'maybe'", "auto"}},
        {"--data '%s/wine.csv' --format cvs", {"--format", "'cvs'", "svmlight"}},
        {"--data '%s/wine.csv' --test-fraction 1.5", {"--test-fraction", "1.5", "(0, 1)"}},
        {"--data '%s/wine.csv' --test '%s/wine.csv' --test-fraction 0.2",
         {"--test-fraction", "--test", NULL}},
        {"--data '%s/wine.csv' --new-data", {"--new-data", "--resume", NULL}},
    };
    const char *dir = tu_tmpdir();
    const char *save = tu_path("never.ckpt"), *summary = tu_path("never.json");
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char args[1024];
        snprintf(args, sizeof args, cases[k].args, dir, dir);
        int rc = gsgd(out, "train --device cpu --model softmax %s --save '%s' --summary '%s'", args,
                      save, summary);
        cr_expect_eq(rc, 2, "%s: %s", args, out);
        cr_expect_eq(tu_count_lines(out), 1, "%s: %s", args, out);
        cr_expect(strncmp(out, "gsgd: ", 6) == 0, "%s: %s", args, out);
        for (int s = 0; s < 3 && cases[k].says[s]; s++)
            cr_expect(strstr(out, cases[k].says[s]), "%s: '%s' not said in %s", args,
                      cases[k].says[s], out);
#ifdef NDEBUG /* the library adds [file.c:line] to its messages in debug builds */
        cr_expect(!strstr(out, ".c:"), "a source location in %s", out);
#endif
        cr_expect(!tu_exists(save) && !tu_exists(summary), "%s left a file", args);
    }
}

Test(cli_data, device_auto_without_a_gpu_says_cpu_in_plain_words) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "train --data synth:200,4,3 --model softmax --epochs 1 --device auto");
    cr_assert_eq(rc, 0, "%s", out);
    if (strstr(out, "running on cuda")) cr_skip_test("a GPU is here: auto took it");
    const char *line = "gsgd: running on the CPU (no usable GPU; --verbose says why)\n";
    cr_expect(strncmp(out, line, strlen(line)) == 0, "%s", out);
    cr_expect(!strstr(out, "CUDA") && !strstr(out, "cuda") && !strstr(out, "driver"), "%s", out);
    rc = gsgd(out, "train --data synth:200,4,3 --model softmax --epochs 1 --verbose");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "gsgd: running on the CPU (no usable GPU: "), "%s", out);
    /* --quiet says nothing of it. */
    rc = gsgd(out, "train --data synth:200,4,3 --model softmax --epochs 1 --quiet");
    cr_expect(rc == 0 && !strstr(out, "running on"), "%s", out);
}

Test(cli_data, plan_and_bench_read_the_same_data_options) {
    char out[OUT_SIZE];
    write_wine();
    /* 1100 rows: 17 steps an epoch at the CPU's max batch 64, so that cap
     * is the plan's reason (300 rows are capped at 18 by MIN_EPOCH_STEPS,
     * issue 17's small-data cap). */
    cr_assert_eq(
        tu_write_table(tu_path("wine1100.csv"), 1100, 5, 3, WINE, 2, "cultivar", 1, ',', 1), 0);
    int rc = gsgd(out, "plan --device cpu --data '%s' --label cultivar --model softmax",
                  tu_path("wine1100.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "gsgd: train: ") && strstr(out, "3 classes (barbera"), "%s", out);
    /* The planner's reason names the flag, not the library's parameter. */
    cr_expect(strstr(out, "set --max-batch to change it") && !strstr(out, "set max_batch"), "%s",
              out);
    rc = gsgd(out,
              "bench --device cpu --quiet --data '%s' --label cultivar --test-fraction 0.2 "
              "--standardize --batches 16,32 --steps 2 --warmup-steps 0 --noise-samples 0 "
              "--target-acc 0.5 --epochs 3",
              tu_path("wine.csv"));
    cr_expect_eq(rc, 0, "%s", out);
}

/* A file of decimal commas (';'-separated) trains with --decimal , exactly
 * as the same numbers written with points; without it, the message names
 * the option; a mark other than '.' or ',' is a usage error. */
Test(cli_data, decimal_commas_read_with_the_option_as_points_do) {
    char out[OUT_SIZE];
    const char *points = tu_path("points.csv"), *commas = tu_path("commas.csv");
    cr_assert_eq(tu_write_table(points, 200, 3, 0, NULL, 3, "price", 1, ';', 5), 0);
    char *text = strdup(tu_read_text(points));
    for (char *p = text; *p; p++)
        if (*p == '.') *p = ',';
    cr_assert_eq(tu_write_file(commas, text, strlen(text)), 0);
    free(text);
    double loss[2];
    for (int k = 0; k < 2; k++) {
        const char *summary = tu_path(k ? "c.json" : "p.json");
        int rc = gsgd(out,
                      "train --quiet --device cpu --data '%s' --label price --model linear "
                      "--epochs 3 --summary '%s' %s",
                      k ? commas : points, summary, k ? "--decimal ," : "");
        cr_assert_eq(rc, 0, "%s", out);
        loss[k] = tu_json_number(tu_read_text(summary), "train_loss");
    }
    cr_expect_eq(loss[0], loss[1]);
    int rc = gsgd(out, "train --device cpu --data '%s' --label price --model linear", commas);
    cr_expect(rc == 2 && strstr(out, "give --decimal ,") && tu_count_lines(out) == 1, "%s", out);
    rc = gsgd(out, "train --device cpu --data '%s' --model linear --decimal x", commas);
    cr_expect(rc == 2 && strstr(out, "--decimal: 'x' is not '.' or ','"), "%s", out);
}
