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

/* The automatic rate on sparse data for models without hidden layers
 * (LR 0, plain SGD, momentum or Nesterov; plan.c applies it once it knows
 * the batch B): GSGD_SPARSE_LR_NORM / mean |x|^2 over the training rows,
 * times min(1, B / GSGD_SPARSE_LR_REF_BATCH) (times 1 - momentum), clamped
 * to [0.1 min(1, B / 64), 100], written into o->v[GSGD_LR]; other rules
 * keep their defaults. Rows of text (TF-IDF, hashed, l2-normalised)
 * have |x| = 1, where 0.1, the dense default, is far too slow: on
 * bench/sparse_text.py's TF-IDF set (226k features, 20 classes) softmax
 * reached after 10 epochs test accuracy 0.43 at lr 0.1, 0.76 at 3, 0.80
 * at 10, 0.8135 at 30 and at 60; the dense default's step is comparable
 * (Fashion-MNIST's rows have |x|^2 of about 100, lr 0.1). */
#define GSGD_SPARSE_LR_NORM 30.0
/* The batch that rate was measured at. A smaller batch (a small set, whose
 * planned batch MIN_EPOCH_STEPS caps) averages fewer rows, so its step
 * is scaled down in proportion: one row of |x| = 1 at rate 30 is a step
 * of 30 x its gradient, which diverged on scikit-learn's estimator checks
 * (40 rows, batch 2: NaN at step 39); at 30 x 2/64 it trains. */
#define GSGD_SPARSE_LR_REF_BATCH 64.0
void gsgdi_sparse_auto_lr(gsgd_options *o, double mean_sq_norm, size_t batch);

#endif
