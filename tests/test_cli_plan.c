/*
 * `gsgd plan` and the planner's options as a user meets them: the memory
 * table, `--json` as one valid object whose prediction equals what the CPU
 * backend allocated, bad sizes for --mem-limit (exit 2, one line naming
 * the option), a limit too small (exit 1, "model does not fit"), and
 * `train --batch auto|fastest` with a limit.
 */
#include <criterion/criterion.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

#define OUT_SIZE 32768
#define SYNTH "synth:2000,20,4" /* 1600 training samples */

#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)
#define count_lines tu_count_lines
#define read_text tu_read_text

static double json_number(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    cr_assert_not_null(p, "key %s missing in %s", key, json);
    char *end;
    double v = strtod(p + strlen(pat), &end);
    cr_assert(end > p + strlen(pat), "key %s is not a number", key);
    return v;
}

/* ---- gsgd plan -------------------------------------------------------- */

Test(cli_plan, json_is_one_object_and_exact_on_the_cpu) {
    char out[OUT_SIZE];
    const char *path = tu_path("plan.json");
    /* 240 KB leave a batch below 100 rows, the small-data cap of 1600 rows
     * (min_epoch_steps 16): memory decides. */
    int rc = gsgd(out,
                  "plan --quiet --device cpu --data " SYNTH
                  " --model mlp:32 --optim momentum --mem-limit 240KB --max-batch none "
                  "--json '%s'",
                  path);
    cr_assert_eq(rc, 0, "%s", out);
    const char *json = read_text(path);
    cr_expect(tu_json_valid(json), "not one JSON object: %s", json);
    static const char *const keys[] = {
        "batch",           "budget_bytes",   "fixed_bytes", "per_sample_bytes",
        "predicted_bytes", "measured_bytes", "device",      "items",
        "reason"};
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        char pat[64];
        snprintf(pat, sizeof pat, "\"%s\": ", keys[k]);
        cr_expect(strstr(json, pat), "missing %s in %s", keys[k], json);
    }
    double batch = json_number(json, "batch"), fixed = json_number(json, "fixed_bytes");
    double per = json_number(json, "per_sample_bytes");
    double predicted = json_number(json, "predicted_bytes");
    cr_expect_eq(predicted, fixed + batch * per);
    cr_expect_eq(json_number(json, "measured_bytes"), predicted, "exact on the CPU backend");
    cr_expect_leq(predicted, json_number(json, "budget_bytes"));
    cr_expect_leq(json_number(json, "budget_bytes"), 240e3 * 0.98, "2%% headroom under 240 KB");
    cr_expect(batch > 32 && batch < 100, "memory-bound batch %g", batch);
    cr_expect(strstr(json, "\"device\": \"cpu\""), "%s", json);
    cr_expect(strstr(json, "\"name\": \"momentum buffer\""), "%s", json);
    /* The table on stdout says the same. */
    cr_expect(strstr(out, "momentum buffer"), "%s", out);
    cr_expect(strstr(out, "budget"), "%s", out);
    cr_expect(strstr(out, "largest batch that fits"), "%s", out);
}

Test(cli_plan, default_on_the_cpu_is_capped_at_the_max_useful_batch) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "plan --quiet --device cpu --data " SYNTH " --model softmax");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "batch      64: "), "%s", out);
    cr_expect(strstr(out, "max useful batch 64"), "%s", out);
}

Test(cli_plan, bad_mem_limit_values_exit_2_naming_the_option) {
    static const char *const bad[] = {"12XB", "-5MB",  "0",    "150%", "0%",
                                      "abc",  "1e400", "5 MB", "%"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char out[OUT_SIZE];
        int rc =
            gsgd(out, "plan --quiet --data " SYNTH " --model softmax --mem-limit '%s'", bad[i]);
        cr_expect_eq(rc, 2, "--mem-limit '%s': exit %d: %s", bad[i], rc, out);
        cr_expect_eq(count_lines(out), 1, "%s", out);
        cr_expect(strstr(out, "--mem-limit"), "'%s': %s", bad[i], out);
    }
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --quiet --data " SYNTH " --model softmax --mem-limit 3QB"), 2,
                 "%s", out);
}

/* On the CPU: a GPU's reserve for its runtime alone is larger than 64 MiB. */
Test(cli_plan, good_mem_limit_spellings_are_accepted) {
    static const char *const good[] = {"64MiB", "64mib", "67108864", "0.5GB", "50%", "1.5GiB"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char out[OUT_SIZE];
        int rc =
            gsgd(out, "plan --quiet --device cpu --data " SYNTH " --model softmax --mem-limit %s",
                 good[i]);
        cr_expect_eq(rc, 0, "--mem-limit %s: %s", good[i], out);
    }
}

Test(cli_plan, limit_below_the_fixed_part_exits_1_saying_it_does_not_fit) {
    char out[OUT_SIZE];
    int rc = gsgd(out, "plan --quiet --data " SYNTH " --model softmax --mem-limit 100KB");
    cr_expect_eq(rc, 1, "%s", out);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "model does not fit: needs "), "%s", out);
}

Test(cli_plan, help_lists_the_command_and_its_options) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "plan --help"), 0);
    cr_expect(strstr(out, "--mem-limit") && strstr(out, "--json"), "%s", out);
    cr_expect_eq(gsgd(out, "--help"), 0);
    cr_expect(strstr(out, "  plan "), "%s", out);
    cr_expect_eq(gsgd(out, "train --help"), 0);
    cr_expect(strstr(out, "--batch auto|fastest|N") && strstr(out, "--lr-scaling"), "%s", out);
}

/* ---- train with the planner ------------------------------------------- */

Test(cli_plan, train_auto_with_a_limit_uses_the_planned_batch) {
    char out[OUT_SIZE];
    const char *summary = tu_path("auto.json");
    int rc = gsgd(out,
                  "train --quiet --device cpu --data " SYNTH " --model mlp:32 --epochs 2 "
                  "--batch auto --max-batch none --mem-limit 600KB --summary '%s'",
                  summary);
    cr_assert_eq(rc, 0, "%s", out);
    double batch = json_number(read_text(summary), "batch");
    cr_expect(batch > 32 && batch < 1600, "batch %g", batch);
}

Test(cli_plan, train_fastest_reports_the_curve) {
    char out[OUT_SIZE];
    /* 2400 training rows: the small-data cap (150 rows) leaves 128 to time. */
    int rc = gsgd(out, "train --device cpu --data synth:3000,20,4 --model softmax --epochs 1 "
                       "--batch fastest --max-batch 128");
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "--batch fastest, samples/s by batch") && strstr(out, " 32: ") &&
                  strstr(out, " 128: ") && strstr(out, "; chose "),
              "%s", out);
}

Test(cli_plan, bad_batch_and_scaling_values_exit_2) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --batch 0"), 2);
    cr_expect(strstr(out, "--batch auto"), "%s", out);
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --lr-scaling cubic"), 2);
    cr_expect(strstr(out, "--lr-scaling: 'cubic'"), "%s", out);
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --warmup -1"), 2);
    cr_expect_eq(gsgd(out, "plan --data " SYNTH " --model softmax --mem-reserve 10%%"), 2);
    cr_expect(strstr(out, "--mem-reserve"), "%s", out);
}

/* ---- storage of the training X -------------------------------------------- */

/* Writes 300 ubyte images of 16 pixels and their labels; returns the
 * "IMAGES,LABELS" part of an idx: spec. */
static const char *pixel_files(void) {
    static uint8_t img[300 * 16], lab[300];
    for (int i = 0; i < 300 * 16; i++) img[i] = (uint8_t)(i * 7);
    for (int i = 0; i < 300; i++) lab[i] = (uint8_t)(i % 3);
    cr_assert_eq(tu_write_idx(tu_path("img"), 0x08, 3, (uint32_t[]){300, 4, 4}, img, sizeof img),
                 0);
    cr_assert_eq(tu_write_idx(tu_path("lab"), 0x08, 1, (uint32_t[]){300}, lab, sizeof lab), 0);
    static char files[1200];
    snprintf(files, sizeof files, "%s,%s", tu_path("img"), tu_path("lab"));
    return files;
}

/* The line of the table that starts with name (after the indent) holds
 * bytes as its next field. */
static void expect_row(const char *out, const char *name, const char *bytes) {
    char pat[128];
    snprintf(pat, sizeof pat, "  %s ", name);
    const char *row = strstr(out, pat);
    cr_assert_not_null(row, "no row '%s' in %s", name, out);
    row += strlen(pat);
    while (*row == ' ') row++;
    cr_expect(strncmp(row, bytes, strlen(bytes)) == 0 && row[strlen(bytes)] == ' ',
              "row '%s': %.40s", name, row);
}

Test(cli_plan, ubyte_images_are_planned_as_bytes_when_asked_and_floats_by_default_on_cpu) {
    const char *files = pixel_files();
    char out[OUT_SIZE];
    const char *path = tu_path("u8.json");
    cr_assert_eq(gsgd(out,
                      "plan --quiet --device cpu --data 'idx:%s:storage=u8' --model softmax "
                      "--json '%s'",
                      files, path),
                 0, "%s", out);
    expect_row(out, "training X (300 x 16, uint8)", "4800");
    const char *json = read_text(path);
    cr_expect(strstr(json, "\"name\": \"training X (300 x 16, uint8)\", \"bytes\": 4800"), "%s",
              json);
    cr_expect_eq(json_number(json, "measured_bytes"), json_number(json, "predicted_bytes"));
    cr_assert_eq(
        gsgd(out, "plan --quiet --device cpu --data 'idx:%s:storage=f32' --model softmax", files),
        0, "%s", out);
    expect_row(out, "training X (300 x 16)", "19200");
    cr_assert_eq(gsgd(out, "plan --quiet --device cpu --data 'idx:%s' --model softmax", files), 0,
                 "%s", out);
    expect_row(out, "training X (300 x 16)", "19200");
}

Test(cli_plan, a_bad_storage_value_exits_2_naming_the_choices) {
    const char *files = pixel_files();
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "plan --quiet --data 'idx:%s:storage=f16' --model softmax", files), 2,
                 "%s", out);
    cr_expect_eq(count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "storage 'f16' not understood (u8"), "%s", out);
    cr_expect_eq(gsgd(out, "train --quiet --data fashion-mnist:storage=u16 --model softmax"), 2,
                 "%s", out);
    cr_expect(strstr(out, "storage 'u16' not understood"), "%s", out);
    cr_expect_eq(gsgd(out, "train --help"), 0);
    cr_expect(strstr(out, "storage=u8|f32"), "%s", out);
}
