/* The backends this build has (registry.h). */
#include "backend/registry.h"

#include <stdio.h>
#include <string.h>

#include "core/context.h"
#include "core/error.h"

const gsgdi_backend *gsgdi_backend_of(gsgd_device device) {
    switch (device) {
    case GSGD_DEVICE_CPU:
        return gsgdi_backend_cpu();
    case GSGD_DEVICE_CUDA:
#ifdef GSGD_HAVE_CUDA
        return gsgdi_backend_cuda();
#else
        return NULL;
#endif
    default:
        return NULL;
    }
}

/* Opens be's device device_index for ctx and puts ctx on it; on failure
 * ctx is unchanged. */
static gsgd_status open_on(gsgd_context *ctx, const gsgdi_backend *be, gsgd_device device,
                           int device_index) {
    GSGD_FORWARD_IF_ERROR(be->open(ctx, device_index));
    ctx->be = be;
    ctx->device = device;
    ctx->device_index = device_index;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_backend_open(gsgd_context *ctx, gsgd_device device, int device_index) {
    GSGD_FORWARD_IF_ERROR(open_on(ctx, gsgdi_backend_cpu(), GSGD_DEVICE_CPU, device_index));
    if (device == GSGD_DEVICE_CPU) return GSGD_STATUS_OK;
    /* CUDA, and AUTO, whose one device backend is CUDA. */
    const gsgdi_backend *cuda = gsgdi_backend_of(GSGD_DEVICE_CUDA);
    GSGD_RETURN_ERROR_IF(!cuda, ctx, GSGD_STATUS_NO_DEVICE,
                         "no CUDA device: this gsgd was built without the CUDA backend (no nvcc "
                         "found, or -DGSGD_WITH_CUDA=OFF)");
    return open_on(ctx, cuda, GSGD_DEVICE_CUDA, device_index);
}

void gsgdi_backend_describe_all(gsgd_context *ctx, char *buf, size_t size) {
    if (!size) return;
    const gsgdi_backend *cuda = gsgdi_backend_of(GSGD_DEVICE_CUDA);
    if (cuda)
        cuda->describe(ctx, buf, size);
    else
        snprintf(buf, size, "cuda backend: not built in\n");
    const size_t used = strlen(buf);
    gsgdi_backend_cpu()->describe(ctx, buf + used, size - used);
}
