/* The trainer: the epoch/step loop, evaluation, target accuracy, progress. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct gsgd_trainer {
    gsgd_context *ctx;
    gsgd_model *m;
    const gsgd_dataset *train;
    gsgd_options opts;
    gsgd_update_rule rule;
    size_t B;
    gsgd_step_buffers sb;
    float *grads;       /* flat, same layout as the parameters */
    float *velocity;    /* flat momentum buffer, or NULL for plain SGD */
    float *lr;          /* backend memory: lr_len rates, one per step while
                           warming up (uploaded once per epoch), else one */
    size_t lr_len;
    float *lr_host;     /* host staging for the rates, lr_len floats */
    gsgd_batch_plan *plan;    /* how the batch was chosen (owned) */
    double lr_now;      /* rate of the latest step, for messages and progress */
    uint32_t *perm;     /* this epoch's permutation */
    void *perm_scratch; /* backend scratch for building it */
    size_t perm_scratch_bytes;
    int epoch;          /* epochs completed */
    size_t steps;       /* optimizer steps taken */
    gsgd_grad_hook_fn grad_hook; /* between backward and update (data parallel) */
    void *grad_hook_user;
    int rank, n_replicas, shard; /* see gsgd_trainer_set_replica; 1 replica alone */
};

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
    gsgd_batch_plan *plan = NULL;
    gsgd_trainer *tr = NULL;
    FORWARD_IF_ERROR(gsgd_plan_run(m, train, opts, &plan, &tr));
    tr->plan = plan;
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
    tr->B = B < train->n ? B : train->n;
    /* A warmup needs a rate per step; an epoch has at most n steps. The
     * planner counts the same n floats (planner.c). */
    tr->lr_len = opts->v[GSGD_WARMUP] > 0.0 ? train->n : 1;

    const gsgd_backend *be = ctx->be;
    const size_t pbytes = m->n_params * sizeof(float);
    gsgd_status st;
    CHECK_GOTO(st, gsgd_step_buffers_alloc(m, tr->B, &tr->sb), fail);
    CHECK_GOTO(st, gsgd_mem_alloc(ctx, pbytes, (void **)&tr->grads), fail);
    if (tr->rule.kind != GSGD_OPTIM_SGD) {
        CHECK_GOTO(st, gsgd_mem_alloc(ctx, pbytes, (void **)&tr->velocity), fail);
        CHECK_GOTO(st, be->zero(ctx, tr->velocity, pbytes), fail);
    }
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

void gsgd_trainer_free(gsgd_trainer *tr) {
    if (!tr) return;
    gsgd_context *ctx = tr->ctx;
    const size_t pbytes = tr->m->n_params * sizeof(float);
    gsgd_step_buffers_free(tr->m, &tr->sb);
    gsgd_mem_free(ctx, tr->grads, pbytes);
    gsgd_mem_free(ctx, tr->velocity, pbytes);
    gsgd_mem_free(ctx, tr->lr, tr->lr_len * sizeof(float));
    free(tr->lr_host);
    gsgd_plan_free(tr->plan);
    gsgd_mem_free(ctx, tr->perm, tr->train->n * sizeof(uint32_t));
    gsgd_mem_free(ctx, tr->perm_scratch, tr->perm_scratch_bytes);
    free(tr);
}

/* Reads the running loss sum; fails naming the step when it is not finite. */
static gsgd_status check_loss(gsgd_trainer *tr, size_t step, double *loss_sum) {
    double acc[2];
    FORWARD_IF_ERROR(tr->ctx->be->download(tr->ctx, acc, tr->sb.acc, sizeof acc));
    RETURN_ERROR_IF(!isfinite(acc[0]), tr->ctx, GSGD_STATUS_DIVERGED,
                    "loss became %s by step %zu (epoch %d, global step %zu): the learning rate "
                    "%g is likely too high for batch %zu",
                    isnan(acc[0]) ? "NaN" : "Inf", step, tr->epoch + 1, tr->steps, tr->lr_now,
                    tr->B);
    *loss_sum = acc[0];
    return GSGD_STATUS_OK;
}

/* Uploads this epoch's learning rates: one per step while the warmup lasts
 * (*per_step = 1), else the one rate of the whole epoch. Once per epoch,
 * so the step loop itself never copies to the device. */
static gsgd_status upload_rates(gsgd_trainer *tr, size_t steps, int *per_step) {
    const size_t Bg = tr->B * (size_t)tr->n_replicas; /* the global batch */
    *per_step = tr->lr_len >= steps &&
                (size_t)tr->epoch * steps < gsgd_warmup_steps(&tr->opts, steps);
    const size_t count = *per_step ? steps : 1;
    for (size_t s = 0; s < count; s++)
        tr->lr_host[s] = (float)gsgd_lr_at_step(&tr->opts, Bg, steps, tr->epoch, s);
    tr->lr_now = tr->lr_host[0];
    return tr->ctx->be->upload(tr->ctx, tr->lr, tr->lr_host, count * sizeof(float));
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
    FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->y, ds->d, tr->perm, lo, b, m->mean,
                                     m->inv_std, tr->sb.Xb, tr->sb.yb));
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

    int per_step;
    FORWARD_IF_ERROR(upload_rates(tr, steps, &per_step));
    FORWARD_IF_ERROR(
        be->permutation(ctx, seed, (uint64_t)tr->epoch, n, tr->perm, tr->perm_scratch));
    FORWARD_IF_ERROR(be->zero(ctx, tr->sb.acc, 2 * sizeof(double)));
    double loss_sum = 0.0;
    size_t seen = 0, seen_all = 0; /* samples of this replica, of all replicas */
    for (size_t s = 0; s < steps; s++) {
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
        gsgd_update_args ua = {.lr = per_step ? tr->lr + s : tr->lr, .params = m->params,
                               .grads = tr->grads, .n = m->n_params,
                               .state = {tr->velocity, NULL}, .t = tr->steps + 1};
        FORWARD_IF_ERROR(be->update(ctx, &tr->rule, &ua));
        tr->lr_now = tr->lr_host[per_step ? s : 0];
        tr->steps++;
        seen += b;
        seen_all += global;
        if ((s + 1) % check_every == 0 && s + 1 < steps) {
            FORWARD_IF_ERROR(check_loss(tr, s + 1, &loss_sum));
            if (ps && ps->fn) {
                ps->p.step = s + 1;
                ps->p.steps = steps;
                ps->p.loss = seen ? loss_sum / (double)seen : NAN;
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
    FORWARD_IF_ERROR(check_loss(tr, steps, &loss_sum));
    tr->epoch++;
    /* A replica reports the mean over its own samples. */
    if (mean_loss) *mean_loss = seen ? loss_sum / (double)seen : NAN;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_train_epoch(gsgd_trainer *tr, double *mean_loss) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    return run_epoch(tr, NULL, mean_loss);
}

gsgd_status gsgd_trainer_evaluate(gsgd_trainer *tr, const gsgd_dataset *ds,
                                  gsgd_eval_result *out) {
    if (!tr || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    return gsgd_evaluate_with(tr->m, &tr->sb, ds, out);
}

gsgd_status gsgd_train(gsgd_trainer *tr, const gsgd_dataset *test, gsgd_progress_fn progress,
                       void *user, gsgd_train_result *out) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    const int epochs = (int)tr->opts.v[GSGD_EPOCHS];
    const double target = tr->opts.v[GSGD_TARGET_ACC];
    progress_state ps = {.fn = progress, .user = user, .t0 = now_seconds()};
    gsgd_train_result r = {.batch = tr->B, .test_accuracy = NAN, .test_loss = NAN,
                           .time_to_target_s = NAN, .train_loss = NAN};
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
        if (target > 0.0 && ev.accuracy >= target) {
            r.time_to_target_s = now_seconds() - ps.t0;
            break;
        }
    }
    if (test && !evaluated_last) {
        gsgd_eval_result ev;
        FORWARD_IF_ERROR(gsgd_trainer_evaluate(tr, test, &ev));
        r.test_accuracy = ev.accuracy;
        r.test_loss = ev.loss;
    }
    r.steps = tr->steps;
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
    for (int s = 0; s < steps; s++) {
        const double t0 = now_seconds();
        FORWARD_IF_ERROR(local_gradient(tr, (size_t)s * b % (n - b + 1), b, b));
        gsgd_update_args ua = {.lr = tr->lr, .params = m->params, .grads = tr->grads,
                               .n = m->n_params, .state = {tr->velocity, NULL},
                               .t = (uint64_t)s + 1};
        FORWARD_IF_ERROR(be->update(ctx, &tr->rule, &ua));
        if (seconds) {
            FORWARD_IF_ERROR(be->sync(ctx));
            seconds[s] = now_seconds() - t0;
        }
    }
    /* Training must start from the optimizer state a fresh trainer has. */
    if (tr->velocity)
        FORWARD_IF_ERROR(be->zero(ctx, tr->velocity, m->n_params * sizeof(float)));
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_probe_eval(gsgd_trainer *tr) {
    gsgd_context *ctx = tr->ctx;
    gsgd_model *m = tr->m;
    const gsgd_dataset *ds = tr->train;
    FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->y, ds->d, NULL, 0, tr->B, m->mean,
                                     m->inv_std, tr->sb.Xb, tr->sb.yb));
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
