/*
 * The backend vtable: the only seam between models and a device.
 *
 * All float/uint32 pointers passed to these ops are backend memory (device
 * memory on CUDA, host memory on the CPU backend), except where a parameter
 * says "host". Matrices are row-major. Ops enqueue work and may return
 * before it finishes (CUDA); only download() and sync() wait.
 *
 * The CPU backend is the numerical reference: every op of another backend is
 * tested against it.
 */
#ifndef GSGD_BACKEND_H
#define GSGD_BACKEND_H

#include <stddef.h>
#include <stdint.h>

#include "gsgd.h"

typedef struct gsgd_context gsgd_context;

typedef enum { LOSS_SQUARED, LOSS_LOGISTIC, LOSS_SOFTMAX_CE, LOSS_HINGE } gsgd_loss;

/* One in-place update rule over a flat buffer (PyTorch's SGD formulas):
 *   g = grad + weight_decay * p        (for i < n_decay only)
 *   SGD:       p -= lr * g
 *   momentum:  v = mu * v + g;  p -= lr * v
 *   nesterov:  v = mu * v + g;  p -= lr * (g + mu * v)
 * The learning rate is read from backend memory so a step needs no host
 * sync. */
typedef struct {
    gsgd_optim kind;
    float momentum;
    float weight_decay;
    size_t n_decay;
} gsgd_update_rule;

typedef struct gsgd_backend {
    const char *name;

    /* memory */
    gsgd_status (*alloc)(gsgd_context *ctx, size_t bytes, void **p);
    void (*release)(gsgd_context *ctx, void *p);
    gsgd_status (*upload)(gsgd_context *ctx, void *dst, const void *host_src, size_t bytes);
    gsgd_status (*download)(gsgd_context *ctx, void *host_dst, const void *src, size_t bytes);
    gsgd_status (*copy)(gsgd_context *ctx, void *dst, const void *src, size_t bytes);
    gsgd_status (*zero)(gsgd_context *ctx, void *p, size_t bytes);
    gsgd_status (*sync)(gsgd_context *ctx);
    /* Free and total bytes of the memory this backend allocates from
     * (device memory on CUDA, available RAM on the CPU). */
    gsgd_status (*mem_info)(gsgd_context *ctx, size_t *free_bytes, size_t *total_bytes);

    /* C = alpha * op(A) op(B) + beta * C, C is M x N, op(A) M x K, row-major;
     * trans_a/trans_b nonzero transpose A/B. */
    gsgd_status (*gemm)(gsgd_context *ctx, int trans_a, int trans_b, size_t M, size_t N, size_t K,
                        float alpha, const float *A, size_t lda, const float *B, size_t ldb,
                        float beta, float *C, size_t ldc);

    /* Y[r][c] += b[c]; then Y = max(Y, 0) when relu is nonzero. */
    gsgd_status (*bias_act)(gsgd_context *ctx, float *Y, const float *b, size_t rows, size_t cols,
                            int relu);
    /* dY[i] = A[i] > 0 ? dY[i] : 0 (A is the ReLU output). */
    gsgd_status (*relu_backward)(gsgd_context *ctx, float *dY, const float *A, size_t n);
    /* db[c] = sum_r dY[r][c]. */
    gsgd_status (*col_sum)(gsgd_context *ctx, const float *dY, size_t rows, size_t cols,
                           float *db);

    /* Xb[i] = standardise(X[row_i]), yb[i] = y[row_i], row_i = perm[start+i]
     * (or start+i when perm is NULL), for i < B. mean/inv_std may be NULL
     * (no standardisation): x' = (x - mean) * inv_std. */
    gsgd_status (*gather)(gsgd_context *ctx, const float *X, const float *y, size_t d,
                          const uint32_t *perm, size_t start, size_t B, const float *mean,
                          const float *inv_std, float *Xb, float *yb);

    /* Loss of B rows of logits Z (B x K) against targets y. Adds the sum of
     * per-sample losses to acc[0] and the number of correct predictions to
     * acc[1] (classification). When dZ is not NULL writes
     * dZ = grad_scale * dloss_i/dZ (grad_scale is 1/B_batch for a mean loss).
     * Per-sample losses:
     *   SQUARED:    0.5 * sum_k (z_k - t_k)^2, t = y (K=1) or one-hot(y)
     *   LOGISTIC:   log(1 + exp(z)) - y z   (K=1, y in {0,1})
     *   SOFTMAX_CE: logsumexp(z) - z_y
     *   HINGE:      sum_{k != y} max(0, z_k - z_y + 1)  */
    gsgd_status (*loss)(gsgd_context *ctx, gsgd_loss kind, const float *Z, const float *y,
                        size_t B, size_t K, int classify, float grad_scale, float *dZ,
                        double *acc);

    /* Writes a uniformly random permutation of 0..n-1 for (seed, epoch):
     * the stable argsort of keys perm_key(seed, epoch, i), identical on every
     * backend. scratch holds perm_scratch_bytes(n) bytes. */
    gsgd_status (*permutation)(gsgd_context *ctx, uint64_t seed, uint64_t epoch, size_t n,
                               uint32_t *perm, void *scratch);
    size_t (*perm_scratch_bytes)(size_t n);

    /* The fused in-place update over n floats (see gsgd_update_rule);
     * velocity may be NULL for plain SGD. lr points to backend memory. */
    gsgd_status (*update)(gsgd_context *ctx, const gsgd_update_rule *rule, const float *lr,
                          float *params, const float *grads, float *velocity, size_t n);
} gsgd_backend;

const gsgd_backend *gsgd_backend_cpu(void);

#endif
