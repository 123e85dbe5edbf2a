/*
 * The two measurements of gsgd bench that train (bench_train.c): time to a
 * target accuracy at one batch size, and the gradient noise scale.
 */
#ifndef GSGD_CLI_BENCH_TRAIN_H
#define GSGD_CLI_BENCH_TRAIN_H

#include "cli/bench/bench.h"
#include "gsgd.h"

/* Trains a fresh model (spec, seed as opts' SEED, fitted to train's
 * standardisation opts' STANDARDIZE decides) on train with opts at
 * batch B, evaluating on test after every epoch, until test accuracy
 * reaches target or for `epochs` epochs; fills pt's ttt_* fields. A run
 * that diverges counts as not reached (*diverged = 1), not as a failure. */
gsgd_status bench_time_to_target(gsgd_context *ctx, const char *spec, const gsgd_dataset *train,
                                 const gsgd_dataset *test, const gsgd_options *opts, size_t B,
                                 double target, int epochs, bench_point *pt, int *diverged);

/* Trains a fresh model (as bench_time_to_target's) for `epochs` epochs at batch b_small (the point
 * where the noise is measured), then measures |G_B|^2 on `samples` fresh
 * batches of each size b_small < b_big, drawn without replacement, and
 * estimates B_simple (noise_scale.h). */
gsgd_status bench_noise_scale(gsgd_context *ctx, const char *spec, const gsgd_dataset *train,
                              const gsgd_options *opts, size_t b_small, size_t b_big, int epochs,
                              int samples, noise_estimate *out);

#endif
