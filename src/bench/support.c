/* Backend timers and the machine's description for gsgd bench (see
 * bench_support.h). */
#include "bench/support.h"

#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "backend/cpu.h"
#include "core/error.h"
#include "core/util.h"

#ifdef GSGD_HAVE_CUDA
#include <cuda_runtime_api.h>

#include "backend/cuda_check.h"
#endif

struct gsgd_timer {
    gsgd_context *ctx;
    int n;
    double *clock; /* CPU: seconds at each mark */
#ifdef GSGD_HAVE_CUDA
    cudaEvent_t *ev; /* CUDA: one event per mark */
#endif
};

static int on_cuda(const gsgd_context *ctx) { return ctx->device == GSGD_DEVICE_CUDA; }

const char *gsgd_timer_clock(const gsgd_context *ctx) {
    return on_cuda(ctx) ? "cuda events" : "monotonic clock";
}

gsgd_status gsgd_timer_create(gsgd_context *ctx, int n_marks, gsgd_timer **out) {
    *out = NULL;
    RETURN_ERROR_IF(n_marks < 2, ctx, GSGD_STATUS_INVALID_ARGUMENT, "timer: %d marks", n_marks);
    gsgd_timer *t = calloc(1, sizeof *t);
    RETURN_ERROR_IF(!t, ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
    t->ctx = ctx;
    t->clock = calloc((size_t)n_marks, sizeof *t->clock);
    if (!t->clock) {
        free(t);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
    }
#ifdef GSGD_HAVE_CUDA
    if (on_cuda(ctx)) {
        t->ev = calloc((size_t)n_marks, sizeof *t->ev);
        if (!t->ev) {
            gsgd_timer_free(t);
            return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
        }
        for (; t->n < n_marks; t->n++) {
            cudaError_t e = cudaEventCreate(&t->ev[t->n]);
            if (e != cudaSuccess) {
                (void)cudaGetLastError();
                gsgd_timer_free(t);
                return GSGD_ERROR(ctx, GSGD_STATUS_DEVICE_ERROR, "timer: cudaEventCreate: %s",
                                  cudaGetErrorString(e));
            }
        }
    }
#endif
    t->n = n_marks;
    *out = t;
    return GSGD_STATUS_OK;
}

void gsgd_timer_free(gsgd_timer *t) {
    if (!t) return;
#ifdef GSGD_HAVE_CUDA
    if (t->ev)
        for (int i = 0; i < t->n; i++)
            if (t->ev[i]) (void)cudaEventDestroy(t->ev[i]);
    free(t->ev);
#endif
    free(t->clock);
    free(t);
}

gsgd_status gsgd_timer_mark(gsgd_timer *t, int i) {
    RETURN_ERROR_IF(i < 0 || i >= t->n, t->ctx, GSGD_STATUS_INTERNAL, "timer: mark %d of %d", i,
                    t->n);
#ifdef GSGD_HAVE_CUDA
    if (t->ev) {
        CUDA_CHECK(t->ctx, cudaEventRecord(t->ev[i], (cudaStream_t)t->ctx->stream));
        return GSGD_STATUS_OK;
    }
#endif
    t->clock[i] = gsgd_now_seconds();
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_timer_seconds(gsgd_timer *t, int i, int j, double *seconds) {
    RETURN_ERROR_IF(i < 0 || j < 0 || i >= t->n || j >= t->n, t->ctx, GSGD_STATUS_INTERNAL,
                    "timer: marks %d, %d of %d", i, j, t->n);
#ifdef GSGD_HAVE_CUDA
    if (t->ev) {
        float ms = 0.0f;
        CUDA_CHECK(t->ctx, cudaEventSynchronize(t->ev[j]));
        CUDA_CHECK(t->ctx, cudaEventElapsedTime(&ms, t->ev[i], t->ev[j]));
        *seconds = 1e-3 * (double)ms;
        return GSGD_STATUS_OK;
    }
#endif
    *seconds = t->clock[j] - t->clock[i];
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_machine_describe(gsgd_context *ctx, gsgd_machine *m) {
    memset(m, 0, sizeof *m);
    size_t free_b = 0;
    FORWARD_IF_ERROR(ctx->be->mem_info(ctx, &free_b, &m->device_memory));
    snprintf(m->device_name, sizeof m->device_name, "%s", ctx->be->name);
    /* OpenBLAS's cblas.h declares its configuration string ("OpenBLAS
     * 0.3.21 DYNAMIC_ARCH ..."). */
    snprintf(m->blas, sizeof m->blas, "%s", openblas_get_config());
    m->threads = gsgd_cpu_threads();
#ifdef GSGD_HAVE_CUDA
    if (on_cuda(ctx)) {
        struct cudaDeviceProp prop;
        int rt = 0, drv = 0;
        CUDA_CHECK(ctx, cudaGetDeviceProperties(&prop, ctx->device_index));
        CUDA_CHECK(ctx, cudaRuntimeGetVersion(&rt));
        CUDA_CHECK(ctx, cudaDriverGetVersion(&drv));
        snprintf(m->device_name, sizeof m->device_name, "%.200s (compute capability %d.%d)",
                 prop.name, prop.major, prop.minor);
        m->device_memory = prop.totalGlobalMem;
        snprintf(m->cuda_runtime, sizeof m->cuda_runtime, "%d.%d", rt / 1000, rt % 1000 / 10);
        snprintf(m->cuda_driver, sizeof m->cuda_driver, "%d.%d", drv / 1000, drv % 1000 / 10);
    }
#endif
    return GSGD_STATUS_OK;
}
