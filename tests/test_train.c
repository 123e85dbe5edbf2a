/*
 * Training end to end on the CPU backend: convergence on synthetic problems
 * with known optimum, Fashion-MNIST when Debian's files are present,
 * determinism, divergence handling and the no-allocation step loop.
 */
#include <criterion/criterion.h>
#include <math.h>
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
#include "testutil.h"

typedef tu_fixture run;

static void start(run *r, const char *data, const char *spec, uint64_t seed) {
    tu_fixture_start(r, data, spec, seed);
    gsgd_set(r->opts, GSGD_SEED, (double)seed);
    /* What models learn in a given number of epochs, and the divergence
     * guard's messages, were pinned when the rate was constant by default
     * (before issue 17's cosine): it stays constant here. The default
     * schedule has its own tests (test_schedule.c, test_train_auto.c). */
    gsgd_set(r->opts, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
}

static void make_trainer(run *r) {
    cr_assert_eq(gsgd_trainer_create(r->model, r->train, r->opts, &r->tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
}

static void finish(run *r) { tu_fixture_finish(r); }

/* Trains and returns the result; asserts success. */
static gsgd_train_result train(run *r, int epochs) {
    gsgd_set(r->opts, GSGD_EPOCHS, epochs);
    make_trainer(r);
    gsgd_train_result res;
    cr_assert_eq(gsgd_train(r->tr, r->test, NULL, NULL, &res), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
    return res;
}

/* synth data comes from a noise-free linear teacher (labels are the argmax
 * of x W), so every linear classifier can reach 100% and a loss near 0; the
 * thresholds below ask for a clear, not perfect, approach to that. */
Test(train_synth, softmax_learns_a_linear_teacher) {
    run r;
    start(&r, "synth:4000,10,3:seed=1", "softmax", 1);
    gsgd_set(r.opts, GSGD_LR, 0.5);
    gsgd_train_result res = train(&r, 30);
    cr_expect(res.train_loss < 0.15, "train loss %g (initial ln 3 = 1.10)", res.train_loss);
    cr_expect(res.test_accuracy > 0.95, "test accuracy %g", res.test_accuracy);
    finish(&r);
}

/* Throughput with and without the first epoch: every epoch trains the
 * training set once, so the warm figure is samples of epochs 2.. over
 * their time, and there is none for a single epoch. */
Test(train_synth, throughput_after_the_first_epoch_is_reported_apart) {
    run r;
    start(&r, "synth:4000,10,3:seed=1", "softmax", 1);
    gsgd_train_result res = train(&r, 3);
    cr_expect(isfinite(res.samples_per_second_warm) && res.samples_per_second_warm > 0.0, "%g",
              res.samples_per_second_warm);
    cr_expect(isfinite(res.samples_per_second) && res.samples_per_second > 0.0, "%g",
              res.samples_per_second);
    finish(&r);
    start(&r, "synth:4000,10,3:seed=1", "softmax", 1);
    res = train(&r, 1);
    cr_expect(isnan(res.samples_per_second_warm), "one epoch: %g", res.samples_per_second_warm);
    finish(&r);
}

Test(train_synth, logistic_learns_a_linear_teacher) {
    run r;
    start(&r, "synth:4000,10,2:seed=2", "logistic", 2);
    gsgd_set(r.opts, GSGD_LR, 0.5);
    gsgd_train_result res = train(&r, 30);
    cr_expect(res.train_loss < 0.1, "train loss %g (initial ln 2 = 0.69)", res.train_loss);
    cr_expect(res.test_accuracy > 0.96, "test accuracy %g", res.test_accuracy);
    finish(&r);
}

Test(train_synth, hinge_learns_a_linear_teacher) {
    run r;
    start(&r, "synth:4000,10,3:seed=3", "hinge", 3);
    gsgd_set(r.opts, GSGD_LR, 0.1);
    gsgd_train_result res = train(&r, 30);
    cr_expect(res.train_loss < 0.1, "train loss %g", res.train_loss);
    cr_expect(res.test_accuracy > 0.95, "test accuracy %g", res.test_accuracy);
    finish(&r);
}

Test(train_synth, linear_regression_reaches_the_noise_floor) {
    /* y = x.w + 0.1 N(0,1): the best mean loss 0.5 E[noise^2] is 0.005. */
    run r;
    start(&r, "synth:4000,10,1:seed=4", "linear", 4);
    gsgd_set(r.opts, GSGD_LR, 0.05);
    gsgd_train_result res = train(&r, 30);
    cr_expect(res.train_loss < 0.0075, "train loss %g, floor 0.005", res.train_loss);
    cr_expect(res.test_loss < 0.0075, "test loss %g, floor 0.005", res.test_loss);
    cr_expect(isnan(res.test_accuracy), "no accuracy for regression");
    finish(&r);
}

Test(train_synth, linear_least_squares_classifier_learns) {
    run r;
    start(&r, "synth:4000,10,3:seed=5", "linear", 5);
    gsgd_set(r.opts, GSGD_LR, 0.05);
    gsgd_train_result res = train(&r, 30);
    cr_expect(res.test_accuracy > 0.85, "test accuracy %g", res.test_accuracy);
    finish(&r);
}

Test(train_synth, mlp_with_momentum_learns) {
    run r;
    start(&r, "synth:4000,10,3:seed=6", "mlp:32,16", 6);
    gsgd_set(r.opts, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
    gsgd_set(r.opts, GSGD_LR, 0.05);
    gsgd_train_result res = train(&r, 30);
    cr_expect(res.train_loss < 0.1, "train loss %g", res.train_loss);
    cr_expect(res.test_accuracy > 0.93, "test accuracy %g", res.test_accuracy);
    finish(&r);
}

static void params_after(const char *spec, uint64_t seed, int standardize, float *out, size_t n) {
    run r;
    start(&r, "synth:500,6,3:seed=9", spec, seed);
    gsgd_set(r.opts, GSGD_OPTIMIZER, GSGD_OPTIM_NESTEROV);
    gsgd_set(r.opts, GSGD_BATCH, 16);
    if (standardize) cr_assert_eq(gsgd_model_fit_standardizer(r.model, r.train), GSGD_STATUS_OK);
    train(&r, 3);
    float *p;
    size_t np;
    gsgd_model_params(r.model, &p, &np, NULL);
    cr_assert_eq(np, n);
    memcpy(out, p, n * sizeof *p);
    finish(&r);
}

Test(train_determinism, same_seed_gives_bit_identical_parameters) {
    enum { N = 6 * 8 + 8 * 3 + 8 + 3 };
    float a[N], b[N], c[N];
    params_after("mlp:8", 11, 1, a, N);
    params_after("mlp:8", 11, 1, b, N);
    params_after("mlp:8", 12, 1, c, N);
    cr_expect(memcmp(a, b, sizeof a) == 0, "same seed must give identical parameters");
    cr_expect(memcmp(a, c, sizeof a) != 0, "another seed gives other parameters");
}

Test(train_guard, huge_learning_rate_stops_with_a_message_naming_the_step) {
    run r;
    start(&r, "synth:2000,10,1:seed=4", "linear", 4);
    gsgd_set(r.opts, GSGD_LR, 50.0);
    gsgd_set(r.opts, GSGD_CHECK_EVERY, 5);
    gsgd_set(r.opts, GSGD_EPOCHS, 5);
    make_trainer(&r);
    gsgd_train_result res;
    cr_assert_eq(gsgd_train(r.tr, r.test, NULL, NULL, &res), GSGD_STATUS_DIVERGED);
    const char *msg = gsgd_last_error(r.ctx);
    cr_expect((strstr(msg, "at step") || strstr(msg, "between steps")) &&
                  strstr(msg, "learning rate 50"),
              "%s", msg);
    finish(&r);
}

Test(train_memory, step_loop_allocates_nothing) {
    run r;
    start(&r, "synth:1000,8,3", "mlp:16", 0);
    gsgd_set(r.opts, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
    make_trainer(&r);
    size_t in_use_before, peak_before, in_use_after, peak_after;
    gsgd_context_memory(r.ctx, &in_use_before, &peak_before);
    for (int e = 0; e < 3; e++) cr_assert_eq(gsgd_train_epoch(r.tr, NULL), GSGD_STATUS_OK);
    gsgd_eval_result ev;
    cr_assert_eq(gsgd_trainer_evaluate(r.tr, r.test, &ev), GSGD_STATUS_OK);
    gsgd_context_memory(r.ctx, &in_use_after, &peak_after);
    cr_expect_eq(in_use_after, in_use_before);
    cr_expect_eq(peak_after, peak_before, "training and evaluation reuse the trainer's buffers");
    finish(&r);
}

Test(train_fashion_mnist, softmax_reaches_0_84_with_default_options) {
    const char *dir = "/usr/share/datasets/fashion-mnist";
    FILE *probe = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
    if (!probe)
        cr_skip_test("Fashion-MNIST not installed in %s (apt-get install dataset-fashion-mnist)",
                     dir);
    fclose(probe);
    run r;
    start(&r, "fashion-mnist", "softmax", 0);
    gsgd_set(r.opts, GSGD_TARGET_ACC, 0.84);
    gsgd_train_result res = train(&r, 20);
    cr_expect(res.test_accuracy >= 0.84, "test accuracy %.4f after %d epochs", res.test_accuracy,
              res.epochs);
    cr_expect(!isnan(res.time_to_target_s));
    finish(&r);
}

/* ---- byte storage: the same training as float storage ---------------------- */

/* Writes an IDX pair of n ubyte images of d pixels whose label is the
 * brightest of the first 10 pixels, so that a model has something to
 * learn. Returns the idx: spec. */
static const char *write_pixel_pair(size_t n, size_t d) {
    const size_t head = 4 + 2 * 4;
    uint8_t *img = malloc(head + n * d), lab[8 + 1024];
    cr_assert(n <= 1024 && d >= 10);
    const uint8_t ih[] = {0,
                          0,
                          8,
                          2,
                          (uint8_t)(n >> 24),
                          (uint8_t)(n >> 16),
                          (uint8_t)(n >> 8),
                          (uint8_t)n,
                          (uint8_t)(d >> 24),
                          (uint8_t)(d >> 16),
                          (uint8_t)(d >> 8),
                          (uint8_t)d};
    const uint8_t lh[] = {
        0, 0, 8, 1, (uint8_t)(n >> 24), (uint8_t)(n >> 16), (uint8_t)(n >> 8), (uint8_t)n};
    memcpy(img, ih, head);
    memcpy(lab, lh, 8);
    uint64_t z = 12345;
    for (size_t i = 0; i < n; i++) {
        uint8_t *px = img + head + i * d;
        for (size_t j = 0; j < d; j++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            px[j] = (uint8_t)(z >> 56);
        }
        size_t best = 0;
        for (size_t j = 1; j < 10; j++)
            if (px[j] > px[best]) best = j;
        lab[8 + i] = (uint8_t)best;
    }
    cr_assert_eq(tu_write_gzip(tu_path("px.gz"), img, head + n * d), 0);
    cr_assert_eq(tu_write_file(tu_path("lab"), lab, 8 + n), 0);
    free(img);
    static char spec[1200];
    snprintf(spec, sizeof spec, "idx:%s,%s", tu_path("px.gz"), tu_path("lab"));
    return spec;
}

/* Trains `model` for 2 epochs on data (with the standardiser and a 20%
 * validation split when standardize is set) and copies the parameters and
 * the final losses out. */
static void train_pixels(const char *data, gsgdi_xtype want, const char *model, int standardize,
                         float *params, size_t n_params, gsgd_train_result *res) {
    run r;
    start(&r, data, model, 3);
    cr_assert_eq(r.train->xt, want, "%s", data);
    if (standardize) {
        cr_assert_eq(gsgd_model_fit_standardizer(r.model, r.train), GSGD_STATUS_OK);
        gsgd_set(r.opts, GSGD_VALIDATION_FRACTION, 0.2);
        gsgd_set(r.opts, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
    }
    gsgd_set(r.opts, GSGD_BATCH, 32);
    *res = train(&r, 2);
    float *p;
    size_t n;
    cr_assert_eq(gsgd_model_params(r.model, &p, &n, NULL), GSGD_STATUS_OK);
    cr_assert_eq(n, n_params);
    memcpy(params, p, n * sizeof *p);
    finish(&r);
}

Test(train_storage, bytes_train_bit_identically_to_floats) {
    const char *idx = write_pixel_pair(500, 64);
    char u8[1300], f32[1300];
    snprintf(u8, sizeof u8, "%s:storage=u8", idx);
    snprintf(f32, sizeof f32, "%s:storage=f32", idx);
    const struct {
        const char *model;
        size_t n_params;
    } cases[] = {{"softmax", 64 * 10 + 10}, {"mlp:16", 64 * 16 + 16 * 10 + 16 + 10}};
    for (int c = 0; c < 2; c++)
        for (int s = 0; s < 2; s++) {
            const size_t n = cases[c].n_params;
            float *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
            gsgd_train_result ra, rb;
            train_pixels(u8, GSGD_XTYPE_U8, cases[c].model, s, a, n, &ra);
            train_pixels(f32, GSGD_XTYPE_F32, cases[c].model, s, b, n, &rb);
            cr_expect(memcmp(a, b, n * sizeof *a) == 0, "%s, standardize %d: parameters differ",
                      cases[c].model, s);
            cr_expect(ra.train_loss == rb.train_loss && ra.epochs == 2 && rb.epochs == 2,
                      "%s: train loss %.17g vs %.17g", cases[c].model, ra.train_loss,
                      rb.train_loss);
            if (s)
                cr_expect(ra.validation_accuracy == rb.validation_accuracy,
                          "%s: validation accuracy %.17g vs %.17g", cases[c].model,
                          ra.validation_accuracy, rb.validation_accuracy);
            free(a);
            free(b);
        }
}

Test(train_synth, a_validation_split_that_fails_says_why_once) {
    /* The split's message was formatted into the buffer it was read from:
     * "validation_fraction 0.5: validation_fraction 0.5: ion 0.5 of ...". */
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    const float X[1] = {1}, y[1] = {0};
    gsgd_dataset *ds;
    gsgd_model *m;
    gsgd_options *o;
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 1, 1, 2, &ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 1, 2, 0, &m), GSGD_STATUS_OK);
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_VALIDATION_FRACTION, 0.5);
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_INVALID_ARGUMENT);
    const char *msg = gsgd_last_error(ctx);
    const char *want = "validation_fraction 0.5: dataset_split: test_fraction 0.5 of 1 samples";
    cr_assert(strncmp(msg, want, strlen(want)) == 0, "%s", msg);
    cr_assert_null(strstr(msg + 1, "validation_fraction"), "%s", msg);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
}
