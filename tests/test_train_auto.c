/*
 * Epochs auto (EPOCHS 0, the default; loop.c): training goes on until the
 * monitored loss stops improving by TOL for N_ITER_NO_CHANGE epochs, not
 * before MIN_STEPS steps, at most MAX_EPOCHS epochs; under the default
 * COSINE the rate then decays over a cooldown of COOLDOWN x the epochs so
 * far and training stops at its end. gsgd_train_result says why it
 * stopped. Small synthetic sets, milliseconds per run.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>

#include "testutil.h"

/* 1600 training rows at the CPU's batch 64: 25 steps per epoch. */
#define DATA "synth:2000,10,3:seed=5"
#define STEPS_PER_EPOCH 25
#define MAX_RECORD 1000
static const double PI = 3.14159265358979323846;

typedef tu_fixture run;

/* The end of each epoch as the progress callback saw it. */
typedef struct {
    int n;
    double loss[MAX_RECORD], lr[MAX_RECORD];
    int planned[MAX_RECORD]; /* the last epoch the run could reach */
} record;

static int on_progress(const gsgd_progress *p, void *user) {
    record *rec = user;
    if (p->epoch_done && rec->n < MAX_RECORD) {
        rec->loss[rec->n] = p->loss;
        rec->lr[rec->n] = p->lr;
        rec->planned[rec->n++] = p->epochs;
    }
    return 0;
}

static gsgd_train_result train(run *r, record *rec) {
    cr_assert_eq(gsgd_trainer_create(r->model, r->train, r->opts, &r->tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
    gsgd_train_result res;
    memset(rec, 0, sizeof *rec);
    cr_assert_eq(gsgd_train(r->tr, r->test, on_progress, rec, &res), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
    return res;
}

/* The first epoch (1-based) after which scikit-learn's rule sees no
 * improvement by tol for n epochs in the losses, counting only epochs
 * whose steps reach min_steps; 0 if none. */
static int plateau_epoch(const record *rec, double tol, int n, double min_steps) {
    double best = NAN;
    int since = 0;
    for (int e = 0; e < rec->n; e++) {
        const double v = -rec->loss[e];
        since = isnan(best) || v > best + tol ? 0 : since + 1;
        if (isnan(best) || v > best) best = v;
        if (since >= n && (double)(e + 1) * STEPS_PER_EPOCH >= min_steps) return e + 1;
    }
    return 0;
}

Test(epochs_auto, stops_after_a_cooldown_that_follows_the_plateau) {
    run r;
    tu_fixture_start(&r, DATA, "softmax", 1);
    gsgd_set(r.opts, GSGD_MIN_STEPS, 0);
    gsgd_set(r.opts, GSGD_TOL, 0.01); /* a plateau within a few dozen epochs */
    gsgd_set(r.opts, GSGD_LR_MIN, 0.001);
    record rec;
    gsgd_train_result res = train(&r, &rec);
    const int E = plateau_epoch(&rec, 0.01, 5, 0);
    cr_assert(E > 5, "the rule never fired on the losses recorded (%d epochs)", rec.n);
    const int cd = (int)floor(0.2 * E + 0.5) < 1 ? 1 : (int)floor(0.2 * E + 0.5);
    cr_expect_eq(res.stop_reason, GSGD_STOP_CONVERGED);
    cr_expect_eq(res.stopped_early, 1);
    cr_expect_eq(res.cooldown_epochs, cd, "cooldown 0.2 of %d epochs", E);
    cr_expect_eq(res.epochs, E + cd, "plateau after epoch %d, then %d of cooldown", E, cd);
    cr_expect_eq(res.steps, (size_t)(E + cd) * STEPS_PER_EPOCH);
    /* The rate holds until the plateau, then falls to LR_MIN: the last
     * step of the cooldown is a sliver of its last epoch before its end. */
    for (int e = 0; e < E; e++) cr_expect(fabs(rec.lr[e] - 0.1) < 1e-7, "epoch %d", e + 1);
    for (int e = E; e < E + cd; e++) cr_expect_lt(rec.lr[e], rec.lr[e - 1]);
    const double last = 0.001 + 0.099 * 0.5 * (1 + cos(PI * (cd - 1.0 / STEPS_PER_EPOCH) / cd));
    cr_expect(fabs(rec.lr[E + cd - 1] - last) < 1e-7, "last rate %g, want %g", rec.lr[E + cd - 1],
              last);
    /* Progress said at most MAX_EPOCHS, then the cooldown's end. */
    cr_expect_eq(rec.planned[0], 1000);
    cr_expect_eq(rec.planned[E - 1], E + cd);
    cr_expect_eq(rec.planned[E + cd - 1], E + cd);
    tu_fixture_finish(&r);
}

Test(epochs_auto, no_stop_before_min_steps) {
    /* The same run with MIN_STEPS at 60 epochs of steps: the plateau the
     * first run stopped on does not count until then. */
    run r;
    tu_fixture_start(&r, DATA, "softmax", 1);
    gsgd_set(r.opts, GSGD_MIN_STEPS, 60 * STEPS_PER_EPOCH);
    gsgd_set(r.opts, GSGD_TOL, 0.01);
    record rec;
    gsgd_train_result res = train(&r, &rec);
    const int E = plateau_epoch(&rec, 0.01, 5, 60 * STEPS_PER_EPOCH);
    cr_expect_geq(E, 60);
    cr_expect_eq(res.epochs, E + res.cooldown_epochs);
    cr_expect_eq(res.stop_reason, GSGD_STOP_CONVERGED);
    cr_expect_geq(res.steps - (size_t)res.cooldown_epochs * STEPS_PER_EPOCH, 60 * STEPS_PER_EPOCH);
    tu_fixture_finish(&r);
}

Test(epochs_auto, max_epochs_ends_the_run_with_the_cooldown_placed_before_it) {
    /* Never a plateau (MIN_STEPS out of reach): MAX_EPOCHS 11 ends it, and
     * the cooldown starts at the first epoch E with E + round(0.2 E) >= 11,
     * E = 9, lasting the 2 epochs left. */
    run r;
    tu_fixture_start(&r, DATA, "softmax", 1);
    gsgd_set(r.opts, GSGD_MIN_STEPS, 1e9);
    gsgd_set(r.opts, GSGD_MAX_EPOCHS, 11);
    record rec;
    gsgd_train_result res = train(&r, &rec);
    cr_expect_eq(res.epochs, 11);
    cr_expect_eq(res.stop_reason, GSGD_STOP_MAX_EPOCHS);
    cr_expect_eq(res.stopped_early, 0);
    cr_expect_eq(res.cooldown_epochs, 2);
    cr_expect(fabs(rec.lr[8] - 0.1) < 1e-7 && rec.lr[9] < 0.1 && rec.lr[10] < rec.lr[9]);
    tu_fixture_finish(&r);
}

Test(epochs_auto, other_schedules_stop_at_the_plateau) {
    run r;
    tu_fixture_start(&r, DATA, "softmax", 1);
    gsgd_set(r.opts, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
    gsgd_set(r.opts, GSGD_MIN_STEPS, 0);
    gsgd_set(r.opts, GSGD_TOL, 0.01);
    record rec;
    gsgd_train_result res = train(&r, &rec);
    cr_expect_eq(res.epochs, plateau_epoch(&rec, 0.01, 5, 0));
    cr_expect_eq(res.stop_reason, GSGD_STOP_CONVERGED);
    cr_expect_eq(res.cooldown_epochs, 0);
    for (int e = 0; e < rec.n; e++) cr_expect(fabs(rec.lr[e] - 0.1) < 1e-7);
    tu_fixture_finish(&r);
}

Test(epochs_auto, given_epochs_keep_their_meaning) {
    /* EPOCHS 7: seven epochs, TOL automatic means no early stop, and the
     * cosine spans the seven. */
    run r;
    tu_fixture_start(&r, DATA, "softmax", 1);
    gsgd_set(r.opts, GSGD_EPOCHS, 7);
    record rec;
    gsgd_train_result res = train(&r, &rec);
    cr_expect_eq(res.epochs, 7);
    cr_expect_eq(res.stop_reason, GSGD_STOP_EPOCHS);
    cr_expect_eq(res.cooldown_epochs, 0);
    cr_expect_eq(rec.planned[0], 7);
    /* The rate of epoch 4's last step: 0.05 (1 + cos(pi (4 - 1/25) / 7)). */
    cr_expect(fabs(rec.lr[3] - 0.05 * (1 + cos(PI * (4.0 - 1.0 / STEPS_PER_EPOCH) / 7))) < 1e-7,
              "%g", rec.lr[3]);
    gsgd_trainer_free(r.tr);
    r.tr = NULL;
    /* With TOL given, early stopping as before; with a target, the target. */
    gsgd_set(r.opts, GSGD_EPOCHS, 200);
    gsgd_set(r.opts, GSGD_TOL, 0.05);
    res = train(&r, &rec);
    cr_expect_lt(res.epochs, 200);
    cr_expect_eq(res.stop_reason, GSGD_STOP_NO_IMPROVEMENT);
    gsgd_trainer_free(r.tr);
    r.tr = NULL;
    gsgd_set(r.opts, GSGD_TOL, -1);
    gsgd_set(r.opts, GSGD_TARGET_ACC, 0.5);
    res = train(&r, &rec);
    cr_expect_eq(res.stop_reason, GSGD_STOP_TARGET);
    cr_expect(isfinite(res.time_to_target_s));
    tu_fixture_finish(&r);
}

Test(epochs_auto, a_validation_set_is_monitored_for_higher_accuracy) {
    /* VALIDATION_FRACTION: the plateau is of the held-out accuracy. */
    run r;
    tu_fixture_start(&r, DATA, "softmax", 1);
    gsgd_set(r.opts, GSGD_VALIDATION_FRACTION, 0.2);
    gsgd_set(r.opts, GSGD_MIN_STEPS, 0);
    record rec;
    gsgd_train_result res = train(&r, &rec);
    cr_expect_eq(res.stop_reason, GSGD_STOP_CONVERGED);
    cr_expect(isfinite(res.validation_accuracy) && res.validation_accuracy > 0.8, "%g",
              res.validation_accuracy);
    cr_expect_lt(res.epochs, 1000);
    tu_fixture_finish(&r);
}
