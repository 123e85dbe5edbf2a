/*
 * `gsgd bench --device cuda`: the timed steps are also replayed from a CUDA
 * Graph, as the trainer runs them, and samples/s is of that step. Skips,
 * saying why, without a CUDA device.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cudatest.h"
#include "testutil.h"

#define OUT_SIZE 32768

/* The number after "name": in the n-th point of a bench JSON text, or NaN
 * where it is null or missing. */
static double point_number(const char *text, const char *name, int n) {
    char key[64];
    snprintf(key, sizeof key, "\"%s\": ", name);
    const char *at = text;
    for (int i = 0; i <= n; i++) {
        at = strstr(at, key);
        if (!at) return NAN;
        at += strlen(key);
    }
    char *end;
    const double v = strtod(at, &end);
    return end == at ? NAN : v;
}

Test(cli_bench_cuda, graph_replayed_steps_are_timed_and_set_the_rate) {
    gsgd_context_free(cuda_context_or_skip());
    char out[OUT_SIZE];
    const char *json = tu_path("bc.json");
    /* softmax: composed at 64, fused at 1024 (the CUDA default from 256) */
    int rc = tu_gsgd(out, sizeof out,
                     "bench --quiet --device cuda --data synth:4000,20,4 --model softmax "
                     "--batches 64,1024 --steps 5 --warmup-steps 1 --noise-samples 0 --json '%s'",
                     json);
    cr_assert_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "graph ms: the timed steps replayed"), "%s", out);
    const char *text = tu_read_text(json);
    cr_assert(tu_json_valid(text), "not one JSON object:\n%s", text);
    for (int i = 0; i < 2; i++) {
        const double graph = point_number(text, "step_graph_s", i),
                     train = point_number(text, "step_train_s", i),
                     batch = point_number(text, "batch", i),
                     rate = point_number(text, "samples_per_s", i);
        cr_expect(graph > 0 && isfinite(graph), "point %d: step_graph_s %g", i, graph);
        cr_expect_eq(train, graph, "point %d: training's step is the replayed one", i);
        cr_expect_float_eq(rate, batch / graph, 1e-6 * rate, "point %d: samples/s of it", i);
    }
}
