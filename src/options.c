/* Options: one enum-keyed setter with bounds (zstd's ZSTD_CCtx_setParameter
 * pattern), so new parameters never break the ABI. */
#include <math.h>
#include <stdlib.h>

#include "internal.h"

typedef struct {
    const char *name;
    double lo, hi, dflt;
    int integer;
} param_info;

/* Defaults were chosen by measurement on Fashion-MNIST (grid in
 * bench/results/defaults.md, made by bench/tune_defaults.py). An lr of 0
 * means "automatic": 0.1 for plain SGD, 0.1 * (1 - momentum) for momentum
 * and Nesterov, the same effective step size (a momentum buffer sums a
 * geometric series of gradients, 1 / (1 - momentum) of them). */
static const param_info params[GSGD_N_PARAMS] = {
    [GSGD_LR] = {"lr", 0.0, 100.0, 0.0, 0},
    /* -1: the rule's own default (gsgd_resolve_options). */
    [GSGD_MOMENTUM] = {"momentum", -1.0, 0.999999, -1.0, 0},
    [GSGD_WEIGHT_DECAY] = {"weight_decay", -1.0, 1.0, -1.0, 0},
    [GSGD_OPTIMIZER] = {"optim", 0, GSGD_OPTIM_LAMB, GSGD_OPTIM_SGD, 1},
    [GSGD_BATCH] = {"batch", 0, 2147483647.0, 0, 1},
    [GSGD_EPOCHS] = {"epochs", 1, 1000000, 10, 1},
    [GSGD_SEED] = {"seed", 0, 9007199254740992.0, 0, 1},
    [GSGD_LR_STEP] = {"lr_step", 0, 1000000, 0, 1},
    [GSGD_LR_GAMMA] = {"lr_gamma", 0.0, 1.0, 0.1, 0},
    [GSGD_TARGET_ACC] = {"target_acc", 0.0, 1.0, 0.0, 0},
    [GSGD_CHECK_EVERY] = {"check_every", 1, 1000000000.0, 50, 1},
    /* The planned batch (BATCH 0) is capped at the device's max useful
     * batch (plan.c): 64 on the CPU, where larger batches gain no speed and
     * train worse per epoch, so the lr above stays the measured one. */
    [GSGD_BATCH_POLICY] = {"batch_policy", 0, 1, GSGD_BATCH_LARGEST, 1},
    [GSGD_MAX_BATCH] = {"max_batch", 0, 2147483647.0, 0, 1},
    [GSGD_MEM_LIMIT] = {"mem_limit", 0, 9007199254740992.0, 0, 1},
    [GSGD_MEM_FRACTION] = {"mem_fraction", 0.0, 1.0, 0.0, 0},
    [GSGD_MEM_HEADROOM] = {"mem_headroom", 0.0, 0.9, 0.02, 0},
    [GSGD_MEM_RESERVE] = {"mem_reserve", -1, 9007199254740992.0, -1, 1},
    /* No scaling by default. On Fashion-MNIST softmax (20 epochs, CPU) lr
     * 0.1 is already near its stable limit, and scaling it up for a larger
     * batch lowered the test accuracy: batch 1024 reached 0.824 unscaled,
     * 0.805 with sqrt and 0.785 with linear scaling from batch 64 (0.744
     * and 0.778 with 2 and 5 epochs of warmup); batch 64 unscaled 0.845. */
    [GSGD_LR_SCALING] = {"lr_scaling", 0, 2, GSGD_LR_SCALING_NONE, 1},
    [GSGD_LR_REF_BATCH] = {"lr_ref_batch", 1, 2147483647.0, 256, 1},
    [GSGD_WARMUP] = {"warmup", 0.0, 1000000.0, 0.0, 0},
    [GSGD_BETA1] = {"beta1", 0.0, 0.999999, 0.9, 0},
    [GSGD_BETA2] = {"beta2", 0.0, 0.999999, 0.999, 0},
    [GSGD_EPS] = {"eps", -1.0, 1.0, -1.0, 0},
    [GSGD_RMS_ALPHA] = {"rms_alpha", 0.0, 0.999999, 0.99, 0},
    [GSGD_TRUST_COEF] = {"trust_coef", 0.0, 1000.0, 0.001, 0},
    [GSGD_CLIP_NORM] = {"clip_norm", 0.0, 1e30, 0.0, 0},
    [GSGD_L1] = {"l1", 0.0, 1.0, 0.0, 0},
    [GSGD_L1_RATIO] = {"l1_ratio", 0.0, 1.0, 1.0, 0},
    [GSGD_SCHEDULE] = {"schedule", 0, GSGD_SCHEDULE_ADAPTIVE, GSGD_SCHEDULE_CONSTANT, 1},
    [GSGD_LR_MIN] = {"lr_min", 0.0, 100.0, 0.0, 0},
    [GSGD_COSINE_PERIOD] = {"cosine_period", 0.0, 1000000.0, 0.0, 0},
    [GSGD_COSINE_MULT] = {"cosine_mult", 1.0, 1000.0, 1.0, 0},
    [GSGD_POWER_T] = {"power_t", 0.0, 10.0, 0.5, 0},
    [GSGD_AVERAGE] = {"average", 0, 9007199254740992.0, 0, 1},
    [GSGD_VALIDATION_FRACTION] = {"validation_fraction", 0.0, 0.9, 0.0, 0},
    [GSGD_N_ITER_NO_CHANGE] = {"n_iter_no_change", 1, 1000000, 5, 1},
    [GSGD_TOL] = {"tol", 0.0, 1e30, 0.0, 0},
    [GSGD_ON_NAN] = {"on_nan", 0, GSGD_ON_NAN_SKIP, GSGD_ON_NAN_STOP, 1},
};

static int valid_param(gsgd_param p) { return (int)p >= 0 && (int)p < GSGD_N_PARAMS; }

gsgd_status gsgd_param_bounds(gsgd_param p, double *lo, double *hi, double *dflt) {
    if (!valid_param(p)) return GSGD_STATUS_INVALID_ARGUMENT;
    if (lo) *lo = params[p].lo;
    if (hi) *hi = params[p].hi;
    if (dflt) *dflt = params[p].dflt;
    return GSGD_STATUS_OK;
}

const char *gsgd_param_name(gsgd_param p) { return valid_param(p) ? params[p].name : NULL; }

gsgd_status gsgd_options_create(gsgd_options **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_options *o = malloc(sizeof *o);
    if (!o) return GSGD_STATUS_OUT_OF_MEMORY;
    for (int i = 0; i < GSGD_N_PARAMS; i++) o->v[i] = params[i].dflt;
    *out = o;
    return GSGD_STATUS_OK;
}

void gsgd_options_free(gsgd_options *opts) { free(opts); }

gsgd_status gsgd_set(gsgd_options *opts, gsgd_param p, double value) {
    if (!opts || !valid_param(p)) return GSGD_STATUS_INVALID_ARGUMENT;
    const param_info *info = &params[p];
    if (!(value >= info->lo && value <= info->hi)) return GSGD_STATUS_OUT_OF_RANGE;
    if (info->integer && value != floor(value)) return GSGD_STATUS_OUT_OF_RANGE;
    opts->v[p] = value;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_get(const gsgd_options *opts, gsgd_param p, double *value) {
    if (!opts || !valid_param(p) || !value) return GSGD_STATUS_INVALID_ARGUMENT;
    *value = opts->v[p];
    return GSGD_STATUS_OK;
}
