/*
 * gsgd bench's CSV and JSON writers (src/cli/bench_out.c): one JSON object
 * that parses, every CSV column in the header and in every row, the same
 * figures under the same names in both, unmeasured figures empty (CSV) or
 * null (JSON), strings escaped.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/bench/bench.h"
#include "testutil.h"

static bench_report *report(void) {
    static bench_report r;
    memset(&r, 0, sizeof r);
    r.data = "synth:2000,20,4";
    r.model = "mlp:32,16";
    r.optim = "momentum";
    r.lr_scaling = "sqrt";
    snprintf(r.device, sizeof r.device, "cpu");
    snprintf(r.machine.device_name, sizeof r.machine.device_name, "a \"quoted\", named\\cpu");
    snprintf(r.cpu_model, sizeof r.cpu_model, "Test CPU, 2 cores");
    snprintf(r.machine.blas, sizeof r.machine.blas, "OpenBLAS 0.3.21");
    r.clock = "monotonic clock";
    snprintf(r.gradient, sizeof r.gradient, "composed");
    r.n_train = 1600;
    r.copy_gbs = 12.5;
    r.peak_n = 1024;
    r.peak_gflops = 300;
    r.planner_batch = 1600;
    r.target_acc = 0.8;
    r.noise_run = 1;
    r.noise = (noise_estimate){
        .g2 = 0.5, .trace = 40, .b_simple = 80, .b_simple_se = 4, .n_small = 10, .n_big = 10};
    r.n_points = 3;
    for (int i = 0; i < 3; i++) {
        bench_point *p = &r.pts[i];
        p->batch = (size_t)32 << (2 * i);
        p->step_s = 1e-4 * (i + 1);
        for (int k = 0; k < PH_COUNT; k++) p->phase_s[k] = p->step_s / PH_COUNT;
        p->samples_per_s = (double)p->batch / p->step_s;
        p->update_over_copy = NAN; /* not measured: empty / null */
        p->fused_s = NAN;
        p->ttt_reached = i - 1; /* not run, not reached, reached */
        p->ttt_s = 1.5;
    }
    return &r;
}

/* Writes with fn into a string (static, 64 KiB). */
static char *written(void (*fn)(FILE *, const bench_report *), const bench_report *r) {
    static char buf[65536];
    FILE *f = fmemopen(buf, sizeof buf, "w");
    cr_assert_not_null(f);
    fn(f, r);
    cr_assert(!ferror(f));
    long len = ftell(f);
    fclose(f);
    cr_assert(len > 0 && len < (long)sizeof buf - 1);
    buf[len] = '\0';
    return buf;
}

/* Fields of one CSV line, quotes respected. */
static int csv_fields(const char *line) {
    int n = 1, quoted = 0;
    for (const char *p = line; *p && *p != '\n'; p++) {
        if (*p == '"')
            quoted = !quoted;
        else if (*p == ',' && !quoted)
            n++;
    }
    return n;
}

Test(bench_out, csv_has_every_column_in_the_header_and_every_row) {
    const char *csv = written(bench_write_csv, report());
    const int cols = bench_csv_column_count();
    cr_expect_eq(tu_count_lines(csv), 1 + 3, "header and one line per batch:\n%s", csv);
    for (const char *line = csv; *line; line = strchr(line, '\n') + 1)
        cr_expect_eq(csv_fields(line), cols, "fields of: %.80s", line);
    for (int c = 0; c < cols; c++) {
        const char *name = bench_csv_column_name(c);
        cr_assert_not_null(name);
        for (int k = 0; k < c; k++) cr_expect_str_neq(name, bench_csv_column_name(k), "twice");
        cr_expect(strstr(csv, name), "column %s missing", name);
    }
    cr_expect(strstr(csv, "\"a \"\"quoted\"\", named\\cpu\""), "quotes doubled: %s", csv);
    cr_expect_null(bench_csv_column_name(cols));
}

Test(bench_out, json_is_one_object_with_every_column_of_every_point) {
    const char *json = written(bench_write_json, report());
    cr_assert(tu_json_valid(json), "not one JSON object:\n%s", json);
    for (int c = 0; c < bench_csv_column_count(); c++) {
        char key[96];
        snprintf(key, sizeof key, "\"%s\": ", bench_csv_column_name(c));
        int count = 0;
        for (const char *p = json; (p = strstr(p, key)); p++) count++;
        cr_expect(count == 1 || count == 3, "%s appears %d times", key, count);
    }
    cr_expect(strstr(json, "\"update_over_copy\": null"), "NaN is null");
    cr_expect(strstr(json, "\"target_reached\": null"), "not run");
    cr_expect(strstr(json, "\"target_reached\": 0"), "not reached");
    cr_expect(strstr(json, "\"target_reached\": 1"), "reached");
    cr_expect(strstr(json, "\"b_simple\": 80"), "%s", json);
    cr_expect(strstr(json, "\"points\": ["), "%s", json);
}

Test(bench_out, json_without_noise_scale_says_null) {
    bench_report *r = report();
    r->noise_run = 0;
    const char *json = written(bench_write_json, r);
    cr_assert(tu_json_valid(json), "%s", json);
    cr_expect(strstr(json, "\"noise_scale\": null"), "%s", json);
    cr_expect(strstr(json, "\"noise_b_simple\": null"), "%s", json);
}
