/*
 * The registry of backends (src/backend/registry.c): the CPU backend is in
 * every build and always opens; a CUDA device that is not there (no GPU,
 * or no CUDA backend in the build) fails with the reason and leaves a
 * working CPU context, which is what AUTO falls back to; gsgd_info's
 * backend lines come from each backend in turn. The branches that need a
 * GPU skip, visibly, where one is present (test_context_cuda.c covers
 * them).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/cpu.h"
#include "backend/registry.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"

/* A context as gsgd_context_create starts it: zeroed, on no backend. */
static gsgd_context *fresh(void) {
    gsgd_context *ctx = calloc(1, sizeof *ctx);
    cr_assert_not_null(ctx);
    return ctx;
}

static void release(gsgd_context *ctx) {
    ctx->be->close(ctx);
    free(ctx);
}

/* The context works: it allocates and frees on the CPU backend. */
static void expect_working_cpu_context(gsgd_context *ctx, int device_index) {
    cr_expect_eq(ctx->be, gsgdi_backend_of(GSGD_DEVICE_CPU));
    cr_expect_eq(ctx->device, GSGD_DEVICE_CPU);
    cr_expect_eq(ctx->device_index, device_index);
    cr_expect_null(ctx->be_state);
    void *p = NULL;
    cr_expect_eq(gsgdi_mem_alloc(ctx, 100, &p), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgdi_mem_free(ctx, p, 100);
    cr_expect_eq(ctx->bytes_in_use, 0);
}

/* Opens device on a fresh context; returns NULL (after closing it) when it
 * opened on a CUDA device, which this suite's branches do not expect. */
static gsgd_context *open_expecting_no_gpu(gsgd_device device, gsgd_status *st) {
    gsgd_context *ctx = fresh();
    *st = gsgdi_backend_open(ctx, device, 0);
    if (*st == GSGD_STATUS_OK && ctx->device == GSGD_DEVICE_CUDA) {
        release(ctx);
        return NULL;
    }
    return ctx;
}

Test(registry, the_cpu_is_in_every_build_and_always_opens) {
    const gsgdi_backend *cpu = gsgdi_backend_of(GSGD_DEVICE_CPU);
    cr_assert_not_null(cpu);
    cr_expect_str_eq(cpu->name, "cpu");
    cr_expect_null(gsgdi_backend_of(GSGD_DEVICE_AUTO), "AUTO names no backend");
    cr_expect_null(gsgdi_backend_of((gsgd_device)7));
    gsgd_context *ctx = fresh();
    cr_assert_eq(gsgdi_backend_open(ctx, GSGD_DEVICE_CPU, 3), GSGD_STATUS_OK);
    expect_working_cpu_context(ctx, 3);
    cr_expect_str_eq(ctx->last_error, "");
    release(ctx);
}

Test(registry, a_missing_cuda_device_fails_with_the_reason_and_leaves_the_cpu) {
    gsgd_status st;
    gsgd_context *ctx = open_expecting_no_gpu(GSGD_DEVICE_CUDA, &st);
    if (!ctx) cr_skip_test("a CUDA device is present");
    cr_expect_eq(st, GSGD_STATUS_NO_DEVICE, "%s: %s", gsgd_status_name(st), ctx->last_error);
    cr_expect(strncmp(ctx->last_error, "no CUDA device: ", 16) == 0, "%s", ctx->last_error);
    if (!gsgdi_backend_of(GSGD_DEVICE_CUDA))
        cr_expect(strstr(ctx->last_error, "built without the CUDA backend"), "%s", ctx->last_error);
    expect_working_cpu_context(ctx, 0);
    release(ctx);
}

Test(registry, auto_falls_back_to_the_cpu_with_the_reason) {
    gsgd_status st;
    gsgd_context *ctx = open_expecting_no_gpu(GSGD_DEVICE_AUTO, &st);
    if (!ctx) cr_skip_test("a CUDA device is present: AUTO took it");
    cr_expect_eq(st, GSGD_STATUS_NO_DEVICE, "%s: %s", gsgd_status_name(st), ctx->last_error);
    cr_expect(strncmp(ctx->last_error, "no CUDA device: ", 16) == 0, "%s", ctx->last_error);
    expect_working_cpu_context(ctx, 0);
    char reason[GSGD_ERROR_LEN];
    snprintf(reason, sizeof reason, "%s", ctx->last_error);
    release(ctx);

    /* gsgd_context_create keeps that reason for the caller, not on the
     * working context. */
    gsgd_context *pub;
    cr_assert_eq(gsgd_context_create(&pub, GSGD_DEVICE_AUTO, 0), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_context_device(pub), GSGD_DEVICE_CPU);
    cr_expect_str_eq(gsgd_last_error(pub), "");
    /* The same text but for the [file:line] the reason ends with. */
    cr_expect(strncmp(gsgd_last_error(NULL), reason, strcspn(reason, "[")) == 0, "%s / %s",
              gsgd_last_error(NULL), reason);
    gsgd_context_free(pub);
}

Test(registry, info_lists_each_backend_the_devices_first_and_the_cpu_last) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    char lines[1024];
    gsgdi_backend_describe_all(ctx, lines, sizeof lines);
    const int built = gsgdi_backend_of(GSGD_DEVICE_CUDA) != NULL;
    cr_expect(strncmp(lines, built ? "cuda backend: built" : "cuda backend: not built in\n",
                      built ? 19 : 27) == 0,
              "%s", lines);
    char threads[64];
    snprintf(threads, sizeof threads, "openmp threads: %d\n", gsgdi_cpu_threads());
    const size_t n = strlen(lines), t = strlen(threads);
    cr_assert_geq(n, t);
    cr_expect_str_eq(lines + n - t, threads, "the CPU's line last: %s", lines);

    char info[2048], want[2048];
    cr_assert_eq(gsgd_info(ctx, info, sizeof info), GSGD_STATUS_OK);
    snprintf(want, sizeof want, "gsgd %s\nbackend: cpu\n%s", gsgd_version_string(), lines);
    cr_expect_str_eq(info, want);

    char small[8] = "xxxxxxx";
    gsgdi_backend_describe_all(ctx, small, sizeof small);
    cr_expect_eq(strlen(small), sizeof small - 1, "truncated and terminated: %s", small);
    gsgdi_backend_describe_all(ctx, small, 1);
    cr_expect_str_eq(small, "");
    gsgd_context_free(ctx);
}
