/*
 * CUDA backend, sparse (CSR) ops: launches of kernels/csr.cu, each the
 * CPU's gsgdi_cpu_csr_* (cpu_sparse.c) on the device;
 * tests/test_sparse_cuda.c compares them. No op waits for the device.
 */
#include "backend/cuda.h"
#include "backend/update_math.h"
#include "kernels.h"
#include "core/error.h"

static gsgd_status launched(gsgd_context *ctx, int err, const char *kernel, int line) {
    if (err == (int)cudaSuccess) return GSGD_STATUS_OK;
    return gsgdi_cuda_fail(ctx, (cudaError_t)err, kernel, __FILE__, line);
}
#define LAUNCH(ctx, kernel, ...) launched((ctx), gsgdi_k_##kernel(__VA_ARGS__), #kernel, __LINE__)

gsgd_status gsgdi_cuda_csr_gather(gsgd_context *ctx, const gsgdi_csr *X, const float *y,
                                  const uint32_t *perm, size_t start, size_t B,
                                  const float *inv_std, gsgdi_csr_batch *out, float *yb) {
    return LAUNCH(ctx, csr_gather, X, y, perm, start, B, inv_std, out, yb, ctx->stream);
}

size_t gsgdi_cuda_csr_compact_scratch(gsgd_context *ctx, size_t d, size_t cap) {
    (void)ctx, (void)d;
    size_t bytes = 0;
    if (gsgdi_k_csr_compact_scratch(cap, &bytes) != (int)cudaSuccess) {
        (void)cudaGetLastError(); /* the compaction repeats the query and reports it */
        return 0;
    }
    return bytes;
}

gsgd_status gsgdi_cuda_csr_compact(gsgd_context *ctx, gsgdi_csr_batch *b, size_t B, size_t d) {
    (void)d;
    size_t need = 0;
    GSGD_FORWARD_IF_ERROR(LAUNCH(ctx, csr_compact_scratch, b->cap, &need));
    GSGD_RETURN_ERROR_IF(b->scratch_bytes < need, ctx, GSGD_STATUS_INTERNAL,
                         "csr compact: %zu bytes of scratch, needs %zu", b->scratch_bytes, need);
    return LAUNCH(ctx, csr_compact, b, B, ctx->stream);
}

gsgd_status gsgdi_cuda_csr_matmul(gsgd_context *ctx, const gsgdi_csr_batch *b, size_t B,
                                  const float *W, size_t K, const float *bias, int relu, float *Z) {
    return LAUNCH(ctx, csr_matmul, b, B, W, K, bias, relu, Z, ctx->stream);
}

gsgd_status gsgdi_cuda_csr_weight_grad(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *dZ,
                                       size_t K, float *gW) {
    return LAUNCH(ctx, csr_weight_grad, b, dZ, K, gW, ctx->stream);
}

gsgd_status gsgdi_cuda_csr_scatter(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *gW,
                                   size_t K, float *dW) {
    return LAUNCH(ctx, csr_scatter, b, gW, K, dW, ctx->stream);
}

gsgd_status gsgdi_cuda_csr_catch_up(gsgd_context *ctx, const gsgdi_csr_batch *b, float *W, size_t K,
                                    const gsgdi_lazy_decay *z, size_t step) {
    return LAUNCH(ctx, csr_catch_up, b, W, K, z->upto, z->logf, step, ctx->stream);
}

gsgd_status gsgdi_cuda_csr_flush(gsgd_context *ctx, float *W, size_t d, size_t K,
                                 const gsgdi_lazy_decay *z, size_t step) {
    GSGD_FORWARD_IF_ERROR(LAUNCH(ctx, csr_flush, W, d, K, z->upto, z->logf, step, ctx->stream));
    GSGD_CUDA_CHECK(ctx, cudaMemsetAsync(z->upto, 0, d * sizeof(uint32_t), ctx->stream));
    GSGD_CUDA_CHECK(ctx, cudaMemsetAsync(z->logf, 0, z->len * sizeof(double), ctx->stream));
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cuda_update_rows(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                   const gsgdi_rows_update_args *a) {
    gsgdi_k_rows_args k = {.lr = a->lr,
                           .guard = a->guard,
                           .W = a->W,
                           .s0 = a->state[0],
                           .s1 = a->state[1],
                           .gW = a->gW,
                           .batch = *a->batch,
                           .K = a->K,
                           .step = a->step,
                           .upto = a->decay ? a->decay->upto : NULL,
                           .logf = a->decay ? a->decay->logf : NULL};
    GSGD_FORWARD_IF_ERROR(gsgdi_update_prepare_rows(ctx, rule, a, &k.c));
    if (gsgdi_rule_state_count(rule) < 2) k.s1 = NULL;
    if (gsgdi_rule_state_count(rule) < 1) k.s0 = NULL;
    k.bad_flag = a->guard ? gsgdi_cuda_state_of(ctx)->update_flag : NULL;
    GSGD_FORWARD_IF_ERROR(LAUNCH(ctx, update_rows, &k, ctx->stream));
    if (k.bad_flag)
        GSGD_FORWARD_IF_ERROR(
            LAUNCH(ctx, update_finish, k.bad_flag, a->guard, a->t, a->t_in_epoch, ctx->stream));
    return GSGD_STATUS_OK;
}
