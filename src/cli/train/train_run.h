/*
 * One `gsgd train` run, shared by cmd_train.c (options, data, model,
 * training, outputs) and train_resume.c (--resume, --checkpoint-every and
 * the signal handling around training).
 */
#ifndef GSGD_CLI_TRAIN_RUN_H
#define GSGD_CLI_TRAIN_RUN_H

#include "cli/args.h"
#include "cli/train/ckpt.h"
#include "cli/train/distributed.h"
#include "cli/optimopts.h"
#include "cli/progress.h"
#include "cli/report.h"

/* train's options: run->v[O_...] is the value given, or NULL. */
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

/* The whole table: train's own options, then optimopts.h's, then the
 * terminating {NULL, 0}; defs holds O_COUNT + 1 entries. */
void cli_train_option_table(cli_optdef *defs);

/* Sets the options given that map one-to-one onto a library parameter
 * (--epochs, --target-acc, --seed) in run->opts. */
int cli_train_set_params(train_run *run);

/* opts' value of p (0 if it cannot be read). */
double cli_train_param(const gsgd_options *opts, gsgd_param p);

#endif
