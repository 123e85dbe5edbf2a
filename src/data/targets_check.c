/* The check every dataset constructor makes of its targets (dataset.c's
 * dense ones, sparse_dataset.c's), in one leaf file both call. */
#include <math.h>

#include "core/error.h"
#include "data/dataset.h"

gsgd_status gsgdi_validate_target(gsgd_context *ctx, const char *who, size_t i, float t,
                                  int n_classes) {
    GSGD_RETURN_ERROR_IF(!isfinite(t), ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: sample %zu: target %g is not finite", who, i, (double)t);
    GSGD_RETURN_ERROR_IF(n_classes > 0 && (t < 0 || t >= (float)n_classes || t != floorf(t)), ctx,
                         GSGD_STATUS_BAD_VALUE,
                         "%s: sample %zu: label %g is not a class index in [0, %d)", who, i,
                         (double)t, n_classes);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_validate_targets(gsgd_context *ctx, const char *who, const float *y, size_t n,
                                   int n_classes) {
    for (size_t i = 0; i < n; i++)
        GSGD_FORWARD_IF_ERROR(gsgdi_validate_target(ctx, who, i, y[i], n_classes));
    return GSGD_STATUS_OK;
}
