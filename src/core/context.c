/* Contexts: the device a run uses and its backend, the caller's stream,
 * log callback and memory limit. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/cpu.h"
#include "core/context.h"
#include "core/error.h"
#ifdef GSGD_HAVE_CUDA
#include "backend/cuda.h"
#endif

gsgd_status gsgd_context_set_log(gsgd_context *ctx, gsgd_log_fn fn, void *user) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    ctx->log = fn;
    ctx->log_user = fn ? user : NULL;
    return GSGD_STATUS_OK;
}

/* Turns the CPU context ctx into a CUDA one; on failure ctx is unchanged
 * and its last error says why. */
static gsgd_status open_cuda(gsgd_context *ctx, int device_index) {
#ifdef GSGD_HAVE_CUDA
    return gsgdi_backend_cuda_open(ctx, device_index);
#else
    (void)device_index;
    return GSGD_ERROR(ctx, GSGD_STATUS_NO_DEVICE,
                      "no CUDA device: this gsgd was built without the CUDA backend (no nvcc "
                      "found, or -DGSGD_WITH_CUDA=OFF)");
#endif
}

gsgd_status gsgd_context_create(gsgd_context **out, gsgd_device device, int device_index) {
    GSGD_RETURN_ERROR_IF(!out, NULL, GSGD_STATUS_INVALID_ARGUMENT,
                         "gsgd_context_create: out is NULL");
    *out = NULL;
    GSGD_RETURN_ERROR_IF(
        device != GSGD_DEVICE_AUTO && device != GSGD_DEVICE_CPU && device != GSGD_DEVICE_CUDA, NULL,
        GSGD_STATUS_INVALID_ARGUMENT,
        "gsgd_context_create: unknown device %d (expected AUTO, CPU or CUDA)", (int)device);
    gsgd_context *ctx = calloc(1, sizeof *ctx);
    GSGD_RETURN_ERROR_IF(!ctx, NULL, GSGD_STATUS_OUT_OF_MEMORY,
                         "gsgd_context_create: out of memory");
    ctx->device = GSGD_DEVICE_CPU;
    ctx->device_index = device_index;
    ctx->be = gsgdi_backend_cpu();
    if (device != GSGD_DEVICE_CPU) {
        gsgd_status st = open_cuda(ctx, device_index);
        if (st != GSGD_STATUS_OK) {
            /* The context is about to go (CUDA) or to forget it (AUTO):
             * keep the reason where gsgd_last_error(NULL) finds it. */
            gsgdi_error_to_thread(ctx);
            if (device == GSGD_DEVICE_CUDA) {
                free(ctx);
                return st;
            }
            ctx->last_error[0] = '\0'; /* AUTO: a working CPU context */
        }
    }
    *out = ctx;
    return GSGD_STATUS_OK;
}

void gsgd_context_free(gsgd_context *ctx) {
    if (!ctx) return;
#ifdef GSGD_HAVE_CUDA
    gsgdi_backend_cuda_close(ctx);
#endif
    free(ctx);
}

gsgd_device gsgd_context_device(const gsgd_context *ctx) {
    return ctx ? ctx->device : GSGD_DEVICE_CPU;
}

gsgd_status gsgd_context_memory(const gsgd_context *ctx, size_t *in_use, size_t *peak) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    if (in_use) *in_use = ctx->bytes_in_use;
    if (peak) *peak = ctx->bytes_peak;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_context_set_stream(gsgd_context *ctx, void *stream) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
#ifdef GSGD_HAVE_CUDA
    if (ctx->device == GSGD_DEVICE_CUDA)
        GSGD_FORWARD_IF_ERROR(gsgdi_backend_cuda_set_stream(ctx, stream));
#endif
    ctx->stream = stream;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_context_set_mem_limit(gsgd_context *ctx, size_t bytes) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    ctx->mem_limit = bytes;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_info(gsgd_context *ctx, char *buf, size_t size) {
    if (!ctx || !buf || size == 0) return GSGD_STATUS_INVALID_ARGUMENT;
    char cuda[512];
#ifdef GSGD_HAVE_CUDA
    gsgdi_backend_cuda_describe(ctx, cuda, sizeof cuda);
#else
    snprintf(cuda, sizeof cuda, "cuda backend: not built in\n");
#endif
    snprintf(buf, size,
             "gsgd %s\n"
             "backend: %s\n"
             "%s"
             "openmp threads: %d\n",
             gsgd_version_string(), ctx->be->name, cuda, gsgdi_cpu_threads());
    return GSGD_STATUS_OK;
}
