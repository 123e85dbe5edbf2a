/*
 * Device selection as a user meets it: GSGD_DEVICE_CUDA / --device cuda
 * fail with the runtime's reason where there is no GPU (or no CUDA backend
 * in the build), AUTO falls back to the CPU and says why, and where there
 * is a GPU both land on it. Each test runs the branch that fits the
 * machine and skips, visibly, the one that does not.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "gsgd.h"
#include "testutil.h"

#define TRAIN " train --data synth:400,5,3 --model softmax --epochs 1"

/* Creates a CUDA context; returns it, or NULL after checking that the
 * failure is a clean NO_DEVICE with a reason. */
static gsgd_context *try_cuda(int index) {
    gsgd_context *ctx = (gsgd_context *)1;
    gsgd_status st = gsgd_context_create(&ctx, GSGD_DEVICE_CUDA, index);
    if (st == GSGD_STATUS_OK) return ctx;
    cr_assert_eq(st, GSGD_STATUS_NO_DEVICE, "%s: %s", gsgd_status_name(st), gsgd_last_error(NULL));
    cr_assert_null(ctx, "a failed create leaves no context");
    return NULL;
}

Test(context_cuda, cuda_without_a_device_fails_with_the_reason) {
    gsgd_context *ctx = try_cuda(0);
    if (ctx) {
        gsgd_context_free(ctx);
        cr_skip_test("a CUDA device is present");
    }
    const char *why = gsgd_last_error(NULL);
    cr_expect(strncmp(why, "no CUDA device: ", 16) == 0, "%s", why);
    cr_expect(strlen(why) > 20, "the reason follows: %s", why);
}

Test(context_cuda, auto_falls_back_to_the_cpu_and_keeps_the_reason) {
    gsgd_context *probe = try_cuda(0);
    if (probe) {
        gsgd_context_free(probe);
        cr_skip_test("a CUDA device is present");
    }
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_AUTO, 0), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_context_device(ctx), GSGD_DEVICE_CPU);
    cr_expect_str_eq(gsgd_last_error(ctx), "", "the CPU context itself has no error");
    cr_expect(strstr(gsgd_last_error(NULL), "no CUDA device"), "%s", gsgd_last_error(NULL));
    char info[1024];
    cr_assert_eq(gsgd_info(ctx, info, sizeof info), GSGD_STATUS_OK);
    cr_expect(strstr(info, "cuda backend: built, no device") || strstr(info, "not built in"), "%s",
              info);
    gsgd_context_free(ctx);
}

Test(context_cuda, cli_device_cuda_without_a_device_exits_1_naming_the_reason) {
    gsgd_context *probe = try_cuda(0);
    if (probe) {
        gsgd_context_free(probe);
        cr_skip_test("a CUDA device is present");
    }
    char out[4096];
    cr_expect_eq(tu_run(GSGD_CLI_PATH TRAIN " --device cuda", out, sizeof out), 1, "%s", out);
    cr_expect(strstr(out, "gsgd: --device cuda: no CUDA device: "), "%s", out);
    /* auto says in plain words that it runs on the CPU, without the CUDA
     * runtime's complaint; --verbose adds it. */
    cr_expect_eq(tu_run(GSGD_CLI_PATH TRAIN " --device auto", out, sizeof out), 0, "%s", out);
    cr_expect(strstr(out, "gsgd: running on the CPU (no usable GPU; --verbose says why)"), "%s",
              out);
    cr_expect(!strstr(out, "CUDA") && !strstr(out, "cuda") && !strstr(out, "driver"), "%s", out);
    cr_expect_eq(tu_run(GSGD_CLI_PATH TRAIN " --device auto --verbose", out, sizeof out), 0, "%s",
                 out);
    cr_expect(strstr(out, "gsgd: running on the CPU (no usable GPU: no CUDA device"), "%s", out);
}

Test(context_cuda, cuda_with_a_device_runs_there_and_auto_picks_it) {
    gsgd_context *ctx = try_cuda(0);
    if (!ctx) cr_skip_test("%s", gsgd_last_error(NULL));
    cr_expect_eq(gsgd_context_device(ctx), GSGD_DEVICE_CUDA);
    char info[1024];
    cr_assert_eq(gsgd_info(ctx, info, sizeof info), GSGD_STATUS_OK);
    cr_expect(strstr(info, "backend: cuda") && strstr(info, "cuda device 0: "), "%s", info);
    gsgd_context_free(ctx);
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_AUTO, 0), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_context_device(ctx), GSGD_DEVICE_CUDA);
    gsgd_context_free(ctx);
    cr_expect_null(try_cuda(9999), "device 9999 does not exist");
    cr_expect(strstr(gsgd_last_error(NULL), "no CUDA device 9999"), "%s", gsgd_last_error(NULL));
    char out[4096];
    cr_expect_eq(tu_run(GSGD_CLI_PATH TRAIN " --device cuda", out, sizeof out), 0, "%s", out);
    cr_expect_eq(tu_run(GSGD_CLI_PATH TRAIN " --device cuda:9999", out, sizeof out), 1, "%s", out);
}
