/* Update rules from options: what the backend's fused update is told to
 * do, with every automatic value resolved. */
#ifndef GSGD_OPTIM_RULE_H
#define GSGD_OPTIM_RULE_H

#include <stddef.h>

#include "backend/backend.h"
#include "core/options.h"
#include "gsgd.h"

/* A copy of in with every automatic value (-1 for MOMENTUM, WEIGHT_DECAY
 * and EPS, 0 for LR) replaced by the optimizer's own default. */
void gsgdi_resolve_options(const gsgd_options *in, gsgd_options *out);
/* The update rule described by opts, automatic values resolved, with the
 * segments and weight prefix of model m (m NULL: one segment of n floats,
 * all decayed). */
gsgdi_update_rule gsgdi_rule_from_options(const gsgd_options *o, const gsgd_model *m, size_t n);
/* The learning rate before any schedule, with LR = 0 resolved to the
 * automatic default. */
double gsgdi_base_lr(const gsgd_options *o);

#endif
