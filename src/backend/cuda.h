/*
 * The CUDA backend's entry points for context.c (plain C, no CUDA header).
 * Built only when CMake finds nvcc (GSGD_HAVE_CUDA); context.c calls these
 * under that macro alone.
 */
#ifndef GSGD_BACKEND_CUDA_H
#define GSGD_BACKEND_CUDA_H

#include <stddef.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* The vtable of src/backend.h for CUDA devices. */
const gsgdi_backend *gsgdi_backend_cuda(void);

/* Makes ctx a CUDA context on device device_index: selects the device,
 * checks that this build's kernels can run on it, creates the cuBLAS
 * handle (on ctx->stream) and the backend's workspaces in ctx->be_state,
 * and sets ctx->be and ctx->device. GSGD_STATUS_NO_DEVICE, with the CUDA
 * runtime's reason in ctx's last error, when the device is missing or
 * unusable; ctx is then left as it was. */
gsgd_status gsgdi_backend_cuda_open(gsgd_context *ctx, int device_index);

/* Frees what gsgdi_backend_cuda_open created (no-op when it did not). */
void gsgdi_backend_cuda_close(gsgd_context *ctx);

/* Points the context's cuBLAS handle at stream (a cudaStream_t; NULL is the
 * default stream). Kernel launches read ctx->stream, which the caller
 * sets after this succeeds. */
gsgd_status gsgdi_backend_cuda_set_stream(gsgd_context *ctx, void *stream);

/* Describes the CUDA side for gsgd_info into buf: the device of a CUDA
 * context, or for another context whether CUDA devices are present
 * ("cuda backend: built, no device (...)"). Always NUL-terminates. */
void gsgdi_backend_cuda_describe(gsgd_context *ctx, char *buf, size_t size);

#endif
