/* The context: the device a run uses, its backend, its memory accounting,
 * the caller's stream and log callback, and the last error's detail. */
#ifndef GSGD_CORE_CONTEXT_H
#define GSGD_CORE_CONTEXT_H

#include <stddef.h>

#include "core/error.h"
#include "gsgd.h"

struct gsgdi_backend;

struct gsgd_context {
    gsgd_device device;
    int device_index;
    const struct gsgdi_backend *be;
    void *be_state;      /* backend-private (cuBLAS handle, stream, ...) */
    size_t bytes_in_use; /* backend memory allocated through gsgdi_mem_alloc */
    size_t bytes_peak;
    size_t mem_limit;        /* caller's cap on backend memory; 0 = none */
    size_t fail_alloc_above; /* tests: allocations that would bring bytes_in_use
                                above this fail as out of memory; 0 = off */
    void *stream;            /* caller's stream (cudaStream_t on CUDA); NULL = default */
    gsgd_log_fn log;         /* gsgd_context_set_log; NULL = silent */
    void *log_user;
    char last_error[GSGD_ERROR_LEN];
};

#endif
