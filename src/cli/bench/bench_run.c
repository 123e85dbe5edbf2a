/*
 * Timing of the step's phases and of the yardsticks they are measured
 * against (see bench_run.h). Phases are stamped with gsgdi_timer marks:
 * CUDA events recorded on the context's stream, so the timed steps run
 * back to back with no host synchronisation between phases (as in
 * training); on the CPU, whose ops are synchronous, the monotonic clock.
 */
#include "cli/bench/bench_run.h"
#include "optim/rule.h"
#include "core/util.h"
#include "core/memory.h"
#include "core/error.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const BENCH_PHASE_NAMES[PH_COUNT] = {"gather", "forward", "backward", "update"};

gsgd_status bench_bufs_alloc(bench_bufs *bb, gsgd_model *m, const gsgd_dataset *ds,
                             const gsgd_options *opts, size_t B) {
    memset(bb, 0, sizeof *bb);
    gsgd_context *ctx = m->ctx;
    const gsgdi_backend *be = ctx->be;
    bb->ctx = ctx;
    bb->m = m;
    bb->ds = ds;
    bb->rule = gsgdi_rule_from_options(opts, m, m->n_params);
    bb->rule.skip_nonfinite = 0; /* no guard: lr 0 steps change nothing */
    bb->work_floats = gsgdi_rule_work_floats(&bb->rule, m->n_params);
    bb->B = B < ds->n ? B : ds->n;
    const size_t pbytes = m->n_params * sizeof(float);
    const float zero = 0.0f;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_step_buffers_alloc(m, bb->B, &bb->sb), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&bb->grads), fail);
    for (int k = 0; k < gsgdi_rule_state_count(&bb->rule); k++) {
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, pbytes, (void **)&bb->state[k]), fail);
        GSGD_CHECK_GOTO(st, be->zero(ctx, bb->state[k], pbytes), fail);
    }
    if (bb->work_floats)
        GSGD_CHECK_GOTO(
            st, gsgdi_mem_alloc(ctx, bb->work_floats * sizeof(float), (void **)&bb->work), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, sizeof(float), (void **)&bb->lr), fail);
    GSGD_CHECK_GOTO(st, be->upload(ctx, bb->lr, &zero, sizeof zero), fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, ds->n * sizeof(uint32_t), (void **)&bb->perm), fail);
    bb->scratch_bytes = be->perm_scratch_bytes(ds->n);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bb->scratch_bytes, &bb->scratch), fail);
    bb->fused_bytes = gsgdi_model_fused_bytes(m, ds, bb->B);
    if (bb->fused_bytes)
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bb->fused_bytes, &bb->fused), fail);
    GSGD_CHECK_GOTO(
        st, be->permutation(ctx, (uint64_t)opts->v[GSGD_SEED], 0, ds->n, bb->perm, bb->scratch),
        fail);
    return GSGD_STATUS_OK;
fail:
    bench_bufs_free(bb);
    return st;
}

void bench_bufs_free(bench_bufs *bb) {
    if (!bb->ctx) return;
    gsgd_context *ctx = bb->ctx;
    const size_t pbytes = bb->m->n_params * sizeof(float);
    if (bb->sb.B) gsgdi_step_buffers_free(bb->m, &bb->sb);
    gsgdi_mem_free(ctx, bb->grads, pbytes);
    for (int k = 0; k < 2; k++) gsgdi_mem_free(ctx, bb->state[k], pbytes);
    gsgdi_mem_free(ctx, bb->work, bb->work_floats * sizeof(float));
    gsgdi_mem_free(ctx, bb->lr, sizeof(float));
    gsgdi_mem_free(ctx, bb->perm, bb->ds->n * sizeof(uint32_t));
    gsgdi_mem_free(ctx, bb->scratch, bb->scratch_bytes);
    gsgdi_mem_free(ctx, bb->fused, bb->fused_bytes);
    memset(bb, 0, sizeof *bb);
}

static gsgd_status gather(bench_bufs *bb, size_t lo, size_t b) {
    const gsgd_dataset *ds = bb->ds;
    gsgd_model *m = bb->m;
    return bb->ctx->be->gather(bb->ctx, ds->X, ds->xt, ds->y, ds->d, bb->perm, lo, b, m->mean,
                               m->inv_std, bb->sb.Xb, bb->sb.yb);
}

gsgd_status bench_gradient(bench_bufs *bb, size_t lo, size_t b) {
    if (bb->fused)
        return gsgdi_model_fused_gradient(bb->m, bb->ds, bb->perm, lo, b, 1.0f / (float)b,
                                          bb->grads, bb->sb.acc, bb->fused, bb->fused_bytes);
    GSGD_FORWARD_IF_ERROR(gather(bb, lo, b));
    GSGD_FORWARD_IF_ERROR(gsgdi_model_forward(bb->m, &bb->sb, b));
    return gsgdi_model_backward(bb->m, &bb->sb, b, bb->grads);
}

gsgd_status bench_update(bench_bufs *bb) {
    gsgd_model *m = bb->m;
    const gsgdi_update_args a = {.lr = bb->lr,
                                 .params = m->params,
                                 .grads = bb->grads,
                                 .n = m->n_params,
                                 .state = {bb->state[0], bb->state[1]},
                                 .work = bb->work,
                                 .t = 1};
    return bb->ctx->be->update(bb->ctx, &bb->rule, &a);
}

/* ---- statistics ---------------------------------------------------------- */

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Quantile q of n values by linear interpolation; sorts v. */
static double quantile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double pos = q * (double)(n - 1);
    int i = (int)pos;
    return i + 1 < n ? v[i] + (pos - i) * (v[i + 1] - v[i]) : v[n - 1];
}

/* ---- models of the work ---------------------------------------------------- */

double bench_update_bytes(size_t n_params, const gsgdi_update_rule *rule) {
    /* Every rule reads p, g and writes p; each state buffer is read and
     * written too (the convention of bench/bench_update.c). Norms and
     * LAMB's second pass are extra traffic the floor does not count. */
    return (12.0 + 8.0 * gsgdi_rule_state_count(rule)) * (double)n_params;
}

void bench_gemm_flops(const gsgd_model *m, size_t B, double *fwd, double *bwd) {
    *fwd = *bwd = 0.0;
    for (int l = 0; l < m->n_layers; l++) {
        double mnk = 2.0 * (double)B * (double)m->layers[l].in * (double)m->layers[l].out;
        *fwd += mnk;
        *bwd += l > 0 ? 2.0 * mnk : mnk; /* dW always, dX except into the input */
    }
}

double bench_floor_bytes(const gsgd_model *m, size_t B, const gsgdi_update_rule *rule,
                         size_t x_size, int fused) {
    const double b = (double)B, d = (double)m->n_features, K = (double)m->n_outputs;
    if (fused) /* rows, index and target in; weights in, gradient out */
        return b * d * (double)x_size + 8.0 * b + 8.0 * (double)m->n_params +
               bench_update_bytes(m->n_params, rule);
    double floats = b * d * (1.0 + (double)x_size / 4.0) + 3.0 * b; /* perm, rows, labels in;
                                                                        batch out */
    for (int l = 0; l < m->n_layers; l++) {
        const double in = (double)m->layers[l].in, out = (double)m->layers[l].out;
        const double gemm = b * in + in * out + b * out;
        floats += gemm;            /* forward */
        floats += gemm;            /* dW = X^T dY */
        if (l > 0) floats += gemm; /* dX = dY W^T */
    }
    floats += 2.0 * b * K + b; /* loss: logits and labels in, dlogits out */
    return 4.0 * floats + bench_update_bytes(m->n_params, rule);
}

/* ---- copy bandwidth ---------------------------------------------------------- */

gsgd_status bench_copy_gbs(gsgd_context *ctx, size_t bytes, int reps, double *gbs) {
    void *src = NULL, *dst = NULL;
    gsgdi_timer *t = NULL;
    double *s = calloc((size_t)reps, sizeof *s);
    gsgd_status st = GSGD_STATUS_OK;
    GSGD_RETURN_ERROR_IF(!s, ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bytes, &src), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bytes, &dst), done);
    GSGD_CHECK_GOTO(st, ctx->be->zero(ctx, src, bytes), done); /* touch every page */
    GSGD_CHECK_GOTO(st, ctx->be->copy(ctx, dst, src, bytes), done);
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(ctx, reps + 1, &t), done);
    GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, 0), done);
    for (int r = 0; r < reps; r++) {
        GSGD_CHECK_GOTO(st, ctx->be->copy(ctx, dst, src, bytes), done);
        GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, r + 1), done);
    }
    for (int r = 0; r < reps; r++)
        GSGD_CHECK_GOTO(st, gsgdi_timer_seconds(t, r, r + 1, &s[r]), done);
    *gbs = 2.0 * (double)bytes / quantile(s, reps, 0.5) / 1e9;
done:
    gsgdi_timer_free(t);
    gsgdi_mem_free(ctx, src, bytes);
    gsgdi_mem_free(ctx, dst, bytes);
    free(s);
    return st;
}

/* ---- the timed steps --------------------------------------------------------- */

/* One GEMM call of the step, as gsgdi_model_forward/backward make it. */
typedef struct {
    int ta, tb;
    size_t M, N, K;
    const float *A, *Bm;
    size_t lda, ldb;
    float *C;
    size_t ldc;
    int backward;
} gemm_call;

static int step_gemms(bench_bufs *bb, size_t B, gemm_call *g) {
    gsgd_model *m = bb->m;
    gsgdi_step_buffers *sb = &bb->sb;
    int n = 0;
    for (int l = 0; l < m->n_layers; l++) {
        const gsgdi_layer *L = &m->layers[l];
        const float *in = l > 0 ? sb->act[l - 1] : sb->Xb;
        g[n++] = (gemm_call){0,     0,      B,          L->out, L->in, in, m->params + L->w_off,
                             L->in, L->out, sb->act[l], L->out, 0};
        g[n++] = (gemm_call){
            1,      0, L->in, L->out, B, in, sb->dact[l], L->in, L->out, bb->grads + L->w_off,
            L->out, 1};
        if (l > 0)
            g[n++] = (gemm_call){0,
                                 1,
                                 B,
                                 L->in,
                                 L->out,
                                 sb->dact[l],
                                 m->params + L->w_off,
                                 L->out,
                                 L->out,
                                 sb->dact[l - 1],
                                 L->in,
                                 1};
    }
    return n;
}

/* Median seconds of reps calls of one GEMM, after one untimed call. */
static gsgd_status time_gemm(gsgd_context *ctx, const gemm_call *g, int reps, gsgdi_timer *t,
                             double *s, double *median) {
    for (int r = -1; r < reps; r++) {
        GSGD_FORWARD_IF_ERROR(ctx->be->gemm(ctx, g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A, g->lda,
                                            g->Bm, g->ldb, 0.0f, g->C, g->ldc));
        GSGD_FORWARD_IF_ERROR(gsgdi_timer_mark(t, r + 1));
    }
    for (int r = 0; r < reps; r++) GSGD_FORWARD_IF_ERROR(gsgdi_timer_seconds(t, r, r + 1, &s[r]));
    *median = quantile(s, reps, 0.5);
    return GSGD_STATUS_OK;
}

/* sgemm alone on the step's shapes: the summed medians of the forward
 * and of the backward GEMMs. */
static gsgd_status time_sgemm(bench_bufs *bb, int reps, double *fwd_s, double *bwd_s) {
    gemm_call g[3 * GSGD_MAX_LAYERS];
    const int n = step_gemms(bb, bb->B, g);
    gsgdi_timer *t = NULL;
    double *s = calloc((size_t)reps, sizeof *s);
    GSGD_RETURN_ERROR_IF(!s, bb->ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    gsgd_status st;
    *fwd_s = *bwd_s = 0.0;
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(bb->ctx, reps + 1, &t), done);
    for (int i = 0; i < n; i++) {
        double med;
        GSGD_CHECK_GOTO(st, time_gemm(bb->ctx, &g[i], reps, t, s, &med), done);
        *(g[i].backward ? bwd_s : fwd_s) += med;
    }
done:
    gsgdi_timer_free(t);
    free(s);
    return st;
}

/* sgemm alone on n x n x n, the rate the step's arithmetic is held to. */
gsgd_status bench_sgemm_peak(gsgd_context *ctx, size_t n, int reps, double *gflops) {
    const size_t bytes = n * n * sizeof(float);
    float *A = NULL, *Bm = NULL, *C = NULL;
    gsgdi_timer *t = NULL;
    double *s = calloc((size_t)reps, sizeof *s);
    gsgd_status st = GSGD_STATUS_OK;
    GSGD_RETURN_ERROR_IF(!s, ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bytes, (void **)&A), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bytes, (void **)&Bm), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, bytes, (void **)&C), done);
    GSGD_CHECK_GOTO(st, ctx->be->zero(ctx, A, bytes),
                    done); /* the rate does not depend on values */
    GSGD_CHECK_GOTO(st, ctx->be->zero(ctx, Bm, bytes), done);
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(ctx, reps + 1, &t), done);
    const gemm_call g = {0, 0, n, n, n, A, Bm, n, n, C, n, 0};
    double median;
    GSGD_CHECK_GOTO(st, time_gemm(ctx, &g, reps, t, s, &median), done);
    *gflops = 2.0 * (double)n * (double)n * (double)n / median / 1e9;
done:
    gsgdi_timer_free(t);
    gsgdi_mem_free(ctx, A, bytes);
    gsgdi_mem_free(ctx, Bm, bytes);
    gsgdi_mem_free(ctx, C, bytes);
    free(s);
    return st;
}

#define GRAPH_REPLAYS 7

/* Median seconds of a step replayed from a CUDA Graph, as the trainer runs
 * steps on CUDA: `steps` steps (gradient and update, at the offsets the
 * timed steps took) recorded into one graph, replayed once untimed, then
 * GRAPH_REPLAYS times, each over `steps`. *recorded: whether the recording
 * succeeded (where it did not, the error is the recording's). */
static gsgd_status time_graphed(bench_bufs *bb, int steps, double *step_s, int *recorded) {
    gsgd_context *ctx = bb->ctx;
    const gsgdi_backend *be = ctx->be;
    const size_t B = bb->B, n = bb->ds->n;
    void *graph = NULL;
    gsgdi_timer *t = NULL;
    double s[GRAPH_REPLAYS];
    *recorded = 0;
    GSGD_FORWARD_IF_ERROR(be->graph_begin(ctx));
    gsgd_status st = GSGD_STATUS_OK;
    for (int i = 0; i < steps && st == GSGD_STATUS_OK; i++) {
        st = bench_gradient(bb, (size_t)i * B % (n - B + 1), B);
        if (st == GSGD_STATUS_OK) st = bench_update(bb);
    }
    const gsgd_status end = be->graph_end(ctx, st == GSGD_STATUS_OK ? &graph : NULL);
    if (st == GSGD_STATUS_OK) st = end;
    if (st != GSGD_STATUS_OK) return st;
    *recorded = 1;
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(ctx, GRAPH_REPLAYS + 1, &t), done);
    GSGD_CHECK_GOTO(st, be->graph_launch(ctx, graph), done);
    GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, 0), done);
    for (int r = 0; r < GRAPH_REPLAYS; r++) {
        GSGD_CHECK_GOTO(st, be->graph_launch(ctx, graph), done);
        GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, r + 1), done);
    }
    for (int r = 0; r < GRAPH_REPLAYS; r++) {
        GSGD_CHECK_GOTO(st, gsgdi_timer_seconds(t, r, r + 1, &s[r]), done);
        s[r] /= steps;
    }
    *step_s = quantile(s, GRAPH_REPLAYS, 0.5);
done:
    gsgdi_timer_free(t);
    be->graph_free(ctx, graph);
    return st;
}

gsgd_status bench_time_point(bench_bufs *bb, int warmup, int steps, double copy_gbs,
                             double peak_gflops, bench_point *pt) {
    gsgd_context *ctx = bb->ctx;
    const size_t B = bb->B, n = bb->ds->n;
    gsgdi_timer *t = NULL;
    double *v = calloc((size_t)steps, sizeof *v);
    GSGD_RETURN_ERROR_IF(!v || steps < 1, ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(ctx, (PH_COUNT + 1) * steps, &t), done);
    for (int s = -warmup; s < steps; s++) {
        const size_t lo = (size_t)(s + warmup) * B % (n - B + 1);
        const int k = (PH_COUNT + 1) * s; /* marks k .. k + PH_COUNT of this step */
        if (s >= 0) GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, k), done);
        if (bb->fused) /* the whole gradient in the first phase, the next two empty */
            GSGD_CHECK_GOTO(st, bench_gradient(bb, lo, B), done);
        else
            GSGD_CHECK_GOTO(st, gather(bb, lo, B), done);
        if (s >= 0) GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, k + 1), done);
        if (!bb->fused) GSGD_CHECK_GOTO(st, gsgdi_model_forward(bb->m, &bb->sb, B), done);
        if (s >= 0) GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, k + 2), done);
        if (!bb->fused)
            GSGD_CHECK_GOTO(st, gsgdi_model_backward(bb->m, &bb->sb, B, bb->grads), done);
        if (s >= 0) GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, k + 3), done);
        GSGD_CHECK_GOTO(st, bench_update(bb), done);
        if (s >= 0) GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, k + 4), done);
    }
    pt->batch = B;
    pt->timed_steps = steps;
    pt->steps_per_epoch = (n + B - 1) / B;
    for (int p = 0; p < PH_COUNT; p++) {
        for (int s = 0; s < steps; s++)
            GSGD_CHECK_GOTO(
                st,
                gsgdi_timer_seconds(t, (PH_COUNT + 1) * s + p, (PH_COUNT + 1) * s + p + 1, &v[s]),
                done);
        pt->phase_s[p] = quantile(v, steps, 0.5);
    }
    pt->fused = bb->fused != NULL;
    pt->fused_s = NAN;
    if (pt->fused) {
        pt->fused_s = pt->phase_s[PH_GATHER];
        pt->phase_s[PH_GATHER] = pt->phase_s[PH_FORWARD] = pt->phase_s[PH_BACKWARD] = NAN;
    }
    for (int s = 0; s < steps; s++)
        GSGD_CHECK_GOTO(
            st, gsgdi_timer_seconds(t, (PH_COUNT + 1) * s, (PH_COUNT + 1) * s + PH_COUNT, &v[s]),
            done);
    pt->step_s = quantile(v, steps, 0.5);
    pt->step_p25 = quantile(v, steps, 0.25);
    pt->step_p75 = quantile(v, steps, 0.75);
    pt->step_min = v[0];
    /* As the trainer: replayed unless GSGD_CUDA_GRAPHS=0, issued one by one
     * when recording fails (a failed replay is an error). */
    pt->step_graph_s = NAN;
    if (ctx->be->graph_begin && gsgdi_env_switch("GSGD_CUDA_GRAPHS", 1)) {
        int recorded;
        st = time_graphed(bb, steps, &pt->step_graph_s, &recorded);
        if (st != GSGD_STATUS_OK && !recorded) {
            gsgdi_log(ctx, GSGD_LOG_WARNING,
                      "bench: batch %zu: steps not replayed from a CUDA Graph (recording them "
                      "failed: %s); its rates are of the steps issued one by one, as training "
                      "would run them",
                      B, gsgd_last_error(ctx));
            pt->step_graph_s = NAN;
            st = GSGD_STATUS_OK;
        }
        if (st != GSGD_STATUS_OK) goto done;
    }
    pt->step_train_s = isfinite(pt->step_graph_s) ? pt->step_graph_s : pt->step_s;
    pt->samples_per_s = (double)B / pt->step_train_s;
    pt->epoch_s = (double)pt->steps_per_epoch * pt->step_train_s;

    pt->update_bytes = bench_update_bytes(bb->m->n_params, &bb->rule);
    pt->update_gbs = pt->update_bytes / pt->phase_s[PH_UPDATE] / 1e9;
    pt->update_over_copy = pt->update_gbs / copy_gbs;
    pt->floor_bytes = bench_floor_bytes(bb->m, B, &bb->rule,
                                        bb->ds->xt == GSGD_XTYPE_U8 ? 1 : sizeof(float), pt->fused);
    pt->floor_s = pt->floor_bytes / (copy_gbs * 1e9);
    pt->step_over_floor = pt->step_train_s / pt->floor_s;

    double fwd_gemm = 0, bwd_gemm = 0;
    GSGD_CHECK_GOTO(st, time_sgemm(bb, steps < 5 ? 5 : steps, &fwd_gemm, &bwd_gemm), done);
    bench_gemm_flops(bb->m, B, &pt->fwd_flops, &pt->bwd_flops);
    pt->fwd_gflops = pt->fwd_flops / pt->phase_s[PH_FORWARD] / 1e9;
    pt->bwd_gflops = pt->bwd_flops / pt->phase_s[PH_BACKWARD] / 1e9;
    pt->fwd_sgemm_gflops = pt->fwd_flops / fwd_gemm / 1e9;
    pt->bwd_sgemm_gflops = pt->bwd_flops / bwd_gemm / 1e9;
    pt->fwd_over_sgemm = pt->fwd_gflops / pt->fwd_sgemm_gflops;
    pt->bwd_over_sgemm = pt->bwd_gflops / pt->bwd_sgemm_gflops;
    pt->compute_floor_s = (pt->fwd_flops + pt->bwd_flops) / (peak_gflops * 1e9);
    pt->step_over_roofline = pt->step_train_s / fmax(pt->floor_s, pt->compute_floor_s);
done:
    gsgdi_timer_free(t);
    free(v);
    return st;
}
