/*
 * One `gsgd train` run, shared by cmd_train.c (options, data, model,
 * training, outputs) and train_resume.c (--resume, --checkpoint-every and
 * the signal handling around training).
 */
#ifndef GSGD_CLI_TRAIN_RUN_H
#define GSGD_CLI_TRAIN_RUN_H

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/progress.h"
#include "cli/report.h"
#include "cli/train/ckpt.h"
#include "cli/train/distributed.h"
#include "cli/train/startup.h"

typedef struct {
    cli_session s; /* the options given, data and model */
    gsgd_trainer *tr;
    cli_progress pr;
    cli_ckpt ck; /* the progress callback's state: checkpoints, signals */
    cli_train_report rep;
    gsgd_metrics *metrics; /* the test set's, after training */
    cli_dist dist;         /* --distributed: this process's rank (0 when alone) */
    cli_startup su;        /* the data read beside the context; the run's breakdown */
    cli_scaling scaling;   /* what --standardize decided */
} train_run;

#endif
