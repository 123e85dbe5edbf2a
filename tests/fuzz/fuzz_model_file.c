/*
 * Model files (src/io/model_io.c; gsgd_model_load reads the model part of
 * checkpoints too). Input: a mode byte, then the file. Unless mode bit 0
 * is set, the trailing CRC32 is put right so that mutations reach the
 * checks behind it. A model that loads is saved again and reloaded (the
 * same parameters, bit for bit, the same labels, target and feature
 * names) and
 * evaluated on a few rows of its shape.
 */
#include <math.h>

#include "fuzz_common.h"

/* Evaluates m on 3 rows of zeros labelled 0. */
static void evaluate(gsgd_context *ctx, gsgd_model *m, size_t d, int k) {
    if (d > 4096) return; /* the rows below stay small */
    float *X = calloc(3 * d, sizeof(float)), y[3] = {0, 0, 0};
    FUZZ_CHECK(X != NULL);
    gsgd_dataset *ds = NULL;
    gsgd_status st = gsgd_dataset_from_host(ctx, X, y, 3, d, k, &ds);
    free(X);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) return;
    gsgd_eval_result r;
    st = gsgd_evaluate(m, ds, &r);
    fuzz_check_failure(ctx, st);
    FUZZ_CHECK(st != GSGD_STATUS_OK || r.n == 3);
    gsgd_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    gsgd_context *ctx = fuzz_context();
    unsigned char *img = malloc(size);
    FUZZ_CHECK(img != NULL);
    memcpy(img, data + 1, size - 1);
    if (!(data[0] & 1)) fuzz_fix_crc(img, size - 1);
    const char *path = fuzz_write("model.gsgd", 0, img, size - 1);
    free(img);

    gsgd_model *m = NULL;
    gsgd_status st = gsgd_model_load(ctx, path, &m);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(m == NULL);
        fuzz_check_no_leak(ctx);
        return 0;
    }
    const char *spec = NULL;
    size_t d = 0, n = 0, n_decay = 0;
    int k = -1;
    FUZZ_CHECK(gsgd_model_shape(m, &spec, &d, &k) == GSGD_STATUS_OK);
    FUZZ_CHECK(spec && strlen(spec) < 128 && d >= 1 && (k == 0 || k >= 2));
    float *p = NULL;
    FUZZ_CHECK(gsgd_model_params(m, &p, &n, &n_decay) == GSGD_STATUS_OK && n >= 1 && n_decay < n);

    /* Saved and read back: the same model. */
    const char *again = fuzz_path("again.gsgd", 1);
    st = gsgd_model_save(m, again);
    fuzz_check_failure(ctx, st);
    FUZZ_CHECK(st == GSGD_STATUS_OK);
    gsgd_model *m2 = NULL;
    st = gsgd_model_load(ctx, again, &m2);
    fuzz_check_failure(ctx, st);
    FUZZ_CHECK(st == GSGD_STATUS_OK);
    const char *spec2 = NULL;
    size_t d2 = 0, n2 = 0, nd2 = 0;
    int k2 = -1;
    float *p2 = NULL;
    FUZZ_CHECK(gsgd_model_shape(m2, &spec2, &d2, &k2) == GSGD_STATUS_OK);
    FUZZ_CHECK(gsgd_model_params(m2, &p2, &n2, &nd2) == GSGD_STATUS_OK);
    FUZZ_CHECK(strcmp(spec, spec2) == 0 && d == d2 && k == k2 && n == n2 && n_decay == nd2);
    FUZZ_CHECK(memcmp(p, p2, n * sizeof(float)) == 0);
    /* The target column's name (version 3 files) read back as it was. */
    const char *t1 = NULL, *t2 = NULL;
    FUZZ_CHECK(gsgd_model_target_name(m, &t1) == GSGD_STATUS_OK && t1 && strlen(t1) < 64);
    FUZZ_CHECK(gsgd_model_target_name(m2, &t2) == GSGD_STATUS_OK && strcmp(t1, t2) == 0);
    for (size_t j = 0; j < d; j++) {
        const char *a = NULL, *b = NULL;
        FUZZ_CHECK(gsgd_model_feature_name(m, j, &a) == GSGD_STATUS_OK && a);
        FUZZ_CHECK(gsgd_model_feature_name(m2, j, &b) == GSGD_STATUS_OK && b && strcmp(a, b) == 0);
    }
    /* The label map (version 2 files) read back as it was. */
    for (int c = 0; c < k; c++) {
        const char *a = NULL, *b = NULL;
        FUZZ_CHECK(gsgd_model_label(m, c, &a) == GSGD_STATUS_OK && a);
        FUZZ_CHECK(gsgd_model_label(m2, c, &b) == GSGD_STATUS_OK && b && strcmp(a, b) == 0);
    }
    gsgd_model_free(m2);

    evaluate(ctx, m, d, k);
    gsgd_model_free(m);
    fuzz_check_no_leak(ctx);
    return 0;
}
