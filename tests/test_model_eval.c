/*
 * src/model/eval.c: the standardiser's fit and the checks evaluation makes
 * before touching a dataset. (Evaluation's figures are tested through
 * training in test_train.c and the backends' suites.)
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "core/context.h"
#include "data/dataset.h"
#include "model/model.h"

static gsgd_context *ctx;
static gsgd_dataset *ds;
static gsgd_model *model;

/* 4 samples of 2 features on different scales, 2 classes. */
static void setup(void) {
    const float X[8] = {1, 100, 2, 300, 3, 500, 4, 700};
    const float y[4] = {0, 1, 0, 1};
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 4, 2, 2, &ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 2, 0, &model), GSGD_STATUS_OK);
}

static void teardown(void) {
    gsgd_model_free(model);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
}

TestSuite(model_eval, .init = setup, .fini = teardown);

Test(model_eval, standardiser_holds_the_mean_and_inverse_deviation) {
    cr_assert_eq(gsgd_model_fit_standardizer(model, ds), GSGD_STATUS_OK);
    cr_assert_not_null(model->mean);
    cr_assert_not_null(model->inv_std);
    /* Column 0: mean 2.5, variance 1.25; column 1: mean 400, variance 50000. */
    cr_expect_float_eq(model->mean[0], 2.5f, 1e-6f);
    cr_expect_float_eq(model->mean[1], 400.0f, 1e-4f);
    cr_expect_float_eq(model->inv_std[0], (float)(1.0 / sqrt(1.25)), 1e-6f);
    cr_expect_float_eq(model->inv_std[1], (float)(1.0 / sqrt(50000.0)), 1e-9f);
}

Test(model_eval, a_failed_fit_leaves_the_model_without_a_standardiser) {
    size_t before = 0;
    gsgd_context_memory(ctx, &before, NULL);
    /* Room for the first of the two device buffers, not the second. */
    ctx->fail_alloc_above = before + 2 * sizeof(float);
    cr_expect_eq(gsgd_model_fit_standardizer(model, ds), GSGD_STATUS_DEVICE_OUT_OF_MEMORY);
    ctx->fail_alloc_above = 0;
    cr_expect_null(model->mean);
    cr_expect_null(model->inv_std);
    size_t after = 1;
    gsgd_context_memory(ctx, &after, NULL);
    cr_expect_eq(after, before, "the failed fit leaked %zu bytes", after - before);
}

Test(model_eval, a_failed_refit_keeps_the_standardiser_it_had) {
    cr_assert_eq(gsgd_model_fit_standardizer(model, ds), GSGD_STATUS_OK);
    const float *mean = model->mean, *inv = model->inv_std;
    size_t before = 0;
    gsgd_context_memory(ctx, &before, NULL);
    ctx->fail_alloc_above = before + 2 * sizeof(float);
    cr_expect_eq(gsgd_model_fit_standardizer(model, ds), GSGD_STATUS_DEVICE_OUT_OF_MEMORY);
    ctx->fail_alloc_above = 0;
    cr_expect_eq(model->mean, mean);
    cr_expect_eq(model->inv_std, inv);
    cr_expect_float_eq(model->mean[0], 2.5f, 1e-6f);
}

Test(model_eval, refuses_data_of_another_context) {
    gsgd_context *other;
    gsgd_dataset *foreign;
    const float X[2] = {1, 2}, y[1] = {0};
    cr_assert_eq(gsgd_context_create(&other, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_from_host(other, X, y, 1, 2, 2, &foreign), GSGD_STATUS_OK);
    gsgd_eval_result r;
    cr_expect_eq(gsgd_evaluate(model, foreign, &r), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(gsgd_last_error(ctx), "different contexts") != NULL, "%s",
              gsgd_last_error(ctx));
    cr_expect_eq(gsgd_model_fit_standardizer(model, foreign), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_null(model->mean);
    gsgd_dataset_free(foreign);
    gsgd_context_free(other);
}
