/*
 * Checkpoints across format versions and of epochs auto: a version 1 file
 * (written before issue 17, with 38 options and no cooldown fields;
 * tests/data/ckpt_v1_epoch*.ckpt) still resumes and trains on exactly as
 * its build did; a run of EPOCHS 0 stopped inside its cooldown resumes to
 * the same end as an uninterrupted one; and a checkpoint (version 2 on)
 * keeps the label map (issue 15) and the cooldown (issue 17) together.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/trainer.h"
#include "testutil.h"

static gsgd_context *ctx;
static gsgd_dataset *train, *test;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:600,6,3:seed=4", &train, &test), GSGD_STATUS_OK);
}

static void teardown(void) {
    gsgd_dataset_free(train);
    gsgd_dataset_free(test);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "every backend buffer was released");
    gsgd_context_free(ctx);
}

TestSuite(checkpoint_compat, .init = setup, .fini = teardown);

Test(checkpoint_compat, a_version_1_checkpoint_resumes_as_its_build_trained) {
    /* Written by the build before issue 17 (commit 255e80f), one thread:
     *   gsgd train --device cpu --data synth:600,6,3:seed=4 --model softmax
     *     --batch 32 --optim momentum --standardize --seed 5 --epochs 2|3
     *     --save ckpt_v1_epoch2|3.ckpt
     * Epoch 3 resumed from the first must give the second's model. */
    const char *two = GSGD_TEST_DATA_DIR "/ckpt_v1_epoch2.ckpt";
    const char *three = GSGD_TEST_DATA_DIR "/ckpt_v1_epoch3.ckpt";
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    int done = 0;
    cr_assert_eq(gsgd_checkpoint_options(ctx, two, o, &done, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_expect_eq(done, 2);
    double v;
    /* Its own options, as saved... */
    gsgd_get(o, GSGD_SCHEDULE, &v);
    cr_expect_eq(v, GSGD_SCHEDULE_CONSTANT);
    gsgd_get(o, GSGD_TOL, &v);
    cr_expect_eq(v, 0.0);
    gsgd_get(o, GSGD_EPOCHS, &v);
    cr_expect_eq(v, 2.0);
    /* ... and the ones it predates, at values that train as it did. */
    gsgd_get(o, GSGD_STANDARDIZE, &v);
    cr_expect_eq(v, GSGD_STANDARDIZE_OFF);
    gsgd_get(o, GSGD_MIN_EPOCH_STEPS, &v);
    cr_expect_eq(v, 0.0);

    gsgd_set(o, GSGD_EPOCHS, 1);
    gsgd_model *m, *want;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 6, 3, 0, &m), GSGD_STATUS_OK);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, train, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_trainer_resume(tr, two), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgd_train_result res;
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, &res), GSGD_STATUS_OK);
    cr_expect_eq(res.epochs, 1);
    cr_expect_eq(res.stop_reason, GSGD_STOP_EPOCHS);
    cr_assert_eq(gsgd_model_load(ctx, three, &want), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect(memcmp(m->params, want->params, m->n_params * sizeof(float)) == 0,
              "epoch 3 resumed differs from the old build's epoch 3");
    cr_expect(memcmp(m->mean, want->mean, 6 * sizeof(float)) == 0 &&
                  memcmp(m->inv_std, want->inv_std, 6 * sizeof(float)) == 0,
              "the standardiser restored");
    /* Saved again, it is a file of the current version (3) that reads back
     * the same. */
    const char *again = tu_path("again.ckpt");
    cr_assert_eq(gsgd_trainer_save(tr, again), GSGD_STATUS_OK);
    size_t n;
    unsigned char *b = tu_read_file(again, &n);
    cr_expect_eq(b[8], 3);
    free(b);
    gsgd_trainer_free(tr);
    gsgd_model_free(want);
    gsgd_model_free(m);
    gsgd_options_free(o);
}

/* Stops one epoch into the cooldown, at its step 8: the first epoch end
 * that plans fewer than MAX_EPOCHS epochs found the plateau. */
typedef struct {
    int cooldown_from;
} stopper;

static int stop_in_cooldown(const gsgd_progress *p, void *user) {
    stopper *s = user;
    if (p->epoch_done && !s->cooldown_from && p->epochs < 1000) s->cooldown_from = p->epoch;
    return s->cooldown_from && p->epoch == s->cooldown_from + 1 && !p->epoch_done && p->step == 8;
}

static gsgd_options *auto_options(void) {
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_BATCH, 32);
    gsgd_set(o, GSGD_SEED, 3);
    gsgd_set(o, GSGD_CHECK_EVERY, 4);
    gsgd_set(o, GSGD_MIN_STEPS, 0);
    gsgd_set(o, GSGD_TOL, 0.01);
    gsgd_set(o, GSGD_COOLDOWN, 0.5); /* several epochs of it */
    return o;
}

Test(checkpoint_compat, epochs_auto_stopped_in_its_cooldown_resumes_to_the_same_end) {
    gsgd_options *o = auto_options();
    gsgd_model *a, *b, *c;
    gsgd_trainer *straight, *first, *second;
    gsgd_train_result ra, rc;
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, 1, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(a, train, o, &straight), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_train(straight, NULL, NULL, NULL, &ra), GSGD_STATUS_OK);
    cr_assert_eq(ra.stop_reason, GSGD_STOP_CONVERGED);
    cr_assert_geq(ra.cooldown_epochs, 2, "a cooldown to stop inside: %d", ra.cooldown_epochs);

    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, 1, &b), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(b, train, o, &first), GSGD_STATUS_OK);
    stopper s = {0};
    cr_assert_eq(gsgd_train(first, NULL, stop_in_cooldown, &s, NULL), GSGD_STATUS_INTERRUPTED);
    cr_expect_eq(s.cooldown_from, ra.epochs - ra.cooldown_epochs);
    const char *path = tu_path("cooldown.ckpt");
    cr_assert_eq(gsgd_trainer_save(first, path), GSGD_STATUS_OK);
    gsgd_trainer_free(first);

    gsgd_options *back;
    cr_assert_eq(gsgd_options_create(&back), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, back, NULL, NULL), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, 77, &c), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(c, train, back, &second), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_resume(second, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_train(second, NULL, NULL, NULL, &rc), GSGD_STATUS_OK);
    cr_expect_eq(rc.stop_reason, GSGD_STOP_CONVERGED);
    cr_expect_eq(rc.cooldown_epochs, ra.cooldown_epochs);
    cr_expect_eq(second->epoch, straight->epoch);
    cr_expect_eq(second->steps, straight->steps);
    cr_expect(memcmp(a->params, c->params, a->n_params * sizeof(float)) == 0,
              "the resumed run ends elsewhere");

    /* A trainer of a given EPOCHS cannot continue it: its cosine differs. */
    gsgd_trainer *fixed;
    gsgd_set(back, GSGD_EPOCHS, 30);
    cr_assert_eq(gsgd_trainer_create(c, train, back, &fixed), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_trainer_resume(fixed, path), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(gsgd_last_error(ctx), "epochs auto"), "%s", gsgd_last_error(ctx));
    gsgd_trainer_free(fixed);

    gsgd_trainer_free(second);
    gsgd_trainer_free(straight);
    gsgd_model_free(a);
    gsgd_model_free(b);
    gsgd_model_free(c);
    gsgd_options_free(back);
    gsgd_options_free(o);
}

/* The training set as a CSV with labels 3, 7 and 9 for classes 0, 1, 2
 * (label first; %.9g reads back the same floats). */
static const char *labelled_csv(void) {
    const char *path = tu_path("labels379.csv");
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    float row[6];
    static const int LABEL[3] = {3, 7, 9};
    for (size_t i = 0; i < train->n; i++) {
        cr_assert_eq(gsgdi_dataset_read_rows(train, i, 1, row), GSGD_STATUS_OK);
        fprintf(f, "%d", LABEL[(int)train->y[i]]); /* the CPU backend: host memory */
        for (int j = 0; j < 6; j++) fprintf(f, ",%.9g", row[j]);
        fputc('\n', f);
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

Test(checkpoint_compat, a_checkpoint_holds_the_label_map_and_the_cooldown_together) {
    /* Issue 15 added the label map and issue 17 the cooldown to format
     * version 2: a run of epochs auto on labels 3/7/9, stopped inside its
     * cooldown, resumes with both to the end of an uninterrupted run. */
    gsgd_dataset *ds, *none;
    cr_assert_eq(gsgd_dataset_load(ctx, labelled_csv(), &ds, &none), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_null(none);
    gsgd_options *o = auto_options();
    gsgd_model *a, *b, *c;
    gsgd_trainer *straight, *first, *second;
    gsgd_train_result ra, rc;
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, 1, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_set_labels(a, ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(a, ds, o, &straight), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_train(straight, NULL, NULL, NULL, &ra), GSGD_STATUS_OK);
    cr_assert_eq(ra.stop_reason, GSGD_STOP_CONVERGED);
    cr_assert_geq(ra.cooldown_epochs, 2, "a cooldown to stop inside: %d", ra.cooldown_epochs);

    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, 1, &b), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_set_labels(b, ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(b, ds, o, &first), GSGD_STATUS_OK);
    stopper s = {0};
    cr_assert_eq(gsgd_train(first, NULL, stop_in_cooldown, &s, NULL), GSGD_STATUS_INTERRUPTED);
    const char *path = tu_path("labels_cooldown.ckpt");
    cr_assert_eq(gsgd_trainer_save(first, path), GSGD_STATUS_OK);
    gsgd_trainer_free(first);
    size_t n;
    unsigned char *img = tu_read_file(path, &n);
    uint32_t version, flags;
    int32_t cooldown_epochs;
    memcpy(&version, img + 8, 4);
    memcpy(&flags, img + 156, 4);
    memcpy(&cooldown_epochs, img + 284, 4);
    free(img);
    cr_expect_eq(version, 3);
    cr_expect(flags & 4u, "flag bit 2: a label map");
    cr_expect_eq(cooldown_epochs, ra.cooldown_epochs, "the cooldown's epochs at offset 284");

    /* What gsgd train --resume does: the checkpoint's model and options. */
    gsgd_options *back;
    cr_assert_eq(gsgd_options_create(&back), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, back, NULL, NULL), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_load(ctx, path, &c), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    const char *label;
    cr_assert_eq(gsgd_model_label(c, 2, &label), GSGD_STATUS_OK);
    cr_expect_str_eq(label, "9");
    cr_assert_eq(gsgd_trainer_create(c, ds, back, &second), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_resume(second, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_eq(second->cooldown.epochs, ra.cooldown_epochs);
    cr_assert_eq(gsgd_train(second, NULL, NULL, NULL, &rc), GSGD_STATUS_OK);
    cr_expect_eq(rc.stop_reason, GSGD_STOP_CONVERGED);
    cr_expect_eq(second->epoch, straight->epoch);
    cr_expect(memcmp(a->params, c->params, a->n_params * sizeof(float)) == 0,
              "the resumed run ends elsewhere");
    float pred[2];
    const float X[12] = {0};
    cr_assert_eq(gsgd_predict(c, X, 2, pred), GSGD_STATUS_OK);
    cr_expect(pred[0] == 3.0f || pred[0] == 7.0f || pred[0] == 9.0f, "a label, got %g", pred[0]);
    gsgd_trainer_free(second);

    /* On new data, epochs auto looks for a new plateau: no cooldown yet. */
    cr_assert_eq(gsgd_trainer_create(c, ds, back, &second), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_resume_new_data(second, path), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_expect_eq(second->cooldown.epochs, 0);
    cr_expect_eq(second->no_improve, 0);

    gsgd_trainer_free(second);
    gsgd_trainer_free(straight);
    gsgd_model_free(a);
    gsgd_model_free(b);
    gsgd_model_free(c);
    gsgd_options_free(back);
    gsgd_options_free(o);
    gsgd_dataset_free(ds);
}
