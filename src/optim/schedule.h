/* Learning-rate schedules, LR_SCALING and warmup: the rate of each step. */
#ifndef GSGD_OPTIM_SCHEDULE_H
#define GSGD_OPTIM_SCHEDULE_H

#include <stddef.h>

#include "core/options.h"

/* Whether the schedule changes the rate within every epoch. */
int gsgdi_schedule_per_step(const gsgd_options *o);
/* Whether the schedule (or a warmup) changes the rate within an epoch, so
 * that the trainer keeps one rate per step. */
int gsgdi_lr_per_step(const gsgd_options *o);
/* The schedule's rate (before LR_SCALING and warmup) at step `step` of
 * 0-based epoch `epoch` with steps_per_epoch steps per epoch. */
double gsgdi_schedule_lr(const gsgd_options *o, int epoch, size_t step, size_t steps_per_epoch);
/* Learning rate of a 0-based epoch's first step under opts' schedule. */
double gsgdi_lr_at_epoch(const gsgd_options *o, int epoch);
/* Factor LR_SCALING applies for a (global) batch B: 1, B / LR_REF_BATCH or
 * sqrt(B / LR_REF_BATCH). */
double gsgdi_lr_scale(const gsgd_options *o, size_t B);
/* Learning rate of step `step` (0-based, within the epoch) of 0-based epoch
 * `epoch`, for batch B with steps_per_epoch steps per epoch: the schedule's
 * rate times gsgdi_lr_scale, ramped during WARMUP. */
double gsgdi_lr_at_step(const gsgd_options *o, size_t B, size_t steps_per_epoch, int epoch,
                        size_t step);
/* Steps of warmup for steps_per_epoch steps per epoch (0 without). */
size_t gsgdi_warmup_steps(const gsgd_options *o, size_t steps_per_epoch);

#endif
