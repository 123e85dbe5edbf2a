/* Model files: round trip, atomic replacement, and rejection of corrupt,
 * truncated and other-version files with a message naming the file. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "testutil.h"

#include <zlib.h>

static gsgd_context *ctx;
static gsgd_model *model;
static gsgd_dataset *train, *test;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:300,4,3:seed=2", &train, &test), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "mlp:5", 4, 3, 9, &model), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_fit_standardizer(model, train), GSGD_STATUS_OK);
}

static void teardown(void) {
    gsgd_model_free(model);
    gsgd_dataset_free(train);
    gsgd_dataset_free(test);
    gsgd_context_free(ctx);
}

TestSuite(model_io, .init = setup, .fini = teardown);

Test(model_io, round_trip_keeps_parameters_standardiser_and_predictions) {
    const char *path = tu_path("m.gsgd");
    cr_assert_eq(gsgd_model_save(model, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgd_model *back;
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect_str_eq(back->spec, "mlp:5");
    cr_assert_eq(back->n_params, model->n_params);
    cr_expect(memcmp(back->params, model->params, model->n_params * sizeof(float)) == 0);
    cr_expect(memcmp(back->mean, model->mean, 4 * sizeof(float)) == 0);
    cr_expect(memcmp(back->inv_std, model->inv_std, 4 * sizeof(float)) == 0);
    gsgd_eval_result a, b;
    cr_assert_eq(gsgd_evaluate(model, test, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_evaluate(back, test, &b), GSGD_STATUS_OK);
    cr_expect(a.loss == b.loss && a.accuracy == b.accuracy);
    gsgd_model_free(back);
}

Test(model_io, save_replaces_atomically_and_leaves_no_temporary) {
    const char *path = tu_path("replace.gsgd");
    cr_assert_eq(tu_write_text(path, "old contents"), 0);
    cr_assert_eq(gsgd_model_save(model, path), GSGD_STATUS_OK);
    gsgd_model *back;
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK);
    gsgd_model_free(back);
    char out[4096];
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", tu_tmpdir());
    tu_run(cmd, out, sizeof out);
    cr_expect_eq(atoi(out), 0, "no temporary file is left: %s", out);
}

Test(model_io, save_into_a_missing_directory_fails_cleanly) {
    cr_expect_eq(gsgd_model_save(model, "/nonexistent-dir/m.gsgd"), GSGD_STATUS_IO);
    cr_expect(strstr(gsgd_last_error(ctx), "/nonexistent-dir/m.gsgd"));
}

static void expect_rejected(const char *name, const unsigned char *bytes, size_t n,
                            const char *needle) {
    const char *path = tu_path(name);
    cr_assert_eq(tu_write_file(path, bytes, n), 0);
    gsgd_model *back = (gsgd_model *)1;
    cr_expect_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_BAD_FORMAT, "%s", name);
    cr_expect_null(back);
    const char *msg = gsgd_last_error(ctx);
    cr_expect(strstr(msg, path) && strstr(msg, needle), "%s: %s", name, msg);
}

Test(model_io, corrupt_truncated_and_foreign_files_are_rejected) {
    const char *path = tu_path("good.gsgd");
    cr_assert_eq(gsgd_model_save(model, path), GSGD_STATUS_OK);
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    size_t in_use_before;
    gsgd_context_memory(ctx, &in_use_before, NULL);

    expect_rejected("truncated.gsgd", b, n - 9, "CRC");
    expect_rejected("header-only.gsgd", b, 20, "truncated");
    expect_rejected("empty.gsgd", b, 0, "truncated");
    b[200] ^= 0x40;
    expect_rejected("flipped.gsgd", b, n, "CRC");
    b[200] ^= 0x40;
    unsigned char *v = malloc(n);
    memcpy(v, b, n);
    v[8] = 4; /* version 4, CRC left stale: the version is checked first */
    expect_rejected("version.gsgd", v, n, "format version 4");
    memcpy(v, "NOTAMODL", 8);
    expect_rejected("magic.gsgd", v, n, "bad magic");
    free(v);

    size_t in_use_after;
    gsgd_context_memory(ctx, &in_use_after, NULL);
    cr_expect_eq(in_use_after, in_use_before, "failed loads release everything");
    free(b);
}

Test(model_io, missing_file_is_an_io_error_naming_it) {
    gsgd_model *back;
    cr_expect_eq(gsgd_model_load(ctx, "/nonexistent/model.gsgd", &back), GSGD_STATUS_IO);
    cr_expect(strstr(gsgd_last_error(ctx), "/nonexistent/model.gsgd"));
}

/* A file above 1 MiB must be the size its header describes before anything
 * is allocated for it: a sparse 64 GiB file (no disk space) that starts as
 * a model file, or holds no header at all, is refused at once instead of
 * being read into 64 GiB of memory. */
Test(model_io, a_large_file_is_checked_against_its_header_before_it_is_read) {
    const char *path = tu_path("huge.gsgd");
    cr_assert_eq(gsgd_model_save(model, path), GSGD_STATUS_OK);
    cr_assert_eq(truncate(path, (off_t)64 << 30), 0);
    const double t0 = gsgdi_now_seconds();
    gsgd_model *back = (gsgd_model *)1;
    cr_expect_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_BAD_FORMAT);
    cr_expect_null(back);
    cr_expect(strstr(gsgd_last_error(ctx), "68719476736 bytes, but its header describes"), "%s",
              gsgd_last_error(ctx));
    const char *zeros = tu_path("zeros.gsgd");
    cr_assert_eq(tu_write_text(zeros, ""), 0);
    cr_assert_eq(truncate(zeros, (off_t)64 << 30), 0);
    cr_expect_eq(gsgd_model_load(ctx, zeros, &back), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(ctx), "bad magic"), "%s", gsgd_last_error(ctx));
    cr_expect_lt(gsgdi_now_seconds() - t0, 2.0, "refused from the header alone");
    remove(path); /* sparse, but 64 GiB to whatever copies the directory */
    remove(zeros);
}

Test(model_io, a_model_above_1_mib_round_trips_through_the_checked_read) {
    /* With a label map of texts, whose length only its own header says:
     * the size check reads it where the header puts it. */
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/strings_fortran.npz", &ds, NULL), 0);
    gsgd_model *big, *back;
    cr_assert_eq(gsgd_model_create(ctx, "mlp:2048,128", 2, 3, 1, &big), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_set_labels(big, ds), GSGD_STATUS_OK);
    const char *path = tu_path("big.gsgd");
    cr_assert_eq(gsgd_model_save(big, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_gt(n, (size_t)1 << 20);
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect(memcmp(back->params, big->params, big->n_params * sizeof(float)) == 0);
    const char *t;
    cr_assert_eq(gsgd_model_label(back, 2, &t), GSGD_STATUS_OK);
    cr_assert_str_eq(t, "virginica");
    gsgd_model_free(back);
    /* The map: kind, count, text bytes, "setosa\0versicolor\0virginica\0". */
    const size_t map = n - 4 - 16 - 28;
    cr_assert_eq(b[map], 2, "a map of texts where the layout puts it");
    b[map + 8] += 1; /* one text byte more than the file holds */
    expect_rejected("big-map-length.gsgd", b, n, "but its header describes a file of");
    b[map + 8] -= 1;
    b[map] = 7; /* no map's kind */
    expect_rejected("big-map-kind.gsgd", b, n, "no label map at byte");
    free(b);
    gsgd_model_free(big);
    gsgd_dataset_free(ds);
}

Test(model_io, label_maps_survive_save_and_load) {
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/strings_fortran.npz", &ds, NULL),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgd_model *m, *back;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 3, 1, &m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_set_labels(m, ds), GSGD_STATUS_OK);
    const char *path = tu_path("labels.gsgd");
    cr_assert_eq(gsgd_model_save(m, path), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert(gsgdi_labels_equal(back->labels, m->labels));
    cr_assert(back->labels_given);
    const char *t;
    cr_assert_eq(gsgd_model_label(back, 2, &t), GSGD_STATUS_OK);
    cr_assert_str_eq(t, "virginica");
    /* The map is part of the CRC: a changed text is a corrupt file. */
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    b[n - 6] ^= 0x20;
    expect_rejected("label-flip.gsgd", b, n, "CRC");
    free(b);
    gsgd_model_free(back);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}

Test(model_io, a_label_map_that_does_not_fit_the_model_is_refused) {
    /* A 3-class model's file whose map says 2 labels, with a good CRC. */
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/labels379.npz", &ds, NULL), 0);
    cr_assert_eq(gsgd_model_set_labels(model, ds), GSGD_STATUS_OK);
    const char *path = tu_path("misfit.gsgd");
    cr_assert_eq(gsgd_model_save(model, path), GSGD_STATUS_OK);
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    /* the map: kind 1, n 3, three int64; the CRC after it */
    const size_t map = n - 4 - 8 - 3 * 8;
    b[map + 4] = 2;
    const uLong crc = crc32(0L, b, (uInt)(n - 4));
    memcpy(b + n - 4, &crc, 4);
    expect_rejected("misfit2.gsgd", b, n, "label map");
    free(b);
    gsgd_dataset_free(ds);
}

Test(model_io, a_version_1_file_still_loads_with_the_class_indices_as_labels) {
    /* Written by the code before label maps (tests/data/README.md). */
    const char *path = GSGD_TEST_DATA_DIR "/model_v1.gsgd";
    gsgd_model *back;
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_str_eq(back->spec, "softmax");
    cr_assert_eq(back->n_features, 3);
    cr_assert_eq(back->n_classes, 3);
    cr_assert_not_null(back->mean);
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_eq(b[8], 1, "the fixture is a version 1 file");
    /* Version 1: parameters from byte 168, then mean and inv_std. */
    cr_assert(memcmp(back->params, b + 168, back->n_params * sizeof(float)) == 0);
    cr_assert(memcmp(back->mean, b + 168 + 4 * back->n_params, 3 * sizeof(float)) == 0);
    cr_assert(gsgdi_labels_is_identity(back->labels));
    cr_assert_not(back->labels_given);
    free(b);
    gsgd_model_free(back);
}

/* The target column's name (format version 3): from the CSV header
 * through gsgd_model_set_labels into the file and back; a name that is
 * not NUL-terminated is refused even under a good CRC. */
Test(model_io, the_target_column_name_survives_save_and_load) {
    gsgd_data_options *o;
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_data_options_create(&o), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_data_set_text(o, GSGD_DATA_LABEL, "kind"), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load_ex(ctx, GSGD_TEST_DATA_DIR "/kinds.csv", o, &ds, NULL),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    const char *name;
    cr_assert_eq(gsgd_dataset_target_name(ds, &name), GSGD_STATUS_OK);
    cr_assert_str_eq(name, "kind");
    gsgd_model *m, *back;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 3, 3, 1, &m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_target_name(m, &name), GSGD_STATUS_OK);
    cr_assert_str_eq(name, "", "a model not told has none");
    cr_assert_eq(gsgd_model_set_labels(m, ds), GSGD_STATUS_OK);
    const char *path = tu_path("kinds.gsgd");
    cr_assert_eq(gsgd_model_save(m, path), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_model_target_name(back, &name), GSGD_STATUS_OK);
    cr_expect_str_eq(name, "kind");
    cr_expect(gsgdi_labels_equal(back->labels, m->labels));
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_eq(b[8], 3, "format version 3");
    /* The features' names (x1, x2, x3) round trip too. */
    const char *f;
    cr_assert_eq(gsgd_model_feature_name(back, 2, &f), GSGD_STATUS_OK);
    cr_expect_str_eq(f, "x3");
    cr_expect_eq(gsgd_model_feature_name(back, 3, &f), GSGD_STATUS_INVALID_ARGUMENT);
    /* The name's 64 bytes lie after the feature names' image (8 bytes of
     * length, then "x1\0x2\0x3\0") and before the label map. */
    const size_t at = 168 + 4 * m->n_params + 8 + 9;
    cr_assert(memcmp(b + at, "kind\0", 5) == 0, "the name where the layout puts it");
    memset(b + at, 'k', 64);
    uLong crc = crc32(0L, b, (uInt)(n - 4));
    memcpy(b + n - 4, &crc, 4);
    expect_rejected("unterminated.gsgd", b, n, "malformed target column name");
    /* Feature names of another count than the model's features. */
    const size_t names = 168 + 4 * m->n_params;
    b[names + 8 + 5] = 'y'; /* "x1\0x2\0x3\0" -> "x1\0x2y"...: two names */
    crc = crc32(0L, b, (uInt)(n - 4));
    memcpy(b + n - 4, &crc, 4);
    expect_rejected("names.gsgd", b, n, "malformed feature names");
    b[names] = 200; /* a length past the file's end */
    crc = crc32(0L, b, (uInt)(n - 4));
    memcpy(b + n - 4, &crc, 4);
    expect_rejected("names-length.gsgd", b, n, "truncated feature names");
    free(b);
    gsgd_model_free(back);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
    gsgd_data_options_free(o);
}

Test(model_io, a_version_2_file_still_loads_without_the_target_name) {
    /* Written by the code before the target's name (tests/data/README.md). */
    const char *path = GSGD_TEST_DATA_DIR "/model_v2.gsgd";
    gsgd_model *back;
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_eq(b[8], 2, "the fixture is a version 2 file");
    free(b);
    const char *t;
    cr_assert(back->labels_given);
    cr_assert_eq(gsgd_model_label(back, 1, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "bee");
    cr_assert_eq(gsgd_model_target_name(back, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "");
    cr_expect_not_null(back->mean);
    gsgd_model_free(back);
}
