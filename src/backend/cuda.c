/*
 * CUDA backend: device memory, one cuBLAS handle per context, and the
 * launches of kernels/ (see kernels/kernels.h). Every op enqueues on the
 * context's stream (gsgd_context_set_stream; NULL = the default stream)
 * and returns without waiting, except upload, download and sync.
 *
 * Numerics follow the CPU backend op for op (each kernel file names its
 * reference); tests/test_backend_cuda.c compares the two. Opening a
 * device, its description and the timers are in cuda_context.c.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cuda.h"
#include "kernels.h"
#include "core/error.h"

static gsgdi_cuda_state *state(gsgd_context *ctx) { return gsgdi_cuda_state_of(ctx); }
static cudaStream_t stream_of(const gsgd_context *ctx) { return (cudaStream_t)ctx->stream; }

/* Maps a launcher's return value (a cudaError_t) to a status naming the
 * kernel. */
static gsgd_status launched(gsgd_context *ctx, int err, const char *kernel, int line) {
    if (err == (int)cudaSuccess) return GSGD_STATUS_OK;
    return gsgdi_cuda_fail(ctx, (cudaError_t)err, kernel, __FILE__, line);
}
#define LAUNCH(ctx, kernel, ...) launched((ctx), gsgdi_k_##kernel(__VA_ARGS__), #kernel, __LINE__)

/* ---- memory --------------------------------------------------------------- */

static gsgd_status cuda_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    *p = NULL;
    cudaError_t e = cudaMalloc(p, bytes);
    if (e == cudaSuccess) return GSGD_STATUS_OK;
    *p = NULL;
    (void)cudaGetLastError(); /* a failed allocation is not sticky: clear it */
    size_t free_b = 0, total_b = 0;
    if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) (void)cudaGetLastError();
    gsgd_status st = e == cudaErrorMemoryAllocation ? GSGD_STATUS_DEVICE_OUT_OF_MEMORY
                     : gsgdi_cuda_is_no_device(e)   ? GSGD_STATUS_NO_DEVICE
                                                    : GSGD_STATUS_DEVICE_ERROR;
    return GSGD_ERROR(ctx, st, "cuda: cudaMalloc of %zu bytes failed: %s (%zu MiB free of %zu MiB)",
                      bytes, cudaGetErrorString(e), free_b >> 20, total_b >> 20);
}

static void cuda_release(gsgd_context *ctx, void *p) {
    (void)ctx;
    /* Nothing to report to: a failure here means the context is already
     * broken, and the next checked call will say so. */
    if (p && cudaFree(p) != cudaSuccess) (void)cudaGetLastError();
}

/* Mapped pinned host memory: kernels read it in place over the bus. With
 * unified addressing (every 64-bit platform CUDA supports) its device
 * address is its host address, which the datasets rely on. */
static gsgd_status cuda_alloc_host_mapped(gsgd_context *ctx, size_t bytes, void **p) {
    *p = NULL;
    void *h = NULL, *d = NULL;
    cudaError_t e = cudaHostAlloc(&h, bytes, cudaHostAllocMapped | cudaHostAllocPortable);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY,
                          "cuda: cudaHostAlloc of %zu bytes of pinned host memory failed: %s",
                          bytes, cudaGetErrorString(e));
    }
    e = cudaHostGetDevicePointer(&d, h, 0);
    if (e != cudaSuccess || d != h) {
        (void)cudaGetLastError();
        cudaFreeHost(h);
        return GSGD_ERROR(ctx, GSGD_STATUS_UNSUPPORTED,
                          "cuda: pinned host memory is not at the same address on the device "
                          "(no unified addressing): %s",
                          cudaGetErrorString(e));
    }
    *p = h;
    return GSGD_STATUS_OK;
}

static void cuda_release_host_mapped(gsgd_context *ctx, void *p) {
    (void)ctx;
    if (p && cudaFreeHost(p) != cudaSuccess) (void)cudaGetLastError();
}

/* Copies name no direction (cudaMemcpyDefault): with unified addressing the
 * runtime infers it, and a dataset may sit in mapped pinned host memory
 * where an op expects device memory.
 *
 * Uploads wait for the copy: the caller may free or reuse its host buffer
 * at once (as with the CPU backend), even when that buffer is pinned. */
static gsgd_status cuda_upload(gsgd_context *ctx, void *dst, const void *src, size_t bytes) {
    if (!bytes) return GSGD_STATUS_OK;
    GSGD_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_of(ctx)));
    GSGD_CUDA_CHECK(ctx, cudaStreamSynchronize(stream_of(ctx)));
    return GSGD_STATUS_OK;
}

static gsgd_status cuda_download(gsgd_context *ctx, void *dst, const void *src, size_t bytes) {
    if (!bytes) return GSGD_STATUS_OK;
    GSGD_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_of(ctx)));
    GSGD_CUDA_CHECK(ctx, cudaStreamSynchronize(stream_of(ctx)));
    return GSGD_STATUS_OK;
}

static gsgd_status cuda_copy(gsgd_context *ctx, void *dst, const void *src, size_t bytes) {
    if (!bytes) return GSGD_STATUS_OK;
    GSGD_CUDA_CHECK(ctx, cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDefault, stream_of(ctx)));
    return GSGD_STATUS_OK;
}

/* cudaMemcpy2D refuses pitches above the device's maximum (2^31 - 1 on
 * current GPUs); a subset with a huge stride copies row by row instead. */
#define CUDA_MAX_PITCH ((size_t)INT_MAX)

static gsgd_status cuda_copy_2d(gsgd_context *ctx, void *dst, size_t dpitch, const void *src,
                                size_t spitch, size_t width, size_t height) {
    if (!width || !height) return GSGD_STATUS_OK;
    if (height == 1 || (dpitch == width && spitch == width))
        return cuda_copy(ctx, dst, src, width * height);
    if (dpitch <= CUDA_MAX_PITCH && spitch <= CUDA_MAX_PITCH) {
        GSGD_CUDA_CHECK(ctx, cudaMemcpy2DAsync(dst, dpitch, src, spitch, width, height,
                                               cudaMemcpyDefault, stream_of(ctx)));
        return GSGD_STATUS_OK;
    }
    for (size_t r = 0; r < height; r++)
        GSGD_FORWARD_IF_ERROR(
            cuda_copy(ctx, (char *)dst + r * dpitch, (const char *)src + r * spitch, width));
    return GSGD_STATUS_OK;
}

static gsgd_status cuda_zero(gsgd_context *ctx, void *p, size_t bytes) {
    if (!bytes) return GSGD_STATUS_OK;
    GSGD_CUDA_CHECK(ctx, cudaMemsetAsync(p, 0, bytes, stream_of(ctx)));
    return GSGD_STATUS_OK;
}

static gsgd_status cuda_sync(gsgd_context *ctx) {
    GSGD_CUDA_CHECK(ctx, cudaStreamSynchronize(stream_of(ctx)));
    return GSGD_STATUS_OK;
}

static gsgd_status cuda_mem_info(gsgd_context *ctx, size_t *free_bytes, size_t *total_bytes) {
    size_t f = 0, t = 0;
    GSGD_CUDA_CHECK(ctx, cudaMemGetInfo(&f, &t));
    if (free_bytes) *free_bytes = f;
    if (total_bytes) *total_bytes = t;
    return GSGD_STATUS_OK;
}

/* ---- compute --------------------------------------------------------------- */

/* cuBLAS is column-major, and a row-major matrix read as column-major is its
 * transpose. So row-major C = op(A) op(B) is computed as the column-major
 * product C^T = op(B)^T op(A)^T: B first, then A, dimensions N x M, each
 * operand keeping its own transpose flag and leading dimension.
 *
 * FP32 is cublasSgemm as it always was (the handle's default math mode,
 * no TF32). TF32 and BF16 take cuBLAS's tensor-core compute types over
 * the same FP32 buffers: the library rounds the inputs (BF16's type lets
 * it take TF32 instead) and accumulates in FP32, so no operand is copied
 * and the planner's memory model holds for every precision. */
static gsgd_status cuda_gemm(gsgd_context *ctx, gsgd_precision prec, int trans_a, int trans_b,
                             size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                             const float *B, size_t ldb, float beta, float *C, size_t ldc) {
    GSGD_RETURN_ERROR_IF(M > INT_MAX || N > INT_MAX || K > INT_MAX || lda > INT_MAX ||
                             ldb > INT_MAX || ldc > INT_MAX,
                         ctx, GSGD_STATUS_TOO_LARGE,
                         "cuda gemm: %zux%zux%zu exceeds cuBLAS int range", M, N, K);
    if (M == 0 || N == 0) return GSGD_STATUS_OK;
    const cublasOperation_t opb = trans_b ? CUBLAS_OP_T : CUBLAS_OP_N,
                            opa = trans_a ? CUBLAS_OP_T : CUBLAS_OP_N;
    if (prec == GSGD_PRECISION_FP32) {
        GSGD_CUBLAS_CHECK(ctx, cublasSgemm(state(ctx)->blas, opb, opa, (int)N, (int)M, (int)K,
                                           &alpha, B, (int)ldb, A, (int)lda, &beta, C, (int)ldc));
        return GSGD_STATUS_OK;
    }
    GSGD_CUBLAS_CHECK(ctx, cublasGemmEx(state(ctx)->blas, opb, opa, (int)N, (int)M, (int)K, &alpha,
                                        B, CUDA_R_32F, (int)ldb, A, CUDA_R_32F, (int)lda, &beta, C,
                                        CUDA_R_32F, (int)ldc, gsgdi_cuda_compute_type(prec),
                                        CUBLAS_GEMM_DEFAULT));
    return GSGD_STATUS_OK;
}

static gsgd_status cuda_bias_act(gsgd_context *ctx, float *Y, const float *b, size_t rows,
                                 size_t cols, int relu) {
    return LAUNCH(ctx, bias_act, Y, b, rows, cols, relu, ctx->stream);
}

static gsgd_status cuda_relu_backward(gsgd_context *ctx, float *dY, const float *A, size_t n) {
    return LAUNCH(ctx, relu_backward, dY, A, n, ctx->stream);
}

static gsgd_status cuda_col_sum(gsgd_context *ctx, const float *dY, size_t rows, size_t cols,
                                float *db) {
    gsgdi_cuda_state *s = state(ctx);
    return LAUNCH(ctx, col_sum, dY, rows, cols, db, s->colsum_scratch, GSGD_K_COLSUM_SCRATCH,
                  s->n_sm, ctx->stream);
}

static gsgd_status cuda_gather(gsgd_context *ctx, const void *X, gsgdi_xtype xt, const float *y,
                               size_t d, const uint32_t *perm, size_t start, size_t B,
                               const float *mean, const float *inv_std, float *Xb, float *yb) {
    return LAUNCH(ctx, gather, X, xt, y, d, perm, start, B, mean, inv_std, Xb, yb, ctx->stream);
}

static gsgd_status cuda_loss(gsgd_context *ctx, gsgdi_loss kind, const float *Z, const float *y,
                             size_t B, size_t K, int classify, float grad_scale, float *dZ,
                             double *acc) {
    return LAUNCH(ctx, loss, kind, Z, y, B, K, classify, grad_scale, dZ, acc, ctx->stream);
}

static size_t cuda_perm_scratch_bytes(size_t n) {
    size_t bytes = 0;
    if (gsgdi_k_perm_scratch_bytes(n, &bytes) != (int)cudaSuccess) {
        /* No context to report to here: the permutation itself repeats the
         * query and reports the error. */
        (void)cudaGetLastError();
        return 0;
    }
    return bytes;
}

static gsgd_status cuda_permutation(gsgd_context *ctx, uint64_t seed, uint64_t epoch, size_t n,
                                    uint32_t *perm, void *scratch) {
    GSGD_RETURN_ERROR_IF(n > UINT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "permutation: %zu samples exceed 2^32", n);
    return LAUNCH(ctx, permutation, seed, epoch, n, perm, scratch, cuda_perm_scratch_bytes(n),
                  ctx->stream);
}

static gsgd_status cuda_sumsq(gsgd_context *ctx, const float *x, const size_t *seg, int n_segments,
                              float *out) {
    return LAUNCH(ctx, sumsq, x, seg, n_segments, out, state(ctx)->sumsq_scratch, ctx->stream);
}

/* The version of the fused gradient (kernels/linear_grad.cu) this context
 * runs: the measured best, or the one GSGD_LINEAR_GRAD_VERSION names (the
 * bench and tests compare them); -1 where the variable names none, which
 * the op reports. Read at the context's first scratch query and kept, so
 * every launch runs the version its scratch was sized for. */
static int linear_grad_version(gsgd_context *ctx) {
    gsgdi_cuda_state *s = state(ctx);
    if (s->lg_version == 0) {
        const char *v = getenv("GSGD_LINEAR_GRAD_VERSION");
        char *end = NULL;
        const long n = v && *v ? strtol(v, &end, 10) : GSGD_K_LINEAR_GRAD_BEST;
        s->lg_version = v && *v && (*end || n < 1 || n > GSGD_K_LINEAR_GRAD_VERSIONS) ? -1 : (int)n;
    }
    return s->lg_version;
}

/* The fused one-layer gradient: 0 bytes, and so the composed ops, where
 * the kernel does not take the shape or layout, or where the device cannot
 * be asked. A bad GSGD_LINEAR_GRAD_VERSION is sized as the default, so that
 * the op, which can say why, fails. */
static size_t cuda_linear_grad_scratch(gsgd_context *ctx, const void *X, gsgdi_xtype xt, size_t d,
                                       size_t K) {
    const int v = linear_grad_version(ctx);
    size_t bytes = 0;
    if (gsgdi_k_linear_grad_scratch(v > 0 ? v : GSGD_K_LINEAR_GRAD_BEST, X, xt, d, K,
                                    state(ctx)->n_sm, &bytes) != (int)cudaSuccess) {
        (void)cudaGetLastError();
        return 0;
    }
    return bytes;
}

static gsgd_status cuda_linear_grad(gsgd_context *ctx, const gsgdi_linear_grad_args *a) {
    const int v = linear_grad_version(ctx);
    const char *named = getenv("GSGD_LINEAR_GRAD_VERSION");
    GSGD_RETURN_ERROR_IF(v < 0, ctx, GSGD_STATUS_OUT_OF_RANGE,
                         "GSGD_LINEAR_GRAD_VERSION=%s: no such version of the fused gradient "
                         "kernel; set 1 to %d, or unset it for the measured best (%d)",
                         named ? named : "(since unset)", GSGD_K_LINEAR_GRAD_VERSIONS,
                         GSGD_K_LINEAR_GRAD_BEST);
    return LAUNCH(ctx, linear_grad, v, a, ctx->stream);
}

/* The passes of one update, in stream order: the norms into work, the
 * rule, and for LAMB its direction's norms and second pass; in stop mode
 * the guard's record last. Nothing waits for the device. */
static gsgd_status cuda_update(gsgd_context *ctx, const gsgdi_update_rule *rule,
                               const gsgdi_update_args *a) {
    gsgdi_k_update_args k = {.pass = 0};
    GSGD_FORWARD_IF_ERROR(gsgdi_update_prepare(ctx, rule, a, &k.c));
    if (a->n == 0) return GSGD_STATUS_OK;
    const int S = rule->n_segments, lars = rule->kind == GSGD_OPTIM_LARS,
              lamb = rule->kind == GSGD_OPTIM_LAMB;
    k.n_state = gsgdi_rule_state_count(rule);
    k.needs_total = gsgdi_update_needs_total(rule, a);
    k.skip_nonfinite = rule->skip_nonfinite;
    k.lr = a->lr;
    k.guard = a->guard;
    k.params = a->params;
    k.grads = a->grads;
    k.s0 = a->state[0];
    k.s1 = a->state[1];
    k.average = a->average;
    k.work = a->work;
    k.n = a->n;
    k.t = a->t;
    k.t_in_epoch = a->t_in_epoch;
    k.bad_flag = a->guard && !rule->skip_nonfinite ? state(ctx)->update_flag : NULL;
    if (lars || lamb) {
        k.n_segments = S;
        memcpy(k.seg, rule->seg, (size_t)(S + 1) * sizeof k.seg[0]);
    }
    if (k.needs_total) {
        const size_t whole[2] = {0, a->n};
        GSGD_FORWARD_IF_ERROR(cuda_sumsq(ctx, a->grads, whole, 1, a->work));
    }
    if (lars) {
        GSGD_FORWARD_IF_ERROR(cuda_sumsq(ctx, a->params, rule->seg, S, a->work + 1));
        GSGD_FORWARD_IF_ERROR(cuda_sumsq(ctx, a->grads, rule->seg, S, a->work + 1 + S));
    }
    GSGD_FORWARD_IF_ERROR(LAUNCH(ctx, update, &k, ctx->stream));
    if (lamb) {
        GSGD_FORWARD_IF_ERROR(cuda_sumsq(ctx, a->params, rule->seg, S, a->work + 1));
        GSGD_FORWARD_IF_ERROR(
            cuda_sumsq(ctx, a->work + GSGD_WORK_HEAD, rule->seg, S, a->work + 1 + S));
        k.pass = 1;
        GSGD_FORWARD_IF_ERROR(LAUNCH(ctx, update, &k, ctx->stream));
    }
    if (k.bad_flag)
        GSGD_FORWARD_IF_ERROR(
            LAUNCH(ctx, update_finish, k.bad_flag, a->guard, a->t, a->t_in_epoch, ctx->stream));
    return GSGD_STATUS_OK;
}

/* ---- CUDA Graphs ------------------------------------------------------------ */

/* Records on a stream of our own: the default stream cannot be captured.
 * Thread-local mode: another thread's CUDA calls do not spoil the capture,
 * and a synchronising call of ours fails it (graph_end then says why). */
static gsgd_status cuda_graph_begin(gsgd_context *ctx) {
    gsgdi_cuda_state *s = state(ctx);
    if (!s->capture)
        GSGD_CUDA_CHECK(ctx, cudaStreamCreateWithFlags(&s->capture, cudaStreamNonBlocking));
    s->captured_from = ctx->stream;
    ctx->stream = s->capture;
    gsgd_status st = gsgdi_cuda_set_blas_stream(ctx, s->capture);
    cudaError_t e = st == GSGD_STATUS_OK
                        ? cudaStreamBeginCapture(s->capture, cudaStreamCaptureModeThreadLocal)
                        : cudaSuccess;
    if (st == GSGD_STATUS_OK && e == cudaSuccess) return GSGD_STATUS_OK;
    ctx->stream = s->captured_from;
    (void)gsgdi_cuda_set_blas_stream(ctx, stream_of(ctx));
    return st != GSGD_STATUS_OK
               ? st
               : gsgdi_cuda_fail(ctx, e, "cudaStreamBeginCapture", __FILE__, __LINE__);
}

static gsgd_status cuda_graph_end(gsgd_context *ctx, void **graph) {
    gsgdi_cuda_state *s = state(ctx);
    cudaGraph_t g = NULL;
    cudaError_t e = cudaStreamEndCapture(s->capture, &g);
    ctx->stream = s->captured_from;
    gsgd_status st = gsgdi_cuda_set_blas_stream(ctx, stream_of(ctx));
    const char *what = "cudaStreamEndCapture";
    if (graph) *graph = NULL;
    if (e == cudaSuccess && graph) {
        cudaGraphExec_t x = NULL;
        e = cudaGraphInstantiate(&x, g, 0);
        what = "cudaGraphInstantiate";
        if (e == cudaSuccess) *graph = x;
    }
    if (g) cudaGraphDestroy(g);
    if (e != cudaSuccess) return gsgdi_cuda_fail(ctx, e, what, __FILE__, __LINE__);
    return st;
}

static gsgd_status cuda_graph_launch(gsgd_context *ctx, void *graph) {
    GSGD_CUDA_CHECK(ctx, cudaGraphLaunch((cudaGraphExec_t)graph, stream_of(ctx)));
    return GSGD_STATUS_OK;
}

static void cuda_graph_free(gsgd_context *ctx, void *graph) {
    (void)ctx;
    if (graph && cudaGraphExecDestroy((cudaGraphExec_t)graph) != cudaSuccess)
        (void)cudaGetLastError();
}

static const gsgdi_backend cuda_backend = {
    .name = "cuda",
    .open = gsgdi_cuda_open,
    .close = gsgdi_cuda_close,
    .set_stream = gsgdi_cuda_set_stream,
    .describe = gsgdi_cuda_describe,
    .machine = gsgdi_cuda_machine,
    .timer_clock = "cuda events",
    .timer_create = gsgdi_cuda_timer_create,
    .timer_mark = gsgdi_cuda_timer_mark,
    .timer_seconds = gsgdi_cuda_timer_seconds,
    .timer_free = gsgdi_cuda_timer_free,
    /* Small models need about a thousand rows to fill the GPU; 1024 is
     * provisional until measured with --batch fastest. */
    .default_max_batch = 1024,
    /* Kept free for the CUDA context, lazily loaded kernels and library
     * handles. */
    .mem_reserve = (size_t)256 << 20,
    .alloc_granularity = (size_t)2 << 20, /* cudaMalloc's 2 MiB pages */
    /* What cuBLAS may still allocate itself; its 32 MiB workspace (ours,
     * see cuda_context.c) is allocated when the context opens, so free
     * memory already leaves it out, and counting 32 MiB again costs that
     * much headroom (measured: the model's largest batch is 0.9997 of the
     * true one on an H200). */
    .library_workspace = (size_t)32 << 20,
    .alloc = cuda_alloc,
    .release = cuda_release,
    .alloc_host_mapped = cuda_alloc_host_mapped,
    .release_host_mapped = cuda_release_host_mapped,
    .upload = cuda_upload,
    .download = cuda_download,
    .copy = cuda_copy,
    .zero = cuda_zero,
    .sync = cuda_sync,
    .graph_begin = cuda_graph_begin,
    .graph_end = cuda_graph_end,
    .graph_launch = cuda_graph_launch,
    .graph_free = cuda_graph_free,
    .mem_info = cuda_mem_info,
    .gemm = cuda_gemm,
    .dense_forward = gsgdi_cuda_dense_forward,
    .dense_backward_data = gsgdi_cuda_dense_backward_data,
    .dense_backward_weights = gsgdi_cuda_dense_backward_weights,
    .relu_mask_row_bytes = gsgdi_cuda_relu_mask_row_bytes,
    .bias_act = cuda_bias_act,
    .relu_backward = cuda_relu_backward,
    .col_sum = cuda_col_sum,
    .gather = cuda_gather,
    .copy_2d = cuda_copy_2d,
    .loss = cuda_loss,
    .permutation = cuda_permutation,
    .perm_scratch_bytes = cuda_perm_scratch_bytes,
    .update = cuda_update,
    .sumsq = cuda_sumsq,
    .csr_gather = gsgdi_cuda_csr_gather,
    .csr_compact_scratch = gsgdi_cuda_csr_compact_scratch,
    .csr_compact = gsgdi_cuda_csr_compact,
    .csr_matmul = gsgdi_cuda_csr_matmul,
    .csr_weight_grad = gsgdi_cuda_csr_weight_grad,
    .csr_scatter = gsgdi_cuda_csr_scatter,
    .csr_catch_up = gsgdi_cuda_csr_catch_up,
    .csr_flush = gsgdi_cuda_csr_flush,
    .update_rows = gsgdi_cuda_update_rows,
    .linear_grad_scratch = cuda_linear_grad_scratch,
    .linear_grad = cuda_linear_grad,
    /* Under CUDA Graph replay (the trainer's default) the composed ops were
     * faster below 256 rows on an H200 (softmax, Fashion-MNIST: 2.74M
     * against 2.12M samples/s at 64, 4.55M against 4.23M at 128), the fused
     * op from 256 (8.41M against 8.14M; 30.2M against 25.1M at 1024):
     * bench/results/gpu_h200.md. */
    .linear_grad_min_batch = 256,
};

const gsgdi_backend *gsgdi_backend_cuda(void) { return &cuda_backend; }
