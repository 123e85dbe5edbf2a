/*
 * The trainer's use of the update rules on the CPU backend: every rule
 * trains, averaged SGD averages the iterates, the L1 proximal step leaves
 * exact zeros, early stopping and the adaptive schedule follow
 * scikit-learn's counting, and the NaN guard stops naming the exact step or
 * skips bad steps.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "testutil.h"

typedef tu_fixture run;

static void start(run *r, const char *data, const char *spec) {
    tu_fixture_start(r, data, spec, 1);
    gsgd_set(r->opts, GSGD_BATCH, 32);
    /* Pinned when the rate was constant by default (before issue 17's
     * cosine): the L1 zeros of 3 epochs, the rate the guard names. */
    gsgd_set(r->opts, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
}

static gsgd_status train(run *r, int epochs, gsgd_progress_fn fn, void *user,
                         gsgd_train_result *res) {
    gsgd_set(r->opts, GSGD_EPOCHS, epochs);
    cr_assert_eq(gsgd_trainer_create(r->model, r->train, r->opts, &r->tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r->ctx));
    return gsgd_train(r->tr, r->test, fn, user, res);
}

static void finish(run *r) { tu_fixture_finish(r); }

static float *params_of(run *r, size_t *n, size_t *n_decay) {
    float *p;
    cr_assert_eq(gsgd_model_params(r->model, &p, n, n_decay), GSGD_STATUS_OK);
    return p; /* host memory on the CPU backend */
}

Test(rules, every_rule_learns_a_separable_problem) {
    /* A learnable 4-class problem: each rule at its default rate (Adam's
     * family a little higher, as 3 epochs are few) beats chance by far. */
    for (int k = GSGD_OPTIM_SGD; k <= GSGD_OPTIM_LAMB; k++) {
        run r;
        start(&r, "synth:3000,16,4:seed=3", "mlp:32");
        gsgd_set(r.opts, GSGD_OPTIMIZER, k);
        if (k == GSGD_OPTIM_ADAM || k == GSGD_OPTIM_ADAMW || k == GSGD_OPTIM_LAMB)
            gsgd_set(r.opts, GSGD_LR, 1e-2);
        gsgd_train_result res;
        cr_assert_eq(train(&r, 3, NULL, NULL, &res), GSGD_STATUS_OK, "rule %d: %s", k,
                     gsgd_last_error(r.ctx));
        cr_expect(res.test_accuracy > 0.7, "rule %d: test accuracy %.3f", k, res.test_accuracy);
        finish(&r);
    }
}

/* ---- averaged SGD -------------------------------------------------------- */

typedef struct {
    double *iterates; /* steps x n */
    size_t n, count;
    const float *p;
} recorder;

static int record(const gsgd_progress *pg, void *user) {
    recorder *rec = user;
    if (pg->epoch_done) return 0;
    for (size_t i = 0; i < rec->n; i++) rec->iterates[rec->count * rec->n + i] = rec->p[i];
    rec->count++;
    return 0;
}

Test(average, the_model_holds_the_mean_of_the_iterates_from_step_average_on) {
    /* 320 rows at batch 32: 10 steps. A plain run records w_1 .. w_9 (the
     * callback runs after every step but the epoch's last) and w_10 at the
     * end; the averaged run from step 4 must hold mean(w_4 .. w_10). */
    enum { STEPS = 10, FROM = 4 };
    run a;
    start(&a, "synth:400,5,3:seed=9", "softmax");
    gsgd_set(a.opts, GSGD_CHECK_EVERY, 1);
    size_t n, nd;
    float *p = params_of(&a, &n, &nd);
    recorder rec = {.iterates = calloc(STEPS * n, sizeof(double)), .n = n, .p = p};
    gsgd_train_result res;
    cr_assert_eq(train(&a, 1, record, &rec, &res), GSGD_STATUS_OK);
    cr_assert_eq(res.steps, STEPS);
    cr_assert_eq(rec.count, STEPS - 1);
    p = params_of(&a, &n, &nd);
    for (size_t i = 0; i < n; i++) rec.iterates[(STEPS - 1) * n + i] = p[i];

    run b;
    start(&b, "synth:400,5,3:seed=9", "softmax");
    gsgd_set(b.opts, GSGD_AVERAGE, FROM);
    cr_assert_eq(train(&b, 1, NULL, NULL, &res), GSGD_STATUS_OK);
    float *avg = params_of(&b, &n, &nd);
    /* The running mean rounds once per update: within 7 updates of
     * |w| <= max|w|, 16 float ulps of the largest weight cover it. */
    double wmax = 0;
    for (size_t i = 0; i < n; i++) wmax = fmax(wmax, fabs(rec.iterates[(STEPS - 1) * n + i]));
    for (size_t i = 0; i < n; i++) {
        double mean = 0;
        for (int t = FROM; t <= STEPS; t++) mean += rec.iterates[(size_t)(t - 1) * n + i];
        mean /= STEPS - FROM + 1;
        cr_expect(fabs(avg[i] - mean) <= 16 * 0x1p-24 * wmax, "param %zu: %.9g vs mean %.9g", i,
                  avg[i], mean);
    }
    /* The average differs from the last iterate (else the test is moot). */
    double diff = 0;
    for (size_t i = 0; i < n; i++)
        diff = fmax(diff, fabs(avg[i] - rec.iterates[(STEPS - 1) * n + i]));
    cr_expect(diff > 1e-4, "average equals the last iterate (%g)", diff);
    free(rec.iterates);
    finish(&a);
    finish(&b);
}

/* ---- L1 ------------------------------------------------------------------- */

/* Exact zeros among the weights and the biases after 3 epochs. */
static void count_zeros(double l1, size_t *weights, size_t *biases, size_t *n_weights) {
    run r;
    start(&r, "synth:2000,40,3:seed=5", "softmax");
    gsgd_set(r.opts, GSGD_L1, l1);
    gsgd_train_result res;
    cr_assert_eq(train(&r, 3, NULL, NULL, &res), GSGD_STATUS_OK);
    size_t n, nd;
    float *p = params_of(&r, &n, &nd);
    *weights = *biases = 0;
    for (size_t i = 0; i < nd; i++) *weights += p[i] == 0.0f;
    for (size_t i = nd; i < n; i++) *biases += p[i] == 0.0f;
    *n_weights = nd;
    finish(&r);
}

Test(l1, the_proximal_step_zeroes_weights_exactly_and_spares_biases) {
    size_t w0, b0, w1, b1, nd;
    count_zeros(0.0, &w0, &b0, &nd);
    count_zeros(0.05, &w1, &b1, &nd);
    cr_expect_eq(w0, 0, "without L1 no weight is exactly 0 (%zu are)", w0);
    cr_expect(w1 >= nd / 10, "with L1 %zu of %zu weights are exactly 0", w1, nd);
    cr_expect_eq(b1, 0, "biases are not penalised");
}

/* ---- early stopping and the adaptive schedule -------------------------------- */

/* Appends "I message\n" (W for warnings) to the buffer in user. */
static void collect(gsgd_log_level level, const char *message, void *user) {
    char *buf = user;
    const size_t len = strlen(buf);
    snprintf(buf + len, 2048 - len, "%c %s\n", level == GSGD_LOG_WARNING ? 'W' : 'I', message);
}

Test(early_stopping, a_tolerance_no_epoch_meets_stops_after_n_iter_no_change) {
    /* The first epoch sets the best; with TOL 1e9 no later one improves, so
     * the run stops after 1 + N_ITER_NO_CHANGE epochs. */
    run r;
    start(&r, "synth:500,5,3", "softmax");
    gsgd_set(r.opts, GSGD_TOL, 1e9);
    gsgd_set(r.opts, GSGD_N_ITER_NO_CHANGE, 3);
    char log[2048] = "";
    cr_assert_eq(gsgd_context_set_log(r.ctx, collect, log), GSGD_STATUS_OK);
    gsgd_train_result res;
    cr_assert_eq(train(&r, 50, NULL, NULL, &res), GSGD_STATUS_OK);
    cr_expect_eq(res.epochs, 4);
    cr_expect_eq(res.stopped_early, 1);
    /* The log says why, once; the plan's line came first. */
    cr_expect(strstr(log, "I batch 32: "), "%s", log);
    cr_expect(strstr(log, "I stopping after epoch 4: no improvement by 1e+09 for 3 epochs\n"), "%s",
              log);
    finish(&r);
}

Test(early_stopping, a_validation_fraction_holds_out_data_and_reports_its_accuracy) {
    run r;
    start(&r, "synth:1000,5,3", "softmax");
    gsgd_set(r.opts, GSGD_VALIDATION_FRACTION, 0.2);
    gsgd_set(r.opts, GSGD_TOL, 1e-3);
    gsgd_train_result res;
    cr_assert_eq(train(&r, 40, NULL, NULL, &res), GSGD_STATUS_OK);
    cr_expect(res.validation_accuracy > 0.5, "validation accuracy %g", res.validation_accuracy);
    /* synth keeps 800 of its 1000 rows for training; 160 of them are held
     * out, 640 train: 20 steps of 32 per epoch. */
    cr_expect_eq(res.steps, (size_t)res.epochs * 20, "%zu steps in %d epochs", res.steps,
                 res.epochs);
    cr_expect(res.stopped_early, "40 epochs of a 5-feature problem plateau well before the end");
    finish(&r);
}

typedef struct {
    double lr[64];
    int epochs;
} lr_log;

static int log_lr(const gsgd_progress *pg, void *user) {
    lr_log *l = user;
    if (pg->epoch_done && l->epochs < 64) l->lr[l->epochs++] = pg->lr;
    return 0;
}

Test(adaptive, divides_the_rate_by_five_after_n_epochs_without_improvement) {
    /* TOL 1e9: epoch 1 sets the best, epochs 2 and 3 do not improve, so
     * epoch 4 runs at lr / 5, and so on every two epochs. */
    run r;
    start(&r, "synth:500,5,3", "softmax");
    gsgd_set(r.opts, GSGD_SCHEDULE, GSGD_SCHEDULE_ADAPTIVE);
    gsgd_set(r.opts, GSGD_LR, 0.1);
    gsgd_set(r.opts, GSGD_TOL, 1e9);
    gsgd_set(r.opts, GSGD_N_ITER_NO_CHANGE, 2);
    lr_log l = {0};
    gsgd_train_result res;
    cr_assert_eq(train(&r, 7, log_lr, &l, &res), GSGD_STATUS_OK);
    const double want[] = {0.1, 0.1, 0.1, 0.02, 0.02, 0.004, 0.004};
    cr_assert_eq(l.epochs, 7);
    for (int e = 0; e < 7; e++)
        cr_expect(fabs(l.lr[e] - want[e]) <= 1e-7 * want[e], "epoch %d: lr %g, want %g", e + 1,
                  l.lr[e], want[e]);
    cr_expect_eq(res.stopped_early, 0);
    finish(&r);
}

/* ---- the NaN/Inf guard ------------------------------------------------------ */

static gsgd_status diverge(run *r, int check_every, gsgd_on_nan mode, gsgd_train_result *res,
                           gsgd_log_fn log, void *log_user) {
    start(r, "synth:2000,10,1:seed=4", "linear");
    gsgd_context_set_log(r->ctx, log, log_user);
    gsgd_set(r->opts, GSGD_LR, 50.0);
    gsgd_set(r->opts, GSGD_CHECK_EVERY, check_every);
    gsgd_set(r->opts, GSGD_ON_NAN, mode);
    return train(r, 3, NULL, NULL, res);
}

/* The steps the message names: "at step N" or "between steps A and B". */
static void named_steps(const char *msg, size_t *lo, size_t *hi) {
    const char *at = strstr(msg, "at step "), *between = strstr(msg, "between steps ");
    *lo = *hi = 0;
    if (at) {
        *lo = *hi = (size_t)strtoull(at + 8, NULL, 10);
    } else if (between) {
        char *end;
        *lo = (size_t)strtoull(between + 14, &end, 10);
        const char *and = strstr(end, " and ");
        if (and) *hi = (size_t)strtoull(and+5, NULL, 10);
    }
}

Test(guard, the_stop_message_names_the_step_checked_every_step_or_a_range_holding_it) {
    /* Checked every step, the message pins one step; checked every 25, it
     * names that same step (the device guard caught it) or a range of at
     * most 25 steps that holds it (only the loss's overflow showed). */
    run a, b;
    gsgd_train_result res;
    cr_assert_eq(diverge(&a, 1, GSGD_ON_NAN_STOP, &res, NULL, NULL), GSGD_STATUS_DIVERGED);
    cr_assert_eq(diverge(&b, 25, GSGD_ON_NAN_STOP, &res, NULL, NULL), GSGD_STATUS_DIVERGED);
    const char *ma = gsgd_last_error(a.ctx), *mb = gsgd_last_error(b.ctx);
    size_t a_lo, a_hi, b_lo, b_hi;
    named_steps(ma, &a_lo, &a_hi);
    named_steps(mb, &b_lo, &b_hi);
    cr_expect(a_lo > 0 && a_lo == a_hi, "%s", ma);
    cr_expect(b_lo <= a_lo && a_lo <= b_hi && b_hi - b_lo < 25, "'%s' vs '%s'", ma, mb);
    cr_expect(strstr(mb, "learning rate 50"), "%s", mb);
    finish(&a);
    finish(&b);
}

Test(guard, skip_mode_finishes_with_finite_parameters_and_counts_the_skips) {
    run r;
    gsgd_train_result res;
    char log[2048] = "";
    cr_assert_eq(diverge(&r, 10, GSGD_ON_NAN_SKIP, &res, collect, log), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(r.ctx));
    cr_expect(res.skipped_steps > 0);
    cr_expect(strstr(log, "W "), "skips are logged as warnings: %s", log);
    size_t n, nd;
    float *p = params_of(&r, &n, &nd);
    for (size_t i = 0; i < n; i++) cr_assert(isfinite(p[i]), "param %zu = %g", i, p[i]);
    finish(&r);
}
