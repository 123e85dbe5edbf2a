/* The result of `gsgd train`: the final stdout line and the --summary JSON;
 * and the planner's --batch fastest curve. */
#ifndef GSGD_CLI_REPORT_H
#define GSGD_CLI_REPORT_H

#include <stdio.h>

#include "cli/cli.h"
#include "cli/train/startup.h"
#include "gsgd.h"

typedef struct {
    const char *data;           /* --data spec */
    const char *test_data;      /* --test spec, or NULL */
    const char *model;          /* model spec */
    const char *optim;          /* optimizer name */
    const char *schedule;       /* learning-rate schedule name */
    const char *precision;      /* the step's products: "fp32", "tf32", "bf16" */
    const char *device;         /* "cpu" or "cuda" */
    double lr;                  /* initial learning rate in effect */
    double target_acc;          /* 0 when no target was set */
    int epochs_asked;           /* --epochs N, or 0 for auto */
    int max_epochs;             /* --max-epochs */
    int n_iter_no_change;       /* --n-iter-no-change */
    double tol;                 /* --tol in effect (-1 resolved) */
    int validation;             /* 1 with --validation-fraction: its accuracy is monitored */
    const cli_scaling *scaling; /* what --standardize decided, or NULL */
    gsgd_train_result res;
    const gsgd_model *model_handle; /* the model trained */
    const gsgd_metrics *metrics;    /* its figures on the test set, or NULL */
    const cli_breakdown *breakdown; /* where the run's time went, or NULL */
} cli_train_report;

/* "test accuracy 0.8451  log loss 0.4398  macro F1 0.8432  train loss
 * 0.4312 (cross-entropy)  12 epochs  batch 128 ..."; regression "test r2
 * ... rmse ... mae ... mse ...". */
void cli_report_line(FILE *f, const cli_train_report *r);
/* "stopped: converged after 334 epochs (...)": why training ended, from
 * res.stop_reason; one line. */
void cli_report_stop(FILE *f, const cli_train_report *r);
/* The JSON name of a gsgd_stop_reason ("converged"). */
const char *cli_stop_reason_name(int reason);
/* One JSON object; NaN values (no test set, target not reached) as null.
 * test_loss is the loss trained on (half the mse for linear); the test
 * set's figures follow (cli_metrics_json). */
void cli_report_json(FILE *f, const cli_train_report *r);

/* "batch 32: 1.2M samples/s, 64: ..." for a plan made with --batch
 * fastest (train and plan print it on stderr); nothing for other plans. */
void cli_print_curve(FILE *f, const gsgd_batch_plan *plan);

#endif
