/*
 * Checkpoints of `gsgd train`: --checkpoint-every, and a checkpoint when
 * SIGINT or SIGTERM stops the run.
 *
 * The handlers only set a flag (nothing else is async-signal-safe to do
 * there); the progress callback, installed for every run, sees it at the
 * next CHECK_EVERY steps or epoch end and stops training, which leaves the
 * trainer at a consistent point that the checkpoint captures. The handlers
 * reset themselves: a second signal ends the process at once, which a
 * checkpoint being written survives (gsgd_trainer_save is atomic).
 */
#ifndef GSGD_CLI_CKPT_H
#define GSGD_CLI_CKPT_H

#include "gsgd.h"
#include "cli/progress.h"

/* Where the checkpoint of a run interrupted without --save goes. */
#define CLI_INTERRUPTED_PATH "gsgd-interrupted.ckpt"

typedef struct {
    gsgd_trainer *tr;
    gsgd_context *ctx;
    const char *path;    /* --save, or NULL */
    unsigned long every; /* --checkpoint-every N epochs; 0 = never */
    cli_progress *pr;    /* progress output, or NULL when none is wanted */
    gsgd_progress last;  /* the latest progress the library reported */
    int save_failed;     /* a periodic save failed: message in error */
    int save_exit;       /* its exit code */
    int auto_epochs;     /* --epochs auto (EPOCHS 0): its resume goes on as it was */
    char error[1024];
} cli_ckpt;

/* Installs the SIGINT/SIGTERM handlers; cli_stop_restore puts back the
 * ones before. cli_stop_signal is the signal received (0 = none). */
void cli_stop_install(void);
void cli_stop_restore(void);
int cli_stop_signal(void);

/* The gsgd_progress_fn of a training run; user is a cli_ckpt. Forwards to
 * cli_progress_cb, saves every c->every epochs, and stops training when a
 * signal came or a save failed. */
int cli_ckpt_cb(const gsgd_progress *p, void *user);

/* After a signal stopped training: saves the checkpoint (--save's path or
 * CLI_INTERRUPTED_PATH), prints one line saying where and how to resume
 * (data is --data, for the command to print) and returns 128 + the signal,
 * or the exit code of a failed save. */
int cli_ckpt_interrupted(cli_ckpt *c, const char *data);

#endif
