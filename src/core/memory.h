/* Memory accounting: every byte of backend memory gsgd allocates goes
 * through here, so the context knows its footprint (the planner's checks,
 * gsgd_context_memory) and enforces the caller's limit. */
#ifndef GSGD_CORE_MEMORY_H
#define GSGD_CORE_MEMORY_H

#include <stddef.h>
#include <stdint.h>

#include "gsgd.h"

/* Backend memory with accounting (in_use/peak feed the planner's checks).
 * Fails with DEVICE_OUT_OF_MEMORY, before asking the backend, when the
 * allocation would take bytes_in_use past ctx->mem_limit (or past
 * ctx->fail_alloc_above, the tests' injected failure). */
gsgd_status gsgdi_mem_alloc(gsgd_context *ctx, size_t bytes, void **p);
void gsgdi_mem_free(gsgd_context *ctx, void *p, size_t bytes);

/* Host allocation that records an OUT_OF_MEMORY error on failure. */
gsgd_status gsgdi_host_alloc(gsgd_context *ctx, size_t bytes, void **p);

/* Checked size arithmetic: returns 0 on overflow. */
static inline int gsgdi_mul_ok(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

#endif
