/*
 * gsgd_trainer_set_data (trainer.c): a trainer goes on over other rows
 * with its optimizer state, average and counters, bit for bit as a
 * checkpoint and gsgd_trainer_resume_new_data carry them over; on the same
 * rows it is one longer run; what does not fit is refused with the trainer
 * unchanged; and every buffer of the rows it left is freed.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "train/trainer.h"

#include "testutil.h"

#define BATCH 32

static gsgd_context *ctx;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
}

static void teardown(void) {
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "every backend buffer was released");
    gsgd_context_free(ctx);
}

TestSuite(set_data, .init = setup, .fini = teardown);

typedef enum { CFG_MOMENTUM, CFG_ADAM, CFG_SGD_AVERAGE, CFG_SPARSE_DECAY } config;

/* Each config exercises other carried state: velocity with per-step
 * warmup rates; Adam's moments and step count under a per-step cosine; the
 * average with ADAPTIVE's factor (a tolerance of 10 divides the rate every
 * epoch); sparse rows with the lazy weight decay of plain SGD. */
static gsgd_options *options_for(config c) {
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_BATCH, BATCH);
    gsgd_set(o, GSGD_EPOCHS, 1);
    gsgd_set(o, GSGD_SEED, 5);
    gsgd_set(o, GSGD_CHECK_EVERY, 4);
    gsgd_set(o, GSGD_STANDARDIZE, GSGD_STANDARDIZE_OFF);
    switch (c) {
    case CFG_MOMENTUM:
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
        gsgd_set(o, GSGD_WARMUP, 1.5);
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
        break;
    case CFG_ADAM:
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_ADAM);
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_COSINE);
        gsgd_set(o, GSGD_COSINE_PERIOD, 4);
        gsgd_set(o, GSGD_LR_MIN, 1e-4);
        break;
    case CFG_SGD_AVERAGE:
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_SGD);
        gsgd_set(o, GSGD_AVERAGE, 4); /* from step 4: in both parts */
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_ADAPTIVE);
        gsgd_set(o, GSGD_TOL, 10);
        gsgd_set(o, GSGD_N_ITER_NO_CHANGE, 1);
        break;
    case CFG_SPARSE_DECAY:
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_SGD);
        gsgd_set(o, GSGD_WEIGHT_DECAY, 1e-2);
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
        break;
    }
    return o;
}

/* The training rows of a config (dense: 6 features, 3 classes; sparse:
 * 120 features). */
static gsgd_dataset *data_for(config c) {
    gsgd_dataset *ds;
    const char *spec =
        c == CFG_SPARSE_DECAY ? "synth-sparse:600,120,3,8:seed=2" : "synth:600,6,3:seed=4";
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &ds, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    return ds;
}

static const char *spec_for(config c) { return c == CFG_SPARSE_DECAY ? "softmax" : "mlp:8"; }

/* Two parts of ds that differ in size: rows 0, 2, 4, ... and the first
 * 200 of rows 1, 3, 5, ... */
static void halves(const gsgd_dataset *ds, gsgd_dataset **a, gsgd_dataset **b) {
    size_t n;
    gsgd_dataset_shape(ds, &n, NULL, NULL);
    cr_assert_eq(gsgd_dataset_subset(ds, 0, n / 2, 2, a), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgd_dataset_subset(ds, 1, 200, 2, b), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
}

static gsgd_model *model(config c, const gsgd_dataset *ds) {
    size_t d;
    gsgd_dataset_shape(ds, NULL, &d, NULL);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, spec_for(c), d, 3, 1, &m), GSGD_STATUS_OK);
    return m;
}

static void train1(gsgd_trainer *tr) {
    gsgd_train_result r;
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, &r), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(r.epochs, 1);
}

/* Parameters, average, optimizer state and counters, bit for bit. */
static void expect_same(const gsgd_trainer *a, const gsgd_trainer *b, const char *what) {
    const size_t n = a->m->n_params, bytes = n * sizeof(float);
    cr_assert_eq(b->m->n_params, n);
    cr_expect(memcmp(a->m->params, b->m->params, bytes) == 0, "%s: parameters differ", what);
    cr_expect_eq(!a->average, !b->average, "%s", what);
    if (a->average)
        cr_expect(memcmp(a->average, b->average, bytes) == 0, "%s: average differs", what);
    for (int k = 0; k < gsgdi_rule_state_count(&a->rule); k++)
        cr_expect(memcmp(a->state[k], b->state[k], bytes) == 0, "%s: optimizer state %d differs",
                  what, k);
    cr_expect_eq(a->steps, b->steps, "%s", what);
    cr_expect_eq(a->epoch, b->epoch, "%s", what);
    cr_expect_eq(a->avg_count, b->avg_count, "%s", what);
    cr_expect(a->lr_factor == b->lr_factor, "%s: lr factor %g vs %g", what, a->lr_factor,
              b->lr_factor);
}

/* One epoch on part a, then one on part b: through set_data, and through a
 * checkpoint resumed on b with gsgd_trainer_resume_new_data. */
static void check_same_as_checkpoint_route(config c, const char *name) {
    gsgd_dataset *all = data_for(c), *a, *b;
    halves(all, &a, &b);
    gsgd_options *o = options_for(c);

    gsgd_model *m1 = model(c, all);
    gsgd_trainer *t1;
    cr_assert_eq(gsgd_trainer_create(m1, a, o, &t1), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    train1(t1);
    const char *path = tu_path(name);
    cr_assert_eq(gsgd_trainer_save(t1, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_trainer_set_data(t1, b), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(t1->train, b);
    if (c == CFG_SPARSE_DECAY) cr_expect(t1->lazy && t1->decay.upto, "the lazy decay runs");
    if (c == CFG_SGD_AVERAGE) cr_expect(t1->avg_count > 0, "the average runs in the first part");
    cr_expect_eq(t1->B, (size_t)BATCH);
    train1(t1);

    gsgd_model *m2 = model(c, all);
    gsgd_trainer *t2;
    cr_assert_eq(gsgd_trainer_create(m2, b, o, &t2), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_trainer_resume_new_data(t2, path), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    train1(t2);
    expect_same(t1, t2, name);
    cr_expect_eq(t1->epoch, 2);
    size_t n;
    gsgd_dataset_shape(all, &n, NULL, NULL);
    cr_expect_eq(t1->steps, (n / 2 + BATCH - 1) / BATCH + (200 + BATCH - 1) / BATCH);

    gsgd_trainer_free(t2);
    gsgd_trainer_free(t1);
    gsgd_model_free(m2);
    gsgd_model_free(m1);
    gsgd_options_free(o);
    gsgd_dataset_free(b);
    gsgd_dataset_free(a);
    gsgd_dataset_free(all);
}

Test(set_data, momentum_goes_on_as_through_a_checkpoint) {
    check_same_as_checkpoint_route(CFG_MOMENTUM, "momentum.ckpt");
}

Test(set_data, adam_goes_on_as_through_a_checkpoint) {
    check_same_as_checkpoint_route(CFG_ADAM, "adam.ckpt");
}

Test(set_data, averaged_adaptive_sgd_goes_on_as_through_a_checkpoint) {
    check_same_as_checkpoint_route(CFG_SGD_AVERAGE, "average.ckpt");
}

Test(set_data, sparse_rows_with_lazy_decay_go_on_as_through_a_checkpoint) {
    check_same_as_checkpoint_route(CFG_SPARSE_DECAY, "sparse.ckpt");
}

/* One epoch, set_data to a copy of the same rows, one more: the run of two
 * epochs straight (the optimizer state carried, the shuffle of epoch 2). */
Test(set_data, the_same_rows_again_continue_one_run) {
    gsgd_dataset *all = data_for(CFG_MOMENTUM), *copy;
    size_t n;
    gsgd_dataset_shape(all, &n, NULL, NULL);
    cr_assert_eq(gsgd_dataset_subset(all, 0, n, 1, &copy), GSGD_STATUS_OK);
    gsgd_options *o1 = options_for(CFG_MOMENTUM), *o2 = options_for(CFG_MOMENTUM);
    gsgd_set(o2, GSGD_EPOCHS, 2);

    gsgd_model *m1 = model(CFG_MOMENTUM, all), *m2 = model(CFG_MOMENTUM, all);
    gsgd_trainer *t1, *t2;
    cr_assert_eq(gsgd_trainer_create(m1, all, o1, &t1), GSGD_STATUS_OK);
    train1(t1);
    cr_assert_eq(gsgd_trainer_set_data(t1, copy), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    train1(t1);
    cr_assert_eq(gsgd_trainer_create(m2, all, o2, &t2), GSGD_STATUS_OK);
    gsgd_train_result r;
    cr_assert_eq(gsgd_train(t2, NULL, NULL, NULL, &r), GSGD_STATUS_OK);
    expect_same(t1, t2, "set_data on the same rows");

    /* Without the carried state -- a new trainer for the second epoch, as
     * partial_fit once did -- the result differs: the velocity matters. */
    gsgd_model *m3 = model(CFG_MOMENTUM, all);
    gsgd_trainer *t3;
    cr_assert_eq(gsgd_trainer_create(m3, all, o1, &t3), GSGD_STATUS_OK);
    train1(t3);
    gsgd_trainer_free(t3);
    cr_assert_eq(gsgd_trainer_create(m3, all, o1, &t3), GSGD_STATUS_OK);
    train1(t3);
    cr_expect(memcmp(m3->params, m2->params, m2->n_params * sizeof(float)) != 0,
              "a fresh optimizer gave the same parameters: nothing was carried");

    gsgd_trainer_free(t3);
    gsgd_trainer_free(t2);
    gsgd_trainer_free(t1);
    gsgd_model_free(m3);
    gsgd_model_free(m2);
    gsgd_model_free(m1);
    gsgd_options_free(o2);
    gsgd_options_free(o1);
    gsgd_dataset_free(copy);
    gsgd_dataset_free(all);
}

/* A part smaller than the batch: the batch is clamped to it, and a later
 * larger part gets the planned batch back. */
Test(set_data, the_planned_batch_is_clamped_to_small_parts_and_restored) {
    gsgd_dataset *all = data_for(CFG_MOMENTUM), *tiny;
    cr_assert_eq(gsgd_dataset_subset(all, 0, 10, 1, &tiny), GSGD_STATUS_OK);
    gsgd_options *o = options_for(CFG_MOMENTUM);
    gsgd_model *m = model(CFG_MOMENTUM, all);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, all, o, &tr), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_set_data(tr, tiny), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(tr->B, 10u);
    train1(tr);
    cr_expect_eq(tr->steps, 1u);
    cr_assert_eq(gsgd_trainer_set_data(tr, all), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(tr->B, (size_t)BATCH);
    train1(tr);
    size_t n;
    gsgd_dataset_shape(all, &n, NULL, NULL);
    cr_expect_eq(tr->steps, 1u + (n + BATCH - 1) / BATCH);
    gsgd_trainer_free(tr);
    gsgd_model_free(m);
    gsgd_options_free(o);
    gsgd_dataset_free(tiny);
    gsgd_dataset_free(all);
}

Test(set_data, what_does_not_fit_is_refused_and_the_trainer_goes_on) {
    gsgd_dataset *all = data_for(CFG_MOMENTUM), *other, *regression;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:100,5,3:seed=1", &other, NULL), GSGD_STATUS_OK);
    float X[4] = {0}, y[2] = {0.5f, 1.5f};
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 2, 0, &regression), GSGD_STATUS_OK);
    gsgd_options *o = options_for(CFG_MOMENTUM);
    gsgd_model *m = model(CFG_MOMENTUM, all);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, all, o, &tr), GSGD_STATUS_OK);
    train1(tr);

    cr_expect_eq(gsgd_trainer_set_data(NULL, all), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_data(tr, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_data(tr, other), GSGD_STATUS_SHAPE_MISMATCH);
    cr_expect(strstr(gsgd_last_error(ctx), "expects 6 features, data has 5"), "%s",
              gsgd_last_error(ctx));
    cr_expect_eq(gsgd_trainer_set_data(tr, regression), GSGD_STATUS_SHAPE_MISMATCH);
    cr_expect_eq(tr->train, all, "unchanged on error");
    train1(tr);
    cr_expect_eq(tr->epoch, 2);

    /* A trainer that validates on a held-out part of its first data. */
    gsgd_set(o, GSGD_VALIDATION_FRACTION, 0.2);
    gsgd_trainer *val;
    cr_assert_eq(gsgd_trainer_create(m, all, o, &val), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(gsgd_trainer_set_data(val, all), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(gsgd_last_error(ctx), "validation_fraction"), "%s", gsgd_last_error(ctx));

    gsgd_trainer_free(val);
    gsgd_trainer_free(tr);
    gsgd_model_free(m);
    gsgd_options_free(o);
    gsgd_dataset_free(regression);
    gsgd_dataset_free(other);
    gsgd_dataset_free(all);
}
