/*
 * Which backends this build has, and how a context is put on one. The
 * registry is the one place besides the backends themselves and the build
 * files that knows whether the CUDA backend is built (GSGD_HAVE_CUDA):
 * everything else reaches a device through its context's vtable.
 */
#ifndef GSGD_BACKEND_REGISTRY_H
#define GSGD_BACKEND_REGISTRY_H

#include <stddef.h>

#include "backend/backend.h"
#include "gsgd.h"

/* The backend that runs device (GSGD_DEVICE_CPU or GSGD_DEVICE_CUDA); NULL
 * for GSGD_DEVICE_AUTO, which names none, and for a backend this build
 * lacks (CUDA without nvcc or with -DGSGD_WITH_CUDA=OFF). */
const gsgdi_backend *gsgdi_backend_of(gsgd_device device);

/* Puts ctx, a zeroed context, on device (index device_index), setting
 * ctx->be, ctx->be_state, ctx->device and ctx->device_index:
 *   CPU   always opens;
 *   CUDA  that backend's device; or the status of what failed, with the
 *         reason in ctx's last error: GSGD_STATUS_NO_DEVICE when the
 *         device is missing or unusable or the build has no CUDA backend;
 *   AUTO  the first device backend that opens, else the reason of the
 *         last that did not, as for CUDA.
 * On failure ctx is left on the CPU backend, a working context. */
gsgd_status gsgdi_backend_open(gsgd_context *ctx, gsgd_device device, int device_index);

/* The lines of gsgd_info that describe the backends for ctx: each one this
 * build has in turn, the devices first and the CPU (the host) last, and
 * "cuda backend: not built in" where the build has none. Always
 * NUL-terminates. */
void gsgdi_backend_describe_all(gsgd_context *ctx, char *buf, size_t size);

#endif
