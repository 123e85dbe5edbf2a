/*
 * CPU backend: the numerical reference for every other backend.
 * GEMMs through CBLAS (OpenBLAS), the rest as plain loops, parallel with
 * OpenMP where the loop is long enough to pay for it. Reductions accumulate
 * in double so the reference is more accurate than the kernels it checks.
 */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "internal.h"
#include "rng.h"
#include "update_math.h"

/* Below this many elements a parallel region costs more than it saves: a
 * fork/join is microseconds on an idle machine, and when the cores are
 * shared, OpenMP workers spinning at the barrier cost far more (measured:
 * softmax epochs 100x slower under load with per-step parallel loops). */
#define PAR_MIN (1u << 17)

int gsgd_cpu_threads(void) { return omp_get_max_threads(); }

static gsgd_status cpu_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    /* 64-byte alignment: whole cache lines, and 16-byte vector loads. */
    size_t rounded = (bytes + 63) / 64 * 64;
    *p = aligned_alloc(64, rounded);
    RETURN_ERROR_IF(!*p, ctx, GSGD_STATUS_OUT_OF_MEMORY, "cpu: allocation of %zu bytes failed",
                    bytes);
    return GSGD_STATUS_OK;
}

static void cpu_release(gsgd_context *ctx, void *p) {
    (void)ctx;
    free(p);
}

static gsgd_status cpu_copy(gsgd_context *ctx, void *dst, const void *src, size_t bytes) {
    (void)ctx;
    if (bytes) memcpy(dst, src, bytes);
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_zero(gsgd_context *ctx, void *p, size_t bytes) {
    (void)ctx;
    if (bytes) memset(p, 0, bytes);
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_sync(gsgd_context *ctx) {
    (void)ctx;
    return GSGD_STATUS_OK;
}

/* Available RAM (MemAvailable from /proc/meminfo, which counts reclaimable
 * caches), falling back to sysconf's free pages. */
static gsgd_status cpu_mem_info(gsgd_context *ctx, size_t *free_bytes, size_t *total_bytes) {
    long pages = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
    long page = sysconf(_SC_PAGESIZE);
    RETURN_ERROR_IF(pages <= 0 || page <= 0, ctx, GSGD_STATUS_INTERNAL,
                    "cpu: cannot read the memory size");
    size_t total = (size_t)pages * (size_t)page, avail_bytes = (size_t)avail * (size_t)page;
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb;
        while (fgets(line, sizeof line, f))
            if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1) avail_bytes = (size_t)kb * 1024;
        fclose(f);
    }
    if (free_bytes) *free_bytes = avail_bytes;
    if (total_bytes) *total_bytes = total;
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_gemm(gsgd_context *ctx, int trans_a, int trans_b, size_t M, size_t N,
                            size_t K, float alpha, const float *A, size_t lda, const float *B,
                            size_t ldb, float beta, float *C, size_t ldc) {
    RETURN_ERROR_IF(M > INT32_MAX || N > INT32_MAX || K > INT32_MAX, ctx,
                    GSGD_STATUS_TOO_LARGE, "cpu gemm: %zux%zux%zu exceeds CBLAS int range", M, N,
                    K);
    if (M == 0 || N == 0) return GSGD_STATUS_OK;
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (int)M, (int)N, (int)K, alpha, A, (int)lda,
                B, (int)ldb, beta, C, (int)ldc);
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_bias_act(gsgd_context *ctx, float *Y, const float *b, size_t rows,
                                size_t cols, int relu) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        float *y = Y + r * cols;
        for (size_t c = 0; c < cols; c++) {
            float v = y[c] + b[c];
            y[c] = (relu && v < 0.0f) ? 0.0f : v;
        }
    }
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_relu_backward(gsgd_context *ctx, float *dY, const float *A, size_t n) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (n >= PAR_MIN)
    for (size_t i = 0; i < n; i++)
        if (!(A[i] > 0.0f)) dY[i] = 0.0f;
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_col_sum(gsgd_context *ctx, const float *dY, size_t rows, size_t cols,
                               float *db) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (rows * cols >= PAR_MIN)
    for (size_t c = 0; c < cols; c++) {
        double s = 0.0;
        for (size_t r = 0; r < rows; r++) s += dY[r * cols + c];
        db[c] = (float)s;
    }
    return GSGD_STATUS_OK;
}

/* One row of the gather, standardised when mean is not NULL. The byte
 * conversion and the subtract-then-multiply are the kernels' expressions
 * (kernels/gather.cu), so results are bitwise the same on every backend
 * and for either storage of the same features. */
static void gather_row_f32(const float *src, size_t d, const float *mean, const float *inv_std,
                           float *dst) {
    if (mean) {
        for (size_t j = 0; j < d; j++) dst[j] = (src[j] - mean[j]) * inv_std[j];
    } else {
        memcpy(dst, src, d * sizeof *dst);
    }
}

static void gather_row_u8(const uint8_t *src, size_t d, const float *mean, const float *inv_std,
                          float *dst) {
    if (mean) {
        for (size_t j = 0; j < d; j++) dst[j] = (GSGD_U8_FEATURE(src[j]) - mean[j]) * inv_std[j];
    } else {
        for (size_t j = 0; j < d; j++) dst[j] = GSGD_U8_FEATURE(src[j]);
    }
}

static gsgd_status cpu_gather(gsgd_context *ctx, const void *X, gsgd_xtype xt, const float *y,
                              size_t d, const uint32_t *perm, size_t start, size_t B,
                              const float *mean, const float *inv_std, float *Xb, float *yb) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (B * d >= PAR_MIN)
    for (size_t i = 0; i < B; i++) {
        size_t row = perm ? perm[start + i] : start + i;
        float *dst = Xb + i * d;
        if (xt == GSGD_XTYPE_U8)
            gather_row_u8((const uint8_t *)X + row * d, d, mean, inv_std, dst);
        else
            gather_row_f32((const float *)X + row * d, d, mean, inv_std, dst);
        yb[i] = y[row];
    }
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_copy_2d(gsgd_context *ctx, void *dst, size_t dpitch, const void *src,
                               size_t spitch, size_t width, size_t height) {
    (void)ctx;
    for (size_t r = 0; r < height; r++)
        memcpy((uint8_t *)dst + r * dpitch, (const uint8_t *)src + r * spitch, width);
    return GSGD_STATUS_OK;
}

static size_t argmax(const float *z, size_t K) {
    size_t best = 0;
    for (size_t k = 1; k < K; k++)
        if (z[k] > z[best]) best = k;
    return best;
}

/* Loss of one row; writes its gradient (unscaled) into dz when not NULL and
 * returns the loss. */
static double row_loss(gsgd_loss kind, const float *z, float yv, size_t K, float *dz) {
    size_t label = (size_t)yv;
    switch (kind) {
    case LOSS_SOFTMAX_CE: {
        float m = z[argmax(z, K)];
        double s = 0.0;
        for (size_t k = 0; k < K; k++) s += exp((double)(z[k] - m));
        if (dz)
            for (size_t k = 0; k < K; k++)
                dz[k] = (float)(exp((double)(z[k] - m)) / s) - (k == label ? 1.0f : 0.0f);
        return log(s) + m - z[label];
    }
    case LOSS_LOGISTIC: {
        double zz = z[0], t = yv;
        if (dz) dz[0] = (float)(1.0 / (1.0 + exp(-zz)) - t);
        return fmax(zz, 0.0) - t * zz + log1p(exp(-fabs(zz)));
    }
    case LOSS_SQUARED: {
        double l = 0.0;
        for (size_t k = 0; k < K; k++) {
            double t = K == 1 ? yv : (k == label ? 1.0 : 0.0);
            double r = z[k] - t;
            if (dz) dz[k] = (float)r;
            l += 0.5 * r * r;
        }
        return l;
    }
    case LOSS_HINGE: {
        double l = 0.0;
        float violations = 0.0f;
        for (size_t k = 0; k < K; k++) {
            if (k == label) continue;
            double margin = (double)z[k] - z[label] + 1.0;
            int active = margin > 0.0;
            if (active) l += margin;
            violations += (float)active;
            if (dz) dz[k] = (float)active;
        }
        if (dz) dz[label] = -violations;
        return l;
    }
    }
    return NAN;
}

static int row_correct(gsgd_loss kind, const float *z, float yv, size_t K) {
    if (kind == LOSS_LOGISTIC) return (z[0] > 0.0f) == (yv > 0.5f);
    return argmax(z, K) == (size_t)yv;
}

static gsgd_status cpu_loss(gsgd_context *ctx, gsgd_loss kind, const float *Z, const float *y,
                            size_t B, size_t K, int classify, float grad_scale, float *dZ,
                            double *acc) {
    (void)ctx;
    double loss = 0.0, correct = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : loss, correct) if (B * K >= PAR_MIN)
    for (size_t i = 0; i < B; i++) {
        float *dz = dZ ? dZ + i * K : NULL;
        loss += row_loss(kind, Z + i * K, y[i], K, dz);
        if (dz)
            for (size_t k = 0; k < K; k++) dz[k] *= grad_scale;
        if (classify) correct += row_correct(kind, Z + i * K, y[i], K);
    }
    acc[0] += loss;
    acc[1] += correct;
    return GSGD_STATUS_OK;
}

static int cmp_u64(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static gsgd_status cpu_permutation(gsgd_context *ctx, uint64_t seed, uint64_t epoch, size_t n,
                                   uint32_t *perm, void *scratch) {
    RETURN_ERROR_IF(n > UINT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                    "permutation: %zu samples exceed 2^32", n);
    /* (key << 32 | index) sorts by key, ties by index: a stable argsort. */
    uint64_t *pairs = scratch;
    for (size_t i = 0; i < n; i++)
        pairs[i] = ((uint64_t)gsgd_perm_key(seed, epoch, i) << 32) | (uint64_t)i;
    qsort(pairs, n, sizeof *pairs, cmp_u64);
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)pairs[i];
    return GSGD_STATUS_OK;
}

static size_t cpu_perm_scratch_bytes(size_t n) { return n * sizeof(uint64_t); }

/* Sum of squares of x[0, n) in double. Long ranges are cut into CHUNKS
 * fixed pieces summed in parallel, then added in order: the result depends
 * on n alone, never on the thread count or on which thread finishes first
 * (an OpenMP reduction combines in arrival order). */
static double sumsq_range(const float *x, size_t n) {
    enum { CHUNKS = 64 };
    if (n < PAR_MIN) {
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

static gsgd_status cpu_sumsq(gsgd_context *ctx, const float *x, const size_t *seg, int n_segments,
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
static inline int update_at(gsgd_optim kind, const gsgd_step_consts *c,
                            const gsgd_step_scalars *d, int pass, float q, int decay,
                            pass_bufs b, size_t i) {
    const int has_s0 = reads_s0(kind), has_s1 = reads_s1(kind, &b);
    float w = b.w[i], s0 = has_s0 ? b.s0[i] : 0.0f, s1 = has_s1 ? b.s1[i] : 0.0f,
          ui = b.u ? b.u[i] : 0.0f, avg = b.avg ? b.avg[i] : 0.0f;
    int ok = gsgd_update_elem(kind, c, d, pass, q, decay, pass == 1 ? 0.0f : b.g[i], &w, &s0, &s1,
                              &ui, b.avg ? &avg : NULL);
    b.w[i] = w;
    if (has_s0) b.s0[i] = s0;
    if (has_s1) b.s1[i] = s1;
    if (b.u) b.u[i] = ui;
    if (b.avg) b.avg[i] = avg;
    return ok;
}

/* The plain pass of the common case (no clipping, prox, average or LAMB
 * direction) for one rule and one decay: no branch left in the body, so
 * the compiler vectorises it. Same arithmetic as update_at. */
#define PLAIN_LOOP(KIND, DECAY)                                                                    \
    {                                                                                              \
        const int par_ = to - from >= PAR_MIN;                                                     \
        _Pragma("omp parallel reduction(& : ok) if (par_)") {                                      \
            FLUSH_DENORMALS_BEGIN                                                                  \
            _Pragma("omp for schedule(static)") for (size_t i = from; i < to; i++) {               \
                float w = b.w[i], s0 = reads_s0(KIND) ? b.s0[i] : 0.0f,                            \
                      s1 = reads_s1(KIND, &b) ? b.s1[i] : 0.0f;                                    \
                gsgd_rule_step(KIND, c, d, 1.0f, DECAY, b.g[i], &w, &s0, &s1, NULL);              \
                b.w[i] = w;                                                                        \
                if (reads_s0(KIND)) b.s0[i] = s0;                                                  \
                if (reads_s1(KIND, &b)) b.s1[i] = s1;                                              \
                ok &= isfinite(w) ? 1 : 0;                                                         \
            }                                                                                      \
            FLUSH_DENORMALS_END                                                                    \
        }                                                                                          \
    }

/* The loop of update_range for one rule, named by a constant so that the
 * element's switch folds away inside OpenMP's outlined loop body
 * (measured: 5x faster SGD on one core than a switch per element). The
 * common case splits at n_decay and takes PLAIN_LOOP (measured on one
 * core, 1M floats: SGD 2.35 -> 0.28 ms, momentum 2.56 -> 0.42 ms). */
#define UPDATE_LOOP(KIND)                                                                          \
    case KIND:                                                                                     \
        if (plain) {                                                                               \
            const size_t mid = lo < c->n_decay ? (hi < c->n_decay ? hi : c->n_decay) : lo;         \
            size_t from = lo, to = mid;                                                            \
            PLAIN_LOOP(KIND, 1)                                                                    \
            from = mid;                                                                            \
            to = hi;                                                                               \
            PLAIN_LOOP(KIND, 0)                                                                    \
            break;                                                                                 \
        }                                                                                          \
        {                                                                                          \
            const int par_ = hi - lo >= PAR_MIN;                                                   \
            _Pragma("omp parallel reduction(& : ok) if (par_)") {                                  \
                FLUSH_DENORMALS_BEGIN                                                              \
                _Pragma("omp for schedule(static)") for (size_t i = lo; i < hi; i++) ok &=         \
                    update_at(KIND, c, d, pass, q, decay < 0 ? i < c->n_decay : decay, b, i);      \
                FLUSH_DENORMALS_END                                                                \
            }                                                                                      \
        }                                                                                          \
        break

/* Elements [lo, hi) of one pass; decay < 0 means "i < n_decay" per element.
 * Returns whether every updated weight is finite. */
static int update_range(const gsgd_step_consts *c, const gsgd_step_scalars *d, int pass, float q,
                        int decay, const gsgd_update_args *a, float *u, size_t lo, size_t hi) {
    const pass_bufs b = {.w = a->params, .s0 = a->state[0], .s1 = a->state[1], .u = u,
                         .avg = a->average, .g = a->grads};
    const int plain = pass == 0 && decay < 0 && !u && !b.avg && !(c->l1 > 0.0f) &&
                      !(c->clip_norm > 0.0f) && c->kind != GSGD_OPTIM_LARS &&
                      c->kind != GSGD_OPTIM_LAMB;
    int ok = 1;
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
static int segment_decayed(const gsgd_update_rule *rule, int k) {
    return rule->seg[k + 1] <= rule->n_decay;
}

static int cpu_lars(gsgd_context *ctx, const gsgd_update_rule *rule, const gsgd_step_consts *c,
                    const gsgd_step_scalars *d, const gsgd_update_args *a) {
    const int S = rule->n_segments;
    float *w2 = a->work + 1, *g2 = a->work + 1 + S;
    cpu_sumsq(ctx, a->params, rule->seg, S, w2);
    cpu_sumsq(ctx, a->grads, rule->seg, S, g2);
    int ok = 1;
    for (int k = 0; k < S; k++) {
        const int decay = segment_decayed(rule, k);
        const float q = gsgd_lars_trust(c, w2[k], g2[k], d->clip, decay);
        ok &= update_range(c, d, 0, q, decay, a, NULL, rule->seg[k], rule->seg[k + 1]);
    }
    return ok;
}

/* Pass 1 leaves LAMB's direction u in the work buffer; its norms and the
 * weights' give each segment's step for pass 2. */
static int cpu_lamb(gsgd_context *ctx, const gsgd_update_rule *rule, const gsgd_step_consts *c,
                    const gsgd_step_scalars *d, const gsgd_update_args *a) {
    const int S = rule->n_segments;
    float *w2 = a->work + 1, *u2 = a->work + 1 + S, *u = a->work + GSGD_WORK_HEAD;
    for (int k = 0; k < S; k++)
        update_range(c, d, 0, 1.0f, segment_decayed(rule, k), a, u, rule->seg[k],
                     rule->seg[k + 1]);
    cpu_sumsq(ctx, a->params, rule->seg, S, w2);
    cpu_sumsq(ctx, u, rule->seg, S, u2);
    int ok = 1;
    for (int k = 0; k < S; k++) {
        const float step = gsgd_lamb_step(d->lr, w2[k], u2[k]);
        ok &= update_range(c, d, 1, step, segment_decayed(rule, k), a, u, rule->seg[k],
                           rule->seg[k + 1]);
    }
    return ok;
}

/* A step whose gradient is not finite under a skipping guard: nothing
 * changes but the guard's record and the halved rate. */
static void guard_skip(gsgd_guard *g, uint64_t t) {
    g->bad_steps++;
    if (g->first_bad == 0) g->first_bad = t;
    g->lr_factor *= 0.5f;
}

static gsgd_status cpu_update(gsgd_context *ctx, const gsgd_update_rule *rule,
                              const gsgd_update_args *a) {
    gsgd_step_consts c;
    FORWARD_IF_ERROR(gsgd_update_prepare(ctx, rule, a, &c));
    if (a->n == 0) return GSGD_STATUS_OK;
    gsgd_guard *guard = a->guard;
    float clip = 1.0f;
    if (gsgd_update_needs_total(rule, a)) {
        const size_t whole[2] = {0, a->n};
        cpu_sumsq(ctx, a->grads, whole, 1, a->work);
        if (guard && rule->skip_nonfinite && !isfinite(a->work[0])) {
            guard_skip(guard, a->t);
            return GSGD_STATUS_OK;
        }
        clip = gsgd_clip_scale(c.clip_norm, a->work[0]);
    }
    const gsgd_step_scalars d =
        gsgd_step_scalars_make(&c, *a->lr, guard ? guard->lr_factor : 1.0f, clip);
    int ok;
    if (rule->kind == GSGD_OPTIM_LARS)
        ok = cpu_lars(ctx, rule, &c, &d, a);
    else if (rule->kind == GSGD_OPTIM_LAMB)
        ok = cpu_lamb(ctx, rule, &c, &d, a);
    else
        ok = update_range(&c, &d, 0, 1.0f, -1, a, NULL, 0, a->n);
    if (guard && !rule->skip_nonfinite && !ok) { /* stop mode: the host stops on it */
        guard->bad_steps++;
        if (guard->first_bad == 0) guard->first_bad = a->t;
    }
    return GSGD_STATUS_OK;
}

static const gsgd_backend cpu_backend = {
    .name = "cpu",
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .sync = cpu_sync,
    .mem_info = cpu_mem_info,
    .gemm = cpu_gemm,
    .bias_act = cpu_bias_act,
    .relu_backward = cpu_relu_backward,
    .col_sum = cpu_col_sum,
    .gather = cpu_gather,
    .copy_2d = cpu_copy_2d,
    .loss = cpu_loss,
    .permutation = cpu_permutation,
    .perm_scratch_bytes = cpu_perm_scratch_bytes,
    .update = cpu_update,
    .sumsq = cpu_sumsq,
};

const gsgd_backend *gsgd_backend_cpu(void) { return &cpu_backend; }
