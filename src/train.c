/* The trainer: the epoch/step loop, evaluation, target accuracy, progress. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "trainer.h"

/* What the step loop reports to a progress callback. */
typedef struct {
    gsgd_progress_fn fn;
    void *user;
    gsgd_progress p;
    double t0; /* wall clock at the start of gsgd_train */
} progress_state;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

gsgd_status gsgd_trainer_create(gsgd_model *m, const gsgd_dataset *train,
                                const gsgd_options *opts, gsgd_trainer **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!m || !train || !opts) return GSGD_STATUS_INVALID_ARGUMENT;
    /* Early stopping holds out a seeded part of the training set; the
     * copies are made before planning, which counts them as memory in use. */
    gsgd_dataset *part = NULL, *val = NULL;
    const double vf = opts->v[GSGD_VALIDATION_FRACTION];
    if (vf > 0.0) {
        FORWARD_IF_ERROR(gsgd_trainer_check(m, train));
        gsgd_status st = gsgd_dataset_split(train, vf, (uint64_t)opts->v[GSGD_SEED], &part, &val);
        RETURN_ERROR_IF(st != GSGD_STATUS_OK, m->ctx, st,
                        "validation_fraction %g: %s", vf, gsgd_last_error(m->ctx));
    }
    gsgd_batch_plan *plan = NULL;
    gsgd_trainer *tr = NULL;
    gsgd_status st = gsgd_plan_run(m, part ? part : train, opts, &plan, &tr);
    if (st != GSGD_STATUS_OK) {
        gsgd_dataset_free(part);
        gsgd_dataset_free(val);
        return st;
    }
    tr->plan = plan;
    tr->own_train = part;
    tr->val = val;
    gsgd_log(m->ctx, GSGD_LOG_INFO, "batch %zu: %s", gsgd_plan_batch(plan), gsgd_plan_reason(plan));
    if (val)
        gsgd_log(m->ctx, GSGD_LOG_INFO,
                 "early stopping on %zu held-out samples; training on the other %zu", val->n,
                 part->n);
    *out = tr;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_plan(const gsgd_trainer *tr, const gsgd_batch_plan **plan) {
    if (!tr || !plan) return GSGD_STATUS_INVALID_ARGUMENT;
    *plan = tr->plan;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_check(const gsgd_model *m, const gsgd_dataset *train) {
    gsgd_context *ctx = m->ctx;
    RETURN_ERROR_IF(train->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                    "trainer: model and data belong to different contexts");
    RETURN_ERROR_IF(train->d != m->n_features, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                    "trainer: model '%s' expects %zu features, data has %zu", m->spec,
                    m->n_features, train->d);
    RETURN_ERROR_IF((m->n_classes == 0) != (train->n_classes == 0) ||
                        train->n_classes > m->n_classes,
                    ctx, GSGD_STATUS_SHAPE_MISMATCH,
                    "trainer: model '%s' has %d classes, data has %d", m->spec, m->n_classes,
                    train->n_classes);
    RETURN_ERROR_IF(train->n == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT, "trainer: no samples");
    return GSGD_STATUS_OK;
}

/* The guard as a fresh run starts it: no bad step, full learning rate. */
static gsgd_status reset_guard(gsgd_trainer *tr) {
    const gsgd_guard g = {.lr_factor = 1.0f};
    return tr->ctx->be->upload(tr->ctx, tr->guard, &g, sizeof g);
}

/* Zeroes the optimizer state: a fresh optimizer's. */
static gsgd_status clear_state(gsgd_trainer *tr) {
    for (int k = 0; k < 2; k++)
        if (tr->state[k])
            FORWARD_IF_ERROR(
                tr->ctx->be->zero(tr->ctx, tr->state[k], tr->m->n_params * sizeof(float)));
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_alloc(gsgd_model *m, const gsgd_dataset *train,
                               const gsgd_options *opts, size_t B, gsgd_trainer **out) {
    *out = NULL;
    gsgd_context *ctx = m->ctx;
    RETURN_ERROR_IF(B == 0, ctx, GSGD_STATUS_INTERNAL, "trainer: batch 0");
    gsgd_trainer *tr = calloc(1, sizeof *tr);
    RETURN_ERROR_IF(!tr, ctx, GSGD_STATUS_OUT_OF_MEMORY, "trainer: out of memory");
    tr->ctx = ctx;
    tr->m = m;
    tr->train = train;
    tr->opts = *opts;
    tr->n_replicas = 1;
    tr->rule = gsgd_rule_from_options(opts, m, m->n_params);
    tr->work_floats = gsgd_rule_work_floats(&tr->rule, m->n_params);
    tr->B = B < train->n ? B : train->n;
    tr->lr_factor = 1.0;
    tr->best = NAN;
    /* A warmup or per-step schedule needs a rate per step; an epoch has at
     * most n steps. The planner counts the same n floats (planner.c). */
    tr->lr_len = gsgd_lr_per_step(opts) ? train->n : 1;

    const gsgd_backend *be = ctx->be;
    const size_t pbytes = m->n_params * sizeof(float);
    gsgd_status st;
    CHECK_GOTO(st, gsgd_step_buffers_alloc(m, tr->B, &tr->sb), fail);
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, pbytes, (void **)&tr->grads), fail);
    for (int k = 0; k < gsgd_rule_state_count(&tr->rule); k++)
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, pbytes, (void **)&tr->state[k]), fail);
    CHECK_GOTO(st, clear_state(tr), fail);
    if (tr->work_floats)
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, tr->work_floats * sizeof(float), (void **)&tr->work),
                   fail);
    if (opts->v[GSGD_AVERAGE] > 0.0) {
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, pbytes, (void **)&tr->average), fail);
        /* The first average step, avg += 1 * (w - avg), gives w exactly
         * only from a finite avg: never from what the allocation held. */
        CHECK_GOTO(st, be->zero(ctx, tr->average, pbytes), fail);
    }
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, sizeof(gsgd_guard), (void **)&tr->guard), fail);
    CHECK_GOTO(st, reset_guard(tr), fail);
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, tr->lr_len * sizeof(float), (void **)&tr->lr), fail);
    CHECK_GOTO(st, gsgd_host_alloc(ctx, tr->lr_len * sizeof(float), (void **)&tr->lr_host),
               fail);
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, train->n * sizeof(uint32_t), (void **)&tr->perm), fail);
    tr->perm_scratch_bytes = be->perm_scratch_bytes(train->n);
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, tr->perm_scratch_bytes, &tr->perm_scratch), fail);
    *out = tr;
    return GSGD_STATUS_OK;
fail:
    gsgd_trainer_free(tr);
    return st;
}

/* With AVERAGE, the model's parameter pointer and the average swap places
 * (no copy): on = 1 puts the average in the model (evaluation, saving),
 * on = 0 the iterate (training). Nothing to do before the first average. */
static void use_average(gsgd_trainer *tr, int on) {
    if (!tr->average || tr->avg_count == 0 || tr->avg_swapped == on) return;
    float *p = tr->m->params;
    tr->m->params = tr->average;
    tr->average = p;
    tr->avg_swapped = on;
}

void gsgd_trainer_use_average(gsgd_trainer *tr, int on) { use_average(tr, on); }

void gsgd_trainer_free(gsgd_trainer *tr) {
    if (!tr) return;
    gsgd_context *ctx = tr->ctx;
    const size_t pbytes = tr->m->n_params * sizeof(float);
    use_average(tr, 1); /* the model keeps the average, as gsgd_train left it */
    gsgd_step_buffers_free(tr->m, &tr->sb);
    gsgd_mem_free(ctx, tr->grads, pbytes);
    for (int k = 0; k < 2; k++) gsgd_mem_free(ctx, tr->state[k], pbytes);
    gsgd_mem_free(ctx, tr->work, tr->work_floats * sizeof(float));
    gsgd_mem_free(ctx, tr->average, pbytes);
    gsgd_mem_free(ctx, tr->guard, sizeof(gsgd_guard));
    gsgd_mem_free(ctx, tr->lr, tr->lr_len * sizeof(float));
    free(tr->lr_host);
    gsgd_plan_free(tr->plan);
    gsgd_mem_free(ctx, tr->perm, tr->train->n * sizeof(uint32_t));
    gsgd_mem_free(ctx, tr->perm_scratch, tr->perm_scratch_bytes);
    gsgd_dataset_free(tr->own_train);
    gsgd_dataset_free(tr->val);
    free(tr);
}

/* Every CHECK_EVERY steps and at the end of an epoch: reads the device's
 * guard and the loss accumulated since the last check, then clears the
 * accumulator. A chunk whose loss is not finite (a skipped step's) is left
 * out of the epoch's mean. Fails naming the step when a step went bad and
 * ON_NAN is STOP. */
static gsgd_status check_health(gsgd_trainer *tr, size_t steps_per_epoch, double *loss_sum,
                                size_t *loss_samples, size_t chunk_samples) {
    gsgd_context *ctx = tr->ctx;
    double acc[2];
    gsgd_guard g;
    FORWARD_IF_ERROR(ctx->be->download(ctx, &g, tr->guard, sizeof g));
    FORWARD_IF_ERROR(ctx->be->download(ctx, acc, tr->sb.acc, sizeof acc));
    FORWARD_IF_ERROR(ctx->be->zero(ctx, tr->sb.acc, sizeof acc));
    const int skip = tr->rule.skip_nonfinite;
    const size_t since = tr->checked_steps + 1; /* first step of this chunk */
    tr->checked_steps = tr->steps;
    if (!skip && (g.bad_steps > 0 || !isfinite(acc[0]))) {
        /* The guard knows the exact step when a gradient or the parameters
         * went bad; a loss that overflowed first is only known to lie in
         * this chunk of steps. */
        size_t first = g.first_bad ? (size_t)g.first_bad : since;
        const size_t last = g.first_bad ? first : tr->steps;
        const size_t e = steps_per_epoch ? (first - 1) / steps_per_epoch : 0;
        char where[96];
        if (first == last)
            snprintf(where, sizeof where, "at step %zu (epoch %zu, step %zu of %zu)", first,
                     e + 1, first - e * steps_per_epoch, steps_per_epoch);
        else
            snprintf(where, sizeof where, "between steps %zu and %zu (epoch %zu)", first, last,
                     e + 1);
        return GSGD_ERROR(ctx, GSGD_STATUS_DIVERGED,
                          "%s became NaN or Inf %s: the learning rate %g is likely too high "
                          "for batch %zu (lower it, clip the gradient norm, or skip such steps)",
                          g.bad_steps ? "the gradient or parameters" : "the loss", where,
                          tr->lr_now, tr->B);
    }
    if (g.bad_steps > tr->bad_seen)
        gsgd_log(ctx, GSGD_LOG_WARNING,
                 "%u step%s with a non-finite gradient skipped by step %zu (%u in all); the "
                 "learning rate is now %g of the schedule's",
                 g.bad_steps - tr->bad_seen, g.bad_steps - tr->bad_seen == 1 ? "" : "s",
                 tr->steps, g.bad_steps, (double)g.lr_factor);
    tr->bad_seen = g.bad_steps;
    if (isfinite(acc[0])) {
        *loss_sum += acc[0];
        *loss_samples += chunk_samples;
    }
    return GSGD_STATUS_OK;
}

/* Uploads this epoch's learning rates: one per step when the schedule or
 * warmup changes them within the epoch (*per_step = 1), else the one rate
 * of the whole epoch. Once per epoch, so the step loop itself never copies
 * to the device. */
static gsgd_status upload_rates(gsgd_trainer *tr, size_t steps, int *per_step) {
    const size_t Bg = tr->B * (size_t)tr->n_replicas; /* the global batch */
    const gsgd_schedule kind = (gsgd_schedule)tr->opts.v[GSGD_SCHEDULE];
    const int scheduled = kind == GSGD_SCHEDULE_COSINE || kind == GSGD_SCHEDULE_INVSCALING ||
                          kind == GSGD_SCHEDULE_OPTIMAL;
    *per_step = tr->lr_len >= steps &&
                (scheduled || (size_t)tr->epoch * steps < gsgd_warmup_steps(&tr->opts, steps));
    const size_t count = *per_step ? steps : 1;
    for (size_t s = 0; s < count; s++)
        tr->lr_host[s] =
            (float)(tr->lr_factor * gsgd_lr_at_step(&tr->opts, Bg, steps, tr->epoch, s));
    tr->lr_now = tr->lr_host[0];
    return tr->ctx->be->upload(tr->ctx, tr->lr, tr->lr_host, count * sizeof(float));
}

/* The update of the step just computed: the rule's one fused pass. */
static gsgd_status apply_update(gsgd_trainer *tr, const float *lr) {
    const uint64_t t = (uint64_t)tr->steps + 1;
    gsgd_update_args a = {.lr = lr,
                          .params = tr->m->params,
                          .grads = tr->grads,
                          .n = tr->m->n_params,
                          .state = {tr->state[0], tr->state[1]},
                          .work = tr->work,
                          .t = t,
                          .guard = tr->guard};
    if (tr->average && t >= (uint64_t)tr->opts.v[GSGD_AVERAGE]) {
        a.average = tr->average;
        a.avg_rate = 1.0f / (float)(tr->avg_count + 1);
    }
    FORWARD_IF_ERROR(tr->ctx->be->update(tr->ctx, &tr->rule, &a));
    if (a.average) tr->avg_count++;
    return GSGD_STATUS_OK;
}

/* Rows of this trainer's dataset that one step consumes: the whole global
 * batch when replicas share the data (each computes a slice of it), this
 * replica's own BATCH when the data is sharded. */
static size_t step_rows(const gsgd_trainer *tr) {
    return tr->shard ? tr->B : tr->B * (size_t)tr->n_replicas;
}

/* Samples that all replicas together train on per epoch. */
static size_t epoch_samples(const gsgd_trainer *tr) {
    return tr->shard ? tr->train->n * (size_t)tr->n_replicas : tr->train->n;
}

/* Gradient of rows perm[lo, lo + b) into tr->grads, scaled by 1/global so
 * that summing it over the replicas gives the mean over the global batch
 * (alone, global == b: the plain mean). A replica whose slice of a short
 * last batch is empty contributes zeros. */
static gsgd_status local_gradient(gsgd_trainer *tr, size_t lo, size_t b, size_t global) {
    gsgd_context *ctx = tr->ctx;
    gsgd_model *m = tr->m;
    const gsgd_dataset *ds = tr->train;
    if (b == 0) return ctx->be->zero(ctx, tr->grads, m->n_params * sizeof(float));
    FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->xt, ds->y, ds->d, tr->perm, lo, b,
                                     m->mean, m->inv_std, tr->sb.Xb, tr->sb.yb));
    FORWARD_IF_ERROR(gsgd_model_forward(m, &tr->sb, b));
    return gsgd_model_backward_scaled(m, &tr->sb, b, 1.0f / (float)global, tr->grads);
}

static gsgd_status run_epoch(gsgd_trainer *tr, progress_state *ps, double *mean_loss) {
    gsgd_context *ctx = tr->ctx;
    const gsgd_backend *be = ctx->be;
    gsgd_model *m = tr->m;
    const size_t n = tr->train->n, G = step_rows(tr), steps = (n + G - 1) / G;
    const size_t R = (size_t)tr->n_replicas, r = (size_t)tr->rank;
    const size_t check_every = (size_t)tr->opts.v[GSGD_CHECK_EVERY];
    const double t_start = now_seconds();
    /* Shards shuffle independently; replicas sharing the data must all
     * draw the same permutation. Rank 0 keeps the seed of a lone run. */
    uint64_t seed = (uint64_t)tr->opts.v[GSGD_SEED];
    if (tr->shard) seed += (uint64_t)r * 0x9e3779b97f4a7c15ull;

    use_average(tr, 0);
    int per_step;
    FORWARD_IF_ERROR(upload_rates(tr, steps, &per_step));
    FORWARD_IF_ERROR(
        be->permutation(ctx, seed, (uint64_t)tr->epoch, n, tr->perm, tr->perm_scratch));
    FORWARD_IF_ERROR(be->zero(ctx, tr->sb.acc, 2 * sizeof(double)));
    double loss_sum = 0.0;
    size_t loss_samples = 0, chunk = 0; /* samples behind loss_sum, since the last check */
    size_t seen_all = 0; /* samples of all replicas */
    for (size_t s = tr->epoch_step; s < steps; s++) {
        const size_t start = s * G, g = n - start < G ? n - start : G;
        size_t lo = start, b = g, global = tr->shard ? g * R : g;
        if (!tr->shard && R > 1) { /* contiguous, even split of the global batch */
            lo = start + g * r / R;
            b = start + g * (r + 1) / R - lo;
        }
        FORWARD_IF_ERROR(local_gradient(tr, lo, b, global));
        if (tr->grad_hook) {
            gsgd_status hs = tr->grad_hook(tr->grads, m->n_params, ctx->stream,
                                           tr->grad_hook_user);
            RETURN_ERROR_IF(hs != GSGD_STATUS_OK, ctx, hs,
                            "gradient hook failed (%s) at epoch %d step %zu",
                            gsgd_status_name(hs), tr->epoch + 1, s + 1);
        }
        FORWARD_IF_ERROR(apply_update(tr, per_step ? tr->lr + s : tr->lr));
        tr->lr_now = tr->lr_host[per_step ? s : 0];
        tr->steps++;
        tr->epoch_step = s + 1;
        chunk += b;
        seen_all += global;
        if ((s + 1) % check_every == 0 && s + 1 < steps) {
            FORWARD_IF_ERROR(check_health(tr, steps, &loss_sum, &loss_samples, chunk));
            chunk = 0;
            if (ps && ps->fn) {
                ps->p.step = s + 1;
                ps->p.steps = steps;
                ps->p.loss = loss_samples ? loss_sum / (double)loss_samples : NAN;
                ps->p.samples_per_second = (double)seen_all / (now_seconds() - t_start);
                ps->p.seconds = now_seconds() - ps->t0;
                ps->p.epoch_done = 0;
                ps->p.test_accuracy = NAN;
                ps->p.lr = tr->lr_now;
                RETURN_ERROR_IF(ps->fn(&ps->p, ps->user), ctx, GSGD_STATUS_INTERRUPTED,
                                "training stopped by the progress callback at epoch %d step %zu",
                                tr->epoch + 1, s + 1);
            }
        }
    }
    FORWARD_IF_ERROR(check_health(tr, steps, &loss_sum, &loss_samples, chunk));
    tr->epoch++;
    tr->epoch_step = 0;
    /* A replica reports the mean over its own samples. */
    if (mean_loss) *mean_loss = loss_samples ? loss_sum / (double)loss_samples : NAN;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_train_epoch(gsgd_trainer *tr, double *mean_loss) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    return run_epoch(tr, NULL, mean_loss);
}

gsgd_status gsgd_trainer_evaluate(gsgd_trainer *tr, const gsgd_dataset *ds,
                                  gsgd_eval_result *out) {
    if (!tr || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    const int swapped = tr->avg_swapped;
    use_average(tr, 1);
    gsgd_status st = gsgd_evaluate_with(tr->m, &tr->sb, ds, out);
    use_average(tr, swapped);
    return st;
}

/* Early stopping and ADAPTIVE (scikit-learn's rules): after each epoch,
 * the monitored value -- validation accuracy (higher is better) with a
 * held-out set, the epoch's training loss otherwise -- either improves on
 * the best by more than TOL or counts one more epoch without improvement.
 * After N_ITER_NO_CHANGE of those, ADAPTIVE divides the rate by 5 (until
 * it falls below 1e-6) and anything else stops. Returns 1 to stop. */
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
    if (adaptive && tr->lr_now / 5.0 >= 1e-6) {
        tr->lr_factor /= 5.0;
        tr->no_improve = 0;
        gsgd_log(tr->ctx, GSGD_LOG_INFO,
                 "epoch %d: no improvement by %g for %d epochs; learning rate divided by 5 "
                 "to %g",
                 tr->epoch, tol, n, tr->lr_now / 5.0);
        return 0;
    }
    gsgd_log(tr->ctx, GSGD_LOG_INFO, "stopping after epoch %d: no improvement by %g for %d epochs",
             tr->epoch, tol, n);
    return 1;
}

gsgd_status gsgd_train(gsgd_trainer *tr, const gsgd_dataset *test, gsgd_progress_fn progress,
                       void *user, gsgd_train_result *out) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    const int epochs = (int)tr->opts.v[GSGD_EPOCHS];
    const double target = tr->opts.v[GSGD_TARGET_ACC];
    progress_state ps = {.fn = progress, .user = user, .t0 = now_seconds()};
    gsgd_train_result r = {.batch = tr->B, .test_accuracy = NAN, .test_loss = NAN,
                           .time_to_target_s = NAN, .train_loss = NAN,
                           .validation_accuracy = NAN};
    double train_seconds = 0.0;
    size_t samples = 0;
    int evaluated_last = 0;
    for (int e = 0; e < epochs; e++) {
        ps.p.epoch = tr->epoch + 1;
        ps.p.epochs = tr->epoch + epochs - e;
        double t = now_seconds();
        FORWARD_IF_ERROR(run_epoch(tr, &ps, &r.train_loss));
        train_seconds += now_seconds() - t;
        samples += epoch_samples(tr);
        r.epochs++;
        evaluated_last = 0;
        gsgd_eval_result ev = {.accuracy = NAN, .loss = NAN};
        if (test && (target > 0.0 || progress)) {
            FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, test, &ev));
            r.test_accuracy = ev.accuracy;
            r.test_loss = ev.loss;
            evaluated_last = 1;
        }
        double monitored = r.train_loss;
        int higher = 0;
        if (tr->val) {
            gsgd_eval_result vr;
            FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, tr->val, &vr));
            r.validation_accuracy = vr.accuracy;
            /* Regression has no accuracy: its validation loss, lower better. */
            monitored = isnan(vr.accuracy) ? vr.loss : vr.accuracy;
            higher = !isnan(vr.accuracy);
        }
        /* Decided before the callback, so that a checkpoint saved there
         * holds this epoch's early-stopping and ADAPTIVE state. */
        const int reached = target > 0.0 && ev.accuracy >= target;
        const int stop = !reached && should_stop(tr, monitored, higher);
        if (progress) {
            ps.p.step = ps.p.steps = (tr->train->n + step_rows(tr) - 1) / step_rows(tr);
            ps.p.loss = r.train_loss;
            ps.p.samples_per_second = (double)epoch_samples(tr) / (now_seconds() - t);
            ps.p.seconds = now_seconds() - ps.t0;
            ps.p.epoch_done = 1;
            ps.p.test_accuracy = ev.accuracy;
            ps.p.lr = tr->lr_now;
            RETURN_ERROR_IF(progress(&ps.p, user), tr->ctx, GSGD_STATUS_INTERRUPTED,
                            "training stopped by the progress callback after epoch %d",
                            tr->epoch);
        }
        if (reached) {
            r.time_to_target_s = now_seconds() - ps.t0;
            break;
        }
        if (stop) {
            r.stopped_early = 1;
            break;
        }
    }
    use_average(tr, 1);
    if (test && !evaluated_last) {
        gsgd_eval_result ev;
        FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, test, &ev));
        r.test_accuracy = ev.accuracy;
        r.test_loss = ev.loss;
    }
    r.steps = tr->steps;
    r.skipped_steps = tr->bad_seen;
    r.lr = gsgd_base_lr(&tr->opts) * gsgd_lr_scale(&tr->opts, tr->B * (size_t)tr->n_replicas);
    r.seconds = now_seconds() - ps.t0;
    r.samples_per_second = train_seconds > 0.0 ? (double)samples / train_seconds : NAN;
    if (out) *out = r;
    return GSGD_STATUS_OK;
}

/* ---- probes for the planner ---------------------------------------------- */

gsgd_status gsgd_trainer_probe(gsgd_trainer *tr, size_t b, int steps, double *seconds) {
    gsgd_context *ctx = tr->ctx;
    const gsgd_backend *be = ctx->be;
    gsgd_model *m = tr->m;
    const size_t n = tr->train->n;
    if (b > tr->B) b = tr->B;
    /* p -= 0 * direction leaves every finite parameter exactly as it was. */
    const float zero = 0.0f;
    FORWARD_IF_ERROR(be->upload(ctx, tr->lr, &zero, sizeof zero));
    FORWARD_IF_ERROR(be->permutation(ctx, (uint64_t)tr->opts.v[GSGD_SEED], 0, n, tr->perm,
                                     tr->perm_scratch));
    use_average(tr, 0);
    for (int s = 0; s < steps; s++) {
        const double t0 = now_seconds();
        FORWARD_IF_ERROR(local_gradient(tr, (size_t)s * b % (n - b + 1), b, b));
        /* No guard, no average: a probe leaves no trace in either. */
        gsgd_update_args a = {.lr = tr->lr, .params = m->params, .grads = tr->grads,
                              .n = m->n_params, .state = {tr->state[0], tr->state[1]},
                              .work = tr->work, .t = 1};
        FORWARD_IF_ERROR(be->update(ctx, &tr->rule, &a));
        if (seconds) {
            FORWARD_IF_ERROR(be->sync(ctx));
            seconds[s] = now_seconds() - t0;
        }
    }
    /* Training must start from the optimizer state a fresh trainer has. */
    return clear_state(tr);
}

gsgd_status gsgd_trainer_probe_eval(gsgd_trainer *tr) {
    gsgd_context *ctx = tr->ctx;
    gsgd_model *m = tr->m;
    const gsgd_dataset *ds = tr->train;
    FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->xt, ds->y, ds->d, NULL, 0, tr->B,
                                     m->mean, m->inv_std, tr->sb.Xb, tr->sb.yb));
    FORWARD_IF_ERROR(gsgd_model_forward(m, &tr->sb, tr->B));
    return gsgd_model_score(m, &tr->sb, tr->B);
}

gsgd_status gsgd_trainer_set_grad_hook(gsgd_trainer *tr, gsgd_grad_hook_fn fn, void *user) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    tr->grad_hook = fn;
    tr->grad_hook_user = fn ? user : NULL;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_set_replica(gsgd_trainer *tr, int rank, int n_replicas, int shard) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    RETURN_ERROR_IF(n_replicas < 1 || rank < 0 || rank >= n_replicas, tr->ctx,
                    GSGD_STATUS_INVALID_ARGUMENT,
                    "set_replica: rank %d of %d replicas is not in [0, n_replicas)", rank,
                    n_replicas);
    RETURN_ERROR_IF(shard != 0 && shard != 1, tr->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                    "set_replica: shard must be 0 or 1, got %d", shard);
    /* The step schedule (rows per step, seed) must not change mid-run. */
    RETURN_ERROR_IF(tr->steps > 0, tr->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                    "set_replica: the trainer has already taken %zu steps", tr->steps);
    tr->rank = rank;
    tr->n_replicas = n_replicas;
    tr->shard = shard;
    return GSGD_STATUS_OK;
}
