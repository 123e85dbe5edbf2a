/*
 * gsgd_dataset_from_device on the CPU backend, where "device memory" is the
 * caller's host memory: no copy, no accounting, the caller's arrays never
 * freed, labels checked, and training on the borrowed arrays gives the bits
 * training on a copy gives.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

enum { N = 600, D = 7, K = 3 };

/* A learnable problem: the label is the argmax of three fixed projections. */
static void make_problem(float *X, float *y) {
    uint32_t s = 12345;
    for (size_t i = 0; i < (size_t)N * D; i++) {
        s = s * 1664525u + 1013904223u;
        X[i] = (float)(s >> 8) / 16777216.0f - 0.5f;
    }
    for (size_t i = 0; i < N; i++) {
        const float *x = X + i * D;
        const float a = x[0] + x[1], b = x[2] - x[3], c = x[4] + x[5] - x[6];
        y[i] = a > b ? (a > c ? 0.0f : 2.0f) : (b > c ? 1.0f : 2.0f);
    }
}

static gsgd_context *cpu(void) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    return ctx;
}

Test(dataset_device, wraps_the_callers_arrays_without_copy_or_accounting) {
    static float X[N * D], y[N];
    make_problem(X, y);
    gsgd_context *ctx = cpu();
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_device(ctx, X, y, N, D, K, &ds), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_expect_eq(ds->X, (void *)X, "no copy");
    cr_expect_eq(ds->y, y);
    size_t in_use, peak;
    gsgd_context_memory(ctx, &in_use, &peak);
    cr_expect_eq(in_use, 0, "the caller's memory is not gsgd's");
    cr_expect_eq(peak, 0);
    size_t n, d;
    int k;
    gsgd_dataset_shape(ds, &n, &d, &k);
    cr_expect(n == N && d == D && k == K);
    gsgd_dataset_free(ds); /* must not free X or y (ASan would say so) */
    X[0] = 1.0f;           /* still the caller's to use */
    gsgd_context_free(ctx);
}

Test(dataset_device, checks_the_labels_and_names_the_sample) {
    static float X[N * D], y[N];
    make_problem(X, y);
    y[17] = 3.0f;
    gsgd_context *ctx = cpu();
    gsgd_dataset *ds = (gsgd_dataset *)1;
    cr_expect_eq(gsgd_dataset_from_device(ctx, X, y, N, D, K, &ds), GSGD_STATUS_BAD_VALUE);
    cr_expect_null(ds);
    cr_expect(strstr(gsgd_last_error(ctx), "sample 17"), "%s", gsgd_last_error(ctx));
    cr_expect_eq(gsgd_dataset_from_device(ctx, NULL, y, N, D, K, &ds),
                 GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_dataset_from_device(ctx, X, y, 0, D, K, &ds), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_context_free(ctx);
}

/* Trains 3 epochs on ds and copies the parameters out; returns the plan's
 * predicted and measured bytes. */
static void train(gsgd_context *ctx, gsgd_dataset *ds, float *out, size_t *predicted,
                  size_t *measured, size_t *x_item) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", D, K, 5, &m), GSGD_STATUS_OK);
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_EPOCHS, 3);
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_ADAM);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, NULL), GSGD_STATUS_OK);
    const gsgd_batch_plan *p;
    gsgd_trainer_plan(tr, &p);
    *predicted = gsgd_plan_predicted(p);
    *measured = gsgd_plan_measured(p);
    for (int i = 0; i < gsgd_plan_item_count(p); i++) {
        const char *name;
        size_t bytes;
        gsgd_plan_item(p, i, &name, &bytes, NULL, NULL);
        if (strncmp(name, "training X", 10) == 0) *x_item = bytes;
    }
    float *params;
    size_t n;
    gsgd_model_params(m, &params, &n, NULL);
    memcpy(out, params, n * sizeof *params);
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
}

Test(dataset_device, trains_bit_identically_to_a_copy_and_plans_without_the_data) {
    static float X[N * D], y[N];
    make_problem(X, y);
    enum { P = D * 8 + 8 * K + 8 + K };
    float borrowed[P], copied[P];
    size_t pred_b, meas_b, x_b = 1, pred_c, meas_c, x_c = 0;

    gsgd_context *a = cpu();
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_device(a, X, y, N, D, K, &ds), GSGD_STATUS_OK);
    train(a, ds, borrowed, &pred_b, &meas_b, &x_b);
    gsgd_dataset_free(ds);
    gsgd_context_free(a);

    gsgd_context *b = cpu();
    cr_assert_eq(gsgd_dataset_from_host(b, X, y, N, D, K, &ds), GSGD_STATUS_OK);
    train(b, ds, copied, &pred_c, &meas_c, &x_c);
    gsgd_dataset_free(ds);
    gsgd_context_free(b);

    cr_expect(memcmp(borrowed, copied, sizeof borrowed) == 0, "same data, same bits");
    cr_expect_eq(x_b, 0, "the caller's X is listed at 0 bytes");
    cr_expect_eq(x_c, (size_t)N * D * sizeof(float));
    cr_expect_eq(pred_b, meas_b, "predicted equals allocated without the data");
    cr_expect_eq(pred_c - pred_b, (size_t)N * (D + 1) * sizeof(float),
                 "the difference is exactly X and y");
}
