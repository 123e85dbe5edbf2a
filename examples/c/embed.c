/* Embedding gsgd: train softmax regression on the caller's own arrays, then
 * use the fused optimizer step on a buffer gsgd does not own.
 *   cc embed.c $(pkg-config --cflags --libs gsgd)   # or find_package(gsgd)
 *   ./embed [PARAMS.bin]   (writes the trained and the updated floats there)
 * examples/fortran/train.f90 does the same from Fortran, bit for bit. */
#include <gsgd.h>
#include <stdio.h>

#define N 600
#define D 8
#define K 3
#define CHECK(call)                                                                                \
    do {                                                                                           \
        gsgd_status s_ = (call);                                                                   \
        if (s_ != GSGD_STATUS_OK) {                                                                \
            fprintf(stderr, "%s: %s: %s\n", #call, gsgd_status_name(s_), gsgd_last_error(ctx));    \
            return 1;                                                                              \
        }                                                                                          \
    } while (0)

int main(int argc, char **argv) {
    /* Data from integer formulas, so that Fortran can build the same bits:
     * features in [-0.99, 0.99], labels from a fixed linear teacher. */
    static float X[N * D], y[N];
    for (int i = 0; i < N; i++) {
        int best = 0, score[K] = {0};
        for (int j = 0; j < D; j++) {
            int q = (i * 37 + j * 101 + i * j * 7) % 199 - 99;
            X[i * D + j] = (float)q / 100.0f;
            for (int k = 0; k < K; k++) score[k] += ((k * 5 + j * 3) % 7 - 3) * q;
        }
        for (int k = 1; k < K; k++)
            if (score[k] > score[best]) best = k;
        y[i] = (float)best;
    }
    gsgd_context *ctx = NULL;
    gsgd_dataset *ds;
    gsgd_model *model;
    gsgd_options *opts;
    gsgd_trainer *tr;
    gsgd_train_result res;
    gsgd_eval_result ev;
    CHECK(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0)); /* host arrays below */
    CHECK(gsgd_dataset_from_host(ctx, X, y, N, D, K, &ds));
    CHECK(gsgd_model_create(ctx, "softmax", D, K, 42, &model));
    CHECK(gsgd_options_create(&opts));
    CHECK(gsgd_set(opts, GSGD_LR, 0.5));
    CHECK(gsgd_set(opts, GSGD_BATCH, 32));
    CHECK(gsgd_set(opts, GSGD_EPOCHS, 5));
    CHECK(gsgd_set(opts, GSGD_SEED, 42));
    CHECK(gsgd_trainer_create(model, ds, opts, &tr));
    CHECK(gsgd_train(tr, NULL, NULL, NULL, &res));
    CHECK(gsgd_evaluate(model, ds, &ev));
    printf("gsgd %s: %zu steps, train loss %.4f, train accuracy %.3f\n", gsgd_version_string(),
           res.steps, res.train_loss, ev.accuracy);

    /* The caller's own parameters and gradient: 100 momentum steps on
     * f(w) = |w - 1|^2 / 2, whose gradient is w - 1. */
    float w[4] = {0, 0, 0, 0}, g[4];
    gsgd_optimizer *opt;
    CHECK(gsgd_set(opts, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM));
    CHECK(gsgd_set(opts, GSGD_LR, 0.1));
    CHECK(gsgd_optimizer_create(ctx, opts, 4, &opt));
    for (int t = 0; t < 100; t++) {
        for (int i = 0; i < 4; i++) g[i] = w[i] - 1.0f;
        CHECK(gsgd_optimizer_step(opt, w, g, 4, NULL));
    }
    printf("own buffer after 100 momentum steps: w[0] = %.4f (minimum at 1)\n", w[0]);

    float *p;
    size_t n;
    CHECK(gsgd_model_params(model, &p, &n, NULL));
    FILE *f = argc > 1 ? fopen(argv[1], "wb") : NULL;
    if (argc > 1 && (!f || fwrite(p, sizeof *p, n, f) != n || fwrite(w, sizeof w, 1, f) != 1 ||
                     fclose(f) != 0)) {
        fprintf(stderr, "cannot write %s\n", argv[1]);
        return 1;
    }
    gsgd_optimizer_free(opt);
    gsgd_trainer_free(tr);
    gsgd_options_free(opts);
    gsgd_model_free(model);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
    /* Both problems are easy: fail loudly if either was not solved. */
    return ev.accuracy > 0.9 && w[0] > 0.99f && w[0] < 1.01f ? 0 : 1;
}
