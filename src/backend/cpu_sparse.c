/*
 * CPU backend, sparse (CSR) ops: the reference for kernels/csr.cu. A batch
 * of CSR rows is gathered, grouped by feature, multiplied into the dense
 * layer it feeds, and its weight gradient taken over the features it
 * touches only; the row-sparse update and the lazy weight decay follow
 * (backend/sparse.h). Every loop is deterministic: parallel loops split
 * rows or features that are computed independently, each in a fixed order.
 */
#include <math.h>
#include <string.h>

#include "backend/cpu.h"
#include "backend/update_math.h"
#include "core/error.h"

/* Parallel only where the work pays for waking the threads (GSGD_CPU_PAR_MIN
 * multiply-adds); a small batch runs on the calling thread. */
#define PAR_IF(work) if ((work) >= GSGD_CPU_PAR_MIN)

gsgd_status gsgdi_cpu_csr_gather(gsgd_context *ctx, const gsgdi_csr *X, const float *y,
                                 const uint32_t *perm, size_t start, size_t B, const float *inv_std,
                                 gsgdi_csr_batch *out, float *yb) {
    int32_t *ptr = out->ptr;
    size_t total = 0;
    ptr[0] = 0;
    for (size_t i = 0; i < B; i++) {
        const size_t r = perm ? perm[start + i] : start + i;
        total += (size_t)(X->indptr[r + 1] - X->indptr[r]);
        GSGD_RETURN_ERROR_IF(total > out->cap, ctx, GSGD_STATUS_INTERNAL,
                             "csr gather: rows hold more than the %zu nonzeros planned", out->cap);
        ptr[i + 1] = (int32_t)total;
    }
#pragma omp parallel for schedule(static) PAR_IF(total)
    for (size_t i = 0; i < B; i++) {
        const size_t r = perm ? perm[start + i] : start + i;
        const int64_t lo = X->indptr[r];
        for (int32_t q = ptr[i]; q < ptr[i + 1]; q++) {
            const int64_t c = GSGD_CSR_COL(X->indices, X->idx64, lo + (q - ptr[i]));
            const float v = X->values[lo + (q - ptr[i])];
            out->col[q] = (int32_t)c;
            out->val[q] = inv_std ? v * inv_std[c] : v;
            out->row[q] = (int32_t)i;
        }
        yb[i] = y[r];
    }
    return GSGD_STATUS_OK;
}

/* A mark per feature (the local index + 1, 0 = not in the batch), zeroed
 * by the caller once and left zeroed by every call. */
size_t gsgdi_cpu_csr_compact_scratch(gsgd_context *ctx, size_t d, size_t cap) {
    (void)ctx, (void)cap;
    return d * sizeof(int32_t);
}

/* Features in the order of their first nonzero in the batch (the CUDA
 * backend sorts them; the order only names the rows of the compact
 * gradient). A counting sort then lists each feature's nonzeros in batch
 * order. O(nonzeros), one thread. */
gsgd_status gsgdi_cpu_csr_compact(gsgd_context *ctx, gsgdi_csr_batch *b, size_t B, size_t d) {
    (void)d;
    GSGD_RETURN_ERROR_IF(b->scratch_bytes < d * sizeof(int32_t), ctx, GSGD_STATUS_INTERNAL,
                         "csr compact: %zu bytes of scratch for %zu features", b->scratch_bytes, d);
    int32_t *mark = b->scratch;
    const int32_t nnz = b->ptr[B];
    int32_t r = 0;
    for (int32_t p = 0; p < nnz; p++) {
        const int32_t c = b->col[p];
        if (mark[c] == 0) {
            b->feat[r] = c;
            mark[c] = ++r;
        }
    }
    memset(b->fptr, 0, ((size_t)r + 1) * sizeof *b->fptr);
    for (int32_t p = 0; p < nnz; p++) b->fptr[mark[b->col[p]]]++;
    for (int32_t i = 0; i < r; i++) b->fptr[i + 1] += b->fptr[i];
    for (int32_t p = 0; p < nnz; p++) b->order[b->fptr[mark[b->col[p]] - 1]++] = p;
    for (int32_t i = r; i > 0; i--) b->fptr[i] = b->fptr[i - 1];
    b->fptr[0] = 0;
    for (int32_t i = 0; i < r; i++) mark[b->feat[i]] = 0;
    *b->n_feat = r;
    return GSGD_STATUS_OK;
}

/* One float multiply-add at a time in the row's order (ISO C contracts
 * none into an FMA; the kernel uses __fmul_rn/__fadd_rn), then the bias:
 * the same bits on both backends. */
gsgd_status gsgdi_cpu_csr_matmul(gsgd_context *ctx, const gsgdi_csr_batch *b, size_t B,
                                 const float *W, size_t K, const float *bias, int relu, float *Z) {
    (void)ctx;
#pragma omp parallel for schedule(static) PAR_IF((size_t)b->ptr[B] * K)
    for (size_t i = 0; i < B; i++) {
        float *restrict z = Z + i * K;
        for (size_t k = 0; k < K; k++) z[k] = 0.0f;
        for (int32_t p = b->ptr[i]; p < b->ptr[i + 1]; p++) {
            const float v = b->val[p];
            const float *restrict w = W + (size_t)b->col[p] * K;
            for (size_t k = 0; k < K; k++) z[k] = z[k] + v * w[k];
        }
        for (size_t k = 0; k < K; k++) {
            const float s = z[k] + bias[k];
            z[k] = relu && s < 0.0f ? 0.0f : s;
        }
    }
    return GSGD_STATUS_OK;
}

/* Outputs in chunks of GRAD_CHUNK: a chunk's double accumulators stay in
 * registers however wide the layer is. */
#define GRAD_CHUNK 32

gsgd_status gsgdi_cpu_csr_weight_grad(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *dZ,
                                      size_t K, float *gW) {
    (void)ctx;
    const int32_t r = *b->n_feat;
#pragma omp parallel for schedule(static) PAR_IF((size_t)b->fptr[r] * K)
    for (int32_t i = 0; i < r; i++) {
        for (size_t k0 = 0; k0 < K; k0 += GRAD_CHUNK) {
            const size_t kn = K - k0 < GRAD_CHUNK ? K - k0 : GRAD_CHUNK;
            double acc[GRAD_CHUNK] = {0};
            for (int32_t q = b->fptr[i]; q < b->fptr[i + 1]; q++) {
                const int32_t p = b->order[q];
                const double v = b->val[p];
                const float *dz = dZ + (size_t)b->row[p] * K + k0;
                for (size_t k = 0; k < kn; k++) acc[k] += v * (double)dz[k];
            }
            for (size_t k = 0; k < kn; k++) gW[(size_t)i * K + k0 + k] = (float)acc[k];
        }
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cpu_csr_scatter(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *gW,
                                  size_t K, float *dW) {
    (void)ctx;
    for (int32_t i = 0; i < *b->n_feat; i++)
        memcpy(dW + (size_t)b->feat[i] * K, gW + (size_t)i * K, K * sizeof *dW);
    return GSGD_STATUS_OK;
}

/* Row j's missed shrinking up to step s: the product of the f's as
 * exp of a difference of their logs' sums, in double, rounded once. */
static inline float catch_up_factor(const gsgdi_lazy_decay *z, uint32_t upto, size_t s) {
    return (float)exp(z->logf[s] - z->logf[upto]);
}

gsgd_status gsgdi_cpu_csr_catch_up(gsgd_context *ctx, const gsgdi_csr_batch *b, float *W, size_t K,
                                   const gsgdi_lazy_decay *z, size_t step) {
    (void)ctx;
    for (int32_t i = 0; i < *b->n_feat; i++) {
        const size_t j = (size_t)b->feat[i];
        if (z->upto[j] == step) continue;
        const float f = catch_up_factor(z, z->upto[j], step);
        for (size_t k = 0; k < K; k++) W[j * K + k] *= f;
        z->upto[j] = (uint32_t)step;
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cpu_csr_flush(gsgd_context *ctx, float *W, size_t d, size_t K,
                                const gsgdi_lazy_decay *z, size_t step) {
    (void)ctx;
#pragma omp parallel for schedule(static) PAR_IF(d *K)
    for (size_t j = 0; j < d; j++) {
        if (z->upto[j] == step) continue;
        const float f = catch_up_factor(z, z->upto[j], step);
        for (size_t k = 0; k < K; k++) W[j * K + k] *= f;
    }
    memset(z->upto, 0, d * sizeof *z->upto);
    memset(z->logf, 0, z->len * sizeof *z->logf);
    return GSGD_STATUS_OK;
}

/* One element of a touched row: the dense update's arithmetic
 * (update_math.h), every element a decayed weight. */
static inline int row_elem(gsgd_optim kind, const gsgdi_step_consts *c, const gsgdi_step_scalars *d,
                           float g, float *w, float *s0, float *s1) {
    float sv0 = s0 ? *s0 : 0.0f, sv1 = s1 ? *s1 : 0.0f;
    gsgdi_rule_step(kind, c, d, 1.0f, 1, g, w, &sv0, &sv1, NULL);
    if (s0) *s0 = sv0;
    if (s1) *s1 = sv1;
    return isfinite(*w) ? 1 : 0;
}

/* Plain SGD's rows with the rule's own arithmetic (gsgdi_rule_step with a
 * constant kind and decay, so the compiler drops its switch and
 * vectorises the row: measured 30% of a TF-IDF softmax step with the
 * switch per element). */
static int rows_sgd(const gsgdi_step_consts *c, const gsgdi_step_scalars *d,
                    const gsgdi_rows_update_args *a, int decay) {
    const gsgdi_csr_batch *b = a->batch;
    const int32_t r = *b->n_feat;
    const size_t K = a->K;
    int ok = 1;
#pragma omp parallel for schedule(static) reduction(& : ok) PAR_IF((size_t)r *K)
    for (int32_t i = 0; i < r; i++) {
        float *restrict w = a->W + (size_t)b->feat[i] * K;
        const float *restrict g = a->gW + (size_t)i * K;
        int row_ok = 1;
        if (decay)
            for (size_t k = 0; k < K; k++) {
                float wk = w[k], s0 = 0.0f, s1 = 0.0f;
                gsgdi_rule_step(GSGD_OPTIM_SGD, c, d, 1.0f, 1, g[k], &wk, &s0, &s1, NULL);
                w[k] = wk;
                row_ok &= isfinite(wk) ? 1 : 0;
            }
        else
            for (size_t k = 0; k < K; k++) {
                float wk = w[k], s0 = 0.0f, s1 = 0.0f;
                gsgdi_rule_step(GSGD_OPTIM_SGD, c, d, 1.0f, 0, g[k], &wk, &s0, &s1, NULL);
                w[k] = wk;
                row_ok &= isfinite(wk) ? 1 : 0;
            }
        ok &= row_ok;
    }
    return ok;
}

gsgd_status gsgdi_cpu_update_rows(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                  const gsgdi_rows_update_args *a) {
    gsgdi_step_consts c;
    GSGD_FORWARD_IF_ERROR(gsgdi_update_prepare_rows(ctx, rule, a, &c));
    gsgdi_guard *guard = a->guard;
    const gsgdi_step_scalars d =
        gsgdi_step_scalars_make(&c, *a->lr, guard ? guard->lr_factor : 1.0f, 1.0f);
    const gsgdi_csr_batch *b = a->batch;
    const int32_t r = *b->n_feat;
    const size_t K = a->K;
    float *s0 = a->state[0], *s1 = a->state[1];
    int ok = 1;
    if (c.kind == GSGD_OPTIM_SGD) { /* the common case, branch-free: rows_sgd */
        ok = rows_sgd(&c, &d, a, c.wd != 0.0f);
    } else {
#pragma omp parallel for schedule(static) reduction(& : ok) PAR_IF((size_t)r *K)
        for (int32_t i = 0; i < r; i++) {
            const size_t base = (size_t)b->feat[i] * K;
            for (size_t k = 0; k < K; k++)
                ok &= row_elem(c.kind, &c, &d, a->gW[(size_t)i * K + k], a->W + base + k,
                               s0 ? s0 + base + k : NULL, s1 ? s1 + base + k : NULL);
        }
    }
    if (a->decay)
        for (int32_t i = 0; i < r; i++) a->decay->upto[b->feat[i]] = (uint32_t)(a->step + 1);
    if (a->decay)
        a->decay->logf[a->step + 1] = a->decay->logf[a->step] + log1p(-(double)d.lr * (double)c.wd);
    if (guard && !ok) {
        guard->bad_steps++;
        if (guard->first_bad == 0) guard->first_bad = a->t_in_epoch ? guard->t_base + a->t : a->t;
    }
    return GSGD_STATUS_OK;
}
