/*
 * `gsgd train`: options -> gsgd_options, load data, create the model, train
 * with live progress, then (only after success) save the checkpoint and
 * write the summary. With --resume the model and the options come from a
 * checkpoint instead, and training continues where it stopped: exactly on
 * the same data, as partial_fit on other data.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/data.h"
#include "cli/metrics_out.h"
#include "cli/optset.h"
#include "cli/outfile.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/train/ckpt.h"
#include "cli/train/distributed.h"
#include "cli/train/train_resume.h"
#include "cli/train/train_run.h"
#include "optim/schedule.h"

/* Loads --data and --test (against the checkpoint's model on --resume);
 * a target needs a test set. */
static int load_data(train_run *run) {
    const char *const *v = run->s.v;
    int rc = cli_startup_load_data(&run->su, &run->s, (uint64_t)cli_get(run->s.opts, GSGD_SEED));
    if (rc != CLI_OK) return rc;
    if (!run->s.test && cli_get(run->s.opts, GSGD_TARGET_ACC) > 0)
        cli_warn("--target-acc needs a test set; '%s' has none and no --test was given",
                 v[CLI_O_DATA]);
    return CLI_OK;
}

/* Says what each split holds, the training line with the scaling the
 * model applies to it. */
static void describe_data(const train_run *run) {
    if (run->s.v[CLI_O_QUIET] || run->dist.rank != 0) return;
    cli_describe_data_note("train", run->s.train, run->scaling.note);
    cli_describe_data("test", run->s.test);
}

/* --resume: says whether the checkpoint's model has a scaler, which the
 * resume restores whatever the data: nothing is decided again. */
static int resume_scaling(train_run *run) {
    gsgd_options *off = NULL;
    int scaled = 0;
    gsgd_status st = gsgd_options_create(&off);
    if (st == GSGD_STATUS_OK) st = gsgd_set(off, GSGD_STANDARDIZE, GSGD_STANDARDIZE_OFF);
    /* OFF fits nothing: it only says whether the model has a scaler. */
    if (st == GSGD_STATUS_OK)
        st = gsgd_model_standardize(run->s.model, run->s.train, off, &scaled, NULL);
    gsgd_options_free(off);
    run->scaling = (cli_scaling){.scaled = scaled, .ratio = NAN};
    snprintf(run->scaling.note, sizeof run->scaling.note, "%s",
             scaled ? "standardized (the checkpoint's scaler)"
                    : "not standardized (as the checkpoint)");
    return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(run->s.ctx, st);
}

static int create_model(train_run *run) {
    const char *const *v = run->s.v;
    if (v[CLI_O_RESUME]) { /* its parameters are replaced by the resume */
        gsgd_status st = gsgd_model_load(run->s.ctx, v[CLI_O_RESUME], &run->s.model);
        return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(run->s.ctx, st);
    }
    /* One --seed drives both the initialisation and the shuffle. */
    int rc = cli_model_for(run->s.ctx, v[CLI_O_MODEL], run->s.train,
                           (uint64_t)cli_get(run->s.opts, GSGD_SEED), &run->s.model);
    /* --standardize (auto by default) decides and fits once, on all of the
     * training set: before --shard cuts it (the same scaler on every rank)
     * and before gsgd_trainer_create, which keeps a scaler the model has. */
    if (rc == CLI_OK)
        rc = cli_standardize(run->s.ctx, run->s.model, run->s.train, run->s.opts, &run->scaling);
    return rc;
}

/* create_model, its seconds in the breakdown. */
static int timed_model(train_run *run) {
    const double t = cli_startup_now(&run->su);
    const int rc = create_model(run);
    run->su.b.model_s = cli_startup_now(&run->su) - t;
    return rc;
}

/* --resume: exactly on F's data; on other data (or with --new-data) as
 * partial_fit, saying so, since that is not an exact resume. An exact
 * resume refuses other data with SHAPE_MISMATCH and leaves the trainer
 * as it was, so the second try starts clean. */
static int resume(train_run *run) {
    const char *const *v = run->s.v;
    const char *path = v[CLI_O_RESUME];
    gsgd_status st = GSGD_STATUS_SHAPE_MISMATCH;
    if (!v[CLI_O_NEW_DATA]) st = gsgd_trainer_resume(run->tr, path);
    if (st != GSGD_STATUS_SHAPE_MISMATCH)
        return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(run->s.ctx, st);
    st = gsgd_trainer_resume_new_data(run->tr, path);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    const char *what = "going on from %s on new data, as scikit-learn's partial_fit: not an "
                       "exact resume (a fresh epoch over these rows, early stopping started over)";
    if (!v[CLI_O_NEW_DATA]) {
        fputs("gsgd: warning: --data differs from the run of --resume: ", stderr);
        fprintf(stderr, what, path);
        fputs(" (--new-data says it is meant)\n", stderr);
    } else if (!v[CLI_O_QUIET]) {
        fputs("gsgd: ", stderr);
        fprintf(stderr, what, path);
        fputc('\n', stderr);
    }
    return CLI_OK;
}

/* The log's failure was said when it happened (progress.c). */
static int report_log_error(const train_run *run) { return run->pr.log_exit; }

static int train(train_run *run) {
    const char *const *v = run->s.v;
    const double t_plan = cli_startup_now(&run->su);
    gsgd_status st = gsgd_trainer_create(run->s.model, run->s.train, run->s.opts, &run->tr);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    if (v[CLI_O_RESUME]) {
        int rc = resume(run);
        if (rc != CLI_OK) return rc;
    }
    run->su.b.plan_s = cli_startup_now(&run->su) - t_plan;
    const gsgd_batch_plan *plan = NULL;
    if (!v[CLI_O_QUIET] && gsgd_trainer_plan(run->tr, &plan) == GSGD_STATUS_OK)
        cli_print_curve(stderr, plan);
    const int root = run->dist.rank == 0; /* only rank 0 reports and writes */
    if (v[CLI_O_DISTRIBUTED]) {
        int rc =
            cli_dist_attach(&run->dist, run->s.ctx, run->s.model, run->tr, v[CLI_O_SHARD] != NULL);
        if (rc != CLI_OK) return rc;
        if (root && !v[CLI_O_QUIET])
            fprintf(stderr, "gsgd: %d ranks x batch %s = global batch %.0f%s\n", run->dist.size,
                    v[CLI_O_BATCH], atof(v[CLI_O_BATCH]) * run->dist.size,
                    v[CLI_O_SHARD] ? ", each rank on its own shard" : "");
    }
    const int auto_epochs = cli_get(run->s.opts, GSGD_EPOCHS) == 0;
    cli_progress_init(&run->pr, v[CLI_O_QUIET] != NULL || !root, root ? v[CLI_O_LOG] : NULL,
                      auto_epochs ? (int)cli_get(run->s.opts, GSGD_MAX_EPOCHS) : 0);
    int want = cli_progress_wanted(&run->pr);
    /* Ranks must stop at the same step: no signals or checkpoints there. */
    if (v[CLI_O_DISTRIBUTED])
        st = gsgd_train(run->tr, run->s.test, want ? cli_progress_cb : NULL, &run->pr,
                        &run->rep.res);
    else
        st = cli_train_with_checkpoints(run, want);
    if (st == GSGD_STATUS_OK && v[CLI_O_DISTRIBUTED]) {
        size_t n = 0;
        gsgd_dataset_shape(run->s.train, &n, NULL, NULL);
        cli_dist_global_loss(&run->dist, &run->rep.res, n, v[CLI_O_SHARD] != NULL);
        run->dist.in_collective = 0;
    }
    int log_ok = cli_progress_finish(&run->pr) == 0;
    if (st == GSGD_STATUS_INTERRUPTED && run->ck.save_failed) {
        cli_error("%s", run->ck.error);
        return run->ck.save_exit;
    }
    if (st == GSGD_STATUS_INTERRUPTED && cli_stop_signal())
        return cli_ckpt_interrupted(&run->ck, v[CLI_O_DATA]);
    if (st == GSGD_STATUS_INTERRUPTED && run->pr.log_exit) return report_log_error(run);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    if (!log_ok) return report_log_error(run);
    return CLI_OK;
}

/* The test set's figures, measured as gsgd eval and gsgd predict do
 * (1024 rows at a time), so all three agree exactly. */
static int measure(train_run *run) {
    cli_train_report *r = &run->rep;
    r->model_handle = run->s.model;
    if (!run->s.test) return CLI_OK;
    gsgd_status st = gsgd_evaluate_metrics(run->s.model, run->s.test, &run->metrics);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    r->metrics = run->metrics;
    r->res.test_accuracy = cli_metric(run->metrics, GSGD_METRIC_ACCURACY);
    r->res.test_loss = cli_metric(run->metrics, GSGD_METRIC_LOSS);
    return CLI_OK;
}

/* Result line (and --report), then the summary and the model. The summary
 * is written to its temporary file before the model is saved and
 * published after, so a failure in either leaves neither file behind. */
static int finish(train_run *run) {
    const char *const *v = run->s.v;
    cli_train_report *r = &run->rep;
    const double t_measure = cli_startup_now(&run->su);
    int rc = measure(run);
    if (rc != CLI_OK) return rc;
    const double measure_s = cli_startup_now(&run->su) - t_measure;
    const char *spec = NULL;
    if (gsgd_model_shape(run->s.model, &spec, NULL, NULL) != GSGD_STATUS_OK || !spec)
        spec = v[CLI_O_MODEL];
    r->data = v[CLI_O_DATA];
    r->test_data = v[CLI_O_TEST];
    r->model = spec;
    r->optim = cli_optim_name((int)cli_get(run->s.opts, GSGD_OPTIMIZER));
    r->schedule = cli_schedule_name((int)cli_get(run->s.opts, GSGD_SCHEDULE));
    r->device = cli_device_name(gsgd_context_device(run->s.ctx));
    r->lr = r->res.lr;
    r->target_acc = cli_get(run->s.opts, GSGD_TARGET_ACC);
    r->epochs_asked = (int)cli_get(run->s.opts, GSGD_EPOCHS);
    r->max_epochs = (int)cli_get(run->s.opts, GSGD_MAX_EPOCHS);
    r->n_iter_no_change = (int)cli_get(run->s.opts, GSGD_N_ITER_NO_CHANGE);
    r->tol = gsgdi_tol(run->s.opts); /* -1 resolved */
    r->validation = cli_get(run->s.opts, GSGD_VALIDATION_FRACTION) > 0;
    r->scaling = &run->scaling;
    r->precision = cli_choice_name(CLI_O_PRECISION, (int)cli_get(run->s.opts, GSGD_PRECISION));
    cli_startup_finish(&run->su, &r->res, measure_s);
    r->breakdown = &run->su.b;
    FILE *out = cli_results_stream(); /* stderr when --summary or --log took stdout */
    cli_report_line(out, r);
    cli_report_stop(out, r);
    if (v[CLI_O_REPORT] && r->metrics) rc = cli_metrics_report(out, r->metrics, run->s.model);
    if (v[CLI_O_REPORT] && !r->metrics)
        cli_warn("--report: no test set to report on (give --test or --test-fraction)");
    fflush(out);
    if (rc != CLI_OK) return rc;

    cli_outfile summary = {0};
    if (v[CLI_O_SUMMARY]) {
        int rc = cli_outfile_open(&summary, "--summary", v[CLI_O_SUMMARY]);
        if (rc != CLI_OK) return rc;
        cli_report_json(summary.f, r);
    }
    if (v[CLI_O_SAVE]) {
        gsgd_status st = gsgd_trainer_save(run->tr, v[CLI_O_SAVE]);
        if (st != GSGD_STATUS_OK) {
            cli_outfile_abort(&summary);
            return cli_fail(run->s.ctx, st);
        }
    }
    if (v[CLI_O_SUMMARY]) {
        int rc = cli_outfile_commit(&summary);
        if (rc != CLI_OK) {
            if (v[CLI_O_SAVE]) remove(v[CLI_O_SAVE]);
            return rc;
        }
    }
    return CLI_OK;
}

static int run_train(train_run *run) {
    const char **v = run->s.v;
    if (!v[CLI_O_MODEL] && !v[CLI_O_RESUME]) {
        cli_error("train: --model MODEL (or --resume F) is required (see 'gsgd train --help')");
        return CLI_USAGE;
    }
    int rc = cli_train_check_checkpoint_options(run);
    if (rc == CLI_OK)
        rc = v[CLI_O_RESUME] ? cli_train_resume_options(run) : cli_options_build(&run->s.opts, v);
    if (rc == CLI_OK && v[CLI_O_SHARD] && !v[CLI_O_DISTRIBUTED]) {
        cli_error("--shard needs --distributed");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK && v[CLI_O_DISTRIBUTED]) rc = cli_dist_begin(&run->dist);
    /* Ranks that planned their own batch could take different numbers of
     * steps and wait on each other forever: the batch is given. */
    if (rc == CLI_OK && v[CLI_O_DISTRIBUTED] &&
        (!v[CLI_O_BATCH] || !*v[CLI_O_BATCH] ||
         strspn(v[CLI_O_BATCH], "0123456789") != strlen(v[CLI_O_BATCH]))) {
        cli_error("--distributed needs --batch N, the batch of each rank");
        rc = CLI_USAGE;
    }
    const int root = run->dist.rank == 0;
    /* Refuse unusable output paths now rather than after a long run. */
    if (rc == CLI_OK && v[CLI_O_SAVE]) rc = cli_check_writable("--save", v[CLI_O_SAVE]);
    if (rc == CLI_OK && v[CLI_O_SUMMARY]) rc = cli_check_output("--summary", v[CLI_O_SUMMARY], 1);
    if (rc == CLI_OK && v[CLI_O_LOG]) rc = cli_check_output("--log", v[CLI_O_LOG], 1);
    char dev_buf[32];
    const char *device = v[CLI_O_DISTRIBUTED]
                             ? cli_dist_device(&run->dist, v[CLI_O_DEVICE], dev_buf, sizeof dev_buf)
                             : v[CLI_O_DEVICE];
    if (rc == CLI_OK && v[CLI_O_NEW_DATA] && !v[CLI_O_RESUME]) {
        cli_error("--new-data needs --resume F, the checkpoint to go on from");
        rc = CLI_USAGE;
    }
    /* --data is read and decompressed on a thread while the device opens,
     * the two slowest parts of a start on a GPU; the CPU opens in no time,
     * so there the read runs in line (as everywhere with
     * GSGD_READ_AHEAD=0, for measuring what the overlap gains). */
    const char *ahead = getenv("GSGD_READ_AHEAD");
    if (rc == CLI_OK)
        rc = cli_startup_read(&run->su, &run->s, (uint64_t)cli_get(run->s.opts, GSGD_SEED),
                              !(device && strcmp(device, "cpu") == 0) &&
                                  !(ahead && strcmp(ahead, "0") == 0));
    const double t_ctx = cli_startup_now(&run->su);
    if (rc == CLI_OK)
        rc = cli_context_open(device, v[CLI_O_QUIET] != NULL || !root, v[CLI_O_VERBOSE] != NULL,
                              &run->s.ctx);
    run->su.b.context_s = cli_startup_now(&run->su) - t_ctx;
    /* On --resume the checkpoint's model decides how the data is read:
     * its features, labels and kind of target. */
    if (rc == CLI_OK && v[CLI_O_RESUME]) rc = timed_model(run);
    if (rc == CLI_OK) rc = load_data(run);
    if (rc == CLI_OK && !v[CLI_O_RESUME]) rc = timed_model(run);
    if (rc == CLI_OK && v[CLI_O_RESUME]) rc = resume_scaling(run);
    if (rc == CLI_OK) describe_data(run);
    /* Shards are cut after create_model, so that --standardize uses the
     * statistics of the whole training set on every rank. */
    if (rc == CLI_OK && v[CLI_O_DISTRIBUTED])
        rc = cli_dist_prepare_data(&run->dist, run->s.ctx, v[CLI_O_SHARD] != NULL, &run->s.train);
    if (rc == CLI_OK) rc = train(run);
    if (rc == CLI_OK && root) rc = finish(run);
    return rc;
}

int cli_cmd_train(int argc, char **argv) {
    train_run run;
    memset(&run, 0, sizeof run);
    cli_startup_begin(&run.su);
    int rc = cli_session_begin(&run.s, &CLI_CMD_TRAIN, argc, argv);
    if (rc == CLI_OK) rc = run_train(&run);
    cli_startup_end(&run.su);
    /* The trainer before the model and data it holds. */
    gsgd_trainer_free(run.tr);
    gsgd_metrics_free(run.metrics);
    rc = cli_session_end(&run.s, rc);
    cli_dist_end(&run.dist, rc);
    return rc;
}
