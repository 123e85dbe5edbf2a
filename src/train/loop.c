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
    GSGD_FORWARD_IF_ERROR(gsgdi_trainer_flush(tr));
    gsgdi_trainer_use_average(tr, 1);
    gsgd_status st = gsgdi_evaluate_with(tr->m, &tr->sb, ds, out);
    gsgdi_trainer_use_average(tr, swapped);
    return st;
}

/* Early stopping and ADAPTIVE (scikit-learn's rules): after each epoch,
 * the monitored value -- validation accuracy (higher is better) with a
 * held-out set, the epoch's training loss otherwise -- either improves on
 * the best by more than tol or counts one more epoch without improvement.
 * Returns 1 once N_ITER_NO_CHANGE epochs went by without. */
static int plateau(gsgd_trainer *tr, double value, int higher_is_better, double tol) {
    const int adaptive = (gsgd_schedule)tr->opts.v[GSGD_SCHEDULE] == GSGD_SCHEDULE_ADAPTIVE;
    if (!(tol > 0.0 || tr->val || adaptive) || isnan(value)) return 0;
    const double v = higher_is_better ? value : -value;
    if (isnan(tr->best) || v > tr->best + tol)
        tr->no_improve = 0;
    else
        tr->no_improve++;
    if (isnan(tr->best) || v > tr->best) tr->best = v;
    return tr->no_improve >= (int)tr->opts.v[GSGD_N_ITER_NO_CHANGE];
}

/* At a plateau, ADAPTIVE divides the rate by 5 while it is above 1e-6
 * (scikit-learn: eta > 1e-6) and goes on (returns 0); at its floor it
 * stops, as anything else does (returns 1). */
static int adapt_or_stop(gsgd_trainer *tr, double tol, gsgd_stop_reason *why) {
    const int n = (int)tr->opts.v[GSGD_N_ITER_NO_CHANGE];
    if ((gsgd_schedule)tr->opts.v[GSGD_SCHEDULE] == GSGD_SCHEDULE_ADAPTIVE) {
        if (tr->lr_now > 1e-6) {
            tr->lr_factor /= 5.0;
            tr->no_improve = 0;
            gsgdi_log(tr->ctx, GSGD_LOG_INFO,
                      "epoch %d: no improvement by %g for %d epochs; learning rate divided by 5 "
                      "to %g",
                      tr->epoch, tol, n, tr->lr_now / 5.0);
            return 0;
        }
        *why = GSGD_STOP_LR_FLOOR;
    }
    gsgdi_log(tr->ctx, GSGD_LOG_INFO, "stopping after epoch %d: no improvement by %g for %d epochs",
              tr->epoch, tol, n);
    return 1;
}

/* A given EPOCHS: returns 1 to stop early (TOL, a validation set, ADAPTIVE). */
static int fixed_epochs_stop(gsgd_trainer *tr, double value, int higher, gsgd_stop_reason *why) {
    const double tol = gsgdi_tol(&tr->opts);
    *why = GSGD_STOP_NO_IMPROVEMENT;
    return plateau(tr, value, higher, tol) && adapt_or_stop(tr, tol, why);
}

/* Schedules the cooldown of EPOCHS 0 from the epoch just finished. */
static void start_cooldown(gsgd_trainer *tr, int epochs, int capped) {
    tr->cooldown = (gsgdi_cooldown){.from = tr->epoch, .epochs = epochs, .capped = capped};
    if (capped)
        gsgdi_log(tr->ctx, GSGD_LOG_INFO,
                  "epoch %d: the rate decays to %g over the last %d epochs, to end at "
                  "max_epochs %d",
                  tr->epoch, tr->opts.v[GSGD_LR_MIN], epochs, tr->epoch + epochs);
    else
        gsgdi_log(tr->ctx, GSGD_LOG_INFO,
                  "epoch %d: no improvement by %g for %d epochs; the rate decays to %g over "
                  "%d more epochs (cooldown %g of %d)",
                  tr->epoch, gsgdi_tol(&tr->opts), (int)tr->opts.v[GSGD_N_ITER_NO_CHANGE],
                  tr->opts.v[GSGD_LR_MIN], epochs, tr->opts.v[GSGD_COOLDOWN], tr->epoch);
}

/* EPOCHS 0: returns 1 to stop. Until MIN_STEPS steps are done a plateau
 * does not count; after it, COSINE (period 0) decays over a cooldown and
 * stops at its end, other schedules stop at once (ADAPTIVE first divides
 * its rate down to the floor). MAX_EPOCHS ends the run in any case, and a
 * cooldown that would run past it is placed to end there. */
static int auto_epochs_stop(gsgd_trainer *tr, double value, int higher, gsgd_stop_reason *why) {
    const int max_epochs = (int)tr->opts.v[GSGD_MAX_EPOCHS];
    gsgdi_cooldown *cd = &tr->cooldown;
    if (cd->epochs > 0) {
        *why = cd->capped ? GSGD_STOP_MAX_EPOCHS : GSGD_STOP_CONVERGED;
        return tr->epoch >= cd->from + cd->epochs || tr->epoch >= max_epochs;
    }
    const double tol = gsgdi_tol(&tr->opts);
    const int flat = plateau(tr, value, higher, tol);
    const int cooldown = gsgdi_cooldown_applies(&tr->opts);
    if (flat && (double)tr->steps >= tr->opts.v[GSGD_MIN_STEPS]) {
        *why = GSGD_STOP_CONVERGED;
        if (!cooldown) return adapt_or_stop(tr, tol, why);
        if (tr->epoch < max_epochs) {
            const int d = gsgdi_cooldown_epochs(&tr->opts, tr->epoch);
            start_cooldown(tr, d < max_epochs - tr->epoch ? d : max_epochs - tr->epoch, 0);
            return 0;
        }
    }
    *why = GSGD_STOP_MAX_EPOCHS;
    if (tr->epoch >= max_epochs) return 1;
    if (cooldown && tr->epoch + gsgdi_cooldown_epochs(&tr->opts, tr->epoch) >= max_epochs)
        start_cooldown(tr, max_epochs - tr->epoch, 1);
    return 0;
}

/* The last epoch the run can reach, for progress reports: EPOCHS 0 has
 * MAX_EPOCHS, or the end of its cooldown once it has one. */
static int planned_end(const gsgd_trainer *tr, int epochs, int e) {
    if (epochs > 0) return tr->epoch + epochs - e;
    const int max_epochs = (int)tr->opts.v[GSGD_MAX_EPOCHS];
    const gsgdi_cooldown *cd = &tr->cooldown;
    return cd->epochs > 0 && cd->from + cd->epochs < max_epochs ? cd->from + cd->epochs
                                                                : max_epochs;
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
    gsgd_stop_reason why = GSGD_STOP_EPOCHS;
    if (epochs == 0 && tr->epoch >= (int)tr->opts.v[GSGD_MAX_EPOCHS]) why = GSGD_STOP_MAX_EPOCHS;
    for (int e = 0; epochs == 0 ? why == GSGD_STOP_EPOCHS : e < epochs; e++) {
        ps.p.epoch = tr->epoch + 1;
        ps.p.epochs = planned_end(tr, epochs, e);
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
        gsgd_stop_reason stop_why = GSGD_STOP_EPOCHS;
        const int stop =
            !reached && (epochs > 0 ? fixed_epochs_stop(tr, monitored, higher, &stop_why)
                                    : auto_epochs_stop(tr, monitored, higher, &stop_why));
        if (progress) {
            const size_t G = gsgdi_trainer_step_rows(tr);
            ps.p.step = ps.p.steps = (tr->train->n + G - 1) / G;
            ps.p.loss = r.train_loss;
            ps.p.samples_per_second = (double)epoch_samples(tr) / (gsgdi_now_seconds() - t);
            ps.p.seconds = gsgdi_now_seconds() - ps.t0;
            ps.p.epoch_done = 1;
            ps.p.epochs = epochs == 0 && stop ? tr->epoch : planned_end(tr, epochs, e + 1);
            ps.p.test_accuracy = ev.accuracy;
            ps.p.lr = tr->lr_now;
            GSGD_RETURN_ERROR_IF(progress(&ps.p, user), tr->ctx, GSGD_STATUS_INTERRUPTED,
                                 "training stopped by the progress callback after epoch %d",
                                 tr->epoch);
        }
        if (reached) {
            r.time_to_target_s = gsgdi_now_seconds() - ps.t0;
            why = GSGD_STOP_TARGET;
            break;
        }
        if (stop) {
            r.stopped_early = stop_why != GSGD_STOP_MAX_EPOCHS;
            why = stop_why;
            break;
        }
    }
    r.stop_reason = why;
    r.cooldown_epochs = tr->cooldown.epochs;
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
