/*
 * Data-parallel replicas of the trainer (gsgd_trainer_set_replica and the
 * gradient hook), without MPI: R threads, each with its own context as the
 * API asks, stand in for R ranks, and the hook sums their gradients the way
 * one MPI_Allreduce would. The reference is one lone trainer with the
 * global batch.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "gsgd.h"
#include "testutil.h"

#define N 100
#define D 4
#define K 3
#define MAX_R 4
#define LR 0.1

/* Features uniform in [-1, 1] (so |x| <= 1, which the error bound uses)
 * and labels from a fixed linear teacher: a learnable problem. */
static float X[N * D], Y[N];

static void make_data(void) {
    uint64_t s = 12345;
    for (size_t i = 0; i < N * D; i++) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        X[i] = (float)((double)(s >> 11) / 9007199254740992.0 * 2.0 - 1.0);
    }
    for (size_t i = 0; i < N; i++) {
        double best = -1e300;
        for (int k = 0; k < K; k++) {
            double z = 0;
            for (int j = 0; j < D; j++) z += X[i * D + j] * (double)((k + 1) * (j % 2 ? 1 : -1));
            if (z > best) best = z, Y[i] = (float)k;
        }
    }
}

/* Trains one model on (Xs, ys) for the given epochs; returns its params. */
typedef struct {
    const float *X, *y;
    size_t n;
    int batch, epochs, rank, n_replicas, shard;
    gsgd_grad_hook_fn hook;
    void *hook_user;
    float params[(D + 1) * K];
    gsgd_status st;
} job;

static void *run_job(void *arg) {
    job *j = arg;
    gsgd_context *ctx = NULL;
    gsgd_dataset *ds = NULL;
    gsgd_model *m = NULL;
    gsgd_options *o = NULL;
    gsgd_trainer *tr = NULL;
    j->st = gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0);
    if (j->st == GSGD_STATUS_OK) j->st = gsgd_dataset_from_host(ctx, j->X, j->y, j->n, D, K, &ds);
    if (j->st == GSGD_STATUS_OK) j->st = gsgd_model_create(ctx, "softmax", D, K, 7, &m);
    if (j->st == GSGD_STATUS_OK) j->st = gsgd_options_create(&o);
    if (j->st == GSGD_STATUS_OK) {
        gsgd_set(o, GSGD_LR, LR);
        gsgd_set(o, GSGD_BATCH, j->batch);
        gsgd_set(o, GSGD_SEED, 3);
        j->st = gsgd_trainer_create(m, ds, o, &tr);
    }
    if (j->st == GSGD_STATUS_OK)
        j->st = gsgd_trainer_set_replica(tr, j->rank, j->n_replicas, j->shard);
    if (j->st == GSGD_STATUS_OK) j->st = gsgd_trainer_set_grad_hook(tr, j->hook, j->hook_user);
    for (int e = 0; e < j->epochs && j->st == GSGD_STATUS_OK; e++)
        j->st = gsgd_train_epoch(tr, NULL);
    float *p = NULL;
    size_t n = 0;
    if (j->st == GSGD_STATUS_OK) j->st = gsgd_model_params(m, &p, &n, NULL);
    if (j->st == GSGD_STATUS_OK) memcpy(j->params, p, n * sizeof(float));
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
    return NULL;
}

/* The in-process "allreduce": every replica publishes its gradient, waits,
 * then sums the slots in rank order, so all replicas get the same bits. */
typedef struct {
    int R;
    pthread_barrier_t barrier;
    float slot[MAX_R][(D + 1) * K];
    int calls[MAX_R];
} reduction;

typedef struct {
    reduction *red;
    int rank;
} hook_arg;

static gsgd_status sum_over_replicas(float *grads, size_t n, void *stream, void *user) {
    (void)stream;
    hook_arg *a = user;
    reduction *r = a->red;
    memcpy(r->slot[a->rank], grads, n * sizeof(float));
    pthread_barrier_wait(&r->barrier);
    for (size_t i = 0; i < n; i++) {
        float s = 0.0f;
        for (int q = 0; q < r->R; q++) s += r->slot[q][i];
        grads[i] = s;
    }
    r->calls[a->rank]++;
    pthread_barrier_wait(&r->barrier); /* nobody overwrites a slot still being read */
    return GSGD_STATUS_OK;
}

/* Runs R replicas on threads; shard != 0 gives replica r the rows r, r+R,... */
static void run_replicas(int R, int batch, int epochs, int shard, job *jobs, reduction *red) {
    static float Xs[MAX_R][N * D], Ys[MAX_R][N];
    pthread_t th[MAX_R];
    hook_arg args[MAX_R];
    red->R = R;
    pthread_barrier_init(&red->barrier, NULL, (unsigned)R);
    for (int r = 0; r < R; r++) {
        job *j = &jobs[r];
        *j = (job){.X = X,
                   .y = Y,
                   .n = N,
                   .batch = batch,
                   .epochs = epochs,
                   .rank = r,
                   .n_replicas = R,
                   .shard = shard,
                   .hook = sum_over_replicas};
        if (shard) {
            j->n = N / R;
            for (size_t i = 0; i < j->n; i++) {
                memcpy(Xs[r] + i * D, X + (r + i * R) * D, D * sizeof(float));
                Ys[r][i] = Y[r + i * R];
            }
            j->X = Xs[r];
            j->y = Ys[r];
        }
        args[r] = (hook_arg){red, r};
        j->hook_user = &args[r];
        cr_assert_eq(pthread_create(&th[r], NULL, run_job, j), 0);
    }
    for (int r = 0; r < R; r++) pthread_join(th[r], NULL);
    pthread_barrier_destroy(&red->barrier);
    for (int r = 0; r < R; r++)
        cr_assert_eq(jobs[r].st, GSGD_STATUS_OK, "replica %d: %s", r,
                     gsgd_status_string(jobs[r].st));
}

/* See testutil.h for the derivation (|x_ij| <= 1 here by construction). */
static double tolerance(int G, int T) { return tu_softmax_sgd_order_bound(G, T, LR, D); }

static double max_abs_diff(const float *a, const float *b) {
    double m = 0;
    for (int i = 0; i < (D + 1) * K; i++) m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

static void expect_replicas_match_lone_run(int R, int batch, int epochs) {
    make_data();
    job lone = {.X = X, .y = Y, .n = N, .batch = batch * R, .epochs = epochs, .n_replicas = 1};
    run_job(&lone);
    cr_assert_eq(lone.st, GSGD_STATUS_OK);
    job jobs[MAX_R];
    static reduction red;
    memset(&red, 0, sizeof red);
    run_replicas(R, batch, epochs, 0, jobs, &red);
    const int G = batch * R, T = epochs * ((N + G - 1) / G);
    cr_expect_eq(red.calls[0], T, "one reduction per step: %d calls for %d steps", red.calls[0], T);
    for (int r = 1; r < R; r++)
        cr_expect_eq(memcmp(jobs[r].params, jobs[0].params, sizeof jobs[0].params), 0,
                     "replica %d ends with the same bits as replica 0", r);
    double diff = max_abs_diff(jobs[0].params, lone.params), tol = tolerance(G, T);
    /* The runs must have moved far from the shared initialisation for the
     * comparison to mean anything. */
    job untrained = lone;
    untrained.epochs = 0;
    run_job(&untrained);
    cr_expect_gt(max_abs_diff(untrained.params, lone.params), 1000 * tol);
    cr_expect_leq(diff, tol, "max |replica - lone| = %g > bound %g (G=%d, T=%d)", diff, tol, G, T);
}

Test(train_replica, three_replicas_equal_one_process_with_three_times_the_batch) {
    /* G = 21: the last batch of each epoch has 16 rows, split 5/5/6. */
    expect_replicas_match_lone_run(3, 7, 2);
}

Test(train_replica, replicas_with_empty_slices_of_a_short_last_batch_still_match) {
    /* G = 33: the last batch has 1 row, so two replicas contribute zeros. */
    expect_replicas_match_lone_run(3, 11, 2);
}

Test(train_replica, full_batch_shards_equal_full_batch_gradient_descent) {
    /* With BATCH >= shard size each step sees every shard whole, whatever
     * the shard's permutation: the global step is full-batch descent on
     * the union of the shards (here all N rows). */
    make_data();
    job lone = {.X = X, .y = Y, .n = N, .batch = N, .epochs = 6, .n_replicas = 1};
    run_job(&lone);
    cr_assert_eq(lone.st, GSGD_STATUS_OK);
    job jobs[MAX_R];
    static reduction red;
    memset(&red, 0, sizeof red);
    run_replicas(2, N / 2, 6, 1, jobs, &red);
    double diff = max_abs_diff(jobs[0].params, lone.params), tol = tolerance(N, 6);
    cr_expect_leq(diff, tol, "max |sharded - lone| = %g > bound %g", diff, tol);
    cr_expect_eq(memcmp(jobs[1].params, jobs[0].params, sizeof jobs[0].params), 0);
}

static gsgd_status failing_hook(float *grads, size_t n, void *stream, void *user) {
    (void)grads, (void)n, (void)stream, (void)user;
    return GSGD_STATUS_IO;
}

Test(train_replica, a_failing_hook_stops_training_with_its_status) {
    make_data();
    job j = {
        .X = X, .y = Y, .n = N, .batch = 10, .epochs = 1, .n_replicas = 1, .hook = failing_hook};
    run_job(&j);
    cr_expect_eq(j.st, GSGD_STATUS_IO);
}

Test(train_replica, bad_replica_settings_are_refused) {
    make_data();
    gsgd_context *ctx;
    gsgd_dataset *ds;
    gsgd_model *m;
    gsgd_options *o;
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, Y, N, D, K, &ds), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", D, K, 1, &m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_trainer_set_replica(tr, 2, 2, 0), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_replica(tr, -1, 2, 0), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_replica(tr, 0, 0, 0), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_replica(tr, 0, 2, 2), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_replica(NULL, 0, 1, 0), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_trainer_set_replica(tr, 1, 2, 0), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_train_epoch(tr, NULL), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_trainer_set_replica(tr, 0, 1, 0), GSGD_STATUS_INVALID_ARGUMENT,
                 "the schedule cannot change after the first step");
    cr_expect(strstr(gsgd_last_error(ctx), "already taken") != NULL, "%s", gsgd_last_error(ctx));
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
}
