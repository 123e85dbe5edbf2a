/* The batch sizes gsgd bench measures (src/cli/bench_batches.c). */
#include <criterion/criterion.h>

#include "cli/bench/bench.h"
#include "cli/cli.h"

static void expect_list(const size_t *got, int n, const size_t *want, int m) {
    cr_assert_eq(n, m, "%d sizes, expected %d", n, m);
    for (int i = 0; i < n; i++)
        cr_expect_eq(got[i], want[i], "[%d] %zu, expected %zu", i, got[i], want[i]);
}

Test(bench_batches, sweep_is_powers_of_two_up_to_bstar_and_bstar_itself) {
    size_t b[BENCH_MAX_POINTS];
    int n = bench_sweep_batches(1000, 60000, b, BENCH_MAX_POINTS);
    expect_list(b, n, (size_t[]){32, 64, 128, 256, 512, 1000}, 6);
    n = bench_sweep_batches(1024, 60000, b, BENCH_MAX_POINTS);
    expect_list(b, n, (size_t[]){32, 64, 128, 256, 512, 1024}, 6);
}

Test(bench_batches, sweep_is_clamped_to_the_training_set) {
    size_t b[BENCH_MAX_POINTS];
    int n = bench_sweep_batches(60000, 500, b, BENCH_MAX_POINTS);
    expect_list(b, n, (size_t[]){32, 64, 128, 256, 500}, 5);
}

Test(bench_batches, sweep_below_32_starts_at_one) {
    size_t b[BENCH_MAX_POINTS];
    int n = bench_sweep_batches(20, 1000, b, BENCH_MAX_POINTS);
    expect_list(b, n, (size_t[]){1, 2, 4, 8, 16, 20}, 6);
}

Test(bench_batches, sweep_keeps_bstar_when_the_list_is_full) {
    size_t b[3];
    int n = bench_sweep_batches(60000, 60000, b, 3);
    expect_list(b, n, (size_t[]){32, 64, 60000}, 3);
}

Test(bench_batches, list_is_sorted_without_duplicates) {
    size_t b[BENCH_MAX_POINTS];
    int n = 0, sweep = 1;
    cr_assert_eq(
        bench_parse_batches("--batches", "2048,32,256,32", b, BENCH_MAX_POINTS, &n, &sweep),
        CLI_OK);
    cr_expect_eq(sweep, 0);
    expect_list(b, n, (size_t[]){32, 256, 2048}, 3);
    cr_assert_eq(bench_parse_batches("--batches", "sweep", b, BENCH_MAX_POINTS, &n, &sweep),
                 CLI_OK);
    cr_expect_eq(sweep, 1);
    cr_expect_eq(n, 0);
}

Test(bench_batches, bad_lists_are_usage_errors) {
    size_t b[4];
    int n, sweep;
    const char *bad[] = {"",    "32,,64", "abc", "0",           "-5",
                         "1e3", "64,",    " 64", "99999999999", "1,2,3,4,5"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++)
        cr_expect_eq(bench_parse_batches("--batches", bad[k], b, 4, &n, &sweep), CLI_USAGE, "'%s'",
                     bad[k]);
}

Test(bench_batches, clamp_maps_large_sizes_to_n_once) {
    size_t b[] = {32, 5000, 9000};
    int n = bench_clamp_batches(b, 3, 4000);
    expect_list(b, n, (size_t[]){32, 4000}, 2);
}
