/*
 * `gsgd bench` as a user runs it: a short CPU run on synthetic data writes
 * a table, a CSV and a JSON file that parse; a sweep goes up to the
 * planner's B*; --plot without gnuplot and bad --batches fail with exit 2
 * before any work, leaving no output file.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

#define OUT_SIZE 32768
#define SYNTH "synth:2000,20,4" /* 1600 training samples */

Test(cli_bench, short_cpu_run_writes_table_csv_and_json) {
    char out[OUT_SIZE];
    const char *csv = tu_path("b.csv"), *json = tu_path("b.json");
    int rc = tu_gsgd(out, sizeof out,
                     "bench --quiet --device cpu --data " SYNTH " --model mlp:16 --optim momentum "
                     "--batches 16,64,256 --steps 3 --warmup-steps 1 --noise-samples 4 "
                     "--noise-epochs 0 --target-acc 0.5 --epochs 2 --csv '%s' --json '%s'",
                     csv, json);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "samples/s") && strstr(out, "B* ") && strstr(out, "noise scale"), "%s",
              out);
    cr_expect(strstr(out, "time to test accuracy 0.5"), "%s", out);
    const char *text = tu_read_text(json);
    cr_expect(tu_json_valid(text), "not one JSON object:\n%s", text);
    cr_expect(strstr(text, "\"batch\": 256"), "%s", text);
    cr_expect(strstr(text, "\"cpu_model\": "), "%s", text);
    cr_expect(strstr(text, "\"copy_gbs\": "), "%s", text);
    cr_expect(strstr(text, "\"step_graph_s\": null"), "no graphs on the CPU:\n%s", text);
    text = tu_read_text(csv);
    cr_expect_eq(tu_count_lines(text), 4, "header + 3 batch sizes:\n%s", text);
    cr_expect(strncmp(text, "batch,", 6) == 0, "%s", text);
}

Test(cli_bench, sweep_goes_up_to_the_planners_batch) {
    char out[OUT_SIZE];
    const char *csv = tu_path("sweep.csv");
    /* 2400 training rows: the small-data cap (min_epoch_steps 16: 150 rows)
     * leaves max-batch to decide. */
    int rc = tu_gsgd(out, sizeof out,
                     "bench --quiet --device cpu --data synth:3000,20,4 --model softmax "
                     "--max-batch 128 --steps 2 --warmup-steps 0 --noise-samples 0 --csv '%s'",
                     csv);
    cr_assert_eq(rc, 0, "%s", out);
    const char *text = tu_read_text(csv);
    cr_expect_eq(tu_count_lines(text), 1 + 3, "32, 64, 128:\n%s", text);
    cr_expect(strstr(text, "\n128,"), "%s", text);
    cr_expect(strstr(out, "B* 128"), "%s", out);
}

Test(cli_bench, plot_without_gnuplot_fails_before_any_work) {
    char out[OUT_SIZE], cmd[2048];
    const char *csv = tu_path("none.csv"), *png = tu_path("none.png");
    snprintf(cmd, sizeof cmd,
             "PATH=/nonexistent '%s' bench --device cpu --data " SYNTH
             " --model softmax --csv '%s' --plot '%s'",
             GSGD_CLI_PATH, csv, png);
    int rc = tu_run(cmd, out, sizeof out);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--plot: gnuplot not found"), "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "one line: %s", out);
    cr_expect(!tu_exists(csv) && !tu_exists(png), "no output files");
}

Test(cli_bench, bad_batch_list_is_a_usage_error) {
    char out[OUT_SIZE];
    const char *json = tu_path("bad.json");
    int rc = tu_gsgd(out, sizeof out,
                     "bench --device cpu --data " SYNTH " --model softmax --batches 32,x "
                     "--json '%s'",
                     json);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, "--batches: 'x'"), "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(!tu_exists(json));
}

Test(cli_bench, plot_draws_a_png_when_gnuplot_is_there) {
    char out[OUT_SIZE];
    if (tu_run("command -v gnuplot", out, sizeof out) != 0)
        cr_skip_test("gnuplot not installed (scripts/setup --bench)");
    const char *png = tu_path("b.png");
    int rc = tu_gsgd(out, sizeof out,
                     "bench --quiet --device cpu --data " SYNTH " --model softmax --batches 32,256 "
                     "--steps 2 --noise-samples 3 --noise-epochs 0 --target-acc 0.3 --epochs 1 "
                     "--plot '%s'",
                     png);
    cr_assert_eq(rc, 0, "%s", out);
    FILE *f = fopen(png, "rb");
    cr_assert_not_null(f);
    unsigned char magic[8] = {0};
    size_t got = fread(magic, 1, 8, f);
    fclose(f);
    cr_expect(got == 8 && memcmp(magic, "\x89PNG\r\n\x1a\n", 8) == 0, "a PNG file");
}
