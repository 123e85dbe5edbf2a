/* Shared by the suites that run on a CUDA device when one is present. */
#ifndef GSGD_CUDATEST_H
#define GSGD_CUDATEST_H

#include <criterion/criterion.h>
#include <string.h>

#include "gsgd.h"

/* Creates a context on CUDA device 0, or skips the test (visibly, with the
 * runtime's reason) when there is none. Call it from a test body only:
 * Criterion forks each test, and a child cannot use CUDA once its parent
 * has initialised it. */
static inline gsgd_context *cuda_context_or_skip(void) {
    gsgd_context *ctx = NULL;
    gsgd_status st = gsgd_context_create(&ctx, GSGD_DEVICE_CUDA, 0);
    if (st == GSGD_STATUS_NO_DEVICE) {
        const char *why = gsgd_last_error(NULL), *prefix = "no CUDA device: ";
        if (strncmp(why, prefix, strlen(prefix)) == 0) why += strlen(prefix);
        cr_skip_test("no CUDA device: %s", why);
    }
    cr_assert_eq(st, GSGD_STATUS_OK, "CUDA context: %s", gsgd_last_error(NULL));
    return ctx;
}

#endif
