/* Dataset specs (gsgd_dataset_load): each form, its options, its errors,
 * and the real Fashion-MNIST files when Debian's package is installed. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

#define FMNIST_DIR "/usr/share/datasets/fashion-mnist"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(spec, .init = setup, .fini = teardown);

static void expect_shape(const gsgd_dataset *ds, size_t n, size_t d, int k) {
    size_t n2, d2;
    int k2;
    cr_assert_not_null(ds);
    cr_assert_eq(gsgd_dataset_shape(ds, &n2, &d2, &k2), GSGD_STATUS_OK);
    cr_assert_eq(n2, n, "n = %zu, expected %zu", n2, n);
    cr_assert_eq(d2, d, "d = %zu, expected %zu", d2, d);
    cr_assert_eq(k2, k, "n_classes = %d, expected %d", k2, k);
}

static void expect_error(const char *detail) {
    cr_assert(strstr(gsgd_last_error(ctx), detail), "message lacks '%s': %s", detail,
              gsgd_last_error(ctx));
}

Test(spec, loads_debian_fashion_mnist) {
    if (!tu_exists(FMNIST_DIR))
        cr_skip_test("%s not found: apt-get install dataset-fashion-mnist to run this test",
                     FMNIST_DIR);
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "fashion-mnist", &tr, &te), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    expect_shape(tr, 60000, 784, 10);
    expect_shape(te, 10000, 784, 10);
    /* On the CPU, ubyte pixels become floats by default (bytes on CUDA). */
    cr_assert_eq(tr->xt, GSGD_XTYPE_F32);
    cr_assert_eq(te->xt, GSGD_XTYPE_F32);
    float *X = malloc(te->n * te->d * sizeof(float)), *y = malloc(te->n * sizeof(float));
    cr_assert_eq(gsgdi_dataset_read_rows(te, 0, te->n, X), 0);
    cr_assert_eq(ctx->be->download(ctx, y, te->y, te->n * sizeof(float)), 0);
    float lo = 1, hi = 0;
    for (size_t i = 0; i < te->n * te->d; i++) {
        if (X[i] < lo) lo = X[i];
        if (X[i] > hi) hi = X[i];
    }
    cr_assert(lo == 0.0f && hi == 1.0f, "pixel range [%g, %g]", (double)lo, (double)hi);
    /* The Fashion-MNIST test set holds exactly 1000 images of each class. */
    size_t count[10] = {0};
    for (size_t i = 0; i < te->n; i++) count[(int)y[i]]++;
    for (int c = 0; c < 10; c++) cr_assert_eq(count[c], 1000, "class %d: %zu", c, count[c]);
    free(X);
    free(y);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

Test(spec, fashion_mnist_in_a_missing_directory_is_an_io_error_naming_it) {
    gsgd_dataset *tr = (gsgd_dataset *)&tr, *te = (gsgd_dataset *)&te;
    cr_assert_eq(gsgd_dataset_load(ctx, "fashion-mnist:/nonexistent", &tr, &te), GSGD_STATUS_IO);
    cr_assert_null(tr);
    cr_assert_null(te);
    expect_error("/nonexistent");
    expect_error("apt-get install dataset-fashion-mnist");
}

Test(spec, fashion_mnist_names_a_missing_file) {
    /* An existing directory without the files. */
    gsgd_dataset *tr, *te;
    char spec[600];
    snprintf(spec, sizeof spec, "fashion-mnist:%s", tu_tmpdir());
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, &te), GSGD_STATUS_IO);
    expect_error("train-images-idx3-ubyte");
    expect_error(tu_tmpdir());
}

Test(spec, idx_spec_loads_images_and_labels_without_a_test_part) {
    const uint8_t img[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 51, 255, 1, 2, 3};
    const uint8_t lab[] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};
    cr_assert_eq(tu_write_file(tu_path("i.idx"), img, sizeof img), 0);
    cr_assert_eq(tu_write_gzip(tu_path("l.idx.gz"), lab, sizeof lab), 0);
    char spec[1600];
    snprintf(spec, sizeof spec, "idx:%s,%s", tu_path("i.idx"), tu_path("l.idx.gz"));
    gsgd_dataset *tr, *te = (gsgd_dataset *)&te;
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, &te), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    expect_shape(tr, 2, 3, 2);
    cr_assert_null(te);
    gsgd_dataset_free(tr);
}

/* The features of ds as floats (the gather's conversion), fresh malloc. */
static float *features(const gsgd_dataset *ds) {
    float *X = malloc(ds->n * ds->d * sizeof *X);
    cr_assert_eq(gsgdi_dataset_read_rows(ds, 0, ds->n, X), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    return X;
}

/* Loads spec's training part and checks its storage and the backend
 * memory it takes: X at xsize bytes a value, plus the float targets. */
static gsgd_dataset *load_expecting(const char *spec, gsgdi_xtype xt, size_t xsize) {
    size_t before, after;
    cr_assert_eq(gsgd_context_memory(ctx, &before, NULL), 0);
    gsgd_dataset *tr;
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, NULL), GSGD_STATUS_OK, "%s: %s", spec,
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgd_context_memory(ctx, &after, NULL), 0);
    cr_assert_eq(tr->xt, xt, "%s", spec);
    cr_assert_eq(after - before, tr->n * tr->d * xsize + tr->n * sizeof(float), "%s: %zu bytes",
                 spec, after - before);
    return tr;
}

Test(spec, idx_ubyte_images_are_stored_as_asked_and_as_floats_by_default_on_the_cpu) {
    const uint8_t img[] = {0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 3, 0, 51, 255, 1, 2, 3};
    const uint8_t lab[] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};
    cr_assert_eq(tu_write_file(tu_path("i.idx"), img, sizeof img), 0);
    cr_assert_eq(tu_write_file(tu_path("l.idx"), lab, sizeof lab), 0);
    char spec[1600];
    snprintf(spec, sizeof spec, "idx:%s,%s", tu_path("i.idx"), tu_path("l.idx"));
    gsgd_dataset *d = load_expecting(spec, GSGD_XTYPE_F32, 4); /* the CPU's default */
    gsgd_dataset_free(d);
    snprintf(spec, sizeof spec, "idx:%s,%s:storage=u8", tu_path("i.idx"), tu_path("l.idx"));
    gsgd_dataset *a = load_expecting(spec, GSGD_XTYPE_U8, 1);
    snprintf(spec, sizeof spec, "idx:%s,%s:storage=f32", tu_path("i.idx"), tu_path("l.idx"));
    gsgd_dataset *b = load_expecting(spec, GSGD_XTYPE_F32, 4);
    snprintf(spec, sizeof spec, "idx:%s,%s:storage=u8", tu_path("i.idx"), tu_path("l.idx"));
    gsgd_dataset *c = load_expecting(spec, GSGD_XTYPE_U8, 1);
    float *Xa = features(a), *Xb = features(b), *Xc = features(c);
    cr_assert_arr_eq(Xa, Xb, 6 * sizeof(float), "bytes read back as the float load's values");
    cr_assert_arr_eq(Xa, Xc, 6 * sizeof(float));
    cr_assert_eq(Xa[1], 51.0f / 255.0f);
    cr_assert_eq(Xa[2], 1.0f);
    free(Xa), free(Xb), free(Xc);
    gsgd_dataset_free(a);
    gsgd_dataset_free(b);
    gsgd_dataset_free(c);
}

Test(spec, storage_option_rejects_unknown_values_naming_both_choices) {
    const char *specs[] = {"idx:a,b:storage=f16", "fashion-mnist:storage=int8",
                           "fashion-mnist:/tmp:storage="};
    for (int i = 0; i < 3; i++) {
        gsgd_dataset *tr;
        cr_assert_eq(gsgd_dataset_load(ctx, specs[i], &tr, NULL), GSGD_STATUS_INVALID_ARGUMENT,
                     "%s", specs[i]);
        cr_assert_null(tr);
        expect_error("not understood (u8");
        expect_error("f32");
    }
}

Test(spec, storage_u8_refuses_images_that_are_not_ubyte) {
    const uint8_t img[] = {0, 0, 0x0B, 2, 0, 0, 0, 2, 0, 0, 0, 1, 0, 1, 0, 2};
    const uint8_t lab[] = {0, 0, 8, 1, 0, 0, 0, 2, 1, 0};
    cr_assert_eq(tu_write_file(tu_path("s.idx"), img, sizeof img), 0);
    cr_assert_eq(tu_write_file(tu_path("l.idx"), lab, sizeof lab), 0);
    char spec[1600];
    snprintf(spec, sizeof spec, "idx:%s,%s:storage=u8", tu_path("s.idx"), tu_path("l.idx"));
    gsgd_dataset *tr;
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    expect_error(tu_path("s.idx"));
    expect_error("storage=u8 needs ubyte images");
    /* The default stores them as floats. */
    snprintf(spec, sizeof spec, "idx:%s,%s", tu_path("s.idx"), tu_path("l.idx"));
    gsgd_dataset_free(load_expecting(spec, GSGD_XTYPE_F32, 4));
}

Test(spec, csv_refuses_a_storage_option) {
    cr_assert_eq(tu_write_text(tu_path("d.csv"), "0,1\n1,2\n"), 0);
    char spec[1600];
    snprintf(spec, sizeof spec, "csv:%s:storage=u8", tu_path("d.csv"));
    gsgd_dataset *tr;
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("IDX images only");
}

Test(spec, fashion_mnist_as_bytes_holds_the_float_features_in_a_quarter_of_the_memory) {
    if (!tu_exists(FMNIST_DIR))
        cr_skip_test("%s not found: apt-get install dataset-fashion-mnist to run this test",
                     FMNIST_DIR);
    gsgd_dataset *a = load_expecting("fashion-mnist:storage=u8", GSGD_XTYPE_U8, 1);
    gsgd_dataset *b = load_expecting("fashion-mnist:" FMNIST_DIR ":storage=f32", GSGD_XTYPE_F32, 4);
    float *Xa = features(a), *Xb = features(b);
    cr_assert(memcmp(Xa, Xb, a->n * a->d * sizeof(float)) == 0);
    free(Xa), free(Xb);
    gsgd_dataset_free(a);
    gsgd_dataset_free(b);
}

Test(spec, csv_spec_applies_its_options) {
    cr_assert_eq(tu_write_text(tu_path("d.csv"), "a,b,target\n1,2,0.5\n3,4,-1.5\n"), 0);
    char spec[1000];
    snprintf(spec, sizeof spec, "csv:%s:label=last:header:target=real", tu_path("d.csv"));
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, &te), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    expect_shape(tr, 2, 2, 0);
    cr_assert_null(te);
    float y[2];
    cr_assert_eq(ctx->be->download(ctx, y, tr->y, sizeof y), 0);
    cr_assert_eq(y[1], -1.5f);
    gsgd_dataset_free(tr);
}

Test(spec, csv_spec_rejects_an_unknown_option_value) {
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "csv:x.csv:label=middle", &tr, &te),
                 GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("label=middle");
}

Test(spec, csv_spec_reports_the_loader_error) {
    cr_assert_eq(tu_write_text(tu_path("bad.csv"), "1,2\n1,x\n"), 0);
    char spec[1000];
    snprintf(spec, sizeof spec, "csv:%s", tu_path("bad.csv"));
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, spec, &tr, &te), GSGD_STATUS_BAD_VALUE);
    cr_assert_null(tr);
    expect_error("line 2, column 2");
}

Test(spec, synth_spec_gives_train_and_test_parts) {
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:100,5,3:seed=4", &tr, &te), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    expect_shape(tr, 80, 5, 3);
    expect_shape(te, 20, 5, 3);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

Test(spec, synth_spec_matches_gsgd_synth_for_the_same_seed) {
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:10,2,2:seed=12", &tr, &te), GSGD_STATUS_OK);
    gsgdi_host_data htr, hte;
    cr_assert_eq(gsgdi_synth(ctx, 10, 2, 2, 12, &htr, &hte), GSGD_STATUS_OK);
    float X[16];
    cr_assert_eq(ctx->be->download(ctx, X, tr->X, sizeof X), 0);
    cr_assert_arr_eq(X, htr.X, sizeof X);
    gsgdi_host_data_free(&htr);
    gsgdi_host_data_free(&hte);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

Test(spec, synth_spec_drops_the_test_part_when_not_asked_for) {
    gsgd_dataset *tr;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:10,2,1", &tr, NULL), GSGD_STATUS_OK);
    expect_shape(tr, 8, 2, 0);
    gsgd_dataset_free(tr);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_assert_eq(in_use, 0);
}

Test(spec, synth_spec_rejects_malformed_sizes) {
    const char *bad[] = {"synth:",        "synth:10,2",         "synth:10,2,x",
                         "synth:10,-2,3", "synth:10,2,3:seed=", "synth:10,2,3:sed=1",
                         "synth:10,2,3,4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        gsgd_dataset *tr, *te;
        cr_assert_eq(gsgd_dataset_load(ctx, bad[i], &tr, &te), GSGD_STATUS_INVALID_ARGUMENT,
                     "%s accepted", bad[i]);
        cr_assert_null(tr);
    }
}

Test(spec, unknown_spec_lists_the_valid_forms) {
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "mnist", &tr, &te), GSGD_STATUS_INVALID_ARGUMENT);
    expect_error("'mnist'");
    expect_error("fashion-mnist[:DIR]");
    expect_error("idx:IMAGES,LABELS");
    expect_error("csv:PATH");
    expect_error("synth:N,D,K");
}
