/* `gsgd eval`: a saved model on the test part of a dataset (or --test, or
 * its training part when the spec has no test part): accuracy, log loss
 * and macro F1 for classes, r2, rmse, mae and mse for regression, with
 * --report each class's figures and the confusion matrix. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/data.h"
#include "cli/json.h"
#include "cli/metrics_out.h"
#include "cli/outfile.h"

typedef struct {
    cli_session s;
    const char *source; /* the spec evaluated: --test, else --data */
    const char *part;   /* "test" or "train" */
    gsgd_metrics *metrics;
} eval_run;

static int write_summary(const char *path, const eval_run *run) {
    cli_outfile out;
    int rc = cli_outfile_open(&out, "--summary", path);
    if (rc != CLI_OK) return rc;
    const gsgd_metrics *m = run->metrics;
    cli_json j;
    cli_json_begin(&j, out.f, 1);
    cli_json_num(&j, "test_accuracy", cli_metric(m, GSGD_METRIC_ACCURACY));
    cli_json_num(&j, "loss", cli_metric(m, GSGD_METRIC_LOSS));
    cli_json_int(&j, "n", (long long)cli_metric(m, GSGD_METRIC_N));
    cli_metrics_json(&j, m, run->s.model);
    cli_json_str(&j, "part", run->part);
    cli_json_str(&j, "model_file", run->s.v[CLI_O_MODEL_FILE]);
    cli_json_str(&j, "data", run->source);
    cli_json_str(&j, "device", cli_device_name(gsgd_context_device(run->s.ctx)));
    cli_json_end(&j);
    return cli_outfile_commit(&out);
}

/* The model, then the data as its input (its features, its labels). */
static int load(eval_run *run) {
    const char **v = run->s.v;
    uint64_t seed = 0;
    int rc = cli_data_seed(v, &seed);
    if (rc == CLI_OK)
        rc = cli_context_open(v[CLI_O_DEVICE], v[CLI_O_QUIET] != NULL, v[CLI_O_VERBOSE] != NULL,
                              &run->s.ctx);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_model_load(run->s.ctx, v[CLI_O_MODEL_FILE], &run->s.model);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    return cli_load_data(&run->s, seed);
}

static int run_eval(eval_run *run) {
    const char **v = run->s.v;
    if (v[CLI_O_SUMMARY]) {
        int rc = cli_check_output("--summary", v[CLI_O_SUMMARY], 1);
        if (rc != CLI_OK) return rc;
    }
    int rc = load(run);
    if (rc != CLI_OK) return rc;
    /* --test's training part stands in for the test part of --data. */
    const gsgd_dataset *ds = run->s.test ? run->s.test : run->s.train;
    run->part = run->s.test && !v[CLI_O_TEST] ? "test" : "train";
    run->source = v[CLI_O_TEST] ? v[CLI_O_TEST] : v[CLI_O_DATA];
    if (!v[CLI_O_QUIET]) cli_describe_data("evaluating on", ds);
    gsgd_status st = gsgd_evaluate_metrics(run->s.model, ds, &run->metrics);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    /* Standard output may be --summary's ('-'): the results go to stderr. */
    FILE *out = cli_results_stream();
    const gsgd_metrics *m = run->metrics;
    cli_metrics_line(out, m);
    fprintf(out, "  loss %.4f (%s)  n %.0f  (%s%s)\n", cli_metric(m, GSGD_METRIC_LOSS),
            cli_loss_name(run->s.model), cli_metric(m, GSGD_METRIC_N),
            strcmp(run->part, "test") == 0 ? "test part of " : "", run->source);
    if (v[CLI_O_REPORT]) rc = cli_metrics_report(out, m, run->s.model);
    fflush(out);
    if (rc == CLI_OK && v[CLI_O_SUMMARY]) rc = write_summary(v[CLI_O_SUMMARY], run);
    return rc;
}

int cli_cmd_eval(int argc, char **argv) {
    eval_run run = {.source = NULL};
    int rc = cli_session_begin(&run.s, &CLI_CMD_EVAL, argc, argv);
    if (rc == CLI_OK) rc = run_eval(&run);
    gsgd_metrics_free(run.metrics);
    return cli_session_end(&run.s, rc);
}
