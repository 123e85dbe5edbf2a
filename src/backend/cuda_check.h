/*
 * Checking macros for CUDA runtime, cuBLAS and cuRAND calls (internal; only
 * the CUDA backend includes it). A failure becomes a gsgd_status recorded
 * on the context with file, line, the call's text and the library's own
 * message, as style rule 7 asks:
 *   out of memory                         -> GSGD_STATUS_DEVICE_OUT_OF_MEMORY
 *   no device, driver too old, bad ordinal -> GSGD_STATUS_NO_DEVICE
 *   anything else                         -> GSGD_STATUS_DEVICE_ERROR
 */
#ifndef GSGD_CUDA_CHECK_H
#define GSGD_CUDA_CHECK_H

#include <cublas_v2.h>
#include <cuda_runtime_api.h>
#include <curand.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* Errors meaning "there is no usable device here" rather than "the device
 * failed": what gsgd_context_create reports as NO_DEVICE. */
static inline int gsgdi_cuda_is_no_device(cudaError_t e) {
    switch (e) {
    case cudaErrorNoDevice:
    case cudaErrorInsufficientDriver:
    case cudaErrorInvalidDevice:
    case cudaErrorDevicesUnavailable:
    case cudaErrorStubLibrary:
    case cudaErrorSystemNotReady:
    case cudaErrorSystemDriverMismatch:
    case cudaErrorCompatNotSupportedOnDevice:
    case cudaErrorNoKernelImageForDevice:
        return 1;
    default:
        return 0;
    }
}

static inline gsgd_status gsgdi_cuda_fail(gsgd_context *ctx, cudaError_t e, const char *what,
                                          const char *file, int line) {
    /* Clear the runtime's record of a non-sticky error (a failed cudaMalloc
     * when the planner probes), or the next launch check would report it. */
    (void)cudaGetLastError();
    gsgd_status st = e == cudaErrorMemoryAllocation ? GSGD_STATUS_DEVICE_OUT_OF_MEMORY
                     : gsgdi_cuda_is_no_device(e)   ? GSGD_STATUS_NO_DEVICE
                                                    : GSGD_STATUS_DEVICE_ERROR;
    return gsgdi_error_at(ctx, st, file, line, "cuda: %s: %s (%s)", what, cudaGetErrorString(e),
                          cudaGetErrorName(e));
}

static inline gsgd_status gsgdi_cublas_fail(gsgd_context *ctx, cublasStatus_t s, const char *what,
                                            const char *file, int line) {
    (void)cudaGetLastError(); /* e.g. its workspace allocation failed: clear that too */
    gsgd_status st = s == CUBLAS_STATUS_ALLOC_FAILED ? GSGD_STATUS_DEVICE_OUT_OF_MEMORY
                                                     : GSGD_STATUS_DEVICE_ERROR;
    return gsgdi_error_at(ctx, st, file, line, "cublas: %s: %s (%s)", what,
                          cublasGetStatusString(s), cublasGetStatusName(s));
}

/* cuRAND has no status-to-text function; these are its enum's names. */
static inline const char *gsgdi_curand_name(curandStatus_t s) {
    switch (s) {
#define GSGD_CURAND_NAME_(x)                                                                       \
    case x:                                                                                        \
        return #x;
        GSGD_CURAND_NAME_(CURAND_STATUS_SUCCESS)
        GSGD_CURAND_NAME_(CURAND_STATUS_VERSION_MISMATCH)
        GSGD_CURAND_NAME_(CURAND_STATUS_NOT_INITIALIZED)
        GSGD_CURAND_NAME_(CURAND_STATUS_ALLOCATION_FAILED)
        GSGD_CURAND_NAME_(CURAND_STATUS_TYPE_ERROR)
        GSGD_CURAND_NAME_(CURAND_STATUS_OUT_OF_RANGE)
        GSGD_CURAND_NAME_(CURAND_STATUS_LENGTH_NOT_MULTIPLE)
        GSGD_CURAND_NAME_(CURAND_STATUS_DOUBLE_PRECISION_REQUIRED)
        GSGD_CURAND_NAME_(CURAND_STATUS_LAUNCH_FAILURE)
        GSGD_CURAND_NAME_(CURAND_STATUS_PREEXISTING_FAILURE)
        GSGD_CURAND_NAME_(CURAND_STATUS_INITIALIZATION_FAILED)
        GSGD_CURAND_NAME_(CURAND_STATUS_ARCH_MISMATCH)
        GSGD_CURAND_NAME_(CURAND_STATUS_INTERNAL_ERROR)
#undef GSGD_CURAND_NAME_
    }
    return "unknown cuRAND status";
}

static inline gsgd_status gsgdi_curand_fail(gsgd_context *ctx, curandStatus_t s, const char *what,
                                            const char *file, int line) {
    gsgd_status st = s == CURAND_STATUS_ALLOCATION_FAILED ? GSGD_STATUS_DEVICE_OUT_OF_MEMORY
                                                          : GSGD_STATUS_DEVICE_ERROR;
    return gsgdi_error_at(ctx, st, file, line, "curand: %s: %s (%d)", what, gsgdi_curand_name(s),
                          (int)s);
}

/* Evaluate a call; on failure return its gsgd_status from the enclosing
 * function, with the detail recorded on ctx. */
#define GSGD_CUDA_CHECK(ctx, expr)                                                                 \
    do {                                                                                           \
        cudaError_t cuda_check_e_ = (expr);                                                        \
        if (cuda_check_e_ != cudaSuccess)                                                          \
            return gsgdi_cuda_fail((ctx), cuda_check_e_, #expr, __FILE__, __LINE__);               \
    } while (0)

#define GSGD_CUBLAS_CHECK(ctx, expr)                                                               \
    do {                                                                                           \
        cublasStatus_t cublas_check_s_ = (expr);                                                   \
        if (cublas_check_s_ != CUBLAS_STATUS_SUCCESS)                                              \
            return gsgdi_cublas_fail((ctx), cublas_check_s_, #expr, __FILE__, __LINE__);           \
    } while (0)

#define GSGD_CURAND_CHECK(ctx, expr)                                                               \
    do {                                                                                           \
        curandStatus_t curand_check_s_ = (expr);                                                   \
        if (curand_check_s_ != CURAND_STATUS_SUCCESS)                                              \
            return gsgdi_curand_fail((ctx), curand_check_s_, #expr, __FILE__, __LINE__);           \
    } while (0)

#endif
