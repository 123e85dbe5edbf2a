/*
 * `gsgd train`: options -> gsgd_options, load data, create the model, train
 * with live progress, then (only after success) save the checkpoint and
 * write the summary. With --resume the model and the options come from a
 * checkpoint instead, and training continues where it stopped.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "args.h"
#include "ckpt.h"
#include "cli.h"
#include "distributed.h"
#include "optimopts.h"
#include "outfile.h"
#include "planopts.h"
#include "progress.h"
#include "report.h"
#include "usage.h"

enum {
    O_DATA,
    O_TEST,
    O_MODEL,
    O_BATCH,
    O_MAX_BATCH,
    O_MEM_LIMIT,
    O_MEM_HEADROOM,
    O_MEM_RESERVE,
    O_LR_SCALING,
    O_LR_REF_BATCH,
    O_WARMUP,
    O_EPOCHS,
    O_TARGET_ACC,
    O_DEVICE,
    O_SEED,
    O_SAVE,
    O_RESUME,
    O_CHECKPOINT_EVERY,
    O_STANDARDIZE,
    O_SUMMARY,
    O_LOG,
    O_QUIET,
    O_DISTRIBUTED,
    O_SHARD,
    O_HELP,
    O_OPTIM_FIRST, /* the CLI_OPTIM_N options of optimopts.h follow */
    O_COUNT = O_OPTIM_FIRST + CLI_OPTIM_N
};

/* Same order as the enum above, up to O_OPTIM_FIRST. */
static const cli_optdef OWN_OPTIONS[O_OPTIM_FIRST] = {
    {"--data", 1},         {"--test", 1},         {"--model", 1},
    {"--batch", 1},        {"--max-batch", 1},    {"--mem-limit", 1},
    {"--mem-headroom", 1}, {"--mem-reserve", 1},  {"--lr-scaling", 1},
    {"--lr-ref-batch", 1}, {"--warmup", 1},       {"--epochs", 1},
    {"--target-acc", 1},   {"--device", 1},       {"--seed", 1},
    {"--save", 1},         {"--resume", 1},       {"--checkpoint-every", 1},
    {"--standardize", 0},  {"--summary", 1},      {"--log", 1},
    {"--quiet", 0},        {"--distributed", 0},  {"--shard", 0},
    {"--help", 0}};

/* The whole table: train's own options, then optimopts.h's. */
static void option_table(cli_optdef *defs) {
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

typedef struct {
    const char *v[O_COUNT];
    gsgd_options *opts;
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    gsgd_trainer *tr;
    cli_progress pr;
    cli_ckpt ck; /* the progress callback's state: checkpoints, signals */
    cli_train_report rep;
    cli_dist dist; /* --distributed: this process's rank (0 when alone) */
} train_run;

static double get_param(const gsgd_options *opts, gsgd_param p) {
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
    for (size_t k = 0; k < sizeof PARAMS / sizeof PARAMS[0]; k++) {
        const char *s = v[PARAMS[k].opt];
        if (!s) continue;
        int rc = cli_set_param(run->opts, PARAMS[k].param, OWN_OPTIONS[PARAMS[k].opt].name, s,
                               PARAMS[k].integer);
        if (rc != CLI_OK) return rc;
    }
    return cli_optim_options(run->opts, v + O_OPTIM_FIRST);
}

/* Options that may go with --resume: they choose the data, the device,
 * the outputs and how long to go on, never the steps themselves. */
static int allowed_with_resume(int opt) {
    switch (opt) {
    case O_DATA: case O_TEST: case O_EPOCHS: case O_TARGET_ACC: case O_DEVICE:
    case O_SAVE: case O_RESUME: case O_CHECKPOINT_EVERY: case O_SUMMARY: case O_LOG:
    case O_QUIET: case O_MEM_LIMIT: case O_MEM_HEADROOM: case O_MEM_RESERVE: case O_HELP:
        return 1;
    default:
        return 0;
    }
}

/* --resume: the checkpoint's options (batch included), then --epochs,
 * --target-acc and the memory limits as given. */
static int build_resume_options(train_run *run) {
    const char **v = run->v;
    cli_optdef defs[O_COUNT + 1];
    option_table(defs);
    for (int k = 0; k < O_COUNT; k++)
        if (v[k] && !allowed_with_resume(k)) {
            cli_error("%s cannot be given with --resume: the run goes on with the model, "
                      "optimizer, batch and seed of the checkpoint",
                      defs[k].name);
            return CLI_USAGE;
        }
    gsgd_status st = gsgd_options_create(&run->opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    st = gsgd_checkpoint_options(NULL, v[O_RESUME], run->opts, NULL, NULL);
    if (st != GSGD_STATUS_OK) {
        cli_error("--resume: %s", gsgd_last_error(NULL));
        return cli_exit_code(st);
    }
    /* A cosine cycle over all of EPOCHS keeps the saved run's length. */
    if (v[O_EPOCHS] && get_param(run->opts, GSGD_SCHEDULE) == GSGD_SCHEDULE_COSINE &&
        get_param(run->opts, GSGD_COSINE_PERIOD) == 0)
        (void)gsgd_set(run->opts, GSGD_COSINE_PERIOD, get_param(run->opts, GSGD_EPOCHS));
    cli_plan_args plan = {.mem_limit = v[O_MEM_LIMIT],
                          .mem_headroom = v[O_MEM_HEADROOM],
                          .mem_reserve = v[O_MEM_RESERVE]};
    int rc = cli_plan_options(run->opts, &plan);
    for (size_t k = 0; rc == CLI_OK && k < sizeof PARAMS / sizeof PARAMS[0]; k++)
        if (v[PARAMS[k].opt])
            rc = cli_set_param(run->opts, PARAMS[k].param, OWN_OPTIONS[PARAMS[k].opt].name,
                               v[PARAMS[k].opt], PARAMS[k].integer);
    return rc;
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
        int k = 0, tk = 0;
        gsgd_dataset_shape(run->train, NULL, &d, &k);
        gsgd_dataset_shape(run->test, NULL, &td, &tk);
        /* A test set may lack some classes, but never has more features or
         * classes than the model trained on --data can handle. */
        if (td != d || tk > k) {
            cli_error("--test %s: %zu features and %d classes, but --data %s has %zu and %d",
                      run->v[O_TEST], td, tk, run->v[O_DATA], d, k);
            return CLI_USAGE;
        }
    }
    if (!run->test && get_param(run->opts, GSGD_TARGET_ACC) > 0)
        cli_warn("--target-acc needs a test set; '%s' has none and no --test was given",
                 run->v[O_DATA]);
    return CLI_OK;
}

static int create_model(train_run *run) {
    if (run->v[O_RESUME]) { /* its parameters are replaced by gsgd_trainer_resume */
        gsgd_status st = gsgd_model_load(run->ctx, run->v[O_RESUME], &run->model);
        return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(run->ctx, st);
    }
    size_t d = 0;
    int k = 0;
    gsgd_status st = gsgd_dataset_shape(run->train, NULL, &d, &k);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    /* One --seed drives both the initialisation and the shuffle. */
    uint64_t seed = (uint64_t)get_param(run->opts, GSGD_SEED);
    st = gsgd_model_create(run->ctx, run->v[O_MODEL], d, k, seed, &run->model);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    if (run->v[O_STANDARDIZE]) {
        st = gsgd_model_fit_standardizer(run->model, run->train);
        if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    }
    return CLI_OK;
}

static int report_log_error(const train_run *run) {
    cli_error("--log: cannot write '%s': %s", run->v[O_LOG], strerror(run->pr.log_errno));
    return CLI_USAGE;
}

/* Runs gsgd_train with the checkpointing callback and the signal handlers
 * in place. Without progress output or a target, the test set is evaluated
 * once after training rather than after every epoch, as gsgd_train would
 * for a callback: the callback is there for the signals only. */
static gsgd_status train_with_checkpoints(train_run *run, int want) {
    run->ck = (cli_ckpt){.tr = run->tr,
                         .ctx = run->ctx,
                         .path = run->v[O_SAVE],
                         .pr = want ? &run->pr : NULL};
    if (run->v[O_CHECKPOINT_EVERY]) run->ck.every = strtoul(run->v[O_CHECKPOINT_EVERY], NULL, 10);
    const int per_epoch = want || get_param(run->opts, GSGD_TARGET_ACC) > 0;
    cli_stop_install();
    gsgd_status st = gsgd_train(run->tr, per_epoch ? run->test : NULL, cli_ckpt_cb, &run->ck,
                                &run->rep.res);
    cli_stop_restore();
    if (st == GSGD_STATUS_OK && !per_epoch && run->test) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        gsgd_eval_result ev;
        st = gsgd_trainer_evaluate(run->tr, run->test, &ev);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        run->rep.res.test_accuracy = ev.accuracy;
        run->rep.res.test_loss = ev.loss;
        /* seconds covers the evaluation, as when gsgd_train does it */
        run->rep.res.seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    }
    return st;
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
        int rc = cli_dist_attach(&run->dist, run->ctx, run->model, run->tr,
                                 run->v[O_SHARD] != NULL);
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
        st = gsgd_train(run->tr, run->test, want ? cli_progress_cb : NULL, &run->pr,
                        &run->rep.res);
    else
        st = train_with_checkpoints(run, want);
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
    r->optim = cli_optim_name((int)get_param(run->opts, GSGD_OPTIMIZER));
    r->schedule = cli_schedule_name((int)get_param(run->opts, GSGD_SCHEDULE));
    r->device = cli_device_name(gsgd_context_device(run->ctx));
    r->lr = r->res.lr;
    r->target_acc = get_param(run->opts, GSGD_TARGET_ACC);
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

/* --checkpoint-every needs --save; neither it nor --resume works across
 * ranks yet. */
static int check_checkpoint_options(const train_run *run) {
    const char *const *v = run->v;
    if (v[O_DISTRIBUTED] && (v[O_RESUME] || v[O_CHECKPOINT_EVERY])) {
        cli_error("%s is not supported with --distributed",
                  v[O_RESUME] ? "--resume" : "--checkpoint-every");
        return CLI_USAGE;
    }
    if (!v[O_CHECKPOINT_EVERY]) return CLI_OK;
    uint64_t every = 0;
    int rc = cli_parse_u64("--checkpoint-every", v[O_CHECKPOINT_EVERY], &every);
    if (rc != CLI_OK) return rc;
    if (every == 0 || every > 1000000) {
        cli_error("--checkpoint-every: '%s' is not in [1, 1000000] epochs",
                  v[O_CHECKPOINT_EVERY]);
        return CLI_USAGE;
    }
    if (!v[O_SAVE]) {
        cli_error("--checkpoint-every needs --save F, the checkpoint file to write");
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
    int rc = check_checkpoint_options(run);
    if (rc == CLI_OK) rc = v[O_RESUME] ? build_resume_options(run) : build_options(run);
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
    option_table(options);
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
