/*
 * CPU backend, the update op: the reference for kernels/update.cu and
 * kernels/sumsq.cu. One fused pass per rule over the flat buffer (two for
 * LAMB), per element as src/update_math.h computes it.
 */
#include <math.h>

#include "backend/cpu.h"
#include "backend/update_math.h"
#include "core/error.h"

/* Sum of squares of x[0, n) in double. Long ranges are cut into CHUNKS
 * fixed pieces summed in parallel, then added in order: the result depends
 * on n alone, never on the thread count or on which thread finishes first
 * (an OpenMP reduction combines in arrival order). */
static double sumsq_range(const float *x, size_t n) {
    enum { CHUNKS = 64 };
    if (n < GSGD_CPU_PAR_MIN) {
        double s = 0.0;
        for (size_t i = 0; i < n; i++) s += (double)x[i] * x[i];
        return s;
    }
    double part[CHUNKS];
#pragma omp parallel for schedule(static)
    for (int c = 0; c < CHUNKS; c++) {
        const size_t lo = n / CHUNKS * c, hi = c == CHUNKS - 1 ? n : n / CHUNKS * (c + 1);
        double s = 0.0;
        for (size_t i = lo; i < hi; i++) s += (double)x[i] * x[i];
        part[c] = s;
    }
    double s = 0.0;
    for (int c = 0; c < CHUNKS; c++) s += part[c];
    return s;
}

gsgd_status gsgdi_cpu_sumsq(gsgd_context *ctx, const float *x, const size_t *seg, int n_segments,
                            float *out) {
    (void)ctx;
    for (int k = 0; k < n_segments; k++)
        out[k] = (float)sumsq_range(x + seg[k], seg[k + 1] - seg[k]);
    return GSGD_STATUS_OK;
}

/* An update pass's buffers as restrict locals: one load each per pass,
 * not per element; NULL where the rule has none. */
typedef struct {
    float *restrict w, *restrict s0, *restrict s1, *restrict u, *restrict avg;
    const float *restrict g;
} pass_bufs;

/* Denormal floats cost x86 some 60x the time of normal ones (measured:
 * an Adam pass over 1M floats, 2.4 ms, or 140 ms once its state is
 * denormal), and optimizer state decays into that range wherever a
 * gradient stays 0 (a dead ReLU unit). Every thread of an update pass
 * flushes them to zero (FTZ and DAZ) and then restores its own mode, so the
 * caller's floating-point environment is left as it was. The GPU handles
 * denormals at full speed, so the backends' updates differ only where a
 * value falls below FLT_MIN (1.2e-38). */
#if defined(__x86_64__) || defined(__i386__)
#include <xmmintrin.h>
#define FLUSH_DENORMALS_BEGIN                                                                      \
    const unsigned int csr_ = _mm_getcsr();                                                        \
    _mm_setcsr(csr_ | 0x8040u); /* FTZ (bit 15) | DAZ (bit 6) */
#define FLUSH_DENORMALS_END _mm_setcsr(csr_);
#else
#define FLUSH_DENORMALS_BEGIN
#define FLUSH_DENORMALS_END
#endif

/* Which state buffers a rule reads, as constants once kind is one. */
static inline int reads_s0(gsgd_optim kind) { return kind != GSGD_OPTIM_SGD; }
static inline int reads_s1(gsgd_optim kind, const pass_bufs *b) {
    return kind == GSGD_OPTIM_ADAM || kind == GSGD_OPTIM_ADAMW || kind == GSGD_OPTIM_LAMB ||
           (kind == GSGD_OPTIM_RMSPROP && b->s1);
}

/* One element of an update pass (update_math.h). */
static inline int update_at(gsgd_optim kind, const gsgdi_step_consts *c,
                            const gsgdi_step_scalars *d, int pass, float q, int decay, pass_bufs b,
                            size_t i) {
    const int has_s0 = reads_s0(kind), has_s1 = reads_s1(kind, &b);
    float w = b.w[i], s0 = has_s0 ? b.s0[i] : 0.0f, s1 = has_s1 ? b.s1[i] : 0.0f,
          ui = b.u ? b.u[i] : 0.0f, avg = b.avg ? b.avg[i] : 0.0f;
    int ok = gsgdi_update_elem(kind, c, d, pass, q, decay, pass == 1 ? 0.0f : b.g[i], &w, &s0, &s1,
                               &ui, b.avg ? &avg : NULL);
    b.w[i] = w;
    if (has_s0) b.s0[i] = s0;
    if (has_s1) b.s1[i] = s1;
    if (b.u) b.u[i] = ui;
    if (b.avg) b.avg[i] = avg;
    return ok;
}

/* Runs BODY for i in [FROM, TO) on OpenMP threads (past GSGD_CPU_PAR_MIN elements),
 * each flushing denormals for the loop's duration; BODY may AND into the
 * caller's ok. Every update loop below is one of these. */
#define PARALLEL_RANGE(FROM, TO, BODY)                                                             \
    {                                                                                              \
        const size_t from_ = (FROM), to_ = (TO);                                                   \
        const int par_ = to_ - from_ >= GSGD_CPU_PAR_MIN;                                          \
        _Pragma("omp parallel reduction(& : ok) if (par_)") {                                      \
            FLUSH_DENORMALS_BEGIN                                                                  \
            _Pragma("omp for schedule(static)") for (size_t i = from_; i < to_;                    \
                                                     i++){BODY} FLUSH_DENORMALS_END                \
        }                                                                                          \
    }

/* The plain pass of the common case (no clipping, prox, average or LAMB
 * direction) for one rule and one decay: no branch left in the body, so
 * the compiler vectorises it. Same arithmetic as update_at. */
#define PLAIN_BODY(KIND, DECAY)                                                                    \
    float w = b.w[i], s0 = reads_s0(KIND) ? b.s0[i] : 0.0f,                                        \
          s1 = reads_s1(KIND, &b) ? b.s1[i] : 0.0f;                                                \
    gsgdi_rule_step(KIND, c, d, 1.0f, DECAY, b.g[i], &w, &s0, &s1, NULL);                          \
    b.w[i] = w;                                                                                    \
    if (reads_s0(KIND)) b.s0[i] = s0;                                                              \
    if (reads_s1(KIND, &b)) b.s1[i] = s1;                                                          \
    ok &= isfinite(w) ? 1 : 0;

/* The plain passes of the layer-wise rules over one segment, whose ratio q
 * and decay are fixed: LARS's step, LAMB's direction into u (pass 0) and
 * LAMB's step w -= q u (pass 1). Same arithmetic as update_at. */
#define LARS_BODY(DECAY)                                                                           \
    float w = b.w[i], s0 = b.s0[i];                                                                \
    gsgdi_rule_step(GSGD_OPTIM_LARS, c, d, q, DECAY, b.g[i], &w, &s0, NULL, NULL);                 \
    b.w[i] = w;                                                                                    \
    b.s0[i] = s0;                                                                                  \
    ok &= isfinite(w) ? 1 : 0;
#define LAMB_DIR_BODY(DECAY)                                                                       \
    float w = b.w[i], s0 = b.s0[i], s1 = b.s1[i], ui;                                              \
    gsgdi_rule_step(GSGD_OPTIM_LAMB, c, d, 1.0f, DECAY, b.g[i], &w, &s0, &s1, &ui);                \
    b.s0[i] = s0;                                                                                  \
    b.s1[i] = s1;                                                                                  \
    b.u[i] = ui;
#define LAMB_STEP_BODY                                                                             \
    const float w = GSGD_FSUB(b.w[i], GSGD_FMUL(q, b.u[i]));                                       \
    b.w[i] = w;                                                                                    \
    ok &= isfinite(w) ? 1 : 0;

/* Whether a layer-wise pass over a segment can take a plain body, and
 * takes it: no clipping, prox or average (each an extra step per element
 * that update_at takes). Measured on one core, a whole update of 1M floats
 * in two segments, norms included: LARS 3.2 -> 1.6 ms, LAMB 6.0 -> 3.5 ms. */
static int segment_plain(const gsgdi_step_consts *c, const gsgdi_step_scalars *d, int pass, float q,
                         int decay, pass_bufs b, size_t lo, size_t hi, int *ok_out) {
    if (decay < 0 || b.avg || c->l1 > 0.0f || c->clip_norm > 0.0f) return 0;
    int ok = 1;
    if (c->kind == GSGD_OPTIM_LARS && pass == 0) {
        if (decay)
            PARALLEL_RANGE(lo, hi, LARS_BODY(1))
        else
            PARALLEL_RANGE(lo, hi, LARS_BODY(0))
    } else if (c->kind == GSGD_OPTIM_LAMB && pass == 0 && b.u) {
        if (decay)
            PARALLEL_RANGE(lo, hi, LAMB_DIR_BODY(1))
        else
            PARALLEL_RANGE(lo, hi, LAMB_DIR_BODY(0))
    } else if (c->kind == GSGD_OPTIM_LAMB && pass == 1 && b.u) {
        PARALLEL_RANGE(lo, hi, LAMB_STEP_BODY)
    } else {
        return 0;
    }
    *ok_out = ok;
    return 1;
}

/* The loop of update_range for one rule, named by a constant so that the
 * element's switch folds away inside OpenMP's outlined loop body
 * (measured: 5x faster SGD on one core than a switch per element). The
 * common case splits at n_decay and takes PLAIN_BODY (measured on one
 * core, 1M floats: SGD 2.35 -> 0.28 ms, momentum 2.56 -> 0.42 ms). */
#define UPDATE_LOOP(KIND)                                                                          \
    case KIND:                                                                                     \
        if (plain) {                                                                               \
            const size_t mid = lo < c->n_decay ? (hi < c->n_decay ? hi : c->n_decay) : lo;         \
            PARALLEL_RANGE(lo, mid, PLAIN_BODY(KIND, 1))                                           \
            PARALLEL_RANGE(mid, hi, PLAIN_BODY(KIND, 0))                                           \
            break;                                                                                 \
        }                                                                                          \
        PARALLEL_RANGE(lo, hi,                                                                     \
                       ok &=                                                                       \
                       update_at(KIND, c, d, pass, q, decay < 0 ? i < c->n_decay : decay, b, i);)  \
        break

/* Elements [lo, hi) of one pass; decay < 0 means "i < n_decay" per element.
 * Returns whether every updated weight is finite. */
static int update_range(const gsgdi_step_consts *c, const gsgdi_step_scalars *d, int pass, float q,
                        int decay, const gsgdi_update_args *a, float *u, size_t lo, size_t hi) {
    const pass_bufs b = {.w = a->params,
                         .s0 = a->state[0],
                         .s1 = a->state[1],
                         .u = u,
                         .avg = a->average,
                         .g = a->grads};
    const int plain = pass == 0 && decay < 0 && !u && !b.avg && !(c->l1 > 0.0f) &&
                      !(c->clip_norm > 0.0f) && c->kind != GSGD_OPTIM_LARS &&
                      c->kind != GSGD_OPTIM_LAMB;
    int ok = 1;
    if (segment_plain(c, d, pass, q, decay, b, lo, hi, &ok)) return ok;
    switch (c->kind) {
        UPDATE_LOOP(GSGD_OPTIM_SGD);
        UPDATE_LOOP(GSGD_OPTIM_MOMENTUM);
        UPDATE_LOOP(GSGD_OPTIM_NESTEROV);
        UPDATE_LOOP(GSGD_OPTIM_ADAM);
        UPDATE_LOOP(GSGD_OPTIM_ADAMW);
        UPDATE_LOOP(GSGD_OPTIM_ADAGRAD);
        UPDATE_LOOP(GSGD_OPTIM_RMSPROP);
        UPDATE_LOOP(GSGD_OPTIM_LARS);
        UPDATE_LOOP(GSGD_OPTIM_LAMB);
    }
    return ok;
}

/* A layer-wise rule's segment is decayed when it lies among the weights. */
static int segment_decayed(const gsgdi_update_rule *rule, int k) {
    return rule->seg[k + 1] <= rule->n_decay;
}

static int cpu_lars(gsgd_context *ctx, const gsgdi_update_rule *rule, const gsgdi_step_consts *c,
                    const gsgdi_step_scalars *d, const gsgdi_update_args *a) {
    const int S = rule->n_segments;
    float *w2 = a->work + 1, *g2 = a->work + 1 + S;
    gsgdi_cpu_sumsq(ctx, a->params, rule->seg, S, w2);
    gsgdi_cpu_sumsq(ctx, a->grads, rule->seg, S, g2);
    int ok = 1;
    for (int k = 0; k < S; k++) {
        const int decay = segment_decayed(rule, k);
        const float q = gsgdi_lars_trust(c, w2[k], g2[k], d->clip, decay);
        ok &= update_range(c, d, 0, q, decay, a, NULL, rule->seg[k], rule->seg[k + 1]);
    }
    return ok;
}

/* Pass 1 leaves LAMB's direction u in the work buffer; its norms and the
 * weights' give each segment's step for pass 2. */
static int cpu_lamb(gsgd_context *ctx, const gsgdi_update_rule *rule, const gsgdi_step_consts *c,
                    const gsgdi_step_scalars *d, const gsgdi_update_args *a) {
    const int S = rule->n_segments;
    float *w2 = a->work + 1, *u2 = a->work + 1 + S, *u = a->work + GSGD_WORK_HEAD;
    for (int k = 0; k < S; k++)
        update_range(c, d, 0, 1.0f, segment_decayed(rule, k), a, u, rule->seg[k], rule->seg[k + 1]);
    gsgdi_cpu_sumsq(ctx, a->params, rule->seg, S, w2);
    gsgdi_cpu_sumsq(ctx, u, rule->seg, S, u2);
    int ok = 1;
    for (int k = 0; k < S; k++) {
        const float step = gsgdi_lamb_step(d->lr, w2[k], u2[k]);
        ok &= update_range(c, d, 1, step, segment_decayed(rule, k), a, u, rule->seg[k],
                           rule->seg[k + 1]);
    }
    return ok;
}

/* A step whose gradient is not finite under a skipping guard: nothing
 * changes but the guard's record and the halved rate. */
static void guard_skip(gsgdi_guard *g, uint64_t t) {
    g->bad_steps++;
    if (g->first_bad == 0) g->first_bad = t;
    g->lr_factor *= 0.5f;
}

gsgd_status gsgdi_cpu_update(gsgd_context *ctx, const gsgdi_update_rule *rule,
                             const gsgdi_update_args *a) {
    gsgdi_step_consts c;
    GSGD_FORWARD_IF_ERROR(gsgdi_update_prepare(ctx, rule, a, &c));
    if (a->n == 0) return GSGD_STATUS_OK;
    gsgdi_guard *guard = a->guard;
    float clip = 1.0f;
    if (gsgdi_update_needs_total(rule, a)) {
        const size_t whole[2] = {0, a->n};
        gsgdi_cpu_sumsq(ctx, a->grads, whole, 1, a->work);
        if (guard && rule->skip_nonfinite && !isfinite(a->work[0])) {
            guard_skip(guard, gsgdi_guard_step(a));
            return GSGD_STATUS_OK;
        }
        clip = gsgdi_clip_scale(c.clip_norm, a->work[0]);
    }
    const gsgdi_step_scalars d =
        gsgdi_step_scalars_make(&c, *a->lr, guard ? guard->lr_factor : 1.0f, clip);
    int ok;
    if (rule->kind == GSGD_OPTIM_LARS)
        ok = cpu_lars(ctx, rule, &c, &d, a);
    else if (rule->kind == GSGD_OPTIM_LAMB)
        ok = cpu_lamb(ctx, rule, &c, &d, a);
    else
        ok = update_range(&c, &d, 0, 1.0f, -1, a, NULL, 0, a->n);
    if (guard && !rule->skip_nonfinite && !ok) { /* stop mode: the host stops on it */
        guard->bad_steps++;
        if (guard->first_bad == 0) guard->first_bad = gsgdi_guard_step(a);
    }
    return GSGD_STATUS_OK;
}
