/*
 * Writes the seed corpora of the harnesses that read binary files the
 * library writes (model files, checkpoints) into DIR/<harness>/: small
 * files of every kind the format has (each model family, a standardiser,
 * optimizer state of 0 to 2 buffers, an average, a stop mid-epoch, label
 * maps of integers and of texts). Run it again after a format change:
 * scripts/fuzz --seeds. The seeds of format version 1 (v1_*) were written
 * by the code before label maps and are kept: version 1 still loads.
 * Usage: make_corpus DIR
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gsgd.h"

#define CHECK(call)                                                                                \
    do {                                                                                           \
        gsgd_status st_ = (call);                                                                  \
        if (st_ != GSGD_STATUS_OK) {                                                               \
            fprintf(stderr, "make_corpus: %s: %s\n", #call, gsgd_last_error(ctx));                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static gsgd_context *ctx;
static char dir[1024];

/* Copies file from to DIR/harness/name with the harness's mode byte 0
 * (CRC put right) in front. */
static void add(const char *harness, const char *name, const char *from) {
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, harness);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) exit(1);
    snprintf(path, sizeof path, "%s/%s/%s", dir, harness, name);
    FILE *in = fopen(from, "rb"), *out = fopen(path, "wb");
    if (!in || !out) exit(1);
    fputc(0, out);
    int c;
    while ((c = fgetc(in)) != EOF) fputc(c, out);
    fclose(in);
    if (fclose(out) != 0) exit(1);
    remove(from);
}

static int stop_mid_epoch(const gsgd_progress *p, void *user) {
    (void)user;
    return p->epoch == 2 && p->step > 0 && !p->epoch_done;
}

/* Trains spec on data (a spec) with the options given as (param, value)
 * pairs and writes a checkpoint, and the model file of the same model;
 * a classifier keeps the data's label map, as gsgd train does. */
static void run(const char *name, const char *data, const char *spec, int standardize,
                int stop_early, const double *pv, int npv) {
    gsgd_dataset *tr, *te;
    gsgd_model *m;
    gsgd_options *o;
    gsgd_trainer *t;
    size_t d;
    int k;
    te = NULL;
    CHECK(gsgd_dataset_load(ctx, data, &tr, &te));
    CHECK(gsgd_dataset_shape(tr, NULL, &d, &k));
    CHECK(gsgd_model_create(ctx, spec, d, k, 3, &m));
    if (k) CHECK(gsgd_model_set_labels(m, tr));
    if (standardize) CHECK(gsgd_model_fit_standardizer(m, tr));
    CHECK(gsgd_options_create(&o));
    CHECK(gsgd_set(o, GSGD_BATCH, 8));
    CHECK(gsgd_set(o, GSGD_EPOCHS, 2));
    for (int i = 0; i < npv; i += 2) CHECK(gsgd_set(o, (gsgd_param)pv[i], pv[i + 1]));
    if (stop_early) CHECK(gsgd_set(o, GSGD_CHECK_EVERY, 1));
    CHECK(gsgd_trainer_create(m, tr, o, &t));
    gsgd_train_result r;
    gsgd_status st = gsgd_train(t, NULL, stop_early ? stop_mid_epoch : NULL, NULL, &r);
    if (st != GSGD_STATUS_OK && !(stop_early && st == GSGD_STATUS_INTERRUPTED)) CHECK(st);
    char tmp[1100], file[256];
    snprintf(tmp, sizeof tmp, "%s/tmp.bin", dir);
    CHECK(gsgd_trainer_save(t, tmp));
    snprintf(file, sizeof file, "%s.ckpt", name);
    add("fuzz_checkpoint", file, tmp);
    CHECK(gsgd_trainer_save(t, tmp)); /* gsgd_model_load reads checkpoints too */
    add("fuzz_model_file", file, tmp);
    CHECK(gsgd_model_save(m, tmp));
    snprintf(file, sizeof file, "%s.gsgd", name);
    add("fuzz_model_file", file, tmp);
    gsgd_trainer_free(t);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: make_corpus DIR\n");
        return 2;
    }
    snprintf(dir, sizeof dir, "%s", argv[1]);
    if (gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0) != GSGD_STATUS_OK) return 1;
    const double sgd[] = {GSGD_OPTIMIZER, GSGD_OPTIM_SGD};
    const double mom[] = {GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM, GSGD_MOMENTUM, 0.9};
    const double adam_avg[] = {GSGD_OPTIMIZER, GSGD_OPTIM_ADAM, GSGD_AVERAGE, 2};
    run("softmax_sgd", "synth:40,3,3:seed=1", "softmax", 0, 0, sgd, 2);
    run("logistic_mom_std", "synth:40,3,2:seed=2", "logistic", 1, 0, mom, 4);
    run("linear_regression", "synth:40,2,1:seed=3", "linear", 0, 0, sgd, 2);
    run("hinge_adam_avg", "synth:40,3,3:seed=4", "hinge", 0, 0, adam_avg, 4);
    run("mlp_mid_epoch", "synth:40,3,3:seed=5", "mlp:4,3", 1, 1, mom, 4);
    /* Label maps of other integers and of texts, from a CSV. */
    char csv[1100], spec[1200];
    snprintf(csv, sizeof csv, "%s/labels.csv", dir);
    FILE *f = fopen(csv, "w");
    if (!f) return 1;
    fprintf(f, "label,a,b\n");
    for (int i = 0; i < 30; i++) fprintf(f, "%s,%d,%d\n", i % 3 ? "dog" : "cat", i % 7, i % 5 - 2);
    fclose(f);
    run("text_labels", csv, "softmax", 0, 0, sgd, 2);
    f = fopen(csv, "w");
    if (!f) return 1;
    for (int i = 0; i < 30; i++) fprintf(f, "%d,%d,%d\n", i % 3 ? 7 : -3, i % 7, i % 5 - 2);
    fclose(f);
    snprintf(spec, sizeof spec, "csv:%s", csv);
    run("labels_m3_7", spec, "logistic", 1, 0, adam_avg, 4);
    remove(csv);
    gsgd_context_free(ctx);
    return 0;
}
