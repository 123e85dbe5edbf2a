/*
 * Checkpoints and resuming (src/io/checkpoint.c, checkpoint_resume.c).
 * Input: a mode byte, then the file. Unless mode bit 0 is set, the
 * trailing CRC32 is put right so that mutations reach the checks behind
 * it. Every reader of a checkpoint runs on it: gsgd_checkpoint_options,
 * gsgd_model_load, and, when the checkpoint is of a small run, a trainer
 * of its model with its options on data of its shape resumes from it (as
 * new data when its labels are not the data's), trains one epoch and saves
 * again, and the new checkpoint reads back.
 */
#include <math.h>

#include "fuzz_common.h"

/* Fields of the fixed header (layout: src/io/checkpoint.c). */
static uint64_t u64_at(const unsigned char *p, size_t len, size_t off) {
    uint64_t v = 0;
    if (off + 8 <= len) memcpy(&v, p + off, 8);
    return v;
}

/* n rows of d features and targets for k classes (0: regression). */
static gsgd_dataset *make_data(gsgd_context *ctx, size_t n, size_t d, int k) {
    float *X = malloc(n * d * sizeof(float)), *y = malloc(n * sizeof(float));
    FUZZ_CHECK(X && y);
    for (size_t i = 0; i < n * d; i++) X[i] = (float)((i * 2654435761u) % 1000) / 500.0f - 1.0f;
    for (size_t i = 0; i < n; i++) y[i] = k ? (float)(i % (size_t)k) : (float)i / (float)n;
    gsgd_dataset *ds = NULL;
    gsgd_status st = gsgd_dataset_from_host(ctx, X, y, n, d, k, &ds);
    fuzz_check_failure(ctx, st);
    free(X);
    free(y);
    return ds;
}

/* Resumes a trainer of m (the checkpoint's model, as gsgd train --resume
 * loads it) from path on data of its shape, trains an epoch and saves; the
 * new file must read back. */
static void resume(gsgd_context *ctx, const char *path, gsgd_options *opts, gsgd_model *m, size_t d,
                   int k, size_t n_train) {
    gsgd_dataset *ds = make_data(ctx, n_train, d, k);
    if (!ds) return;
    gsgd_trainer *tr = NULL;
    gsgd_set(opts, GSGD_EPOCHS, 1);
    gsgd_status st = gsgd_trainer_create(m, ds, opts, &tr);
    fuzz_check_failure(ctx, st);
    if (tr) {
        /* The data's labels are the class indices: a checkpoint with other
         * labels resumes on it as new data, or is refused. */
        st = gsgd_trainer_resume(tr, path);
        fuzz_check_failure(ctx, st);
        if (st != GSGD_STATUS_OK) {
            st = gsgd_trainer_resume_new_data(tr, path);
            fuzz_check_failure(ctx, st);
        }
        if (st == GSGD_STATUS_OK) {
            gsgd_train_result r;
            st = gsgd_train(tr, NULL, NULL, NULL, &r);
            fuzz_check_failure(ctx, st);
            const char *again = fuzz_path("again.ckpt", 1);
            st = gsgd_trainer_save(tr, again);
            fuzz_check_failure(ctx, st);
            FUZZ_CHECK(st == GSGD_STATUS_OK);
            int epochs = -1;
            st = gsgd_checkpoint_options(ctx, again, NULL, &epochs, NULL);
            fuzz_check_failure(ctx, st);
            FUZZ_CHECK(st == GSGD_STATUS_OK && epochs >= 0);
        }
        gsgd_trainer_free(tr);
    }
    gsgd_dataset_free(ds);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    gsgd_context *ctx = fuzz_context();
    const size_t len = size - 1;
    unsigned char *img = malloc(size);
    FUZZ_CHECK(img != NULL);
    memcpy(img, data + 1, len);
    if (!(data[0] & 1)) fuzz_fix_crc(img, len);
    const char *path = fuzz_write("run.ckpt", 0, img, len);

    gsgd_options *opts = NULL;
    FUZZ_CHECK(gsgd_options_create(&opts) == GSGD_STATUS_OK);
    int epochs = -1;
    size_t epoch_step = 0;
    gsgd_status st_opts = gsgd_checkpoint_options(ctx, path, opts, &epochs, &epoch_step);
    fuzz_check_failure(ctx, st_opts);
    FUZZ_CHECK(st_opts != GSGD_STATUS_OK || epochs >= 0);

    gsgd_model *m = NULL;
    gsgd_status st = gsgd_model_load(ctx, path, &m);
    fuzz_check_failure(ctx, st);
    /* Both readers parse the same header: a file one accepts as a
     * checkpoint, the other does too. */
    if (st_opts == GSGD_STATUS_OK) FUZZ_CHECK(st == GSGD_STATUS_OK);
    if (st == GSGD_STATUS_OK && st_opts == GSGD_STATUS_OK) {
        const char *spec = NULL;
        size_t d = 0;
        int k = -1;
        FUZZ_CHECK(gsgd_model_shape(m, &spec, &d, &k) == GSGD_STATUS_OK);
        size_t n_params = 0;
        float *p;
        gsgd_model_params(m, &p, &n_params, NULL);
        const uint64_t n_train = u64_at(img, len, 184);
        if (n_train >= 1 && n_train <= 256 && d <= 64 && k <= 16 && n_params <= (1u << 16))
            resume(ctx, path, opts, m, d, k, (size_t)n_train);
    }
    gsgd_model_free(m);
    gsgd_options_free(opts);
    free(img);
    fuzz_check_no_leak(ctx);
    return 0;
}
