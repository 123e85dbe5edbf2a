/*
 * `gsgd train`: options -> gsgd_options, load data, create the model, train
 * with live progress, then (only after success) save the checkpoint and
 * write the summary. With --resume the model and the options come from a
 * checkpoint instead, and training continues where it stopped.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/args.h"
#include "cli/train/ckpt.h"
#include "cli/cli.h"
#include "cli/train/distributed.h"
#include "cli/optimopts.h"
#include "cli/outfile.h"
#include "cli/planopts.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/train/train_resume.h"
#include "cli/train/train_run.h"
#include "cli/usage.h"

/* Same order as the enum of train_run.h, up to O_OPTIM_FIRST. */
static const cli_optdef OWN_OPTIONS[O_OPTIM_FIRST] = {
    {"--data", 1},         {"--test", 1},        {"--model", 1},
    {"--batch", 1},        {"--max-batch", 1},   {"--mem-limit", 1},
    {"--mem-headroom", 1}, {"--mem-reserve", 1}, {"--lr-scaling", 1},
    {"--lr-ref-batch", 1}, {"--warmup", 1},      {"--epochs", 1},
    {"--target-acc", 1},   {"--device", 1},      {"--seed", 1},
    {"--save", 1},         {"--resume", 1},      {"--checkpoint-every", 1},
    {"--standardize", 0},  {"--summary", 1},     {"--log", 1},
    {"--quiet", 0},        {"--distributed", 0}, {"--shard", 0},
    {"--help", 0}};

void cli_train_option_table(cli_optdef *defs) {
    memcpy(defs, OWN_OPTIONS, sizeof OWN_OPTIONS);
    cli_optim_optdefs(defs + O_OPTIM_FIRST);
    defs[O_COUNT] = (cli_optdef){NULL, 0};
}

/* Options that map one-to-one onto a library parameter. */
static const struct {
    int opt;
    gsgd_param param;
    int integer;
} PARAMS[] = {
    {O_EPOCHS, GSGD_EPOCHS, 1},
    {O_TARGET_ACC, GSGD_TARGET_ACC, 0},
    {O_SEED, GSGD_SEED, 1},
};

int cli_train_set_params(train_run *run) {
    for (size_t k = 0; k < sizeof PARAMS / sizeof PARAMS[0]; k++) {
        const char *s = run->v[PARAMS[k].opt];
        if (!s) continue;
        int rc = cli_set_param(run->opts, PARAMS[k].param, OWN_OPTIONS[PARAMS[k].opt].name, s,
                               PARAMS[k].integer);
        if (rc != CLI_OK) return rc;
    }
    return CLI_OK;
}

double cli_train_param(const gsgd_options *opts, gsgd_param p) {
    double v = 0;
    (void)gsgd_get(opts, p, &v);
    return v;
}

/* Builds run->opts from the options given; everything not given keeps the
 * library's default. */
static int build_options(train_run *run) {
    const char **v = run->v;
    gsgd_status st = gsgd_options_create(&run->opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    cli_plan_args plan = {.batch = v[O_BATCH],
                          .max_batch = v[O_MAX_BATCH],
                          .mem_limit = v[O_MEM_LIMIT],
                          .mem_headroom = v[O_MEM_HEADROOM],
                          .mem_reserve = v[O_MEM_RESERVE],
                          .lr_scaling = v[O_LR_SCALING],
                          .lr_ref_batch = v[O_LR_REF_BATCH],
                          .warmup = v[O_WARMUP]};
    int prc = cli_plan_options(run->opts, &plan);
    if (prc != CLI_OK) return prc;
    prc = cli_train_set_params(run);
    if (prc != CLI_OK) return prc;
    return cli_optim_options(run->opts, v + O_OPTIM_FIRST);
}

/* Loads --data and, when given, --test (whose training part replaces the
 * test part of --data). */
static int load_data(train_run *run) {
    gsgd_status st = gsgd_dataset_load(run->ctx, run->v[O_DATA], &run->train, &run->test);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    if (run->v[O_TEST]) {
        gsgd_dataset *t_train = NULL, *t_test = NULL;
        st = gsgd_dataset_load(run->ctx, run->v[O_TEST], &t_train, &t_test);
        if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
        gsgd_dataset_free(t_test);
        gsgd_dataset_free(run->test);
        run->test = t_train;
        size_t d = 0, td = 0;
        int k = 0, tk = 0, sparse = 0, tsparse = 0;
        gsgd_dataset_shape(run->train, NULL, &d, &k);
        gsgd_dataset_shape(run->test, NULL, &td, &tk);
        gsgd_dataset_sparse(run->train, &sparse, NULL);
        gsgd_dataset_sparse(run->test, &tsparse, NULL);
        /* Two sparse files (svmlight) are as wide as the larger index of
         * the two: the features past a file's last index are zeros. */
        if (sparse && tsparse && td != d) {
            gsgd_dataset_set_features(td > d ? run->train : run->test, td > d ? td : d);
            d = td = td > d ? td : d;
        }
        /* A test set may lack some classes, but never has more features or
         * classes than the model trained on --data can handle. */
        if (td != d || tk > k) {
            cli_error("--test %s: %zu features and %d classes, but --data %s has %zu and %d",
                      run->v[O_TEST], td, tk, run->v[O_DATA], d, k);
            return CLI_USAGE;
        }
    }
    if (!run->test && cli_train_param(run->opts, GSGD_TARGET_ACC) > 0)
        cli_warn("--target-acc needs a test set; '%s' has none and no --test was given",
                 run->v[O_DATA]);
    return CLI_OK;
}

static int create_model(train_run *run) {
    if (run->v[O_RESUME]) { /* its parameters are replaced by gsgd_trainer_resume */
        gsgd_status st = gsgd_model_load(run->ctx, run->v[O_RESUME], &run->model);
        return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(run->ctx, st);
    }
    /* One --seed drives both the initialisation and the shuffle. */
    return cli_model_for(run->ctx, run->v[O_MODEL], run->train,
                         (uint64_t)cli_train_param(run->opts, GSGD_SEED),
                         run->v[O_STANDARDIZE] != NULL, &run->model);
}

static int report_log_error(const train_run *run) {
    cli_error("--log: cannot write '%s': %s", run->v[O_LOG], strerror(run->pr.log_errno));
    return CLI_USAGE;
}

static int train(train_run *run) {
    gsgd_status st = gsgd_trainer_create(run->model, run->train, run->opts, &run->tr);
    if (st == GSGD_STATUS_OK && run->v[O_RESUME])
        st = gsgd_trainer_resume(run->tr, run->v[O_RESUME]);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    const gsgd_batch_plan *plan = NULL;
    if (!run->v[O_QUIET] && gsgd_trainer_plan(run->tr, &plan) == GSGD_STATUS_OK)
        cli_print_curve(stderr, plan);
    const int root = run->dist.rank == 0; /* only rank 0 reports and writes */
    if (run->v[O_DISTRIBUTED]) {
        int rc =
            cli_dist_attach(&run->dist, run->ctx, run->model, run->tr, run->v[O_SHARD] != NULL);
        if (rc != CLI_OK) return rc;
        if (root && !run->v[O_QUIET])
            fprintf(stderr, "gsgd: %d ranks x batch %s = global batch %.0f%s\n", run->dist.size,
                    run->v[O_BATCH], atof(run->v[O_BATCH]) * run->dist.size,
                    run->v[O_SHARD] ? ", each rank on its own shard" : "");
    }
    cli_progress_init(&run->pr, run->v[O_QUIET] != NULL || !root, root ? run->v[O_LOG] : NULL);
    int want = cli_progress_wanted(&run->pr);
    /* Ranks must stop at the same step: no signals or checkpoints there. */
    if (run->v[O_DISTRIBUTED])
        st = gsgd_train(run->tr, run->test, want ? cli_progress_cb : NULL, &run->pr, &run->rep.res);
    else
        st = cli_train_with_checkpoints(run, want);
    if (st == GSGD_STATUS_OK && run->v[O_DISTRIBUTED]) {
        size_t n = 0;
        gsgd_dataset_shape(run->train, &n, NULL, NULL);
        cli_dist_global_loss(&run->dist, &run->rep.res, n, run->v[O_SHARD] != NULL);
        run->dist.in_collective = 0;
    }
    int log_ok = cli_progress_finish(&run->pr) == 0;
    if (st == GSGD_STATUS_INTERRUPTED && run->ck.save_failed) {
        cli_error("%s", run->ck.error);
        return run->ck.save_exit;
    }
    if (st == GSGD_STATUS_INTERRUPTED && cli_stop_signal())
        return cli_ckpt_interrupted(&run->ck, run->v[O_DATA]);
    if (st == GSGD_STATUS_INTERRUPTED && run->pr.log_errno) return report_log_error(run);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    if (!log_ok) return report_log_error(run);
    return CLI_OK;
}

/* Result line, then the summary and the model. The summary is written to
 * its temporary file before the model is saved and published after, so a
 * failure in either leaves neither file behind. */
static int finish(train_run *run) {
    cli_train_report *r = &run->rep;
    const char *spec = NULL;
    if (gsgd_model_shape(run->model, &spec, NULL, NULL) != GSGD_STATUS_OK || !spec)
        spec = run->v[O_MODEL];
    r->data = run->v[O_DATA];
    r->test_data = run->v[O_TEST];
    r->model = spec;
    r->optim = cli_optim_name((int)cli_train_param(run->opts, GSGD_OPTIMIZER));
    r->schedule = cli_schedule_name((int)cli_train_param(run->opts, GSGD_SCHEDULE));
    r->device = cli_device_name(gsgd_context_device(run->ctx));
    r->lr = r->res.lr;
    r->target_acc = cli_train_param(run->opts, GSGD_TARGET_ACC);
    cli_report_line(stdout, r);
    fflush(stdout);

    cli_outfile summary = {0};
    if (run->v[O_SUMMARY]) {
        if (cli_outfile_open(&summary, run->v[O_SUMMARY]) != 0) {
            cli_error("--summary: cannot write '%s': %s", run->v[O_SUMMARY], strerror(errno));
            return CLI_USAGE;
        }
        cli_report_json(summary.f, r);
    }
    if (run->v[O_SAVE]) {
        gsgd_status st = gsgd_trainer_save(run->tr, run->v[O_SAVE]);
        if (st != GSGD_STATUS_OK) {
            cli_outfile_abort(&summary);
            return cli_fail(run->ctx, st);
        }
    }
    if (run->v[O_SUMMARY] && cli_outfile_commit(&summary) != 0) {
        int e = errno;
        if (run->v[O_SAVE]) remove(run->v[O_SAVE]);
        cli_error("--summary: cannot write '%s': %s", run->v[O_SUMMARY], strerror(e));
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int run_train(train_run *run) {
    const char **v = run->v;
    if (!v[O_DATA] || (!v[O_MODEL] && !v[O_RESUME])) {
        cli_error("train: %s is required (see 'gsgd train --help')",
                  !v[O_DATA] ? "--data SPEC" : "--model MODEL");
        return CLI_USAGE;
    }
    int rc = cli_train_check_checkpoint_options(run);
    if (rc == CLI_OK) rc = v[O_RESUME] ? cli_train_resume_options(run) : build_options(run);
    if (rc == CLI_OK && v[O_SHARD] && !v[O_DISTRIBUTED]) {
        cli_error("--shard needs --distributed");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && v[O_DISTRIBUTED]) rc = cli_dist_begin(&run->dist);
    /* Ranks that planned their own batch could take different numbers of
     * steps and wait on each other forever: the batch is given. */
    if (rc == CLI_OK && v[O_DISTRIBUTED] &&
        (!v[O_BATCH] || !*v[O_BATCH] || strspn(v[O_BATCH], "0123456789") != strlen(v[O_BATCH]))) {
        cli_error("--distributed needs --batch N, the batch of each rank");
        rc = CLI_USAGE;
    }
    const int root = run->dist.rank == 0;
    /* Refuse unusable output paths now rather than after a long run. */
    if (rc == CLI_OK && v[O_SAVE]) rc = cli_check_writable("--save", v[O_SAVE]);
    if (rc == CLI_OK && v[O_SUMMARY]) rc = cli_check_writable("--summary", v[O_SUMMARY]);
    if (rc == CLI_OK && v[O_LOG]) rc = cli_check_writable("--log", v[O_LOG]);
    char dev_buf[32];
    const char *device = v[O_DISTRIBUTED]
                             ? cli_dist_device(&run->dist, v[O_DEVICE], dev_buf, sizeof dev_buf)
                             : v[O_DEVICE];
    if (rc == CLI_OK) rc = cli_context_open(device, v[O_QUIET] != NULL || !root, &run->ctx);
    if (rc == CLI_OK) rc = load_data(run);
    if (rc == CLI_OK) rc = create_model(run);
    /* Shards are cut after create_model, so that --standardize uses the
     * statistics of the whole training set on every rank. */
    if (rc == CLI_OK && v[O_DISTRIBUTED])
        rc = cli_dist_prepare_data(&run->dist, run->ctx, v[O_SHARD] != NULL, &run->train);
    if (rc == CLI_OK) rc = train(run);
    if (rc == CLI_OK && root) rc = finish(run);
    return rc;
}

int cli_cmd_train(int argc, char **argv) {
    train_run run;
    memset(&run, 0, sizeof run);
    cli_optdef options[O_COUNT + 1];
    cli_train_option_table(options);
    int rc = cli_parse_options("train", argc, argv, options, run.v);
    if (rc != CLI_OK) return rc;
    if (run.v[O_HELP]) {
        cli_usage_train(stdout);
        return CLI_OK;
    }
    rc = run_train(&run);
    /* Children before their context, in reverse order of creation. */
    gsgd_trainer_free(run.tr);
    gsgd_model_free(run.model);
    gsgd_dataset_free(run.test);
    gsgd_dataset_free(run.train);
    gsgd_options_free(run.opts);
    gsgd_context_free(run.ctx);
    cli_dist_end(&run.dist, rc);
    return rc;
}
