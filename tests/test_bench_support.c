/*
 * What the bench takes from the library (src/bench/support.c) on the CPU
 * backend: timers on the monotonic clock, whose marks bound the time
 * between them, checked mark numbers, and the machine's description. The
 * CUDA events behind the same calls are exercised by the bench's own
 * suites on a GPU (test_cli_bench_cuda.c).
 */
#include <criterion/criterion.h>
#include <string.h>
#include <time.h>

#include "backend/cpu.h"
#include "bench/support.h"

static gsgd_context *ctx;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
}
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(bench_support, .init = setup, .fini = teardown);

Test(bench_support, cpu_timer_reads_the_monotonic_clock_between_marks) {
    cr_expect_str_eq(gsgdi_timer_clock(ctx), "monotonic clock");
    gsgdi_timer *t;
    cr_assert_eq(gsgdi_timer_create(ctx, 3, &t), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    double s = -1.0;
    cr_expect_eq(gsgdi_timer_seconds(t, 0, 2, &s), GSGD_STATUS_OK);
    cr_expect_eq(s, 0.0, "marks not yet stamped read as equal");
    cr_assert_eq(gsgdi_timer_mark(t, 0), GSGD_STATUS_OK);
    /* nanosleep sleeps at least as long as asked. */
    const struct timespec nap = {.tv_sec = 0, .tv_nsec = 20 * 1000 * 1000};
    cr_assert_eq(nanosleep(&nap, NULL), 0);
    cr_assert_eq(gsgdi_timer_mark(t, 1), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_timer_mark(t, 2), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_timer_seconds(t, 0, 1, &s), GSGD_STATUS_OK);
    cr_expect_geq(s, 0.020, "a 20 ms sleep between marks 0 and 1: %g s", s);
    cr_assert_eq(gsgdi_timer_seconds(t, 1, 2, &s), GSGD_STATUS_OK);
    cr_expect_geq(s, 0.0, "the clock never goes back: %g s", s);
    cr_assert_eq(gsgdi_timer_seconds(t, 1, 1, &s), GSGD_STATUS_OK);
    cr_expect_eq(s, 0.0);
    gsgdi_timer_free(t);
    gsgdi_timer_free(NULL);
}

Test(bench_support, timers_check_their_mark_numbers) {
    gsgdi_timer *t = (gsgdi_timer *)1;
    cr_expect_eq(gsgdi_timer_create(ctx, 1, &t), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_null(t);
    cr_expect(strstr(gsgd_last_error(ctx), "timer: 1 marks"), "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgdi_timer_create(ctx, 2, &t), GSGD_STATUS_OK);
    cr_expect_eq(gsgdi_timer_mark(t, 2), GSGD_STATUS_INTERNAL);
    cr_expect(strstr(gsgd_last_error(ctx), "timer: mark 2 of 2"), "%s", gsgd_last_error(ctx));
    cr_expect_eq(gsgdi_timer_mark(t, -1), GSGD_STATUS_INTERNAL);
    double s;
    cr_expect_eq(gsgdi_timer_seconds(t, 0, 2, &s), GSGD_STATUS_INTERNAL);
    cr_expect(strstr(gsgd_last_error(ctx), "timer: marks 0, 2 of 2"), "%s", gsgd_last_error(ctx));
    cr_expect_eq(gsgdi_timer_seconds(t, -1, 1, &s), GSGD_STATUS_INTERNAL);
    gsgdi_timer_free(t);
}

Test(bench_support, cpu_machine_is_the_cpu_its_ram_blas_and_threads) {
    gsgdi_machine m;
    memset(&m, 0x5a, sizeof m); /* describe fills every field */
    cr_assert_eq(gsgdi_machine_describe(ctx, &m), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_str_eq(m.device_name, "cpu");
    size_t free_b, total_b;
    cr_assert_eq(ctx->be->mem_info(ctx, &free_b, &total_b), GSGD_STATUS_OK);
    cr_expect_eq(m.device_memory, total_b, "the machine's RAM");
    cr_expect_str_eq(m.cuda_runtime, "", "no CUDA runtime on the CPU backend");
    cr_expect_str_eq(m.cuda_driver, "");
    cr_expect(strncmp(m.blas, "OpenBLAS", 8) == 0, "OpenBLAS's configuration: %s", m.blas);
    cr_expect_eq(m.threads, gsgdi_cpu_threads());
    cr_expect_geq(m.threads, 1);
}
