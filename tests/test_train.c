/*
 * Training end to end on the CPU backend: convergence on synthetic problems
 * with known optimum, Fashion-MNIST when Debian's files are present,
 * determinism, divergence handling and the no-allocation step loop.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

typedef struct {
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    gsgd_options *opts;
    gsgd_trainer *tr;
} run;

static void start(run *r, const char *data, const char *spec, uint64_t seed) {
    memset(r, 0, sizeof *r);
    cr_assert_eq(gsgd_context_create(&r->ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load(r->ctx, data, &r->train, &r->test), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
    size_t d;
    int k;
    gsgd_dataset_shape(r->train, NULL, &d, &k);
    cr_assert_eq(gsgd_model_create(r->ctx, spec, d, k, seed, &r->model), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
    cr_assert_eq(gsgd_options_create(&r->opts), GSGD_STATUS_OK);
    gsgd_set(r->opts, GSGD_SEED, (double)seed);
}

static void make_trainer(run *r) {
    cr_assert_eq(gsgd_trainer_create(r->model, r->train, r->opts, &r->tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
}

static void finish(run *r) {
    gsgd_trainer_free(r->tr);
    gsgd_options_free(r->opts);
    gsgd_model_free(r->model);
    gsgd_dataset_free(r->train);
    gsgd_dataset_free(r->test);
    size_t in_use;
    gsgd_context_memory(r->ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "every backend buffer was released");
    gsgd_context_free(r->ctx);
}

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

static void params_after(const char *spec, uint64_t seed, int standardize, float *out,
                         size_t n) {
    run r;
    start(&r, "synth:500,6,3:seed=9", spec, seed);
    gsgd_set(r.opts, GSGD_OPTIMIZER, GSGD_OPTIM_NESTEROV);
    gsgd_set(r.opts, GSGD_BATCH, 16);
    if (standardize)
        cr_assert_eq(gsgd_model_fit_standardizer(r.model, r.train), GSGD_STATUS_OK);
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
    if (!probe) cr_skip_test("Fashion-MNIST not installed in %s (apt-get install dataset-fashion-mnist)", dir);
    fclose(probe);
    run r;
    start(&r, "fashion-mnist", "softmax", 0);
    gsgd_set(r.opts, GSGD_TARGET_ACC, 0.84);
    gsgd_train_result res = train(&r, 20);
    cr_expect(res.test_accuracy >= 0.84, "test accuracy %.4f after %d epochs",
              res.test_accuracy, res.epochs);
    cr_expect(!isnan(res.time_to_target_s));
    finish(&r);
}
