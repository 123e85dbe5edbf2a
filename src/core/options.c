/* Options: one enum-keyed setter with bounds (zstd's ZSTD_CCtx_setParameter
 * pattern), so new parameters never break the ABI. */
#include <math.h>
#include <stdlib.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

typedef struct {
    const char *name;
    double lo, hi, dflt;
    int integer;
} param_info;

static const param_info params[GSGD_N_PARAMS] = {
#define GSGD_PARAM_INFO_(id, name, lo, hi, dflt, integer)                                          \
    [GSGD_##id] = {name, lo, hi, dflt, integer},
    GSGD_PARAM_TABLE(GSGD_PARAM_INFO_)
#undef GSGD_PARAM_INFO_
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
