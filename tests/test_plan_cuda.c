/*
 * The planner on a real GPU (issue 5's GPU checks), on Fashion-MNIST:
 *  - the memory model is accurate: with no headroom, the largest batch it
 *    allows is within 5% of the true maximum found by bisection with real
 *    allocations (and not above it), and so is the batch it picks with the
 *    default headroom;
 *  - 1000 steps and an evaluation at the planned batch run without an
 *    out-of-memory error and without allocating;
 *  - planning takes under one second.
 * Skips without a CUDA device or without the dataset. Figures are logged
 * (run with --verbose) for the closing note.
 */
#include <criterion/criterion.h>
#include <criterion/logging.h>
#include <stdio.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "train/step.h"

#define FMNIST "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz"

typedef struct {
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    gsgd_options *opts;
} gpu_run;

/* CUDA is touched only here, inside the (forked) test. */
static void start(gpu_run *r, const char *spec) {
    memset(r, 0, sizeof *r);
    FILE *probe = fopen(FMNIST, "rb");
    if (!probe) cr_skip_test("Fashion-MNIST not installed (%s)", FMNIST);
    fclose(probe);
    gsgd_status st = gsgd_context_create(&r->ctx, GSGD_DEVICE_CUDA, 0);
    if (st == GSGD_STATUS_NO_DEVICE) cr_skip_test("%s", gsgd_last_error(NULL));
    cr_assert_eq(st, GSGD_STATUS_OK, "%s", gsgd_last_error(NULL));
    cr_assert_eq(gsgd_dataset_load(r->ctx, "fashion-mnist", &r->train, &r->test), 0, "%s",
                 gsgd_last_error(r->ctx));
    cr_assert_eq(gsgd_model_create(r->ctx, spec, 784, 10, 0, &r->model), 0, "%s",
                 gsgd_last_error(r->ctx));
    cr_assert_eq(gsgd_options_create(&r->opts), GSGD_STATUS_OK);
    gsgd_set(r->opts, GSGD_MAX_BATCH, 2147483647.0); /* memory decides, */
    gsgd_set(r->opts, GSGD_MIN_EPOCH_STEPS, 0);      /* not the small-data cap (issue 17) */
}

static void finish(gpu_run *r) {
    gsgd_options_free(r->opts);
    gsgd_model_free(r->model);
    gsgd_dataset_free(r->train);
    gsgd_dataset_free(r->test);
    gsgd_context_free(r->ctx);
}

/* The true maximum: a trainer at batch 1 holds every fixed buffer and has
 * run a step (so cuBLAS has its workspace); then the largest batch whose
 * step buffers still allocate, by bisection, plus that one row. */
static size_t true_max_rows(gpu_run *r, size_t hint) {
    gsgd_trainer *tr;
    cr_assert_eq(gsgdi_trainer_alloc(r->model, r->train, r->opts, 1, &tr), 0, "%s",
                 gsgd_last_error(r->ctx));
    cr_assert_eq(gsgdi_trainer_probe(tr, 1, 1, NULL), 0, "%s", gsgd_last_error(r->ctx));
    size_t lo = 0, hi = hint * 2;
    gsgdi_step_buffers sb;
    while (gsgdi_step_buffers_alloc(r->model, hi, &sb) == GSGD_STATUS_OK) {
        gsgdi_step_buffers_free(r->model, &sb);
        lo = hi;
        hi *= 2;
    }
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (gsgdi_step_buffers_alloc(r->model, mid, &sb) == GSGD_STATUS_OK) {
            gsgdi_step_buffers_free(r->model, &sb);
            lo = mid;
        } else {
            hi = mid;
        }
    }
    gsgd_trainer_free(tr);
    return lo + 1;
}

static void model_is_within_5_percent(const char *spec) {
    gpu_run r;
    start(&r, spec);
    gsgd_batch_plan *dflt, *bare;
    cr_assert_eq(gsgd_plan(r.ctx, r.model, r.train, r.opts, &dflt), 0, "%s",
                 gsgd_last_error(r.ctx));
    gsgd_set(r.opts, GSGD_MEM_HEADROOM, 0.0);
    gsgd_set(r.opts, GSGD_MEM_RESERVE, 0.0);
    cr_assert_eq(gsgd_plan(r.ctx, r.model, r.train, r.opts, &bare), 0, "%s",
                 gsgd_last_error(r.ctx));
    const size_t model_max = gsgd_plan_max_fit(bare), truth = true_max_rows(&r, model_max);
    cr_log_info("%s: true max %zu rows; memory model (no headroom) %zu = %.4f; default "
                "headroom %zu = %.4f; predicted %zu measured %zu bytes at batch %zu; "
                "planned in %.3f s",
                spec, truth, model_max, (double)model_max / (double)truth, gsgd_plan_max_fit(dflt),
                (double)gsgd_plan_max_fit(dflt) / (double)truth, gsgd_plan_predicted(dflt),
                gsgd_plan_measured(dflt), gsgd_plan_batch(dflt), gsgd_plan_seconds(dflt));
    cr_expect_leq(model_max, truth, "the model must not promise rows that do not fit");
    cr_expect_geq((double)model_max, 0.95 * (double)truth, "%zu of %zu rows", model_max, truth);
    cr_expect_geq((double)gsgd_plan_max_fit(dflt), 0.95 * (double)truth,
                  "the default headroom's batch, %zu of %zu rows", gsgd_plan_max_fit(dflt), truth);
    gsgd_plan_free(dflt);
    gsgd_plan_free(bare);
    finish(&r);
}

Test(plan_cuda, softmax_memory_model_within_5_percent_of_the_true_max) {
    model_is_within_5_percent("softmax");
}

Test(plan_cuda, mlp_memory_model_within_5_percent_of_the_true_max) {
    model_is_within_5_percent("mlp:1024,1024");
}

static void thousand_steps(const char *spec) {
    gpu_run r;
    start(&r, spec);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(r.model, r.train, r.opts, &tr), 0, "%s",
                 gsgd_last_error(r.ctx));
    const gsgd_batch_plan *p;
    gsgd_trainer_plan(tr, &p);
    cr_expect_lt(gsgd_plan_seconds(p), 1.0, "planning took %.3f s", gsgd_plan_seconds(p));
    size_t in_use0, peak0, in_use, peak;
    gsgd_context_memory(r.ctx, &in_use0, &peak0);
    size_t steps = 0, per_epoch = (r.train->n + gsgd_plan_batch(p) - 1) / gsgd_plan_batch(p);
    while (steps < 1000) {
        cr_assert_eq(gsgd_train_epoch(tr, NULL), GSGD_STATUS_OK, "after %zu steps: %s", steps,
                     gsgd_last_error(r.ctx));
        steps += per_epoch;
    }
    gsgd_eval_result ev;
    cr_assert_eq(gsgd_trainer_evaluate(tr, r.test, &ev), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r.ctx));
    gsgd_context_memory(r.ctx, &in_use, &peak);
    cr_expect_eq(peak, peak0, "the step loop and evaluation allocate nothing");
    cr_log_info("%s: %zu steps + evaluation at batch %zu (%s), accuracy %.4f", spec, steps,
                gsgd_plan_batch(p), gsgd_plan_reason(p), ev.accuracy);
    gsgd_trainer_free(tr);
    finish(&r);
}

Test(plan_cuda, softmax_1000_steps_and_evaluation_at_the_planned_batch) {
    thousand_steps("softmax");
}

Test(plan_cuda, mlp_1000_steps_and_evaluation_at_the_planned_batch) {
    thousand_steps("mlp:1024,1024");
}
