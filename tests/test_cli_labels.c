/*
 * Labels as the user has them, kept by what the program writes and reads
 * back: checkpoints (train --save, --resume), `gsgd eval` and its
 * --report, `gsgd info MODEL`, and going on with new data as
 * scikit-learn's partial_fit (train --resume F --data NEW), where a part
 * lacking a class still maps the others right.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define OUT_SIZE 16384
#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

static const char *const WINE[] = {"barolo", "grignolino", "barbera"};

/* The tables of a test: wine.csv (300 rows), wine_test.csv (90) and
 * more.csv (200 new rows), 5 features, the label in column 2 (cultivar);
 * paths kept apart from tu_path's ring. */
static char wine[1024], wine_test[1024], more[1024], ckpt[1024];

static void write_tables(void) {
    snprintf(wine, sizeof wine, "%s", tu_path("wine.csv"));
    snprintf(wine_test, sizeof wine_test, "%s", tu_path("wine_test.csv"));
    snprintf(more, sizeof more, "%s", tu_path("more.csv"));
    snprintf(ckpt, sizeof ckpt, "%s", tu_path("m.ckpt"));
    cr_assert_eq(tu_write_table(wine, 300, 5, 3, WINE, 2, "cultivar", 1, ',', 1), 0);
    cr_assert_eq(tu_write_table(wine_test, 90, 5, 3, WINE, 2, "cultivar", 1, ',', 2), 0);
    cr_assert_eq(tu_write_table(more, 200, 5, 3, WINE, 2, "cultivar", 1, ',', 3), 0);
}

static void train_wine(int epochs) {
    char out[OUT_SIZE];
    int rc = gsgd(out,
                  "train --quiet --device cpu --data '%s' --test '%s' --label cultivar --model "
                  "softmax --standardize --epochs %d --save '%s'",
                  wine, wine_test, epochs, ckpt);
    cr_assert_eq(rc, 0, "%s", out);
}

/* The text after key in out, up to the end of its line, into buf. */
static const char *after(const char *out, const char *key, char *buf, size_t size) {
    const char *p = strstr(out, key);
    cr_assert_not_null(p, "'%s' not in %s", key, out);
    p += strlen(key);
    snprintf(buf, size, "%.*s", (int)strcspn(p, "\n"), p);
    return buf;
}

Test(cli_labels, eval_report_names_each_class_and_the_confusion_matrix) {
    char out[OUT_SIZE], a[256], b[256];
    write_tables();
    train_wine(10);
    int rc = gsgd(out, "eval --quiet --model-file '%s' --data '%s' --label cultivar --report", ckpt,
                  wine_test);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strncmp(out, "accuracy ", 9) == 0 && strstr(out, "(cross-entropy)  n 90  ("), "%s",
              out);
    cr_expect(strstr(out, "\nclass ") && strstr(out, "precision") && strstr(out, "support"), "%s",
              out);
    /* One row per class, sorted labels, and the supports add up to 90. */
    size_t total = 0;
    const char *sorted[] = {"\nbarbera ", "\nbarolo ", "\ngrignolino "};
    const char *last = out;
    for (int k = 0; k < 3; k++) {
        const char *row = strstr(out, sorted[k]);
        cr_assert(row && row > last, "%s", out);
        last = row;
        double p, r, f1;
        size_t support;
        cr_assert_eq(sscanf(row + strlen(sorted[k]), "%lf %lf %lf %zu", &p, &r, &f1, &support), 4,
                     "%s", row);
        total += support;
    }
    cr_expect_eq(total, 90);
    cr_expect(strstr(out, "\nmacro avg "), "%s", out);
    cr_expect(strstr(out, "confusion matrix (rows: true class, columns: predicted)\n"), "%s", out);
    /* The report of train is the same table. */
    rc = gsgd(out,
              "train --quiet --device cpu --data '%s' --test '%s' --label cultivar --model "
              "softmax --standardize --epochs 10 --report",
              wine, wine_test);
    cr_assert_eq(rc, 0, "%s", out);
    char train_out[OUT_SIZE];
    snprintf(train_out, sizeof train_out, "%s", out);
    rc = gsgd(out, "eval --quiet --model-file '%s' --data '%s' --label cultivar --report", ckpt,
              wine_test);
    cr_expect_str_eq(strstr(train_out, "\nclass "), strstr(out, "\nclass "));
    /* ... and the same figures: the same model, measured the same way. */
    double t[3], e[3];
    cr_assert_eq(sscanf(after(train_out, "test accuracy ", a, sizeof a),
                        "%lf  log loss %lf  macro F1 %lf", &t[0], &t[1], &t[2]),
                 3, "%s", train_out);
    cr_assert_eq(sscanf(after(out, "accuracy ", b, sizeof b), "%lf  log loss %lf  macro F1 %lf",
                        &e[0], &e[1], &e[2]),
                 3, "%s", out);
    for (int k = 0; k < 3; k++) cr_expect_eq(t[k], e[k], "figure %d: %s vs %s", k, a, b);
}

Test(cli_labels, info_describes_a_checkpoint_and_a_model_file) {
    char out[OUT_SIZE];
    write_tables();
    train_wine(4);
    int rc = gsgd(out, "info '%s'", ckpt);
    cr_assert_eq(rc, 0, "%s", out);
    char want[1200];
    snprintf(want, sizeof want, "%s: checkpoint: 4 epochs trained", ckpt);
    cr_expect(strstr(out, want), "%s", out);
    cr_expect(strstr(out, "model softmax: 5 features -> 3 outputs"), "%s", out);
    cr_expect(strstr(out, "labels: 3 classes (barbera, barolo, grignolino)"), "%s", out);
    cr_expect(strstr(out, "input: standardized"), "%s", out);
    cr_expect(strstr(out, "options: ") && strstr(out, " optim sgd,") && strstr(out, " epochs 4,"),
              "%s", out);
    /* The automatic values by that word, not the sentinel that stands for
     * them (lr 0, momentum -1, ...). */
    cr_expect(strstr(out, " lr auto,") && strstr(out, " momentum auto,") &&
                  strstr(out, " weight_decay auto,") && strstr(out, " tol auto,") &&
                  !strstr(out, " -1,"),
              "%s", out);
    /* Every option set by a choice by its name, not its number. */
    cr_expect(strstr(out, " schedule cosine,") && strstr(out, " standardize on,") &&
                  strstr(out, " precision fp32") && strstr(out, " on_nan stop,"),
              "%s", out);
    /* A model file of format version 1 (no label map): class indices. */
    rc = gsgd(out, "info '%s/model_v1.gsgd'", GSGD_TEST_DATA_DIR);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "model_v1.gsgd: model file, no training state"), "%s", out);
    cr_expect(strstr(out, "labels: 3 classes (0, 1, 2)"), "%s", out);
    cr_expect(!strstr(out, "options:"), "%s", out);
    /* Not a model at all: exit 2, one line naming it. */
    rc = gsgd(out, "info '%s'", wine);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(tu_count_lines(out) == 1 && strstr(out, wine), "%s", out);
    rc = gsgd(out, "info '%s' '%s'", ckpt, wine);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
}

Test(cli_labels, label_maps_survive_save_load_and_an_exact_resume) {
    char out[OUT_SIZE], resumed[1024];
    write_tables();
    train_wine(2);
    snprintf(resumed, sizeof resumed, "%s", tu_path("r.ckpt"));
    int rc = gsgd(out,
                  "train --quiet --device cpu --data '%s' --test '%s' --label cultivar --resume "
                  "'%s' --epochs 2 --save '%s'",
                  wine, wine_test, ckpt, resumed);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(!strstr(out, "partial_fit"), "the same data resumes exactly: %s", out);
    rc = gsgd(out, "info '%s'", resumed);
    cr_expect(strstr(out, "checkpoint: 4 epochs trained") &&
                  strstr(out, "labels: 3 classes (barbera, barolo, grignolino)"),
              "%s", out);
    rc = gsgd(out, "predict --quiet --model-file '%s' --data '%s' --label cultivar --out -",
              resumed, wine_test);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strncmp(out, "prediction\n", 11) == 0 && strstr(out, "\ngrignolino\n"), "%s", out);
}

/* partial_fit: new rows, some without a class: F's map still decides
 * their indices, the epochs go on, and the line says it is not exact. */
Test(cli_labels, resume_on_new_data_goes_on_as_partial_fit) {
    char out[OUT_SIZE], next[1024], part[1024];
    write_tables();
    train_wine(5);
    /* more.csv without its barolo rows. */
    snprintf(part, sizeof part, "%s", tu_path("part.csv"));
    char *text = tu_read_text(more);
    FILE *f = fopen(part, "w");
    cr_assert_not_null(f);
    for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
        if (!strstr(line, "barolo")) fprintf(f, "%s\n", line);
    cr_assert_eq(fclose(f), 0);
    snprintf(next, sizeof next, "%s", tu_path("next.ckpt"));
    int rc = gsgd(out,
                  "train --device cpu --data '%s' --test '%s' --label cultivar --resume '%s' "
                  "--new-data --epochs 3 --save '%s' --summary '%s'",
                  part, wine_test, ckpt, next, tu_path("n.json"));
    cr_assert_eq(rc, 0, "%s", out);
    /* The part is read through F's map: its 3 classes, though it has 2. */
    char want[1200];
    snprintf(want, sizeof want, "gsgd: train: %s: CSV (comma-separated, header), ", part);
    cr_expect(strstr(out, want), "%s", out);
    cr_expect(strstr(strstr(out, want), "3 classes (barbera, barolo, grignolino)"), "%s", out);
    cr_expect(strstr(out, "partial_fit") && strstr(out, "not an exact resume"), "%s", out);
    cr_expect(!strstr(out, "warning"), "--new-data says it is meant: %s", out);
    cr_expect(strstr(out, "epoch 8/8"), "%s", out);
    const char *json = tu_read_text(tu_path("n.json"));
    cr_expect(strstr(json, "\"labels\": [\"barbera\", \"barolo\", \"grignolino\"]"), "%s", json);
    /* Classes mapped wrongly would not keep the test accuracy up. */
    cr_expect(tu_json_number(json, "accuracy") > 0.75, "%s", json);
    rc = gsgd(out, "info '%s'", next);
    cr_expect(strstr(out, "checkpoint: 8 epochs trained") &&
                  strstr(out, "labels: 3 classes (barbera, barolo, grignolino)"),
              "%s", out);
    /* Without --new-data the same goes on, with a warning. */
    rc = gsgd(out,
              "train --quiet --device cpu --data '%s' --label cultivar --resume '%s' --epochs 1",
              more, ckpt);
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "gsgd: warning: --data differs from the run of --resume"), "%s", out);
    /* New data of other features, or a label F never had: exit 2. */
    rc =
        gsgd(out, "train --quiet --device cpu --data synth:300,4,3 --resume '%s' --new-data", ckpt);
    cr_expect(rc == 2 && tu_count_lines(out) == 1, "%s", out);
    cr_assert_eq(tu_write_text(tu_path("odd.csv"),
                               "f0,f1,cultivar,f2,f3,f4\n1,2,barolo,3,4,5\n1,2,nebbiolo,3,4,5\n"),
                 0);
    rc = gsgd(out, "train --quiet --device cpu --data '%s' --label cultivar --resume '%s'",
              tu_path("odd.csv"), ckpt);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(tu_count_lines(out) == 1 && strstr(out, "line 3, column 3") &&
                  strstr(out, "nebbiolo"),
              "%s", out);
}
