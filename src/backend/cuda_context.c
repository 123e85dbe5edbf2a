/*
 * The CUDA backend as a device: opening one for a context (the cuBLAS
 * handle, the backend's workspaces), closing it, pointing it at the
 * caller's stream, what gsgd_info and the bench say of it, and its clock
 * (CUDA events). The ops are in cuda.c.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu.h"
#include "backend/cuda.h"
#include "kernels.h"
#include "core/error.h"

#define BLAS_WORKSPACE GSGD_CUDA_BLAS_WORKSPACE

static cudaStream_t stream_of(const gsgd_context *ctx) { return (cudaStream_t)ctx->stream; }

/* Recording a CUDA Graph with cuBLAS's own workspace pool would allocate a
 * workspace per graph, memory the planner never saw: hence ours, set again
 * after every cublasSetStream. */
gsgd_status gsgdi_cuda_set_blas_stream(gsgd_context *ctx, cudaStream_t stream) {
    gsgdi_cuda_state *s = gsgdi_cuda_state_of(ctx);
    GSGD_CUBLAS_CHECK(ctx, cublasSetStream(s->blas, stream));
    GSGD_CUBLAS_CHECK(ctx, cublasSetWorkspace(s->blas, s->blas_workspace, BLAS_WORKSPACE));
    return GSGD_STATUS_OK;
}

/* ---- lifetime ---------------------------------------------------------------- */

/* How many devices there are; NO_DEVICE (with the runtime's reason) when
 * none can be used. */
static gsgd_status device_count(gsgd_context *ctx, int *count) {
    *count = 0;
    cudaError_t e = cudaGetDeviceCount(count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        *count = 0;
        return GSGD_ERROR(
            ctx, gsgdi_cuda_is_no_device(e) ? GSGD_STATUS_NO_DEVICE : GSGD_STATUS_DEVICE_ERROR,
            "no CUDA device: %s (%s)", cudaGetErrorString(e), cudaGetErrorName(e));
    }
    GSGD_RETURN_ERROR_IF(*count == 0, ctx, GSGD_STATUS_NO_DEVICE,
                         "no CUDA device: the driver reports none");
    return GSGD_STATUS_OK;
}

static gsgd_status open_state(gsgd_context *ctx, gsgdi_cuda_state *s, int index) {
    int count;
    GSGD_FORWARD_IF_ERROR(device_count(ctx, &count));
    GSGD_RETURN_ERROR_IF(index < 0 || index >= count, ctx, GSGD_STATUS_NO_DEVICE,
                         "no CUDA device %d: %d device(s) present (cuda:0 to cuda:%d)", index,
                         count, count - 1);
    s->device = index;
    GSGD_CUDA_CHECK(ctx, cudaSetDevice(index));
    struct cudaDeviceProp prop;
    GSGD_CUDA_CHECK(ctx, cudaGetDeviceProperties(&prop, index));
    snprintf(s->name, sizeof s->name, "%s", prop.name);
    s->n_sm = prop.multiProcessorCount;
    s->cc_major = prop.major;
    s->cc_minor = prop.minor;
    s->total_mem = prop.totalGlobalMem;
    /* Fail here, with advice, rather than at the first launch of a step. */
    cudaError_t e = (cudaError_t)gsgdi_k_probe();
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        return GSGD_ERROR(ctx, GSGD_STATUS_NO_DEVICE,
                          "CUDA device %d (%s, compute capability %d.%d) cannot run this build's "
                          "kernels: %s; rebuild with -DCMAKE_CUDA_ARCHITECTURES=%d%d",
                          index, s->name, s->cc_major, s->cc_minor, cudaGetErrorString(e),
                          s->cc_major, s->cc_minor);
    }
    GSGD_CUBLAS_CHECK(ctx, cublasCreate(&s->blas));
    GSGD_CUDA_CHECK(ctx, cudaMalloc(&s->blas_workspace, BLAS_WORKSPACE));
    ctx->be_state = s; /* for gsgdi_cuda_set_blas_stream */
    GSGD_FORWARD_IF_ERROR(gsgdi_cuda_set_blas_stream(ctx, stream_of(ctx)));
    GSGD_CUDA_CHECK(
        ctx, cudaMalloc((void **)&s->colsum_scratch, GSGD_K_COLSUM_SCRATCH * sizeof(double)));
    GSGD_CUDA_CHECK(ctx,
                    cudaMalloc((void **)&s->sumsq_scratch, GSGD_K_SUMSQ_SCRATCH * sizeof(double)));
    GSGD_CUDA_CHECK(ctx, cudaMalloc((void **)&s->update_flag, sizeof *s->update_flag));
    GSGD_CUDA_CHECK(ctx, cudaMemset(s->update_flag, 0, sizeof *s->update_flag));
    return gsgdi_cuda_lt_open(ctx, s);
}

static void free_state(gsgdi_cuda_state *s) {
    if (!s) return;
    gsgdi_cuda_lt_close(s);
    if (s->blas) cublasDestroy(s->blas);
    if (s->colsum_scratch) cudaFree(s->colsum_scratch);
    if (s->sumsq_scratch) cudaFree(s->sumsq_scratch);
    if (s->update_flag) cudaFree(s->update_flag);
    if (s->blas_workspace) cudaFree(s->blas_workspace);
    if (s->capture) cudaStreamDestroy(s->capture);
    (void)cudaGetLastError();
    free(s);
}

gsgd_status gsgdi_cuda_open(gsgd_context *ctx, int device_index) {
    gsgdi_cuda_state *s = calloc(1, sizeof *s);
    GSGD_RETURN_ERROR_IF(!s, ctx, GSGD_STATUS_OUT_OF_MEMORY, "cuda: out of host memory");
    gsgd_status st = open_state(ctx, s, device_index);
    if (st != GSGD_STATUS_OK) {
        free_state(s);
        ctx->be_state = NULL;
        return st;
    }
    ctx->be_state = s;
    return GSGD_STATUS_OK;
}

void gsgdi_cuda_close(gsgd_context *ctx) {
    if (!ctx) return;
    free_state(gsgdi_cuda_state_of(ctx));
    ctx->be_state = NULL;
}

gsgd_status gsgdi_cuda_set_stream(gsgd_context *ctx, void *stream) {
    return gsgdi_cuda_set_blas_stream(ctx, (cudaStream_t)stream);
}

/* ---- description ------------------------------------------------------------- */

void gsgdi_cuda_describe(gsgd_context *ctx, char *buf, size_t size) {
    if (!size) return;
    if (ctx && ctx->device == GSGD_DEVICE_CUDA) {
        gsgdi_cuda_state *s = gsgdi_cuda_state_of(ctx);
        size_t free_b = 0, total_b = s->total_mem;
        if (cudaMemGetInfo(&free_b, &total_b) != cudaSuccess) (void)cudaGetLastError();
        int rt = 0, drv = 0;
        if (cudaRuntimeGetVersion(&rt) != cudaSuccess) (void)cudaGetLastError();
        if (cudaDriverGetVersion(&drv) != cudaSuccess) (void)cudaGetLastError();
        snprintf(buf, size,
                 "cuda device %d: %s (compute capability %d.%d, %d multiprocessors)\n"
                 "cuda memory: %.2f GiB free of %.2f GiB\n"
                 "cuda runtime %d.%d, driver %d.%d\n",
                 s->device, s->name, s->cc_major, s->cc_minor, s->n_sm, (double)free_b / (1 << 30),
                 (double)total_b / (1 << 30), rt / 1000, rt % 1000 / 10, drv / 1000,
                 drv % 1000 / 10);
        return;
    }
    int count = 0;
    cudaError_t e = cudaGetDeviceCount(&count);
    if (e != cudaSuccess) {
        (void)cudaGetLastError();
        snprintf(buf, size, "cuda backend: built, no device (%s)\n", cudaGetErrorString(e));
    } else if (count == 0) {
        snprintf(buf, size, "cuda backend: built, no device\n");
    } else {
        snprintf(buf, size, "cuda backend: built, %d device(s)\n", count);
    }
}

gsgd_status gsgdi_cuda_machine(gsgd_context *ctx, gsgdi_machine *m) {
    gsgdi_cpu_host_facts(m);
    struct cudaDeviceProp prop;
    int rt = 0, drv = 0;
    GSGD_CUDA_CHECK(ctx, cudaGetDeviceProperties(&prop, ctx->device_index));
    GSGD_CUDA_CHECK(ctx, cudaRuntimeGetVersion(&rt));
    GSGD_CUDA_CHECK(ctx, cudaDriverGetVersion(&drv));
    snprintf(m->device_name, sizeof m->device_name, "%.200s (compute capability %d.%d)", prop.name,
             prop.major, prop.minor);
    m->device_memory = prop.totalGlobalMem;
    snprintf(m->cuda_runtime, sizeof m->cuda_runtime, "%d.%d", rt / 1000, rt % 1000 / 10);
    snprintf(m->cuda_driver, sizeof m->cuda_driver, "%d.%d", drv / 1000, drv % 1000 / 10);
    return GSGD_STATUS_OK;
}

/* ---- timers: CUDA events ------------------------------------------------------ */

typedef struct {
    int n;            /* events created */
    cudaEvent_t ev[]; /* one per mark */
} cuda_timer;

gsgd_status gsgdi_cuda_timer_create(gsgd_context *ctx, int n_marks, void **timer) {
    *timer = NULL;
    cuda_timer *t = calloc(1, sizeof *t + (size_t)n_marks * sizeof t->ev[0]);
    GSGD_RETURN_ERROR_IF(!t, ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
    for (; t->n < n_marks; t->n++) {
        cudaError_t e = cudaEventCreate(&t->ev[t->n]);
        if (e != cudaSuccess) {
            (void)cudaGetLastError();
            gsgdi_cuda_timer_free(ctx, t);
            return GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_ERROR, "timer: cudaEventCreate: %s",
                              cudaGetErrorString(e));
        }
    }
    *timer = t;
    return GSGD_STATUS_OK;
}

/* Records the event on the context's stream: no host synchronisation. */
gsgd_status gsgdi_cuda_timer_mark(gsgd_context *ctx, void *timer, int i) {
    cuda_timer *t = timer;
    GSGD_CUDA_CHECK(ctx, cudaEventRecord(t->ev[i], stream_of(ctx)));
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cuda_timer_seconds(gsgd_context *ctx, void *timer, int i, int j,
                                     double *seconds) {
    cuda_timer *t = timer;
    float ms = 0.0f;
    GSGD_CUDA_CHECK(ctx, cudaEventSynchronize(t->ev[j]));
    GSGD_CUDA_CHECK(ctx, cudaEventElapsedTime(&ms, t->ev[i], t->ev[j]));
    *seconds = 1e-3 * (double)ms;
    return GSGD_STATUS_OK;
}

void gsgdi_cuda_timer_free(gsgd_context *ctx, void *timer) {
    (void)ctx;
    cuda_timer *t = timer;
    if (!t) return;
    for (int i = 0; i < t->n; i++)
        if (t->ev[i]) (void)cudaEventDestroy(t->ev[i]);
    free(t);
}
