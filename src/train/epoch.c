/* The trainer's epoch: the step loop with its health checks, the
 * per-epoch learning rates and the fused update of each step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/step.h"
#include "optim/schedule.h"
#include "core/util.h"
#include "core/error.h"

/* Every CHECK_EVERY steps and at the end of an epoch: reads the device's
 * guard and the loss accumulated since the last check, then clears the
 * accumulator. A chunk whose loss is not finite (a skipped step's) is left
 * out of the epoch's mean. Fails naming the step when a step went bad and
 * ON_NAN is STOP. */
static gsgd_status check_health(gsgd_trainer *tr, size_t steps_per_epoch, double *loss_sum,
                                size_t *loss_samples, size_t chunk_samples) {
    gsgd_context *ctx = tr->ctx;
    double acc[2];
    gsgdi_guard g;
    GSGD_FORWARD_IF_ERROR(ctx->be->download(ctx, &g, tr->guard, sizeof g));
    GSGD_FORWARD_IF_ERROR(ctx->be->download(ctx, acc, tr->sb.acc, sizeof acc));
    GSGD_FORWARD_IF_ERROR(ctx->be->zero(ctx, tr->sb.acc, sizeof acc));
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
            snprintf(where, sizeof where, "at step %zu (epoch %zu, step %zu of %zu)", first, e + 1,
                     first - e * steps_per_epoch, steps_per_epoch);
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
        gsgdi_log(ctx, GSGD_LOG_WARNING,
                  "%u step%s with a non-finite gradient skipped by step %zu (%u in all); the "
                  "learning rate is now %g of the schedule's",
                  g.bad_steps - tr->bad_seen, g.bad_steps - tr->bad_seen == 1 ? "" : "s", tr->steps,
                  g.bad_steps, (double)g.lr_factor);
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
    *per_step =
        tr->lr_len >= steps && (gsgdi_schedule_per_step(&tr->opts) ||
                                (size_t)tr->epoch * steps < gsgdi_warmup_steps(&tr->opts, steps));
    const size_t count = *per_step ? steps : 1;
    for (size_t s = 0; s < count; s++)
        tr->lr_host[s] = (float)(tr->lr_factor * gsgdi_lr_at_step(&tr->opts, &tr->cooldown, Bg,
                                                                  steps, tr->epoch, s));
    tr->lr_now = tr->lr_host[0];
    return tr->ctx->be->upload(tr->ctx, tr->lr, tr->lr_host, count * sizeof(float));
}

/* Issues step s's work: gradient, the gradient hook, update. t: its
 * number (within the epoch when t_in_epoch). */
static gsgd_status issue_step(gsgd_trainer *tr, size_t s, int per_step, uint64_t t,
                              int t_in_epoch) {
    gsgdi_step st = {
        .index = s, .lr = per_step ? tr->lr + s : tr->lr, .t = t, .t_in_epoch = t_in_epoch};
    gsgdi_step_rows(tr, s, &st.lo, &st.b, &st.global);
    return gsgdi_step_run(tr, &st, NULL);
}

/* Whether this epoch's whole chunks of steps can be recorded once and
 * replayed: a backend that records (CUDA), no hook between backward and
 * update (it may talk to other ranks), and an update whose scalars are the
 * same every epoch (gsgdi_rule_uses_t, no average). GSGD_CUDA_GRAPHS=0 in
 * the environment turns it off. */
int gsgdi_trainer_replays(const gsgd_trainer *tr) {
    return !tr->graphs_off && tr->ctx->be->graph_begin && gsgdi_env_switch("GSGD_CUDA_GRAPHS", 1) &&
           !tr->grad_hook && !tr->average && !gsgdi_rule_uses_t(&tr->rule);
}

/* At an epoch's start, before its steps: one slot per chunk of
 * check_every steps, emptied when the rate table's layout changed (the
 * recorded steps read rates at per_step's offsets), and the number of the
 * steps before this epoch, from which recorded steps count theirs. */
static gsgd_status prepare_graphs(gsgd_trainer *tr, size_t steps, size_t check_every,
                                  int per_step) {
    const size_t n = (steps + check_every - 1) / check_every;
    if (!tr->graphs || tr->n_graphs != n || tr->graphs_per_step != per_step) {
        gsgdi_trainer_drop_graphs(tr);
        tr->graphs = calloc(n, sizeof *tr->graphs);
        GSGD_RETURN_ERROR_IF(!tr->graphs, tr->ctx, GSGD_STATUS_OUT_OF_MEMORY, "out of host memory");
        tr->n_graphs = n;
        tr->graphs_per_step = per_step;
    }
    const uint64_t t_base = (uint64_t)(tr->steps - tr->epoch_step);
    return tr->ctx->be->upload(tr->ctx, &tr->guard->t_base, &t_base, sizeof t_base);
}

/* Steps [s0, s1) of an epoch, recorded as one graph. */
typedef struct {
    size_t s0, s1;
    int per_step;
} chunk_steps;

static gsgd_status issue_chunk(gsgd_trainer *tr, void *user) {
    const chunk_steps *c = user;
    for (size_t s = c->s0; s < c->s1; s++)
        GSGD_FORWARD_IF_ERROR(issue_step(tr, s, c->per_step, (uint64_t)s + 1, 1));
    return GSGD_STATUS_OK;
}

/* Steps [s0, s1) of the epoch, between two health checks: with graphs
 * (prepare_graphs done), a whole chunk is replayed from its recording,
 * made the first time; else the steps are issued one by one. A recording
 * that fails is said once in the log, and the trainer goes on without. */
static gsgd_status run_chunk(gsgd_trainer *tr, size_t s0, size_t s1, size_t check_every,
                             int per_step, int graphs) {
    gsgd_context *ctx = tr->ctx;
    if (graphs && !tr->graphs_off && s0 % check_every == 0) {
        void **slot = tr->graphs + s0 / check_every;
        if (!*slot) {
            chunk_steps c = {s0, s1, per_step};
            gsgd_status st = gsgdi_step_record(tr, issue_chunk, &c, slot);
            if (st != GSGD_STATUS_OK) {
                gsgdi_log(ctx, GSGD_LOG_WARNING,
                          "steps run without CUDA Graphs: recording them failed (%s)",
                          gsgd_last_error(ctx));
                tr->graphs_off = 1;
                gsgdi_trainer_drop_graphs(tr);
            }
        }
        if (!tr->graphs_off) return ctx->be->graph_launch(ctx, *slot);
    }
    for (size_t s = s0; s < s1; s++)
        GSGD_FORWARD_IF_ERROR(issue_step(tr, s, per_step, (uint64_t)(tr->steps + (s - s0)) + 1, 0));
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_trainer_run_epoch(gsgd_trainer *tr, gsgdi_progress_state *ps, double *mean_loss) {
    gsgd_context *ctx = tr->ctx;
    const gsgdi_backend *be = ctx->be;
    const size_t n = tr->train->n, G = gsgdi_trainer_step_rows(tr), steps = (n + G - 1) / G;
    const size_t check_every = (size_t)tr->opts.v[GSGD_CHECK_EVERY];
    const double t_start = gsgdi_now_seconds();
    /* Shards shuffle independently; replicas sharing the data must all
     * draw the same permutation. Rank 0 keeps the seed of a lone run. */
    uint64_t seed = (uint64_t)tr->opts.v[GSGD_SEED];
    if (tr->shard) seed += (uint64_t)tr->rank * 0x9e3779b97f4a7c15ull;

    gsgdi_trainer_use_average(tr, 0);
    int per_step;
    GSGD_FORWARD_IF_ERROR(upload_rates(tr, steps, &per_step));
    const int graphs = gsgdi_trainer_replays(tr);
    if (graphs) GSGD_FORWARD_IF_ERROR(prepare_graphs(tr, steps, check_every, per_step));
    GSGD_FORWARD_IF_ERROR(
        be->permutation(ctx, seed, (uint64_t)tr->epoch, n, tr->perm, tr->perm_scratch));
    GSGD_FORWARD_IF_ERROR(be->zero(ctx, tr->sb.acc, 2 * sizeof(double)));
    double loss_sum = 0.0;
    size_t loss_samples = 0, chunk = 0; /* samples behind loss_sum, since the last check */
    size_t seen_all = 0;                /* samples of all replicas */
    while (tr->epoch_step < steps) {
        const size_t s0 = tr->epoch_step;
        const size_t s1 = (s0 / check_every + 1) * check_every < steps
                              ? (s0 / check_every + 1) * check_every
                              : steps;
        GSGD_FORWARD_IF_ERROR(run_chunk(tr, s0, s1, check_every, per_step, graphs));
        /* replayed steps run no host code: the lazy decay's record is here */
        if (tr->lazy && tr->decay.upto) tr->decay_pending = 1;
        for (size_t s = s0; s < s1; s++) {
            size_t lo, b, global;
            gsgdi_step_rows(tr, s, &lo, &b, &global);
            chunk += b;
            seen_all += global;
        }
        tr->lr_now = tr->lr_host[per_step ? s1 - 1 : 0];
        tr->steps += s1 - s0;
        tr->epoch_step = s1;
        if (s1 % check_every == 0 && s1 < steps) {
            GSGD_FORWARD_IF_ERROR(check_health(tr, steps, &loss_sum, &loss_samples, chunk));
            chunk = 0;
            if (ps && ps->fn) {
                ps->p.step = s1;
                ps->p.steps = steps;
                ps->p.loss = loss_samples ? loss_sum / (double)loss_samples : NAN;
                ps->p.samples_per_second = (double)seen_all / (gsgdi_now_seconds() - t_start);
                ps->p.seconds = gsgdi_now_seconds() - ps->t0;
                ps->p.epoch_done = 0;
                ps->p.test_accuracy = NAN;
                ps->p.lr = tr->lr_now;
                const int stop = ps->fn(&ps->p, ps->user);
                if (stop) GSGD_FORWARD_IF_ERROR(gsgdi_trainer_flush(tr));
                GSGD_RETURN_ERROR_IF(
                    stop, ctx, GSGD_STATUS_INTERRUPTED,
                    "training stopped by the progress callback at epoch %d step %zu", tr->epoch + 1,
                    s1);
            }
        }
    }
    GSGD_FORWARD_IF_ERROR(check_health(tr, steps, &loss_sum, &loss_samples, chunk));
    GSGD_FORWARD_IF_ERROR(gsgdi_trainer_flush(tr));
    tr->epoch++;
    tr->epoch_step = 0;
    /* A replica reports the mean over its own samples. */
    if (mean_loss) *mean_loss = loss_samples ? loss_sum / (double)loss_samples : NAN;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_train_epoch(gsgd_trainer *tr, double *mean_loss) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    return gsgdi_trainer_run_epoch(tr, NULL, mean_loss);
}
