/*
 * `gsgd predict`: a saved model's predictions for the rows of a file, one
 * output row per input row (pred_out.h says what each holds). The rows
 * are read as input of the model (its features, its labels; a label
 * column may be there or not) and predicted 1024 at a time, the chunks of
 * gsgd_evaluate_metrics, so the labels written agree exactly with the
 * accuracy train and eval report. Nothing is written on error: a file
 * goes through cli_outfile, standard output through a temporary file
 * copied out at the end.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/data.h"
#include "cli/outfile.h"
#include "cli/pred_out.h"

#define CHUNK 1024

typedef struct {
    cli_session s;
    cli_outfile file; /* --out F */
    FILE *tmp;        /* --out -: the rows until all are written */
    float *X, *values;
    int32_t *classes;
} predict_run;

/* --proba needs probabilities, which hinge and linear do not give: said
 * before any data is read. */
static int check_proba(const predict_run *run) {
    const char *spec = NULL;
    int k = 0;
    (void)gsgd_model_shape(run->s.model, &spec, NULL, &k);
    if (!run->s.v[CLI_O_PROBA] || !spec) return CLI_OK;
    if (k > 0 && strcmp(spec, "linear") != 0 && strcmp(spec, "hinge") != 0) return CLI_OK;
    cli_error("--proba: model '%s' of %s gives no probabilities (softmax, logistic and mlp do); "
              "leave out --proba for its %s",
              spec, run->s.v[CLI_O_MODEL_FILE], k > 0 ? "labels" : "values");
    return CLI_USAGE;
}

/* Whether source is surely CSV (--format csv, a csv: or tsv: spec, a .csv
 * or .tsv name): the one format whose target column is a choice. */
static int surely_csv(const char *const *v) {
    const char *s = v[CLI_O_DATA];
    if (v[CLI_O_FORMAT]) return strcmp(v[CLI_O_FORMAT], "csv") == 0;
    if (strncmp(s, "csv:", 4) == 0 || strncmp(s, "tsv:", 4) == 0) return 1;
    size_t len = strlen(s);
    if (len > 3 && strcmp(s + len - 3, ".gz") == 0) len -= 3;
    static const char *const EXT[] = {".csv", ".tsv"};
    for (size_t k = 0; k < sizeof EXT / sizeof EXT[0]; k++)
        if (len > 4 && strncmp(s + len - 4, EXT[k], 4) == 0) return 1;
    return 0;
}

static int load(predict_run *run) {
    const char **v = run->s.v;
    int rc = cli_context_open(v[CLI_O_DEVICE], v[CLI_O_QUIET] != NULL, v[CLI_O_VERBOSE] != NULL,
                              &run->s.ctx);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_model_load(run->s.ctx, v[CLI_O_MODEL_FILE], &run->s.model);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    rc = check_proba(run);
    if (rc == CLI_OK) rc = cli_load_data(&run->s, 0);
    if (rc != CLI_OK) return rc;
    if (!v[CLI_O_QUIET]) cli_describe_data("predicting for", run->s.train);
    /* A row with one column more than the model's features has its
     * target found by the name of the model's training target column;
     * a model without one (not trained on a CSV header, or saved by an
     * older build) leaves the pick to the loader's rule, which --label
     * overrides. */
    int has_targets = 0;
    const char *trained = "", *found = "";
    gsgd_dataset_targets(run->s.train, &has_targets, NULL, NULL);
    gsgd_model_target_name(run->s.model, &trained);
    gsgd_dataset_target_name(run->s.train, &found);
    if (has_targets && !v[CLI_O_LABEL] && surely_csv(v) && (!*trained || strcmp(found, trained)))
        cli_warn("%s: one column besides the model's features was read as the target and left "
                 "out (the one named label, target, class or y, else the first); --label "
                 "NAME|INDEX names it and silences this",
                 v[CLI_O_DATA]);
    return CLI_OK;
}

/* Opens --out: F through cli_outfile (its path rule and messages), "-"
 * through a temporary file. Returns a CLI exit code, the error said. */
static int open_out(predict_run *run, FILE **f) {
    const char *out = run->s.v[CLI_O_OUT];
    *f = NULL;
    if (strcmp(out, "-") != 0) {
        int rc = cli_outfile_open(&run->file, "--out", out);
        if (rc == CLI_OK) *f = run->file.f;
        return rc;
    }
    *f = run->tmp = tmpfile();
    if (*f) return CLI_OK;
    cli_error("--out -: cannot create a temporary file for the predictions: %s", strerror(errno));
    return CLI_RUNTIME;
}

/* Standard output gets the rows only once all of them are written. */
static int copy_to_stdout(FILE *tmp) {
    char buf[65536];
    size_t n;
    rewind(tmp);
    while ((n = fread(buf, 1, sizeof buf, tmp)) > 0)
        if (fwrite(buf, 1, n, stdout) != n) return -1;
    return ferror(tmp) || fflush(stdout) != 0 ? -1 : 0;
}

static gsgd_status predict_chunk(predict_run *run, cli_pred_kind kind, size_t first, size_t count) {
    gsgd_status st = gsgd_dataset_read(run->s.train, first, count, run->X, NULL);
    if (st != GSGD_STATUS_OK) return st;
    if (kind == CLI_PRED_PROBA) return gsgd_predict_proba(run->s.model, run->X, count, run->values);
    if (kind == CLI_PRED_VALUES) return gsgd_predict(run->s.model, run->X, count, run->values);
    return gsgd_predict_classes(run->s.model, run->X, count, run->classes);
}

static int write_rows(predict_run *run) {
    const char **v = run->s.v;
    size_t n = 0, d = 0;
    int k = 0;
    gsgd_dataset_shape(run->s.train, &n, &d, NULL);
    gsgd_model_shape(run->s.model, NULL, NULL, &k);
    const cli_pred_kind kind = v[CLI_O_PROBA] ? CLI_PRED_PROBA
                               : k > 0        ? CLI_PRED_LABELS
                                              : CLI_PRED_VALUES;
    run->X = malloc(CHUNK * d * sizeof *run->X);
    run->values = malloc(CHUNK * (size_t)(k > 1 ? k : 1) * sizeof *run->values);
    run->classes = malloc(CHUNK * sizeof *run->classes);
    if (!run->X || !run->values || !run->classes) {
        cli_error("predict: out of memory for %d rows of %zu features", CHUNK, d);
        return CLI_RUNTIME;
    }
    FILE *f = NULL;
    int rc = open_out(run, &f);
    if (rc != CLI_OK) return rc;
    cli_pred_out o;
    cli_pred_begin(&o, f, run->s.model, kind,
                   strcmp(v[CLI_O_OUT], "-") != 0 && cli_pred_is_npy(v[CLI_O_OUT]), n);
    for (size_t first = 0; first < n; first += CHUNK) {
        const size_t count = n - first < CHUNK ? n - first : CHUNK;
        gsgd_status st = predict_chunk(run, kind, first, count);
        if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
        cli_pred_write(&o, run->classes, run->values, count);
    }
    if (run->tmp) {
        int failed = ferror(run->tmp) || copy_to_stdout(run->tmp) != 0;
        fclose(run->tmp);
        run->tmp = NULL;
        if (failed) {
            cli_error("--out -: cannot write the predictions to standard output");
            return CLI_RUNTIME;
        }
        return CLI_OK;
    }
    return cli_outfile_commit(&run->file);
}

static int run_predict(predict_run *run) {
    const char *out = run->s.v[CLI_O_OUT];
    int rc = cli_check_output("--out", out, 1);
    if (rc == CLI_OK) rc = load(run);
    if (rc == CLI_OK) rc = write_rows(run);
    return rc;
}

int cli_cmd_predict(int argc, char **argv) {
    predict_run run;
    memset(&run, 0, sizeof run);
    int rc = cli_session_begin(&run.s, &CLI_CMD_PREDICT, argc, argv);
    if (rc == CLI_OK) rc = run_predict(&run);
    cli_outfile_abort(&run.file); /* a no-op once committed */
    if (run.tmp) fclose(run.tmp);
    free(run.X);
    free(run.values);
    free(run.classes);
    return cli_session_end(&run.s, rc);
}
