/* The options object behind gsgd_options: one double per gsgd_param. */
#ifndef GSGD_CORE_OPTIONS_H
#define GSGD_CORE_OPTIONS_H

#include "gsgd.h"

/* Measured defaults of the parameters added by issue 17 (grid:
 * bench/defaults_grid.py, results in bench/results/defaults_grid.md). */
#define GSGD_DEFAULT_MIN_STEPS 5000
#define GSGD_DEFAULT_MIN_EPOCH_STEPS 16
#define GSGD_DEFAULT_COOLDOWN 0.2

/* Every parameter of gsgd.h's gsgd_param once, as X(ID, name, lo, hi,
 * default, integer): the options table, the parameter count and the
 * checkpoint's option block come from this list. */
/* Defaults were chosen by measurement on Fashion-MNIST (grid in
 * bench/results/defaults.md, made by bench/tune_defaults.py). An lr of 0
 * means "automatic": 0.1 for plain SGD, 0.1 * (1 - momentum) for momentum
 * and Nesterov, the same effective step size (a momentum buffer sums a
 * geometric series of gradients, 1 / (1 - momentum) of them). */
#define GSGD_PARAM_TABLE(X)                                                                        \
    X(LR, "lr", 0.0, 100.0, 0.0, 0)                                                                \
    /* -1: the rule's own default (gsgdi_resolve_options). */                                      \
    X(MOMENTUM, "momentum", -1.0, 0.999999, -1.0, 0)                                               \
    X(WEIGHT_DECAY, "weight_decay", -1.0, 1.0, -1.0, 0)                                            \
    X(OPTIMIZER, "optim", 0, GSGD_OPTIM_LAMB, GSGD_OPTIM_SGD, 1)                                   \
    X(BATCH, "batch", 0, 2147483647.0, 0, 1)                                                       \
    /* 0: automatic (loop.c): until the loss stops improving, within                               \
     * MIN_STEPS and MAX_EPOCHS (grid in bench/results/defaults_grid.md). */                       \
    X(EPOCHS, "epochs", 0, 1000000, 0, 1)                                                          \
    X(SEED, "seed", 0, 9007199254740992.0, 0, 1)                                                   \
    X(LR_STEP, "lr_step", 0, 1000000, 0, 1)                                                        \
    X(LR_GAMMA, "lr_gamma", 0.0, 1.0, 0.1, 0)                                                      \
    X(TARGET_ACC, "target_acc", 0.0, 1.0, 0.0, 0)                                                  \
    X(CHECK_EVERY, "check_every", 1, 1000000000.0, 50, 1)                                          \
    /* The planned batch (BATCH 0) is capped at the device's max useful                            \
     * batch (plan.c): 64 on the CPU, where larger batches gain no speed and                       \
     * train worse per epoch, so the lr above stays the measured one. */                           \
    X(BATCH_POLICY, "batch_policy", 0, 1, GSGD_BATCH_LARGEST, 1)                                   \
    X(MAX_BATCH, "max_batch", 0, 2147483647.0, 0, 1)                                               \
    X(MEM_LIMIT, "mem_limit", 0, 9007199254740992.0, 0, 1)                                         \
    X(MEM_FRACTION, "mem_fraction", 0.0, 1.0, 0.0, 0)                                              \
    X(MEM_HEADROOM, "mem_headroom", 0.0, 0.9, 0.02, 0)                                             \
    X(MEM_RESERVE, "mem_reserve", -1, 9007199254740992.0, -1, 1)                                   \
    /* No scaling by default. On Fashion-MNIST softmax (20 epochs, CPU) lr                         \
     * 0.1 is already near its stable limit, and scaling it up for a larger                        \
     * batch lowered the test accuracy: batch 1024 reached 0.824 unscaled,                         \
     * 0.805 with sqrt and 0.785 with linear scaling from batch 64 (0.744                          \
     * and 0.778 with 2 and 5 epochs of warmup); batch 64 unscaled 0.845. */                       \
    X(LR_SCALING, "lr_scaling", 0, 2, GSGD_LR_SCALING_NONE, 1)                                     \
    X(LR_REF_BATCH, "lr_ref_batch", 1, 2147483647.0, 256, 1)                                       \
    X(WARMUP, "warmup", 0.0, 1000000.0, 0.0, 0)                                                    \
    X(BETA1, "beta1", 0.0, 0.999999, 0.9, 0)                                                       \
    X(BETA2, "beta2", 0.0, 0.999999, 0.999, 0)                                                     \
    X(EPS, "eps", -1.0, 1.0, -1.0, 0)                                                              \
    X(RMS_ALPHA, "rms_alpha", 0.0, 0.999999, 0.99, 0)                                              \
    X(TRUST_COEF, "trust_coef", 0.0, 1000.0, 0.001, 0)                                             \
    X(CLIP_NORM, "clip_norm", 0.0, 1e30, 0.0, 0)                                                   \
    X(L1, "l1", 0.0, 1.0, 0.0, 0)                                                                  \
    X(L1_RATIO, "l1_ratio", 0.0, 1.0, 1.0, 0)                                                      \
    /* Cosine to the end of the run: every seed ends converged where the                           \
     * constant rate left the last iterate wherever the noise put it                               \
     * (bench/results/defaults_grid.md). */                                                        \
    X(SCHEDULE, "schedule", 0, GSGD_SCHEDULE_ADAPTIVE, GSGD_SCHEDULE_COSINE, 1)                    \
    X(LR_MIN, "lr_min", 0.0, 100.0, 0.0, 0)                                                        \
    X(COSINE_PERIOD, "cosine_period", 0.0, 1000000.0, 0.0, 0)                                      \
    X(COSINE_MULT, "cosine_mult", 1.0, 1000.0, 1.0, 0)                                             \
    X(POWER_T, "power_t", 0.0, 10.0, 0.5, 0)                                                       \
    X(AVERAGE, "average", 0, 9007199254740992.0, 0, 1)                                             \
    X(VALIDATION_FRACTION, "validation_fraction", 0.0, 0.9, 0.0, 0)                                \
    X(N_ITER_NO_CHANGE, "n_iter_no_change", 1, 1000000, 5, 1)                                      \
    /* -1: automatic, scikit-learn's 1e-3 under EPOCHS 0, else 0 (never). */                       \
    X(TOL, "tol", -1.0, 1e30, -1.0, 0)                                                             \
    X(ON_NAN, "on_nan", 0, GSGD_ON_NAN_SKIP, GSGD_ON_NAN_STOP, 1)                                  \
    X(MAX_EPOCHS, "max_epochs", 1, 1000000, 1000, 1)                                               \
    X(MIN_STEPS, "min_steps", 0, 1000000000.0, GSGD_DEFAULT_MIN_STEPS, 1)                          \
    X(STANDARDIZE, "standardize", 0, GSGD_STANDARDIZE_AUTO, GSGD_STANDARDIZE_AUTO, 1)              \
    X(MIN_EPOCH_STEPS, "min_epoch_steps", 0, 1000000, GSGD_DEFAULT_MIN_EPOCH_STEPS, 1)             \
    X(COOLDOWN, "cooldown", 0.0, 10.0, GSGD_DEFAULT_COOLDOWN, 0)                                   \
    X(PRECISION, "precision", 0, GSGD_PRECISION_BF16, GSGD_PRECISION_FP32, 1)

#define GSGD_PARAM_COUNT_ONE_(id, name, lo, hi, dflt, integer) +1
/* Number of parameters: one per row of GSGD_PARAM_TABLE. */
enum { GSGD_N_PARAMS = 0 GSGD_PARAM_TABLE(GSGD_PARAM_COUNT_ONE_) };

struct gsgd_options {
    double v[GSGD_N_PARAMS];
};

#endif
