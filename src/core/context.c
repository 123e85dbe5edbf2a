/* Contexts: the device a run uses and its backend, the caller's stream,
 * log callback and memory limit. Which backends there are is the
 * registry's business (backend/registry.h); a context reaches its own
 * through ctx->be. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/registry.h"
#include "core/context.h"
#include "core/error.h"

gsgd_status gsgd_context_set_log(gsgd_context *ctx, gsgd_log_fn fn, void *user) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    ctx->log = fn;
    ctx->log_user = fn ? user : NULL;
    return GSGD_STATUS_OK;
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
    gsgd_status st = gsgdi_backend_open(ctx, device, device_index);
    if (st != GSGD_STATUS_OK) {
        /* The context is about to go (CUDA) or to forget it (AUTO): keep
         * the reason where gsgd_last_error(NULL) finds it. */
        gsgdi_error_to_thread(ctx);
        if (device != GSGD_DEVICE_AUTO) {
            ctx->be->close(ctx);
            free(ctx);
            return st;
        }
        ctx->last_error[0] = '\0'; /* AUTO: a working CPU context */
    }
    *out = ctx;
    return GSGD_STATUS_OK;
}

void gsgd_context_free(gsgd_context *ctx) {
    if (!ctx) return;
    ctx->be->close(ctx);
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
    GSGD_FORWARD_IF_ERROR(ctx->be->set_stream(ctx, stream));
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
    char backends[1024];
    gsgdi_backend_describe_all(ctx, backends, sizeof backends);
    snprintf(buf, size,
             "gsgd %s\n"
             "backend: %s\n"
             "%s",
             gsgd_version_string(), ctx->be->name, backends);
    return GSGD_STATUS_OK;
}
