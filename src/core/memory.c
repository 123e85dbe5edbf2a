/* Backend memory with accounting and the caller's limit (core/memory.h). */
#include <stdlib.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"

gsgd_status gsgdi_mem_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    *p = NULL;
    if (bytes == 0) bytes = 1; /* a valid, distinct pointer for empty buffers */
    /* The limit is enforced here, not only planned for: a fixed batch, a
     * second trainer or a test set loaded later must not take gsgd past the
     * memory the embedding code left to it either. */
    const size_t after = ctx->bytes_in_use + bytes;
    GSGD_RETURN_ERROR_IF(
        after < bytes || (ctx->mem_limit && after > ctx->mem_limit), ctx,
        GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
        "allocating %zu bytes would bring gsgd to %zu bytes, over the memory limit "
        "of %zu (gsgd_context_set_mem_limit)",
        bytes, after, ctx->mem_limit);
    GSGD_RETURN_ERROR_IF(ctx->fail_alloc_above && after > ctx->fail_alloc_above, ctx,
                         GSGD_STATUS_DEVICE_OUT_OF_MEMORY,
                         "allocating %zu bytes would bring gsgd to %zu bytes, over the injected "
                         "failure threshold of %zu",
                         bytes, after, ctx->fail_alloc_above);
    GSGD_FORWARD_IF_ERROR(ctx->be->alloc(ctx, bytes, p));
    ctx->bytes_in_use += bytes;
    if (ctx->bytes_in_use > ctx->bytes_peak) ctx->bytes_peak = ctx->bytes_in_use;
    return GSGD_STATUS_OK;
}

void gsgdi_mem_free(gsgd_context *ctx, void *p, size_t bytes) {
    if (!p) return;
    if (bytes == 0) bytes = 1;
    ctx->be->release(ctx, p);
    ctx->bytes_in_use -= bytes;
}

gsgd_status gsgdi_host_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    *p = malloc(bytes ? bytes : 1);
    GSGD_RETURN_ERROR_IF(!*p, ctx, GSGD_STATUS_OUT_OF_MEMORY, "host allocation of %zu bytes failed",
                         bytes);
    return GSGD_STATUS_OK;
}
