/* `gsgd eval`: a saved model on the test part of a dataset (or its training
 * part when the spec has no test part). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/outfile.h"
#include "cli/usage.h"

enum { O_MODEL_FILE, O_DATA, O_SUMMARY, O_DEVICE, O_QUIET, O_HELP, O_COUNT };

static const cli_optdef OPTIONS[O_COUNT + 1] = {
    {"--model-file", 1}, {"--data", 1}, {"--summary", 1}, {"--device", 1},
    {"--quiet", 0},      {"--help", 0}, {NULL, 0}};

typedef struct {
    const char *v[O_COUNT];
    gsgd_context *ctx;
    gsgd_model *model;
    gsgd_dataset *train, *test;
} eval_run;

/* gsgd_evaluate would also refuse a mismatch, but only the CLI knows both
 * names to put in the message. */
static int check_shapes(const eval_run *run, const gsgd_dataset *ds) {
    size_t md = 0, dd = 0;
    int mk = 0, dk = 0;
    const char *spec = NULL;
    gsgd_status st = gsgd_model_shape(run->model, &spec, &md, &mk);
    if (st == GSGD_STATUS_OK) st = gsgd_dataset_shape(ds, NULL, &dd, &dk);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    /* The data may lack some classes (a small test file), never have more;
     * sparse data may stop short of the model's last features. */
    int sparse = 0;
    gsgd_dataset_sparse(ds, &sparse, NULL);
    if ((md != dd && !(sparse && dd < md)) || dk > mk || (mk == 0) != (dk == 0)) {
        cli_error("%s: model '%s' expects %zu features and %d classes, but '%s' has %zu "
                  "features and %d classes",
                  run->v[O_MODEL_FILE], spec ? spec : "?", md, mk, run->v[O_DATA], dd, dk);
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int write_summary(const char *path, const gsgd_eval_result *r, const eval_run *run,
                         const char *part) {
    cli_outfile out;
    if (cli_outfile_open(&out, path) != 0) {
        cli_error("--summary: cannot write '%s': %s", path, strerror(errno));
        return CLI_USAGE;
    }
    cli_json j;
    cli_json_begin(&j, out.f, 1);
    cli_json_num(&j, "test_accuracy", r->accuracy);
    cli_json_num(&j, "loss", r->loss);
    cli_json_int(&j, "n", (long long)r->n);
    cli_json_str(&j, "part", part);
    cli_json_str(&j, "model_file", run->v[O_MODEL_FILE]);
    cli_json_str(&j, "data", run->v[O_DATA]);
    cli_json_str(&j, "device", cli_device_name(gsgd_context_device(run->ctx)));
    cli_json_end(&j);
    if (cli_outfile_commit(&out) != 0) {
        cli_error("--summary: cannot write '%s': %s", path, strerror(errno));
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int run_eval(eval_run *run) {
    const char **v = run->v;
    if (!v[O_MODEL_FILE] || !v[O_DATA]) {
        cli_error("eval: %s is required (see 'gsgd eval --help')",
                  !v[O_MODEL_FILE] ? "--model-file F" : "--data SPEC");
        return CLI_USAGE;
    }
    if (v[O_SUMMARY]) {
        int rc = cli_check_writable("--summary", v[O_SUMMARY]);
        if (rc != CLI_OK) return rc;
    }
    int rc = cli_context_open(v[O_DEVICE], v[O_QUIET] != NULL, &run->ctx);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_model_load(run->ctx, v[O_MODEL_FILE], &run->model);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    st = gsgd_dataset_load(run->ctx, v[O_DATA], &run->train, &run->test);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    const gsgd_dataset *ds = run->test ? run->test : run->train;
    const char *part = run->test ? "test" : "train";
    rc = check_shapes(run, ds);
    if (rc != CLI_OK) return rc;
    gsgd_eval_result r;
    st = gsgd_evaluate(run->model, ds, &r);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    if (!isnan(r.accuracy)) printf("accuracy %.4f  ", r.accuracy);
    printf("loss %.4f  n %zu  (%s part of %s)\n", r.loss, r.n, part, v[O_DATA]);
    fflush(stdout);
    if (v[O_SUMMARY]) return write_summary(v[O_SUMMARY], &r, run, part);
    return CLI_OK;
}

int cli_cmd_eval(int argc, char **argv) {
    eval_run run;
    memset(&run, 0, sizeof run);
    int rc = cli_parse_options("eval", argc, argv, OPTIONS, run.v);
    if (rc != CLI_OK) return rc;
    if (run.v[O_HELP]) {
        cli_usage_eval(stdout);
        return CLI_OK;
    }
    rc = run_eval(&run);
    gsgd_dataset_free(run.test);
    gsgd_dataset_free(run.train);
    gsgd_model_free(run.model);
    gsgd_context_free(run.ctx);
    return rc;
}
