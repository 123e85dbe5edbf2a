/* `gsgd train`'s checkpoints and resuming (train_resume.c). */
#ifndef GSGD_CLI_TRAIN_RESUME_H
#define GSGD_CLI_TRAIN_RESUME_H

#include "cli/train/train_run.h"

/* --checkpoint-every needs --save; neither it nor --resume works across
 * ranks yet. */
int cli_train_check_checkpoint_options(const train_run *run);

/* --resume: the checkpoint's options (batch included), then --epochs,
 * --target-acc and the memory limits as given. */
int cli_train_resume_options(train_run *run);

/* Runs gsgd_train with the checkpointing callback and the signal handlers
 * in place. Without progress output or a target, the test set is evaluated
 * once after training rather than after every epoch, as gsgd_train would
 * for a callback: the callback is there for the signals only. */
gsgd_status cli_train_with_checkpoints(train_run *run, int want);

#endif
