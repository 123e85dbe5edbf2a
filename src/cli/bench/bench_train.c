/* Time to target and the gradient noise scale (see bench_train.h). */
#include "cli/bench/bench_train.h"

#include <math.h>
#include <stdlib.h>

#include "train/step.h"
#include "core/memory.h"
#include "core/error.h"

/* A fresh model as gsgd train makes it: one seed for init and shuffle,
 * the standardisation STANDARDIZE decides on the training set. */
static gsgd_status fresh_model(gsgd_context *ctx, const char *spec, const gsgd_dataset *train,
                               const gsgd_options *opts, gsgd_model **m) {
    size_t d = 0;
    int k = 0;
    GSGD_FORWARD_IF_ERROR(gsgd_dataset_shape(train, NULL, &d, &k));
    GSGD_FORWARD_IF_ERROR(gsgd_model_create(ctx, spec, d, k, (uint64_t)opts->v[GSGD_SEED], m));
    gsgd_status st = gsgd_model_standardize(*m, train, opts, NULL, NULL);
    if (st != GSGD_STATUS_OK) {
        gsgd_model_free(*m);
        *m = NULL;
    }
    return st;
}

/* Trains m on train with opts at batch B for epochs epochs. */
static gsgd_status train_for(gsgd_model *m, const gsgd_dataset *train, const gsgd_dataset *test,
                             const gsgd_options *opts, size_t B, double target, int epochs,
                             gsgd_train_result *r) {
    gsgd_options o = *opts;
    gsgd_trainer *tr = NULL;
    GSGD_FORWARD_IF_ERROR(gsgd_set(&o, GSGD_BATCH, (double)B));
    GSGD_FORWARD_IF_ERROR(gsgd_set(&o, GSGD_EPOCHS, epochs));
    GSGD_FORWARD_IF_ERROR(gsgd_set(&o, GSGD_TARGET_ACC, target));
    GSGD_FORWARD_IF_ERROR(gsgd_trainer_create(m, train, &o, &tr));
    gsgd_status st = gsgd_train(tr, test, NULL, NULL, r);
    gsgd_trainer_free(tr);
    return st;
}

gsgd_status bench_time_to_target(gsgd_context *ctx, const char *spec, const gsgd_dataset *train,
                                 const gsgd_dataset *test, const gsgd_options *opts, size_t B,
                                 double target, int epochs, bench_point *pt, int *diverged) {
    gsgd_model *m = NULL;
    *diverged = 0;
    GSGD_FORWARD_IF_ERROR(fresh_model(ctx, spec, train, opts, &m));
    gsgd_train_result r;
    gsgd_status st = train_for(m, train, test, opts, B, target, epochs, &r);
    gsgd_model_free(m);
    if (st == GSGD_STATUS_DIVERGED) {
        *diverged = 1;
        pt->ttt_reached = 0;
        pt->ttt_epochs = 0;
        pt->ttt_steps = 0;
        pt->ttt_s = pt->ttt_accuracy = pt->ttt_lr = NAN;
        return GSGD_STATUS_OK;
    }
    GSGD_FORWARD_IF_ERROR(st);
    pt->ttt_reached = isfinite(r.time_to_target_s) ? 1 : 0;
    pt->ttt_epochs = r.epochs;
    pt->ttt_steps = r.steps;
    pt->ttt_s = r.time_to_target_s;
    pt->ttt_accuracy = r.test_accuracy;
    pt->ttt_lr = r.lr;
    return GSGD_STATUS_OK;
}

/* The gradient the trainer takes of the next b rows of the shuffle; a new
 * epoch's permutation when the current one has fewer than b left, so no
 * batch repeats a row. */
static gsgd_status next_batch(gsgd_trainer *tr, uint64_t seed, uint64_t *epoch, size_t *pos,
                              size_t b) {
    const size_t n = tr->train->n;
    if (*pos + b > n) {
        ++*epoch;
        *pos = 0;
        GSGD_FORWARD_IF_ERROR(
            tr->ctx->be->permutation(tr->ctx, seed, *epoch, n, tr->perm, tr->perm_scratch));
    }
    const gsgdi_step st = {.lo = *pos, .b = b, .global = b};
    GSGD_FORWARD_IF_ERROR(gsgdi_step_gradient(tr, &st, NULL));
    GSGD_FORWARD_IF_ERROR(gsgdi_step_flat_gradient(tr)); /* sparse: the compact rows too */
    *pos += b;
    return GSGD_STATUS_OK;
}

static double squared_norm(const float *g, size_t n) {
    double s = 0.0;
    for (size_t i = 0; i < n; i++) s += (double)g[i] * (double)g[i];
    return s;
}

gsgd_status bench_noise_scale(gsgd_context *ctx, const char *spec, const gsgd_dataset *train,
                              const gsgd_options *opts, size_t b_small, size_t b_big, int epochs,
                              int samples, noise_estimate *out) {
    gsgd_model *m = NULL;
    gsgd_trainer *tr = NULL;
    float *host = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, fresh_model(ctx, spec, train, opts, &m), done);
    if (epochs > 0) {
        gsgd_train_result r;
        GSGD_CHECK_GOTO(st, train_for(m, train, NULL, opts, b_small, 0.0, epochs, &r), done);
    }
    GSGD_CHECK_GOTO(st, gsgdi_trainer_alloc(m, train, opts, b_big, &tr), done);
    GSGD_CHECK_GOTO(st, gsgdi_step_prepare_probe(tr), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, m->n_params * sizeof(float), (void **)&host), done);
    const size_t n = train->n;
    noise_acc acc;
    noise_init(&acc, noise_inverse_batch(b_small, n), noise_inverse_batch(b_big, n));
    uint64_t seed = (uint64_t)opts->v[GSGD_SEED], epoch = 0;
    size_t pos = 0;
    for (int i = 0; i < samples; i++) {
        for (int big = 0; big < 2; big++) {
            GSGD_CHECK_GOTO(st, next_batch(tr, seed, &epoch, &pos, big ? b_big : b_small), done);
            GSGD_CHECK_GOTO(
                st, ctx->be->download(ctx, host, tr->grads, m->n_params * sizeof(float)), done);
            (big ? noise_add_big : noise_add_small)(&acc, squared_norm(host, m->n_params));
        }
    }
    if (noise_estimate_get(&acc, out) != 0)
        st = GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                        "noise scale: needs at least 2 samples of batches %zu < %zu", b_small,
                        b_big);
done:
    free(host);
    gsgdi_trainer_release(tr);
    gsgd_model_free(m);
    return st;
}
