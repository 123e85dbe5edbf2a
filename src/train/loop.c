/* The multi-epoch driver: evaluation, target accuracy, early stopping and
 * ADAPTIVE, and the end-of-epoch progress report. */
#include <math.h>

#include "train/step.h"
#include "optim/rule.h"
#include "optim/schedule.h"
#include "core/util.h"
#include "core/error.h"

/* Samples that all replicas together train on per epoch. */
static size_t epoch_samples(const gsgd_trainer *tr) {
    return tr->shard ? tr->train->n * (size_t)tr->n_replicas : tr->train->n;
}

gsgd_status gsgd_trainer_evaluate(gsgd_trainer *tr, const gsgd_dataset *ds, gsgd_eval_result *out) {
    if (!tr || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    const int swapped = tr->avg_swapped;
    gsgdi_trainer_use_average(tr, 1);
    gsgd_status st = gsgdi_evaluate_with(tr->m, &tr->sb, ds, out);
    gsgdi_trainer_use_average(tr, swapped);
    return st;
}

/* Early stopping and ADAPTIVE (scikit-learn's rules): after each epoch,
 * the monitored value -- validation accuracy (higher is better) with a
 * held-out set, the epoch's training loss otherwise -- either improves on
 * the best by more than TOL or counts one more epoch without improvement.
 * After N_ITER_NO_CHANGE of those, ADAPTIVE divides the rate by 5 while
 * it is above 1e-6 and stops after that; anything else stops. Returns 1 to
 * stop. */
static int should_stop(gsgd_trainer *tr, double value, int higher_is_better) {
    const double tol = tr->opts.v[GSGD_TOL];
    const int adaptive = (gsgd_schedule)tr->opts.v[GSGD_SCHEDULE] == GSGD_SCHEDULE_ADAPTIVE;
    if (!(tol > 0.0 || tr->val || adaptive) || isnan(value)) return 0;
    const double v = higher_is_better ? value : -value;
    if (isnan(tr->best) || v > tr->best + tol)
        tr->no_improve = 0;
    else
        tr->no_improve++;
    if (isnan(tr->best) || v > tr->best) tr->best = v;
    const int n = (int)tr->opts.v[GSGD_N_ITER_NO_CHANGE];
    if (tr->no_improve < n) return 0;
    if (adaptive && tr->lr_now > 1e-6) { /* scikit-learn: eta > 1e-6 */
        tr->lr_factor /= 5.0;
        tr->no_improve = 0;
        gsgdi_log(tr->ctx, GSGD_LOG_INFO,
                  "epoch %d: no improvement by %g for %d epochs; learning rate divided by 5 "
                  "to %g",
                  tr->epoch, tol, n, tr->lr_now / 5.0);
        return 0;
    }
    gsgdi_log(tr->ctx, GSGD_LOG_INFO, "stopping after epoch %d: no improvement by %g for %d epochs",
              tr->epoch, tol, n);
    return 1;
}

gsgd_status gsgd_train(gsgd_trainer *tr, const gsgd_dataset *test, gsgd_progress_fn progress,
                       void *user, gsgd_train_result *out) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    const int epochs = (int)tr->opts.v[GSGD_EPOCHS];
    const double target = tr->opts.v[GSGD_TARGET_ACC];
    gsgdi_progress_state ps = {.fn = progress, .user = user, .t0 = gsgdi_now_seconds()};
    gsgd_train_result r = {.batch = tr->B,
                           .test_accuracy = NAN,
                           .test_loss = NAN,
                           .time_to_target_s = NAN,
                           .train_loss = NAN,
                           .validation_accuracy = NAN,
                           .samples_per_second_warm = NAN};
    double train_seconds = 0.0, first_seconds = 0.0, eval_seconds = 0.0;
    size_t samples = 0, first_samples = 0;
    int evaluated_last = 0;
    for (int e = 0; e < epochs; e++) {
        ps.p.epoch = tr->epoch + 1;
        ps.p.epochs = tr->epoch + epochs - e;
        double t = gsgdi_now_seconds();
        GSGD_FORWARD_IF_ERROR(gsgdi_trainer_run_epoch(tr, &ps, &r.train_loss));
        train_seconds += gsgdi_now_seconds() - t;
        samples += epoch_samples(tr);
        if (r.epochs == 0) {
            first_seconds = train_seconds;
            first_samples = samples;
        }
        r.epochs++;
        evaluated_last = 0;
        gsgd_eval_result ev = {.accuracy = NAN, .loss = NAN};
        const double t_eval = gsgdi_now_seconds();
        if (test && (target > 0.0 || progress)) {
            GSGD_FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, test, &ev));
            r.test_accuracy = ev.accuracy;
            r.test_loss = ev.loss;
            evaluated_last = 1;
        }
        double monitored = r.train_loss;
        int higher = 0;
        if (tr->val) {
            gsgd_eval_result vr;
            GSGD_FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, tr->val, &vr));
            r.validation_accuracy = vr.accuracy;
            /* Regression has no accuracy: its validation loss, lower better. */
            monitored = isnan(vr.accuracy) ? vr.loss : vr.accuracy;
            higher = !isnan(vr.accuracy);
        }
        eval_seconds += gsgdi_now_seconds() - t_eval;
        /* Decided before the callback, so that a checkpoint saved there
         * holds this epoch's early-stopping and ADAPTIVE state. */
        const int reached = target > 0.0 && ev.accuracy >= target;
        const int stop = !reached && should_stop(tr, monitored, higher);
        if (progress) {
            const size_t G = gsgdi_trainer_step_rows(tr);
            ps.p.step = ps.p.steps = (tr->train->n + G - 1) / G;
            ps.p.loss = r.train_loss;
            ps.p.samples_per_second = (double)epoch_samples(tr) / (gsgdi_now_seconds() - t);
            ps.p.seconds = gsgdi_now_seconds() - ps.t0;
            ps.p.epoch_done = 1;
            ps.p.test_accuracy = ev.accuracy;
            ps.p.lr = tr->lr_now;
            GSGD_RETURN_ERROR_IF(progress(&ps.p, user), tr->ctx, GSGD_STATUS_INTERRUPTED,
                                 "training stopped by the progress callback after epoch %d",
                                 tr->epoch);
        }
        if (reached) {
            r.time_to_target_s = gsgdi_now_seconds() - ps.t0;
            break;
        }
        if (stop) {
            r.stopped_early = 1;
            break;
        }
    }
    gsgdi_trainer_use_average(tr, 1);
    if (test && !evaluated_last) {
        const double t_eval = gsgdi_now_seconds();
        gsgd_eval_result ev;
        GSGD_FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, test, &ev));
        r.test_accuracy = ev.accuracy;
        r.test_loss = ev.loss;
        eval_seconds += gsgdi_now_seconds() - t_eval;
    }
    r.steps = tr->steps;
    r.skipped_steps = tr->bad_seen;
    r.lr = gsgdi_base_lr(&tr->opts) * gsgdi_lr_scale(&tr->opts, tr->B * (size_t)tr->n_replicas);
    r.seconds = gsgdi_now_seconds() - ps.t0;
    r.samples_per_second = train_seconds > 0.0 ? (double)samples / train_seconds : NAN;
    r.train_seconds = train_seconds;
    r.eval_seconds = eval_seconds;
    if (r.epochs > 1 && train_seconds > first_seconds)
        r.samples_per_second_warm =
            (double)(samples - first_samples) / (train_seconds - first_seconds);
    if (out) *out = r;
    return GSGD_STATUS_OK;
}
