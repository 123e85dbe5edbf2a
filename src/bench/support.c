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

struct gsgdi_timer {
    gsgd_context *ctx;
    int n;
    double *clock; /* CPU: seconds at each mark */
#ifdef GSGD_HAVE_CUDA
    cudaEvent_t *ev; /* CUDA: one event per mark */
#endif
};

static int on_cuda(const gsgd_context *ctx) { return ctx->device == GSGD_DEVICE_CUDA; }

const char *gsgdi_timer_clock(const gsgd_context *ctx) {
    return on_cuda(ctx) ? "cuda events" : "monotonic clock";
}

gsgd_status gsgdi_timer_create(gsgd_context *ctx, int n_marks, gsgdi_timer **out) {
    *out = NULL;
    GSGD_RETURN_ERROR_IF(n_marks < 2, ctx, GSGD_STATUS_INVALID_ARGUMENT, "timer: %d marks",
                         n_marks);
    gsgdi_timer *t = calloc(1, sizeof *t);
    GSGD_RETURN_ERROR_IF(!t, ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
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
            gsgdi_timer_free(t);
            return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
        }
        for (; t->n < n_marks; t->n++) {
            cudaError_t e = cudaEventCreate(&t->ev[t->n]);
            if (e != cudaSuccess) {
                (void)cudaGetLastError();
                gsgdi_timer_free(t);
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

void gsgdi_timer_free(gsgdi_timer *t) {
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

gsgd_status gsgdi_timer_mark(gsgdi_timer *t, int i) {
    GSGD_RETURN_ERROR_IF(i < 0 || i >= t->n, t->ctx, GSGD_STATUS_INTERNAL, "timer: mark %d of %d",
                         i, t->n);
#ifdef GSGD_HAVE_CUDA
    if (t->ev) {
        GSGD_CUDA_CHECK(t->ctx, cudaEventRecord(t->ev[i], (cudaStream_t)t->ctx->stream));
        return GSGD_STATUS_OK;
    }
#endif
    t->clock[i] = gsgdi_now_seconds();
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_timer_seconds(gsgdi_timer *t, int i, int j, double *seconds) {
    GSGD_RETURN_ERROR_IF(i < 0 || j < 0 || i >= t->n || j >= t->n, t->ctx, GSGD_STATUS_INTERNAL,
                         "timer: marks %d, %d of %d", i, j, t->n);
#ifdef GSGD_HAVE_CUDA
    if (t->ev) {
        float ms = 0.0f;
        GSGD_CUDA_CHECK(t->ctx, cudaEventSynchronize(t->ev[j]));
        GSGD_CUDA_CHECK(t->ctx, cudaEventElapsedTime(&ms, t->ev[i], t->ev[j]));
        *seconds = 1e-3 * (double)ms;
        return GSGD_STATUS_OK;
    }
#endif
    *seconds = t->clock[j] - t->clock[i];
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_machine_describe(gsgd_context *ctx, gsgdi_machine *m) {
    memset(m, 0, sizeof *m);
    size_t free_b = 0;
    GSGD_FORWARD_IF_ERROR(ctx->be->mem_info(ctx, &free_b, &m->device_memory));
    snprintf(m->device_name, sizeof m->device_name, "%s", ctx->be->name);
    /* OpenBLAS's cblas.h declares its configuration string ("OpenBLAS
     * 0.3.21 DYNAMIC_ARCH ..."). */
    snprintf(m->blas, sizeof m->blas, "%s", openblas_get_config());
    m->threads = gsgdi_cpu_threads();
#ifdef GSGD_HAVE_CUDA
    if (on_cuda(ctx)) {
        struct cudaDeviceProp prop;
        int rt = 0, drv = 0;
        GSGD_CUDA_CHECK(ctx, cudaGetDeviceProperties(&prop, ctx->device_index));
        GSGD_CUDA_CHECK(ctx, cudaRuntimeGetVersion(&rt));
        GSGD_CUDA_CHECK(ctx, cudaDriverGetVersion(&drv));
        snprintf(m->device_name, sizeof m->device_name, "%.200s (compute capability %d.%d)",
                 prop.name, prop.major, prop.minor);
        m->device_memory = prop.totalGlobalMem;
        snprintf(m->cuda_runtime, sizeof m->cuda_runtime, "%d.%d", rt / 1000, rt % 1000 / 10);
        snprintf(m->cuda_driver, sizeof m->cuda_driver, "%d.%d", drv / 1000, drv % 1000 / 10);
    }
#endif
    return GSGD_STATUS_OK;
}
