/* Host side of an update, shared by the backends: the checks of its
 * buffers and the scalars every element's step uses (update_math.h). */
#include <math.h>

#include "backend/update_math.h"
#include "core/error.h"

static int layerwise(gsgd_optim k) { return k == GSGD_OPTIM_LARS || k == GSGD_OPTIM_LAMB; }

static int adam_family(gsgd_optim k) {
    return k == GSGD_OPTIM_ADAM || k == GSGD_OPTIM_ADAMW || k == GSGD_OPTIM_LAMB;
}

int gsgdi_rule_uses_t(const gsgdi_update_rule *rule) { return adam_family(rule->kind); }

int gsgdi_update_needs_total(const gsgdi_update_rule *rule, const gsgdi_update_args *a) {
    return rule->clip_norm > 0.0f || (rule->skip_nonfinite && a->guard);
}

/* Segments must tile [0, n) in order: every element belongs to exactly one,
 * so the layer-wise passes touch each once. */
static gsgd_status check_segments(gsgd_context *ctx, const gsgdi_update_rule *rule, size_t n) {
    const int S = rule->n_segments;
    GSGD_RETURN_ERROR_IF(S < 1 || S > GSGD_MAX_SEGMENTS, ctx, GSGD_STATUS_INTERNAL,
                         "update: %d segments (1 to %d)", S, GSGD_MAX_SEGMENTS);
    GSGD_RETURN_ERROR_IF(rule->seg[0] != 0 || rule->seg[S] != n, ctx, GSGD_STATUS_INTERNAL,
                         "update: segments cover [%zu, %zu), the buffer [0, %zu)", rule->seg[0],
                         rule->seg[S], n);
    for (int k = 0; k < S; k++)
        GSGD_RETURN_ERROR_IF(rule->seg[k + 1] < rule->seg[k], ctx, GSGD_STATUS_INTERNAL,
                             "update: segment %d ends before it starts", k);
    return GSGD_STATUS_OK;
}

static gsgd_status check_buffers(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                 const gsgdi_update_args *a) {
    GSGD_RETURN_ERROR_IF(!a->lr || (a->n && (!a->params || !a->grads)), ctx, GSGD_STATUS_INTERNAL,
                         "update: NULL learning rate, parameters or gradients");
    const int n_state = gsgdi_rule_state_count(rule);
    for (int k = 0; k < n_state; k++)
        GSGD_RETURN_ERROR_IF(!a->state[k], ctx, GSGD_STATUS_INTERNAL,
                             "update: rule %d needs %d state buffers, state[%d] is NULL",
                             (int)rule->kind, n_state, k);
    GSGD_RETURN_ERROR_IF(gsgdi_rule_work_floats(rule, a->n) > 0 && !a->work, ctx,
                         GSGD_STATUS_INTERNAL, "update: rule %d needs a work buffer",
                         (int)rule->kind);
    GSGD_RETURN_ERROR_IF(adam_family(rule->kind) && a->t == 0, ctx, GSGD_STATUS_INTERNAL,
                         "update: step t is 1-based (bias correction of step 0)");
    GSGD_RETURN_ERROR_IF(
        a->t_in_epoch && (gsgdi_rule_uses_t(rule) || a->average || !a->guard), ctx,
        GSGD_STATUS_INTERNAL,
        "update: t within the epoch needs a guard, and a rule whose scalars do not "
        "depend on t (rule %d, average %d)",
        (int)rule->kind, a->average != NULL);
    if (layerwise(rule->kind)) GSGD_FORWARD_IF_ERROR(check_segments(ctx, rule, a->n));
    return GSGD_STATUS_OK;
}

/* The rule's scalars for step t: what a step of the dense and of the
 * row-sparse update share. */
static gsgdi_step_consts consts_of(const gsgdi_update_rule *rule, uint64_t t, float avg_rate,
                                   size_t n_decay) {
    gsgdi_step_consts c = {
        .kind = rule->kind,
        .mu = rule->momentum,
        .wd = rule->weight_decay,
        .b1 = rule->beta1,
        .b2 = rule->beta2,
        .eps = rule->eps,
        .alpha = rule->alpha,
        .eta = rule->trust_coef,
        .clip_norm = rule->clip_norm,
        .l1 = rule->l1,
        .omb1 = 1.0f - rule->beta1,
        .omb2 = 1.0f - rule->beta2,
        .oma = 1.0f - rule->alpha,
        .bc1 = 1.0f,
        .bc2_sqrt = 1.0f,
        .avg_rate = avg_rate,
        .n_decay = n_decay,
    };
    if (adam_family(rule->kind)) {
        /* In double, as torch does in Python, then rounded once. */
        const double td = (double)t;
        c.bc1 = (float)(1.0 - pow((double)rule->beta1, td));
        c.bc2_sqrt = (float)sqrt(1.0 - pow((double)rule->beta2, td));
    }
    return c;
}

gsgd_status gsgdi_update_prepare(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                 const gsgdi_update_args *a, gsgdi_step_consts *out) {
    GSGD_FORWARD_IF_ERROR(check_buffers(ctx, rule, a));
    *out = consts_of(rule, a->t, a->average ? a->avg_rate : 0.0f,
                     rule->n_decay < a->n ? rule->n_decay : a->n);
    return GSGD_STATUS_OK;
}

int gsgdi_rule_updates_rows(const gsgdi_update_rule *rule) {
    const int plain = !(rule->clip_norm > 0.0f) && !(rule->l1 > 0.0f) && !rule->skip_nonfinite;
    switch (rule->kind) {
    case GSGD_OPTIM_SGD:
    case GSGD_OPTIM_ADAM:
    case GSGD_OPTIM_ADAMW:
        return plain;
    case GSGD_OPTIM_ADAGRAD: /* a decayed row moves without a gradient */
        return plain && !(rule->weight_decay > 0.0f);
    default: /* momentum, RMSprop's average and the layer-wise norms move every row */
        return 0;
    }
}

gsgd_status gsgdi_update_prepare_rows(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                      const gsgdi_rows_update_args *a, gsgdi_step_consts *out) {
    GSGD_RETURN_ERROR_IF(!gsgdi_rule_updates_rows(rule), ctx, GSGD_STATUS_INTERNAL,
                         "update_rows: rule %d (clip %g, l1 %g, skip %d) is not row-sparse",
                         (int)rule->kind, (double)rule->clip_norm, (double)rule->l1,
                         rule->skip_nonfinite);
    GSGD_RETURN_ERROR_IF(!a->lr || !a->W || !a->gW || !a->batch, ctx, GSGD_STATUS_INTERNAL,
                         "update_rows: NULL rate, weights, gradient or batch");
    const int n_state = gsgdi_rule_state_count(rule);
    for (int k = 0; k < n_state; k++)
        GSGD_RETURN_ERROR_IF(!a->state[k], ctx, GSGD_STATUS_INTERNAL,
                             "update_rows: rule %d needs state[%d]", (int)rule->kind, k);
    GSGD_RETURN_ERROR_IF(adam_family(rule->kind) && a->t == 0, ctx, GSGD_STATUS_INTERNAL,
                         "update_rows: step t is 1-based");
    GSGD_RETURN_ERROR_IF(a->decay && (rule->kind != GSGD_OPTIM_SGD || !a->decay->upto ||
                                      !a->decay->logf || a->step + 1 >= a->decay->len),
                         ctx, GSGD_STATUS_INTERNAL,
                         "update_rows: lazy decay is plain SGD's, over step %zu of %zu", a->step,
                         a->decay->len);
    *out = consts_of(rule, a->t, 0.0f, SIZE_MAX);
    return GSGD_STATUS_OK;
}

int gsgdi_rule_state_count(const gsgdi_update_rule *rule) {
    switch (rule->kind) {
    case GSGD_OPTIM_SGD:
        return 0;
    case GSGD_OPTIM_MOMENTUM:
    case GSGD_OPTIM_NESTEROV:
    case GSGD_OPTIM_LARS:
    case GSGD_OPTIM_ADAGRAD:
        return 1;
    case GSGD_OPTIM_RMSPROP:
        return rule->momentum > 0.0f ? 2 : 1;
    case GSGD_OPTIM_ADAM:
    case GSGD_OPTIM_ADAMW:
    case GSGD_OPTIM_LAMB:
        return 2;
    }
    return 0;
}

size_t gsgdi_rule_work_floats(const gsgdi_update_rule *rule, size_t n) {
    if (rule->kind == GSGD_OPTIM_LAMB) return GSGD_WORK_HEAD + n;
    if (rule->kind == GSGD_OPTIM_LARS || rule->clip_norm > 0.0f || rule->skip_nonfinite)
        return GSGD_WORK_HEAD;
    return 0;
}
