/* Learning-rate schedules, LR_SCALING and warmup: the rate of each step. */
#ifndef GSGD_OPTIM_SCHEDULE_H
#define GSGD_OPTIM_SCHEDULE_H

#include <stddef.h>

#include "core/options.h"

/* EPOCHS 0 with COSINE and COSINE_PERIOD 0 (gsgdi_cooldown_applies): the
 * rate holds until the loop finds the loss stopped improving, then one
 * half cosine cycle of `epochs` epochs runs from epoch `from` (0-based)
 * down to LR_MIN. epochs 0: none scheduled yet. */
typedef struct {
    int from, epochs;
    int capped; /* placed to end at MAX_EPOCHS, the loss still improving */
} gsgdi_cooldown;

/* Whether opts' schedule takes a cooldown under EPOCHS 0. */
int gsgdi_cooldown_applies(const gsgd_options *o);
/* Epochs of the cooldown that follows `epochs` epochs trained:
 * max(1, round(COOLDOWN x epochs)). */
int gsgdi_cooldown_epochs(const gsgd_options *o, int epochs);
/* The resolved TOL: the given value, or for -1 scikit-learn's 1e-3 under
 * EPOCHS 0 and 0 (no early stop) with a given EPOCHS. */
double gsgdi_tol(const gsgd_options *o);

/* Whether the schedule changes the rate within every epoch. */
int gsgdi_schedule_per_step(const gsgd_options *o);
/* Whether the schedule (or a warmup) changes the rate within an epoch, so
 * that the trainer keeps one rate per step. */
int gsgdi_lr_per_step(const gsgd_options *o);
/* The schedule's rate (before LR_SCALING and warmup) at step `step` of
 * 0-based epoch `epoch` with steps_per_epoch steps per epoch; cd (may be
 * NULL: none) is the cooldown of EPOCHS 0. */
double gsgdi_schedule_lr(const gsgd_options *o, const gsgdi_cooldown *cd, int epoch, size_t step,
                         size_t steps_per_epoch);
/* Learning rate of a 0-based epoch's first step under opts' schedule. */
double gsgdi_lr_at_epoch(const gsgd_options *o, int epoch);
/* Factor LR_SCALING applies for a (global) batch B: 1, B / LR_REF_BATCH or
 * sqrt(B / LR_REF_BATCH). */
double gsgdi_lr_scale(const gsgd_options *o, size_t B);
/* Learning rate of step `step` (0-based, within the epoch) of 0-based epoch
 * `epoch` (cd: as gsgdi_schedule_lr's), for batch B with steps_per_epoch steps per epoch: the
 * schedule's rate times gsgdi_lr_scale, ramped during WARMUP. */
double gsgdi_lr_at_step(const gsgd_options *o, const gsgdi_cooldown *cd, size_t B,
                        size_t steps_per_epoch, int epoch, size_t step);
/* Steps of warmup for steps_per_epoch steps per epoch (0 without). */
size_t gsgdi_warmup_steps(const gsgd_options *o, size_t steps_per_epoch);

#endif
