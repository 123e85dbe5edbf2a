/*
 * What the CUDA backend's two files share: cuda.c holds the vtable and the
 * ops (memory, compute, CUDA Graphs), cuda_context.c the entry points of
 * the backend as a device (opening and closing one, the stream, what
 * gsgd_info and the bench say of it, the timers). Built only when CMake
 * finds nvcc (GSGD_HAVE_CUDA); only the cuda*.c files include it.
 */
#ifndef GSGD_BACKEND_CUDA_H
#define GSGD_BACKEND_CUDA_H

#include <stddef.h>

#include <cublasLt.h>

#include "backend/cuda_check.h"

/* cuBLAS's workspace (ours, see gsgdi_cuda_set_blas_stream), which cuBLASLt's
 * products share: its default size on Hopper, what the planner counts. */
#define GSGD_CUDA_BLAS_WORKSPACE ((size_t)32 << 20)

/* A cached cuBLASLt product (cuda_lt.c). */
typedef struct gsgdi_lt_plan gsgdi_lt_plan;

/* A CUDA context's ctx->be_state. */
typedef struct {
    cublasHandle_t blas;
    int device;
    int n_sm;                /* multiprocessors: sizes the reduction grids */
    int cc_major, cc_minor;  /* compute capability */
    size_t total_mem;        /* bytes */
    double *colsum_scratch;  /* GSGD_K_COLSUM_SCRATCH doubles of partial sums */
    double *sumsq_scratch;   /* GSGD_K_SUMSQ_SCRATCH doubles of partial sums */
    unsigned *update_flag;   /* stop mode's "a weight went non-finite", zeroed */
    void *blas_workspace;    /* cuBLAS's, ours: see gsgdi_cuda_set_blas_stream */
    cudaStream_t capture;    /* where CUDA Graphs are recorded (created at first use) */
    void *captured_from;     /* the context's stream while recording */
    int lg_version;          /* the fused gradient's: cuda.c's linear_grad_version */
    cublasLtHandle_t lt;     /* the dense layers' fused epilogues (cuda_lt.c) */
    gsgdi_lt_plan *lt_plans; /* their cache, and the next slot to replace */
    unsigned lt_next;
    int epilogues; /* GSGD_EPILOGUES: 0 declines every fused epilogue */
    char name[256];
} gsgdi_cuda_state;

static inline gsgdi_cuda_state *gsgdi_cuda_state_of(gsgd_context *ctx) {
    return (gsgdi_cuda_state *)ctx->be_state;
}

/* cuBLAS's compute type for a product in precision prec over FP32
 * buffers: FP32 itself, or the tensor-core types that round the inputs
 * and accumulate in FP32. */
static inline cublasComputeType_t gsgdi_cuda_compute_type(gsgd_precision prec) {
    switch (prec) {
    case GSGD_PRECISION_TF32:
        return CUBLAS_COMPUTE_32F_FAST_TF32;
    case GSGD_PRECISION_BF16:
        return CUBLAS_COMPUTE_32F_FAST_16BF;
    case GSGD_PRECISION_FP32:
        break;
    }
    return CUBLAS_COMPUTE_32F;
}

/* Points the context's cuBLAS handle at stream, and at our workspace,
 * which cublasSetStream resets. */
gsgd_status gsgdi_cuda_set_blas_stream(gsgd_context *ctx, cudaStream_t stream);

/* cuda_lt.c: the cuBLASLt handle and plan cache of a state, and the dense
 * ops of backend.h with their epilogues. */
gsgd_status gsgdi_cuda_lt_open(gsgd_context *ctx, gsgdi_cuda_state *s);
void gsgdi_cuda_lt_close(gsgdi_cuda_state *s);
size_t gsgdi_cuda_relu_mask_row_bytes(size_t cols);
gsgd_status gsgdi_cuda_dense_forward(gsgd_context *ctx, gsgd_precision prec, size_t rows, size_t in,
                                     size_t out, const float *X, const float *W, const float *b,
                                     int relu, float *Y, void *mask, int *taken);
gsgd_status gsgdi_cuda_dense_backward_data(gsgd_context *ctx, gsgd_precision prec, size_t rows,
                                           size_t in, size_t out, const float *dY, const float *W,
                                           const void *mask, float *dX, float *db, int *taken);
gsgd_status gsgdi_cuda_dense_backward_weights(gsgd_context *ctx, gsgd_precision prec, size_t rows,
                                              size_t in, size_t out, const float *X,
                                              const float *dY, float *dW, float *db, int *taken);

/* The backend's lifetime and description ops (backend.h). */
gsgd_status gsgdi_cuda_open(gsgd_context *ctx, int device_index);
void gsgdi_cuda_close(gsgd_context *ctx);
gsgd_status gsgdi_cuda_set_stream(gsgd_context *ctx, void *stream);
void gsgdi_cuda_describe(gsgd_context *ctx, char *buf, size_t size);
gsgd_status gsgdi_cuda_machine(gsgd_context *ctx, gsgdi_machine *m);

/* The backend's sparse ops (backend.h, backend/sparse.h), in cuda_sparse.c. */
gsgd_status gsgdi_cuda_csr_gather(gsgd_context *ctx, const gsgdi_csr *X, const float *y,
                                  const uint32_t *perm, size_t start, size_t B,
                                  const float *inv_std, gsgdi_csr_batch *out, float *yb);
size_t gsgdi_cuda_csr_compact_scratch(gsgd_context *ctx, size_t d, size_t cap);
gsgd_status gsgdi_cuda_csr_compact(gsgd_context *ctx, gsgdi_csr_batch *b, size_t B, size_t d);
gsgd_status gsgdi_cuda_csr_matmul(gsgd_context *ctx, const gsgdi_csr_batch *b, size_t B,
                                  const float *W, size_t K, const float *bias, int relu, float *Z);
gsgd_status gsgdi_cuda_csr_weight_grad(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *dZ,
                                       size_t K, float *gW);
gsgd_status gsgdi_cuda_csr_scatter(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *gW,
                                   size_t K, float *dW);
gsgd_status gsgdi_cuda_csr_catch_up(gsgd_context *ctx, const gsgdi_csr_batch *b, float *W, size_t K,
                                    const gsgdi_lazy_decay *z, size_t step);
gsgd_status gsgdi_cuda_csr_flush(gsgd_context *ctx, float *W, size_t d, size_t K,
                                 const gsgdi_lazy_decay *z, size_t step);
gsgd_status gsgdi_cuda_update_rows(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                   const gsgdi_rows_update_args *a);

/* The backend's timer ops: one CUDA event per mark. */
gsgd_status gsgdi_cuda_timer_create(gsgd_context *ctx, int n_marks, void **timer);
gsgd_status gsgdi_cuda_timer_mark(gsgd_context *ctx, void *timer, int i);
gsgd_status gsgdi_cuda_timer_seconds(gsgd_context *ctx, void *timer, int i, int j, double *seconds);
void gsgdi_cuda_timer_free(gsgd_context *ctx, void *timer);

#endif
