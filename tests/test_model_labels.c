/* A model's labels: the class indices until data gives labels, then the
 * user's labels in predictions and descriptions; evaluation refuses data
 * whose labels map to other classes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(model_labels, .init = setup, .fini = teardown);

static gsgd_dataset *load(const char *source, const gsgd_data_options *o) {
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load_ex(ctx, source, o, &ds, NULL), 0, "%s", gsgd_last_error(ctx));
    return ds;
}

/* A trained softmax model of ds with its labels. */
static gsgd_model *trained(const gsgd_dataset *ds, int epochs) {
    size_t d;
    int k;
    gsgd_dataset_shape(ds, NULL, &d, &k);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", d, k, 1, &m), 0);
    cr_assert_eq(gsgd_model_set_labels(m, ds), 0);
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_EPOCHS, epochs);
    gsgd_set(o, GSGD_BATCH, 2);
    gsgd_trainer *tr;
    gsgd_train_result r;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), 0, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, &r), 0);
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    return m;
}

Test(model_labels, a_new_classifier_speaks_class_indices) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 3, 0, &m), 0);
    const char *t;
    cr_assert_eq(gsgd_model_label(m, 2, &t), 0);
    cr_assert_str_eq(t, "2");
    cr_assert_eq(gsgd_model_label(m, 3, &t), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_model_free(m);
    cr_assert_eq(gsgd_model_create(ctx, "linear", 2, 0, 0, &m), 0);
    cr_assert_eq(gsgd_model_label(m, 0, &t), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_model_free(m);
}

Test(model_labels, predictions_give_the_labels_of_the_data) {
    gsgd_dataset *ds = load(GSGD_TEST_DATA_DIR "/labels379.npz", NULL);
    gsgd_model *m = trained(ds, 30);
    float X[12], y[6], pred[6];
    int32_t cls[6];
    cr_assert_eq(gsgd_dataset_read(ds, 0, 6, X, y), 0);
    cr_assert_eq(gsgd_predict(m, X, 6, pred), 0);
    cr_assert_eq(gsgd_predict_classes(m, X, 6, cls), 0);
    for (int i = 0; i < 6; i++) {
        cr_assert(pred[i] == 3 || pred[i] == 7 || pred[i] == 9, "prediction %g", (double)pred[i]);
        const char *t;
        cr_assert_eq(gsgd_model_label(m, cls[i], &t), 0);
        cr_assert_eq(atof(t), pred[i], "class %d is label %s, predicted %g", cls[i], t,
                     (double)pred[i]);
    }
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}

Test(model_labels, text_labels_come_out_through_the_label_accessor) {
    gsgd_dataset *ds = load(GSGD_TEST_DATA_DIR "/strings_fortran.npz", NULL);
    gsgd_model *m = trained(ds, 1);
    float X[2], pred[1];
    int32_t cls[1];
    cr_assert_eq(gsgd_dataset_read(ds, 0, 1, X, NULL), 0);
    cr_assert_eq(gsgd_predict(m, X, 1, pred), 0);
    cr_assert_eq(gsgd_predict_classes(m, X, 1, cls), 0);
    cr_assert_eq(pred[0], (float)cls[0], "text labels: predict gives the class index");
    const char *t;
    cr_assert_eq(gsgd_model_label(m, 1, &t), 0);
    cr_assert_str_eq(t, "versicolor");
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}

Test(model_labels, predictions_agree_exactly_with_evaluated_accuracy) {
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:600,6,4:seed=5", &tr, &te), 0);
    gsgd_model *m = trained(tr, 2);
    gsgd_eval_result ev;
    cr_assert_eq(gsgd_evaluate(m, te, &ev), 0);
    float *X = malloc(te->n * te->d * sizeof *X), *y = malloc(te->n * sizeof *y);
    int32_t *cls = malloc(te->n * sizeof *cls);
    cr_assert_eq(gsgd_dataset_read(te, 0, te->n, X, y), 0);
    cr_assert_eq(gsgd_predict_classes(m, X, te->n, cls), 0);
    size_t right = 0;
    for (size_t i = 0; i < te->n; i++) right += cls[i] == (int32_t)y[i];
    cr_assert_eq((double)right / (double)te->n, ev.accuracy, "%zu right of %zu, evaluate says %g",
                 right, te->n, ev.accuracy);
    free(X), free(y), free(cls);
    gsgd_model_free(m);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

Test(model_labels, evaluation_refuses_data_whose_labels_map_elsewhere) {
    /* Training labels 1, 2, 3; a test file of 2 and 3 alone maps them to
     * classes 0 and 1 unless loaded against the model. */
    cr_assert_eq(tu_write_text(tu_path("tr.csv"), "y,x\n1,0\n2,1\n3,2\n1,0.1\n2,1.1\n3,2.1\n"), 0);
    cr_assert_eq(tu_write_text(tu_path("te.csv"), "y,x\n2,1\n3,2\n"), 0);
    gsgd_dataset *tr = load(tu_path("tr.csv"), NULL), *alone = load(tu_path("te.csv"), NULL);
    gsgd_model *m = trained(tr, 1);
    gsgd_eval_result ev;
    cr_assert_eq(gsgd_evaluate(m, alone, &ev), GSGD_STATUS_SHAPE_MISMATCH);
    cr_assert(strstr(gsgd_last_error(ctx), "the model's labels are 3 classes (1, 2, 3), the "
                                           "data's 2 classes (2, 3)"),
              "%s", gsgd_last_error(ctx));
    gsgd_data_options *o;
    gsgd_data_options_create(&o);
    cr_assert_eq(gsgd_data_set_model(o, m), 0);
    gsgd_dataset *mapped = load(tu_path("te.csv"), o);
    cr_assert_eq(gsgd_evaluate(m, mapped, &ev), 0, "%s", gsgd_last_error(ctx));
    gsgd_data_options_free(o);
    gsgd_dataset_free(mapped);
    gsgd_dataset_free(alone);
    gsgd_model_free(m);
    gsgd_dataset_free(tr);
}

Test(model_labels, set_labels_needs_the_same_class_count) {
    gsgd_dataset *ds = load(GSGD_TEST_DATA_DIR "/labels379.npz", NULL);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 4, 0, &m), 0);
    cr_assert_eq(gsgd_model_set_labels(m, ds), GSGD_STATUS_SHAPE_MISMATCH);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}

Test(model_labels, rows_without_targets_cannot_be_evaluated) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 3, 0, &m), 0);
    gsgd_data_options *o;
    gsgd_data_options_create(&o);
    cr_assert_eq(gsgd_data_set_model(o, m), 0);
    cr_assert_eq(tu_write_text(tu_path("in.csv"), "1,2\n3,4\n"), 0);
    gsgd_dataset *ds = load(tu_path("in.csv"), o);
    gsgd_eval_result ev;
    cr_assert_eq(gsgd_evaluate(m, ds, &ev), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert(strstr(gsgd_last_error(ctx), "has no targets"), "%s", gsgd_last_error(ctx));
    gsgd_dataset_free(ds);
    gsgd_data_options_free(o);
    gsgd_model_free(m);
}

Test(model_labels, describe_names_spec_shape_labels_and_standardizer) {
    gsgd_dataset *ds = load(GSGD_TEST_DATA_DIR "/labels379.npz", NULL);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "mlp:4", 2, 3, 0, &m), 0);
    char text[600];
    cr_assert_eq(gsgd_model_describe(m, text, sizeof text), 0);
    cr_assert(strstr(text, "the class indices"), "%s", text);
    cr_assert_eq(gsgd_model_set_labels(m, ds), 0);
    cr_assert_eq(gsgd_model_fit_standardizer(m, ds), 0);
    cr_assert_eq(gsgd_model_describe(m, text, sizeof text), 0);
    cr_assert_str_eq(text, "model mlp:4: 2 features -> 3 outputs, 27 parameters (2 layers)\n"
                           "labels: 3 classes (3, 7, 9)\n"
                           "input: standardized (mean and standard deviation of the training "
                           "data)");
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}
