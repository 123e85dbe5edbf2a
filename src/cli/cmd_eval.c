/* `gsgd eval`: a saved model on the test part of a dataset (or --test, or
 * its training part when the spec has no test part). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/json.h"
#include "cli/outfile.h"

typedef struct {
    cli_session s;
    const char *source; /* the spec evaluated: --test, else --data */
} eval_run;

/* gsgd_evaluate would also refuse a mismatch, but only the CLI knows both
 * names to put in the message. */
static int check_shapes(const eval_run *run, const gsgd_dataset *ds) {
    size_t md = 0, dd = 0;
    int mk = 0, dk = 0;
    const char *spec = NULL;
    gsgd_status st = gsgd_model_shape(run->s.model, &spec, &md, &mk);
    if (st == GSGD_STATUS_OK) st = gsgd_dataset_shape(ds, NULL, &dd, &dk);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    /* The data may lack some classes (a small test file), never have more;
     * sparse data may stop short of the model's last features. */
    int sparse = 0;
    gsgd_dataset_sparse(ds, &sparse, NULL);
    if ((md != dd && !(sparse && dd < md)) || dk > mk || (mk == 0) != (dk == 0)) {
        cli_error("%s: model '%s' expects %zu features and %d classes, but '%s' has %zu "
                  "features and %d classes",
                  run->s.v[CLI_O_MODEL_FILE], spec ? spec : "?", md, mk, run->source, dd, dk);
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
    cli_json_str(&j, "model_file", run->s.v[CLI_O_MODEL_FILE]);
    cli_json_str(&j, "data", run->source);
    cli_json_str(&j, "device", cli_device_name(gsgd_context_device(run->s.ctx)));
    cli_json_end(&j);
    if (cli_outfile_commit(&out) != 0) {
        cli_error("--summary: cannot write '%s': %s", path, strerror(errno));
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int run_eval(eval_run *run) {
    const char **v = run->s.v;
    if (v[CLI_O_SUMMARY]) {
        int rc = cli_check_writable("--summary", v[CLI_O_SUMMARY]);
        if (rc != CLI_OK) return rc;
    }
    int rc = cli_context_open(v[CLI_O_DEVICE], v[CLI_O_QUIET] != NULL, &run->s.ctx);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_model_load(run->s.ctx, v[CLI_O_MODEL_FILE], &run->s.model);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    rc = cli_load_data(run->s.ctx, v[CLI_O_DATA], v[CLI_O_TEST], &run->s.train, &run->s.test);
    if (rc != CLI_OK) return rc;
    /* --test's training part stands in for the test part of --data. */
    const gsgd_dataset *ds = run->s.test ? run->s.test : run->s.train;
    const char *part = run->s.test && !v[CLI_O_TEST] ? "test" : "train";
    run->source = v[CLI_O_TEST] ? v[CLI_O_TEST] : v[CLI_O_DATA];
    rc = check_shapes(run, ds);
    if (rc != CLI_OK) return rc;
    gsgd_eval_result r;
    st = gsgd_evaluate(run->s.model, ds, &r);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    if (!isnan(r.accuracy)) printf("accuracy %.4f  ", r.accuracy);
    printf("loss %.4f  n %zu  (%s part of %s)\n", r.loss, r.n, part, run->source);
    fflush(stdout);
    if (v[CLI_O_SUMMARY]) return write_summary(v[CLI_O_SUMMARY], &r, run, part);
    return CLI_OK;
}

int cli_cmd_eval(int argc, char **argv) {
    eval_run run = {.source = NULL};
    int rc = cli_session_begin(&run.s, &CLI_CMD_EVAL, argc, argv);
    if (rc == CLI_OK) rc = run_eval(&run);
    return cli_session_end(&run.s, rc);
}
