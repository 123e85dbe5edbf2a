/*
 * `gsgd predict` (src/cli/cmd_predict.c, pred_out.c): one output row per
 * input row, the label as the training data had it or the predicted
 * value, --proba's probabilities summing to 1; CSV, .npy and standard
 * output; rows with or without their label column; labels agreeing
 * exactly with the accuracy train reported; and nothing written when
 * anything fails.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define OUT_SIZE 65536
#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

/* A label with a comma, a quote and a blank (WINE), as CSV quotes it
 * (WINE_CSV): how the input files have it, and predict writes it. */
static const char *const WINE[] = {"barolo", "grignolino", "rose \"dry\", young"};
static const char *const WINE_CSV[] = {"barolo", "grignolino", "\"rose \"\"dry\"\", young\""};
static const char *const PM1[] = {"-1", "1"};

/* 1 when s occurs in the first len bytes of b. */
static int has(const unsigned char *b, size_t len, const char *s) {
    const size_t n = strlen(s);
    for (size_t i = 0; i + n <= len; i++)
        if (memcmp(b + i, s, n) == 0) return 1;
    return 0;
}

/* Lines of text (after the header when skip), at most max, into line[]
 * (pointers into text, which is cut at each newline). */
static int split_lines(char *text, char **line, int max) {
    int n = 0;
    for (char *p = strtok(text, "\n"); p && n < max; p = strtok(NULL, "\n")) line[n++] = p;
    return n;
}

/* train.csv, test.csv (with labels in the last column) and new.csv (the
 * same rows as test.csv without them); a model of spec trained on them. */
static void train_model(const char *spec, int k, const char *const *names, const char *model,
                        const char *summary) {
    char out[OUT_SIZE];
    const int d = 4;
    cr_assert_eq(tu_write_table(tu_path("train.csv"), 240, d, k, names, d, "label", 1, ',', 1), 0);
    cr_assert_eq(tu_write_table(tu_path("test.csv"), 60, d, k, names, d, "label", 1, ',', 2), 0);
    cr_assert_eq(tu_write_table(tu_path("new.csv"), 60, d, k, names, -1, NULL, 1, ',', 2), 0);
    int rc =
        gsgd(out,
             "train --quiet --device cpu --data '%s' --test '%s' --model %s %s --standardize "
             "--epochs 15 --save '%s' --summary '%s'",
             tu_path("train.csv"), tu_path("test.csv"), spec, k ? "" : "--lr 0.01", model, summary);
    cr_assert_eq(rc, 0, "%s: %s", spec, out);
}

/* The last field of each line of test.csv: the true labels. */
static int true_labels(char **label, int max) {
    static char text[65536];
    snprintf(text, sizeof text, "%s", tu_read_text(tu_path("test.csv")));
    char *line[512];
    int n = split_lines(text, line, 512);
    for (int i = 1; i < n && i - 1 < max; i++) label[i - 1] = strrchr(line[i], ',') + 1;
    return n - 1;
}

Test(cli_predict, labels_of_label_less_rows_agree_with_the_accuracy_train_reported) {
    char out[OUT_SIZE];
    char model[1024], pred[1024];
    snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
    snprintf(pred, sizeof pred, "%s", tu_path("p.csv"));
    static const char *const NAMES[] = {"setosa", "versicolor", "virginica"};
    train_model("softmax", 3, NAMES, model, tu_path("s.json"));
    int rc = gsgd(out, "predict --model-file '%s' --data '%s' --out '%s'", model,
                  tu_path("new.csv"), pred);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "predicting for: ") && strstr(out, "no targets (for 3 classes)"), "%s",
              out);
    char *truth[128], *line[128];
    int n = true_labels(truth, 128);
    int m = split_lines(tu_read_text(pred), line, 128);
    cr_assert_eq(n, 60);
    cr_assert_eq(m, 61, "a header and one row per input row");
    cr_expect_str_eq(line[0], "prediction");
    int right = 0;
    for (int i = 0; i < n; i++) right += strcmp(line[i + 1], truth[i]) == 0;
    /* The same model, the same 1024-row chunks: exactly train's figure. */
    const char *json = tu_read_text(tu_path("s.json"));
    cr_expect_eq(tu_json_number(json, "accuracy"), right / 60.0, "%d of 60 right; %s", right, json);
}

Test(cli_predict, every_model_predicts_to_csv_npy_and_stdout) {
    struct {
        const char *spec;
        int k, proba;
        const char *const *names;
    } models[] = {{"softmax", 3, 1, WINE_CSV},
                  {"mlp:6", 3, 1, WINE_CSV},
                  {"logistic", 2, 1, PM1},
                  {"hinge", 3, 0, WINE_CSV},
                  {"linear", 0, 0, NULL}};
    for (size_t t = 0; t < sizeof models / sizeof models[0]; t++) {
        char out[OUT_SIZE], *line[128], model[1024];
        const char *spec = models[t].spec;
        /* tu_path's ring of 16 would be overwritten by the calls below. */
        snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
        train_model(spec, models[t].k, models[t].names, model, tu_path("s.json"));
        /* CSV: one row per input row; a label the model knows, or a value. */
        int rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'", model,
                      tu_path("new.csv"), tu_path("p.csv"));
        cr_assert_eq(rc, 0, "%s: %s", spec, out);
        int n = split_lines(tu_read_text(tu_path("p.csv")), line, 128);
        cr_expect_eq(n, 61, "%s", spec);
        for (int i = 1; i < n; i++) {
            int known = 0;
            for (int c = 0; c < models[t].k; c++)
                known |= strcmp(line[i], models[t].k == 3 ? WINE_CSV[c] : PM1[c]) == 0;
            if (!models[t].k) known = isfinite(strtod(line[i], NULL));
            cr_expect(known, "%s: row %d is '%s'", spec, i, line[i]);
        }
        /* Standard output: the same text. */
        char expect[OUT_SIZE];
        snprintf(expect, sizeof expect, "%s", tu_read_text(tu_path("p.csv")));
        rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out -", model,
                  tu_path("new.csv"));
        cr_expect(rc == 0 && strcmp(out, expect) == 0, "%s: stdout differs: %s", spec, out);
        /* .npy: the header numpy.load reads, then 60 rows. */
        rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'", model,
                  tu_path("new.csv"), tu_path("p.npy"));
        cr_expect_eq(rc, 0, "%s: %s", spec, out);
        size_t len = 0;
        unsigned char *b = tu_read_file(tu_path("p.npy"), &len);
        cr_expect(len > 10 && memcmp(b, "\x93NUMPY\x01\x00", 8) == 0, "%s", spec);
        const size_t hlen = b[8] | (size_t)b[9] << 8;
        cr_expect_eq((10 + hlen) % 64, 0, "%s: data aligned as numpy.save aligns it", spec);
        cr_expect_eq(b[10 + hlen - 1], '\n');
        const char *descr = models[t].k == 0 ? "'<f4'" : models[t].k == 2 ? "'<i8'" : "'<U";
        cr_expect(has(b, 10 + hlen, descr) && has(b, 10 + hlen, "'shape': (60,)"), "%s: %.*s", spec,
                  (int)hlen, b + 10);
        const size_t row = models[t].k == 0 ? 4 : models[t].k == 2 ? 8 : 4 * strlen(WINE[2]);
        cr_expect_eq(len, 10 + hlen + 60 * row, "%s", spec);
        if (models[t].k == 2) { /* int64 -1 and 1 */
            for (size_t i = 0; i < 60; i++) {
                long long v;
                memcpy(&v, b + 10 + hlen + 8 * i, 8);
                cr_expect(v == -1 || v == 1, "%s: %lld", spec, v);
            }
        }
        free(b);
        if (!models[t].proba) { /* no probabilities: refused, nothing written */
            rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s' --proba",
                      model, tu_path("new.csv"), tu_path("q.csv"));
            cr_expect_eq(rc, 2, "%s: %s", spec, out);
            cr_expect(tu_count_lines(out) == 1 && strstr(out, "--proba"), "%s: %s", spec, out);
            cr_expect(!tu_exists(tu_path("q.csv")), "%s", spec);
        }
    }
}

Test(cli_predict, proba_has_a_column_per_label_summing_to_one) {
    char out[OUT_SIZE], *line[128];
    char model[1024], pred[1024];
    snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
    snprintf(pred, sizeof pred, "%s", tu_path("pp.csv"));
    train_model("softmax", 3, WINE_CSV, model, tu_path("s.json"));
    int rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s' --proba", model,
                  tu_path("new.csv"), pred);
    cr_assert_eq(rc, 0, "%s", out);
    int n = split_lines(tu_read_text(pred), line, 128);
    cr_assert_eq(n, 61);
    /* The header names the labels, in the model's (sorted) order. */
    char header[256];
    snprintf(header, sizeof header, "%s,%s,%s", WINE_CSV[0], WINE_CSV[1], WINE_CSV[2]);
    cr_expect_str_eq(line[0], header);
    for (int i = 1; i < n; i++) {
        double p[3], sum = 0;
        cr_assert_eq(sscanf(line[i], "%lf,%lf,%lf", &p[0], &p[1], &p[2]), 3, "%s", line[i]);
        for (int c = 0; c < 3; c++) {
            cr_expect(p[c] >= 0 && p[c] <= 1, "%s", line[i]);
            sum += p[c];
        }
        /* Each is the double softmax rounded once to float (and printed
         * exactly with %.9g): 3 roundings of at most 2^-24 relative. */
        cr_expect(fabs(sum - 1) <= 3 * 0x1p-24, "row %d sums to %.9g", i, sum);
    }
    /* The .npy holds the same n x 3 floats. */
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s' --proba", model,
              tu_path("new.csv"), tu_path("pp.npy"));
    cr_assert_eq(rc, 0, "%s", out);
    size_t len = 0;
    unsigned char *b = tu_read_file(tu_path("pp.npy"), &len);
    const size_t hlen = b[8] | (size_t)b[9] << 8;
    cr_expect(has(b, 10 + hlen, "'shape': (60, 3)"), "%.*s", (int)hlen, b + 10);
    cr_expect_eq(len, 10 + hlen + 60 * 3 * sizeof(float));
    free(b);
}

Test(cli_predict, rows_with_their_label_column_take_label) {
    char out[OUT_SIZE], *line[128], model[1024];
    snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
    train_model("softmax", 3, WINE_CSV, model, tu_path("s.json"));
    /* test.csv has the label last, named "label": found by name, and
     * --label naming it leaves nothing to warn about. */
    int rc = gsgd(out, "predict --model-file '%s' --data '%s' --out '%s' --label label", model,
                  tu_path("test.csv"), tu_path("a.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(!strstr(out, "warning"), "%s", out);
    cr_expect_eq(split_lines(tu_read_text(tu_path("a.csv")), line, 128), 61);
    /* A regression model, the target in the middle under another name:
     * --label says which column it is, and the values are those of the
     * same rows without it. */
    train_model("linear", 0, NULL, model, tu_path("s.json"));
    cr_assert_eq(tu_write_table(tu_path("mid.csv"), 60, 4, 0, NULL, 1, "price", 1, ',', 2), 0);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s' --label price", model,
              tu_path("mid.csv"), tu_path("b.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'", model,
              tu_path("new.csv"), tu_path("c.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    char b[OUT_SIZE];
    snprintf(b, sizeof b, "%s", tu_read_text(tu_path("b.csv")));
    cr_expect_str_eq(b, tu_read_text(tu_path("c.csv")));
    /* Without --label the loader's rule takes the first column, wrongly
     * here: the feature names tell, and the file is refused naming the
     * column the model does not know and the feature the header lacks;
     * nothing is written. */
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'", model,
              tu_path("mid.csv"), tu_path("d.csv"));
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "column 2 ('price'): not among the model's features") &&
                  strstr(out, "which has 'f0' that the header lacks"),
              "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(!tu_exists(tu_path("d.csv")));
}

/* src's lines with their comma-separated fields in reverse order, to dst. */
static void reverse_columns(const char *src, const char *dst) {
    static char text[1 << 16], out[1 << 16];
    snprintf(text, sizeof text, "%s", tu_read_text(src));
    size_t at = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
        char *field[32];
        int n = 0;
        for (char *p = line; p && n < 32; n++) {
            field[n] = p;
            p = strchr(p, ',');
            if (p) *p++ = '\0';
        }
        for (int k = n - 1; k >= 0; k--)
            at += (size_t)snprintf(out + at, sizeof out - at, "%s%s", field[k], k ? "," : "\n");
    }
    cr_assert_eq(tu_write_file(dst, out, at), 0);
}

/* The model keeps the name of its training target column (model file
 * and checkpoint): predict and eval find that column by it wherever a
 * file has it, silently, and resume keeps it. */
Test(cli_predict, the_training_target_column_is_found_by_its_name) {
    char out[OUT_SIZE], model[1024], again[1024];
    snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
    snprintf(again, sizeof again, "%s", tu_path("again.ckpt"));
    /* Trained with the target "price" second; then files with it last,
     * first, and not at all. */
    cr_assert_eq(tu_write_table(tu_path("train.csv"), 240, 4, 0, NULL, 1, "price", 1, ',', 1), 0);
    cr_assert_eq(tu_write_table(tu_path("last.csv"), 60, 4, 0, NULL, 4, "price", 1, ',', 2), 0);
    cr_assert_eq(tu_write_table(tu_path("first.csv"), 60, 4, 0, NULL, 0, "price", 1, ',', 2), 0);
    cr_assert_eq(tu_write_table(tu_path("new.csv"), 60, 4, 0, NULL, -1, NULL, 1, ',', 2), 0);
    int rc = gsgd(out,
                  "train --quiet --device cpu --data '%s' --label price --model linear --lr 0.01 "
                  "--epochs 3 --save '%s'",
                  tu_path("train.csv"), model);
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "info '%s'", model);
    cr_expect(rc == 0 &&
                  strstr(out, "labels: real-valued target, column 'price'\nfeatures: 4 named ("),
              "%s", out);
    /* And its features' names: columns in another order are placed by
     * them (reversed.csv: the target first, the features reversed). */
    reverse_columns(tu_path("last.csv"), tu_path("reversed.csv"));
    static const char *const FILES[] = {"new.csv", "last.csv", "first.csv", "reversed.csv"};
    char want[OUT_SIZE];
    for (int f = 0; f < 4; f++) {
        rc = gsgd(out, "predict --model-file '%s' --data '%s' --out '%s'", model, tu_path(FILES[f]),
                  tu_path("p.csv"));
        cr_assert_eq(rc, 0, "%s: %s", FILES[f], out);
        cr_expect(!strstr(out, "warning"), "%s: %s", FILES[f], out);
        if (f == 0)
            snprintf(want, sizeof want, "%s", tu_read_text(tu_path("p.csv")));
        else
            cr_expect_str_eq(tu_read_text(tu_path("p.csv")), want, "%s", FILES[f]);
    }
    /* eval reads the targets from that column too: last, first and
     * reversed agree. */
    char a[OUT_SIZE];
    rc = gsgd(out, "eval --quiet --model-file '%s' --data '%s'", model, tu_path("last.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    snprintf(a, sizeof a, "%s", strstr(out, "r2 ") ? strstr(out, "r2 ") : out);
    *strchr(a, '(') = '\0'; /* the file's name follows */
    for (int f = 2; f < 4; f++) {
        rc = gsgd(out, "eval --quiet --model-file '%s' --data '%s'", model, tu_path(FILES[f]));
        cr_assert_eq(rc, 0, "%s", out);
        cr_expect(strstr(out, a), "%s: %s vs %s", FILES[f], a, out);
    }
    /* A test set in another order than the training set: placed by name,
     * the same figures. */
    char b[OUT_SIZE];
    rc = gsgd(out,
              "train --quiet --device cpu --data '%s' --test '%s' --label price --model linear "
              "--lr 0.01 --epochs 3 --seed 4",
              tu_path("train.csv"), tu_path("last.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    snprintf(b, sizeof b, "%s", out);
    rc = gsgd(out,
              "train --quiet --device cpu --data '%s' --test '%s' --label price --model linear "
              "--lr 0.01 --epochs 3 --seed 4",
              tu_path("train.csv"), tu_path("reversed.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    /* The figures up to the timings. */
    char *x = strstr(out, "test r2"), *y = strstr(b, "test r2");
    cr_assert(x && y && strstr(x, " train loss") && strstr(y, " train loss"), "%s", out);
    *strstr(x, " train loss") = '\0';
    *strstr(y, " train loss") = '\0';
    cr_expect_str_eq(x, y);
    /* A resumed run keeps the name in its checkpoint. */
    rc = gsgd(out,
              "train --quiet --device cpu --data '%s' --label price --epochs 4 --resume '%s' "
              "--save '%s'",
              tu_path("train.csv"), model, again);
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "info '%s'", again);
    cr_expect(rc == 0 && strstr(out, "7 epochs trained") && strstr(out, "column 'price'"), "%s",
              out);
}

/* src with an id column in front (1001, 1002, ...), to dst. */
static void with_id_column(const char *src, const char *dst) {
    static char text[1 << 16], out[1 << 16];
    snprintf(text, sizeof text, "%s", tu_read_text(src));
    size_t at = 0;
    int row = 0;
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"), row++) {
        char id[16] = "id";
        if (row) snprintf(id, sizeof id, "%d", 1000 + row);
        at += (size_t)snprintf(out + at, sizeof out - at, "%s,%s\n", id, line);
    }
    cr_assert_eq(tu_write_file(dst, out, at), 0);
}

/* An ID column left out with --ignore: predict takes it as the features
 * alone give; without --ignore, a file that also has the target refuses
 * the id, naming it and the option. */
Test(cli_predict, an_ignored_id_column_is_left_out) {
    char out[OUT_SIZE], model[1024];
    snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
    cr_assert_eq(tu_write_table(tu_path("train.csv"), 240, 4, 0, NULL, 4, "price", 1, ',', 1), 0);
    cr_assert_eq(tu_write_table(tu_path("new.csv"), 60, 4, 0, NULL, -1, NULL, 1, ',', 2), 0);
    cr_assert_eq(tu_write_table(tu_path("test.csv"), 60, 4, 0, NULL, 4, "price", 1, ',', 2), 0);
    with_id_column(tu_path("test.csv"), tu_path("ids.csv"));
    int rc = gsgd(out,
                  "train --quiet --device cpu --data '%s' --label price --model linear --lr 0.01 "
                  "--epochs 3 --save '%s'",
                  tu_path("train.csv"), model);
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'", model,
              tu_path("new.csv"), tu_path("a.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --ignore id --out '%s'", model,
              tu_path("ids.csv"), tu_path("b.csv"));
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(!strstr(out, "warning"), "%s", out);
    char a[OUT_SIZE];
    snprintf(a, sizeof a, "%s", tu_read_text(tu_path("a.csv")));
    cr_expect_str_eq(tu_read_text(tu_path("b.csv")), a);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'", model,
              tu_path("ids.csv"), tu_path("c.csv"));
    cr_expect(rc == 2 && strstr(out, "column 1 ('id'): not among the model's features") &&
                  strstr(out, "--ignore NAME"),
              "%s", out);
    cr_expect(!tu_exists(tu_path("c.csv")));
    /* Training leaves it out too. */
    with_id_column(tu_path("train.csv"), tu_path("train_ids.csv"));
    rc = gsgd(out,
              "train --quiet --device cpu --data '%s' --label price --ignore id --model linear "
              "--epochs 1 --save '%s'",
              tu_path("train_ids.csv"), model);
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "info '%s'", model);
    cr_expect(strstr(out, "model linear: 4 features") && !strstr(out, "id,"), "%s", out);
}

/* Files of format version 2 (before the target's name, tests/data) load,
 * and predict falls back on the loader's rule as before: on kinds.csv,
 * whose label "kind" is last, it takes the first column and refuses the
 * labels as features, saying --label fixes it. A model trained now on the
 * same file needs no --label. */
Test(cli_predict, a_version_2_model_without_the_target_name_needs_label_as_before) {
    char out[OUT_SIZE], kinds[1024];
    snprintf(kinds, sizeof kinds, "%s/kinds.csv", GSGD_TEST_DATA_DIR);
    static const char *const FILES[] = {"model_v2.gsgd", "checkpoint_v2.ckpt"};
    for (int f = 0; f < 2; f++) {
        int rc = gsgd(out, "info '%s/%s'", GSGD_TEST_DATA_DIR, FILES[f]);
        cr_assert_eq(rc, 0, "%s", out);
        cr_expect(strstr(out, "labels: 3 classes (ant, bee, cat)\n"), "%s", out);
        rc = gsgd(out, "predict --model-file '%s/%s' --data '%s' --out '%s'", GSGD_TEST_DATA_DIR,
                  FILES[f], kinds, tu_path("p.csv"));
        cr_expect(rc == 2 && strstr(out, "column 4 ('kind')") && strstr(out, "--label"), "%s", out);
        rc = gsgd(out, "predict --model-file '%s/%s' --data '%s' --out '%s' --label kind",
                  GSGD_TEST_DATA_DIR, FILES[f], kinds, tu_path("p.csv"));
        cr_expect(rc == 0 && !strstr(out, "warning"), "%s", out);
        cr_expect_eq(tu_count_lines(tu_read_text(tu_path("p.csv"))), 31);
    }
    int rc = gsgd(out,
                  "train --quiet --device cpu --data '%s' --label kind --model softmax --epochs 2 "
                  "--save '%s'",
                  kinds, tu_path("m.ckpt"));
    cr_assert_eq(rc, 0, "%s", out);
    rc = gsgd(out, "predict --model-file '%s' --data '%s' --out '%s'", tu_path("m.ckpt"), kinds,
              tu_path("p.csv"));
    cr_expect(rc == 0 && !strstr(out, "warning"), "%s", out);
    cr_expect_eq(tu_count_lines(tu_read_text(tu_path("p.csv"))), 31);
}

Test(cli_predict, a_failed_predict_writes_nothing) {
    char out[OUT_SIZE], model[1024], pred[1024];
    snprintf(model, sizeof model, "%s", tu_path("m.ckpt"));
    snprintf(pred, sizeof pred, "%s", tu_path("never.csv"));
    train_model("softmax", 3, WINE_CSV, model, tu_path("s.json"));
    cr_assert_eq(tu_write_text(tu_path("bad.csv"), "f0,f1,f2,f3\n1,2,3,4\n1,2,,4\n"), 0);
    cr_assert_eq(tu_write_text(tu_path("wide.csv"), "a,b,c,d,e,f\n1,2,3,4,5,6\n"), 0);
    const char *cases[][2] = {
        {"bad.csv", "bad.csv: line 3, column 3"},
        {"wide.csv", "wide.csv: line 1"},
        {"absent.csv", "absent.csv"},
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        for (int to_stdout = 0; to_stdout < 2; to_stdout++) {
            int rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s/%s' --out '%s'", model,
                          tu_tmpdir(), cases[k][0], to_stdout ? "-" : pred);
            cr_expect_eq(rc, 2, "%s: %s", cases[k][0], out);
            /* The one error line, and not a row on standard output. */
            cr_expect_eq(tu_count_lines(out), 1, "%s: %s", cases[k][0], out);
            cr_expect(strstr(out, cases[k][1]), "%s: %s", cases[k][0], out);
            cr_expect(!tu_exists(pred), "%s left %s", cases[k][0], pred);
        }
    }
    int rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --out '%s'",
                  tu_path("no.ckpt"), tu_path("new.csv"), pred);
    cr_expect(rc == 2 && tu_count_lines(out) == 1 && !tu_exists(pred), "%s", out);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s'", model, tu_path("new.csv"));
    cr_expect(rc == 2 && strstr(out, "--out"), "%s", out);
}
