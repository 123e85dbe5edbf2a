/*
 * One training run with any library parameter set by name, for the grid
 * of bench/defaults_grid.py: what `gsgd train` does (one seed for the
 * initialisation and the shuffle, --test replacing the spec's test part),
 * through the public API only, so that parameters the command line does
 * not expose yet are reachable. Prints one JSON object on stdout.
 *
 *   gsgd_train_params DATA TEST|- MODEL [device=cpu|cuda|auto] [NAME=VALUE ...]
 *
 * NAME is a gsgd_param_name ("epochs", "schedule", "min_steps", ...);
 * VALUE a number (enums by their value: schedule=3 is cosine).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsgd.h"

static int fail(gsgd_context *ctx, gsgd_status st, const char *what) {
    fprintf(stderr, "train_params: %s: %s (%s)\n", what, gsgd_last_error(ctx),
            gsgd_status_name(st));
    return st == GSGD_STATUS_DIVERGED ? 3 : 1;
}

static int set_by_name(gsgd_options *o, const char *arg) {
    const char *eq = strchr(arg, '=');
    if (!eq) return -1;
    for (int p = 0; gsgd_param_name((gsgd_param)p); p++) {
        const char *name = gsgd_param_name((gsgd_param)p);
        if (strlen(name) == (size_t)(eq - arg) && strncmp(name, arg, (size_t)(eq - arg)) == 0) {
            char *end;
            double v = strtod(eq + 1, &end);
            if (*end || gsgd_set(o, (gsgd_param)p, v) != GSGD_STATUS_OK) return -1;
            return 0;
        }
    }
    return -1;
}

/* JSON has no NaN: null. */
static void num(const char *key, double v, int last) {
    if (isfinite(v))
        printf("\"%s\": %.17g%s", key, v, last ? "" : ", ");
    else
        printf("\"%s\": null%s", key, last ? "" : ", ");
}

int main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: %s DATA TEST|- MODEL [device=cpu|cuda|auto] [NAME=VALUE ...]\n",
                argv[0]);
        return 2;
    }
    gsgd_device dev = GSGD_DEVICE_CPU;
    gsgd_options *o = NULL;
    if (gsgd_options_create(&o) != GSGD_STATUS_OK) return 1;
    for (int i = 4; i < argc; i++) {
        if (strncmp(argv[i], "device=", 7) == 0) {
            const char *d = argv[i] + 7;
            dev = strcmp(d, "cuda") == 0   ? GSGD_DEVICE_CUDA
                  : strcmp(d, "auto") == 0 ? GSGD_DEVICE_AUTO
                                           : GSGD_DEVICE_CPU;
        } else if (set_by_name(o, argv[i]) != 0) {
            fprintf(stderr, "train_params: '%s' is not NAME=VALUE of a parameter in range\n",
                    argv[i]);
            return 2;
        }
    }
    gsgd_context *ctx = NULL;
    gsgd_dataset *train = NULL, *test = NULL, *t2 = NULL, *t3 = NULL;
    gsgd_model *m = NULL;
    gsgd_trainer *tr = NULL;
    gsgd_train_result r;
    int rc = 0;
    gsgd_status st = gsgd_context_create(&ctx, dev, 0);
    if (st != GSGD_STATUS_OK) return fail(NULL, st, "context");
    st = gsgd_dataset_load(ctx, argv[1], &train, &test);
    if (st == GSGD_STATUS_OK && strcmp(argv[2], "-") != 0) {
        gsgd_dataset_free(test); /* TEST's training part replaces DATA's test part */
        st = gsgd_dataset_load(ctx, argv[2], &t2, &t3);
        test = t2;
    }
    size_t d = 0;
    int k = 0;
    double seed = 0, ratio = NAN;
    int standardized = 0;
    gsgd_get(o, GSGD_SEED, &seed);
    if (st == GSGD_STATUS_OK) st = gsgd_dataset_shape(train, NULL, &d, &k);
    if (st == GSGD_STATUS_OK) st = gsgd_model_create(ctx, argv[3], d, k, (uint64_t)seed, &m);
    /* What gsgd_trainer_create would decide, measured here to report it. */
    if (st == GSGD_STATUS_OK) st = gsgd_model_standardize(m, train, o, &standardized, &ratio);
    if (st == GSGD_STATUS_OK) st = gsgd_trainer_create(m, train, o, &tr);
    if (st == GSGD_STATUS_OK) st = gsgd_train(tr, test, NULL, NULL, &r);
    if (st != GSGD_STATUS_OK) {
        rc = fail(ctx, st, argv[1]);
    } else {
        printf("{");
        num("test_accuracy", r.test_accuracy, 0);
        num("test_loss", r.test_loss, 0);
        num("train_loss", r.train_loss, 0);
        printf("\"epochs\": %d, \"steps\": %zu, \"batch\": %zu, ", r.epochs, r.steps, r.batch);
        num("seconds", r.seconds, 0);
        num("samples_per_second", r.samples_per_second, 0);
        num("time_to_target_s", r.time_to_target_s, 0);
        num("lr", r.lr, 0);
        num("scale_ratio", ratio, 0);
        printf("\"standardized\": %d, \"stop_reason\": %d, \"cooldown_epochs\": %d, "
               "\"stopped_early\": %d, \"device\": \"%s\"}\n",
               standardized, r.stop_reason, r.cooldown_epochs, r.stopped_early,
               gsgd_context_device(ctx) == GSGD_DEVICE_CUDA ? "cuda" : "cpu");
    }
    gsgd_trainer_free(tr);
    gsgd_model_free(m);
    gsgd_dataset_free(test);
    gsgd_dataset_free(t3);
    gsgd_dataset_free(train);
    gsgd_options_free(o);
    gsgd_context_free(ctx);
    return rc;
}
