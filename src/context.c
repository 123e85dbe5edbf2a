/* Contexts, the status model, error recording and memory accounting. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#ifdef GSGD_HAVE_CUDA
#include "backend_cuda.h"
#endif

#define STR_(x) #x
#define STR(x) STR_(x)

const char *gsgd_status_string(gsgd_status s) {
    switch (s) {
#define GSGD_STATUS_TEXT_(name, value, text)                                                       \
    case GSGD_STATUS_##name:                                                                       \
        return text;
        GSGD_STATUS_MAP(GSGD_STATUS_TEXT_)
#undef GSGD_STATUS_TEXT_
    }
    return "unknown status";
}

const char *gsgd_status_name(gsgd_status s) {
    switch (s) {
#define GSGD_STATUS_NAME_(name, value, text)                                                       \
    case GSGD_STATUS_##name:                                                                       \
        return #name;
        GSGD_STATUS_MAP(GSGD_STATUS_NAME_)
#undef GSGD_STATUS_NAME_
    }
    return "UNKNOWN";
}

unsigned gsgd_version(void) { return GSGD_VERSION_NUMBER; }

const char *gsgd_version_string(void) {
    return STR(GSGD_VERSION_MAJOR) "." STR(GSGD_VERSION_MINOR) "." STR(GSGD_VERSION_PATCH);
}

/* Errors that have no context to live in (gsgd_context_create failed, so
 * there is none): one buffer per thread, read by gsgd_last_error(NULL). */
static _Thread_local char thread_error[GSGD_ERROR_LEN];

gsgd_status gsgd_error_at(gsgd_context *ctx, gsgd_status status, const char *file, int line,
                          const char *fmt, ...) {
    char *buf = ctx ? ctx->last_error : thread_error;
    const size_t size = GSGD_ERROR_LEN;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (len >= 0 && (size_t)len < size) {
        const char *base = strrchr(file, '/');
        snprintf(buf + len, size - (size_t)len, " [%s:%d]", base ? base + 1 : file, line);
    }
    return status;
}

void gsgd_log(gsgd_context *ctx, gsgd_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->log) return;
    char line[GSGD_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->log(level, line, ctx->log_user);
}

gsgd_status gsgd_context_set_log(gsgd_context *ctx, gsgd_log_fn fn, void *user) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    ctx->log = fn;
    ctx->log_user = fn ? user : NULL;
    return GSGD_STATUS_OK;
}

const char *gsgd_last_error(const gsgd_context *ctx) {
    if (ctx) return ctx->last_error;
    return thread_error[0] ? thread_error : "gsgd_last_error: context is NULL";
}

/* Turns the CPU context ctx into a CUDA one; on failure ctx is unchanged
 * and its last error says why. */
static gsgd_status open_cuda(gsgd_context *ctx, int device_index) {
#ifdef GSGD_HAVE_CUDA
    return gsgd_backend_cuda_open(ctx, device_index);
#else
    (void)device_index;
    return GSGD_ERROR(ctx, GSGD_STATUS_NO_DEVICE,
                      "no CUDA device: this gsgd was built without the CUDA backend (no nvcc "
                      "found, or -DGSGD_WITH_CUDA=OFF)");
#endif
}

gsgd_status gsgd_context_create(gsgd_context **out, gsgd_device device, int device_index) {
    RETURN_ERROR_IF(!out, NULL, GSGD_STATUS_INVALID_ARGUMENT, "gsgd_context_create: out is NULL");
    *out = NULL;
    RETURN_ERROR_IF(
        device != GSGD_DEVICE_AUTO && device != GSGD_DEVICE_CPU && device != GSGD_DEVICE_CUDA, NULL,
        GSGD_STATUS_INVALID_ARGUMENT,
        "gsgd_context_create: unknown device %d (expected AUTO, CPU or CUDA)", (int)device);
    gsgd_context *ctx = calloc(1, sizeof *ctx);
    RETURN_ERROR_IF(!ctx, NULL, GSGD_STATUS_OUT_OF_MEMORY, "gsgd_context_create: out of memory");
    ctx->device = GSGD_DEVICE_CPU;
    ctx->device_index = device_index;
    ctx->be = gsgd_backend_cpu();
    if (device != GSGD_DEVICE_CPU) {
        gsgd_status st = open_cuda(ctx, device_index);
        if (st != GSGD_STATUS_OK) {
            /* The context is about to go (CUDA) or to forget it (AUTO):
             * keep the reason where gsgd_last_error(NULL) finds it. */
            memcpy(thread_error, ctx->last_error, sizeof thread_error);
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
    gsgd_backend_cuda_close(ctx);
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
        FORWARD_IF_ERROR(gsgd_backend_cuda_set_stream(ctx, stream));
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
    gsgd_backend_cuda_describe(ctx, cuda, sizeof cuda);
#else
    snprintf(cuda, sizeof cuda, "cuda backend: not built in\n");
#endif
    snprintf(buf, size,
             "gsgd %s\n"
             "backend: %s\n"
             "%s"
             "openmp threads: %d\n",
             gsgd_version_string(), ctx->be->name, cuda, gsgd_cpu_threads());
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_mem_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    *p = NULL;
    if (bytes == 0) bytes = 1; /* a valid, distinct pointer for empty buffers */
    /* The limit is enforced here, not only planned for: a fixed batch, a
     * second trainer or a test set loaded later must not take gsgd past the
     * memory the embedding code left to it either. */
    const size_t after = ctx->bytes_in_use + bytes;
    RETURN_ERROR_IF(after < bytes || (ctx->mem_limit && after > ctx->mem_limit), ctx,
                    GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                    "allocating %zu bytes would bring gsgd to %zu bytes, over the memory limit "
                    "of %zu (gsgd_context_set_mem_limit)",
                    bytes, after, ctx->mem_limit);
    RETURN_ERROR_IF(ctx->fail_alloc_above && after > ctx->fail_alloc_above, ctx,
                    GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                    "allocating %zu bytes would bring gsgd to %zu bytes, over the injected "
                    "failure threshold of %zu",
                    bytes, after, ctx->fail_alloc_above);
    FORWARD_IF_ERROR(ctx->be->alloc(ctx, bytes, p));
    ctx->bytes_in_use += bytes;
    if (ctx->bytes_in_use > ctx->bytes_peak) ctx->bytes_peak = ctx->bytes_in_use;
    return GSGD_STATUS_OK;
}

void gsgd_mem_free(gsgd_context *ctx, void *p, size_t bytes) {
    if (!p) return;
    if (bytes == 0) bytes = 1;
    ctx->be->release(ctx, p);
    ctx->bytes_in_use -= bytes;
}

gsgd_status gsgd_host_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    *p = malloc(bytes ? bytes : 1);
    RETURN_ERROR_IF(!*p, ctx, GSGD_STATUS_OUT_OF_MEMORY, "host allocation of %zu bytes failed",
                    bytes);
    return GSGD_STATUS_OK;
}
