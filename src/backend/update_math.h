/*
 * The update rules of backend.h, one element at a time, written once for
 * both backends: backend_cpu_update.c compiles it as C, kernels/update.cu as CUDA.
 *
 * Every arithmetic operation goes through GSGD_FADD/FSUB/FMUL/FDIV/FSQRT.
 * On the device they are the round-to-nearest intrinsics, which nvcc never
 * contracts into FMAs; in C they are the plain operators, which ISO C
 * (-std=c11: -ffp-contract=off) never contracts either. Each operation
 * rounds once, correctly, in the same order on both sides, so an update
 * whose norms (the only reductions) agree is bitwise the same on the CPU
 * and the GPU. Changing an expression here changes both at once.
 *
 * Operation order follows torch.optim's single-tensor code where it can:
 *   Adam's first moment is torch's lerp_ for weight 1 - b1 < 0.5 (the usual
 *   b1 > 0.5): m + (1 - b1)(g - m), used for every b1;
 *   s = b2 s + (1 - b2)(g g);  w -= (lr / bc1) (m / (sqrt(s) / sqrt(bc2) + eps))
 *   AdamW's decoupled decay is torch's w *= 1 - lr wd (= w -= lr wd w).
 */
#ifndef GSGD_UPDATE_MATH_H
#define GSGD_UPDATE_MATH_H

#include <math.h>
#include <stddef.h>

#include "gsgd.h"

#ifndef GSGD_HD /* as in rng.h */
#ifdef __CUDACC__
#define GSGD_HD __host__ __device__ __forceinline__
#else
#define GSGD_HD static inline
#endif
#endif

#if defined(__CUDA_ARCH__)
#define GSGD_FADD(a, b) __fadd_rn((a), (b))
#define GSGD_FSUB(a, b) __fsub_rn((a), (b))
#define GSGD_FMUL(a, b) __fmul_rn((a), (b))
#define GSGD_FDIV(a, b) __fdiv_rn((a), (b))
#define GSGD_FSQRT(a) __fsqrt_rn(a)
#else
#define GSGD_FADD(a, b) ((a) + (b))
#define GSGD_FSUB(a, b) ((a) - (b))
#define GSGD_FMUL(a, b) ((a) * (b))
#define GSGD_FDIV(a, b) ((a) / (b))
#define GSGD_FSQRT(a) sqrtf(a)
#endif

/* Added to the gradient norm before dividing (PyTorch's clip_grad_norm_). */
#define GSGD_CLIP_EPS 1e-6f

/* What one step of a rule needs besides the buffers and the learning rate:
 * the rule's hyperparameters and the step's host scalars, resolved once on
 * the host (gsgdi_update_prepare) and passed to a kernel by value. */
typedef struct {
    gsgd_optim kind;
    float mu, wd, b1, b2, eps, alpha, eta, clip_norm, l1;
    float omb1, omb2, oma; /* 1 - b1, 1 - b2, 1 - alpha */
    float bc1, bc2_sqrt;   /* 1 - b1^t and sqrt(1 - b2^t), from double */
    float avg_rate;        /* averaging: 1 / iterates so far (0: no average) */
    size_t n_decay;        /* min(rule->n_decay, n) */
} gsgdi_step_consts;

/* The scalars of a step that follow from the learning rate, which lives in
 * backend memory: computed per step (per thread on the device). */
typedef struct {
    float lr;     /* the rate, times the guard's factor */
    float step;   /* adam family: lr / bc1 */
    float shrink; /* adamw: 1 - lr wd */
    float thr;    /* prox: lr l1 */
    float clip;   /* gradient scale, 1 without clipping */
} gsgdi_step_scalars;

/* min(1, c / (sqrt(sumsq) + 1e-6)); NaN stays NaN, so a non-finite
 * gradient is not hidden by the clamp. */
GSGD_HD float gsgdi_clip_scale(float clip_norm, float sumsq) {
    if (!(clip_norm > 0.0f)) return 1.0f;
    const float s = GSGD_FDIV(clip_norm, GSGD_FADD(GSGD_FSQRT(sumsq), GSGD_CLIP_EPS));
    return s > 1.0f ? 1.0f : s;
}

GSGD_HD gsgdi_step_scalars gsgdi_step_scalars_make(const gsgdi_step_consts *c, float lr,
                                                   float lr_factor, float clip) {
    gsgdi_step_scalars d;
    d.lr = GSGD_FMUL(lr, lr_factor);
    d.step = GSGD_FDIV(d.lr, c->bc1);
    d.shrink = GSGD_FSUB(1.0f, GSGD_FMUL(d.lr, c->wd));
    d.thr = GSGD_FMUL(d.lr, c->l1);
    d.clip = clip;
    return d;
}

/* LARS's trust ratio of a segment from |w|^2 and the raw |g|^2 (the
 * clipped norm is the raw one times the clip scale). */
GSGD_HD float gsgdi_lars_trust(const gsgdi_step_consts *c, float w2, float g2, float clip,
                               int decay) {
    const float wn = GSGD_FSQRT(w2), gn = GSGD_FMUL(GSGD_FSQRT(g2), clip);
    if (wn == 0.0f || gn == 0.0f) return 1.0f;
    const float wd = decay ? c->wd : 0.0f;
    return GSGD_FDIV(GSGD_FMUL(c->eta, wn), GSGD_FADD(GSGD_FADD(gn, GSGD_FMUL(wd, wn)), c->eps));
}

/* LAMB's per-segment step lr |w| / |u| (lr when either norm is 0). */
GSGD_HD float gsgdi_lamb_step(float lr, float w2, float u2) {
    const float wn = GSGD_FSQRT(w2), un = GSGD_FSQRT(u2);
    if (wn == 0.0f || un == 0.0f) return lr;
    return GSGD_FMUL(lr, GSGD_FDIV(wn, un));
}

/* Adam's moments m (s0) and s (s1), in place. */
GSGD_HD void gsgdi_adam_moments(const gsgdi_step_consts *c, float g, float *m, float *s) {
    *m = GSGD_FADD(*m, GSGD_FMUL(c->omb1, GSGD_FSUB(g, *m)));
    *s = GSGD_FADD(GSGD_FMUL(c->b2, *s), GSGD_FMUL(c->omb2, GSGD_FMUL(g, g)));
}

/* sqrt(s) / sqrt(bc2) + eps: torch's bias-corrected denominator. */
GSGD_HD float gsgdi_adam_denom(const gsgdi_step_consts *c, float s) {
    return GSGD_FADD(GSGD_FDIV(GSGD_FSQRT(s), c->bc2_sqrt), c->eps);
}

/* The rule's step on one element, g already clipped. kind is c->kind,
 * passed apart so that a caller looping over one rule can make it a
 * constant the compiler folds the switch with. q is LARS's trust
 * ratio of the element's segment; decay says whether it is a weight. LAMB
 * only updates its moments here and leaves its direction in *u. */
GSGD_HD void gsgdi_rule_step(gsgd_optim kind, const gsgdi_step_consts *c,
                             const gsgdi_step_scalars *d, float q, int decay, float g, float *w,
                             float *s0, float *s1, float *u) {
    const int coupled = decay && kind != GSGD_OPTIM_ADAMW && kind != GSGD_OPTIM_LAMB;
    if (coupled) g = GSGD_FADD(g, GSGD_FMUL(c->wd, *w));
    if (decay && kind == GSGD_OPTIM_ADAMW) *w = GSGD_FMUL(*w, d->shrink); /* then Adam */
    switch (kind) {
    case GSGD_OPTIM_SGD:
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->lr, g));
        break;
    case GSGD_OPTIM_MOMENTUM:
        *s0 = GSGD_FADD(GSGD_FMUL(c->mu, *s0), g);
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->lr, *s0));
        break;
    case GSGD_OPTIM_NESTEROV:
        *s0 = GSGD_FADD(GSGD_FMUL(c->mu, *s0), g);
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->lr, GSGD_FADD(g, GSGD_FMUL(c->mu, *s0))));
        break;
    case GSGD_OPTIM_ADAM:
    case GSGD_OPTIM_ADAMW:
        gsgdi_adam_moments(c, g, s0, s1);
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->step, GSGD_FDIV(*s0, gsgdi_adam_denom(c, *s1))));
        break;
    case GSGD_OPTIM_ADAGRAD:
        *s0 = GSGD_FADD(*s0, GSGD_FMUL(g, g));
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->lr, GSGD_FDIV(g, GSGD_FADD(GSGD_FSQRT(*s0), c->eps))));
        break;
    case GSGD_OPTIM_RMSPROP: {
        *s0 = GSGD_FADD(GSGD_FMUL(c->alpha, *s0), GSGD_FMUL(c->oma, GSGD_FMUL(g, g)));
        float dir = GSGD_FDIV(g, GSGD_FADD(GSGD_FSQRT(*s0), c->eps));
        if (c->mu > 0.0f) {
            *s1 = GSGD_FADD(GSGD_FMUL(c->mu, *s1), dir);
            dir = *s1;
        }
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->lr, dir));
        break;
    }
    case GSGD_OPTIM_LARS:
        *s0 = GSGD_FADD(GSGD_FMUL(c->mu, *s0), GSGD_FMUL(q, g));
        *w = GSGD_FSUB(*w, GSGD_FMUL(d->lr, *s0));
        break;
    case GSGD_OPTIM_LAMB: {
        gsgdi_adam_moments(c, g, s0, s1);
        float dir = GSGD_FDIV(GSGD_FDIV(*s0, c->bc1), gsgdi_adam_denom(c, *s1));
        if (decay) dir = GSGD_FADD(dir, GSGD_FMUL(c->wd, *w));
        *u = dir;
        break;
    }
    }
}

/* Soft threshold sign(w) max(|w| - thr, 0): an exact +0 below the
 * threshold; NaN passes through (a stop-mode guard must still see it). */
GSGD_HD float gsgdi_prox(float w, float thr) {
    const float a = GSGD_FSUB(fabsf(w), thr);
    return a <= 0.0f ? 0.0f : copysignf(a, w);
}

/* Everything one element goes through after the norms: the rule (pass 0)
 * or LAMB's second pass (pass 1: w -= seg_step u, seg_step = lr r_k), then
 * the prox step and the average. q is LARS's ratio; kind is c->kind. Returns whether the new
 * w is finite (LAMB's first pass leaves w alone and returns 1). */
GSGD_HD int gsgdi_update_elem(gsgd_optim kind, const gsgdi_step_consts *c,
                              const gsgdi_step_scalars *d, int pass, float q, int decay, float g,
                              float *w, float *s0, float *s1, float *u, float *avg) {
    if (pass == 1) {
        *w = GSGD_FSUB(*w, GSGD_FMUL(q, *u));
    } else {
        if (c->clip_norm > 0.0f) g = GSGD_FMUL(g, d->clip);
        gsgdi_rule_step(kind, c, d, q, decay, g, w, s0, s1, u);
        if (kind == GSGD_OPTIM_LAMB) return 1;
    }
    if (decay && c->l1 > 0.0f) *w = gsgdi_prox(*w, d->thr);
    if (avg) *avg = GSGD_FADD(*avg, GSGD_FMUL(c->avg_rate, GSGD_FSUB(*w, *avg)));
    return isfinite(*w) ? 1 : 0;
}

#ifndef __CUDACC__
#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* The step number a guard records (host reads of guard; see t_in_epoch). */
static inline uint64_t gsgdi_guard_step(const gsgdi_update_args *a) {
    return a->t_in_epoch ? a->guard->t_base + a->t : a->t;
}

/* Checks an update's buffers against its rule (state, work, segments) and
 * resolves its host scalars. INTERNAL with the reason when a buffer the rule
 * needs is missing or the segments do not tile [0, n). */
gsgd_status gsgdi_update_prepare(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                 const gsgdi_update_args *a, gsgdi_step_consts *out);

/* Whether a rule may update only the rows a sparse batch touches
 * (backend.h's update_rows): SGD, Adam, AdamW, and Adagrad without weight
 * decay, none of them clipping, taking an L1 step or skipping steps. */
int gsgdi_rule_updates_rows(const gsgdi_update_rule *rule);

/* update_prepare for the row-sparse update: checks the rule and buffers
 * (INTERNAL when the rule is not row-sparse) and resolves its scalars
 * (every element decays; no average). */
gsgd_status gsgdi_update_prepare_rows(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                      const gsgdi_rows_update_args *a, gsgdi_step_consts *out);

/* Whether the update starts with the sum of squares of the whole gradient
 * (into work[0]): it clips, or it skips non-finite steps under a guard. */
int gsgdi_update_needs_total(const gsgdi_update_rule *rule, const gsgdi_update_args *a);
#endif

#endif
