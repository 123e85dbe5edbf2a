/* The bench's measurements inside the library (see step_bench.h). */
#include "bench/step_bench.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "bench/support.h"
#include "core/error.h"
#include "core/memory.h"

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

double gsgdi_bench_update_bytes(size_t n_params, const gsgdi_update_rule *rule) {
    /* Every rule reads p, g and writes p; each state buffer is read and
     * written too (the convention of bench/bench_update.c). Norms and
     * LAMB's second pass are extra traffic the floor does not count. */
    return (12.0 + 8.0 * gsgdi_rule_state_count(rule)) * (double)n_params;
}

void gsgdi_bench_gemm_flops(const gsgd_model *m, size_t B, double *fwd, double *bwd) {
    *fwd = *bwd = 0.0;
    for (int l = 0; l < m->n_layers; l++) {
        double mnk = 2.0 * (double)B * (double)m->layers[l].in * (double)m->layers[l].out;
        *fwd += mnk;
        *bwd += l > 0 ? 2.0 * mnk : mnk; /* dW always, dX except into the input */
    }
}

double gsgdi_bench_floor_bytes(const gsgd_model *m, size_t B, const gsgdi_update_rule *rule,
                               size_t x_size, int fused) {
    const double b = (double)B, d = (double)m->n_features, K = (double)m->n_outputs;
    if (fused) /* rows, index and target in; weights in, gradient out */
        return b * d * (double)x_size + 8.0 * b + 8.0 * (double)m->n_params +
               gsgdi_bench_update_bytes(m->n_params, rule);
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
    return 4.0 * floats + gsgdi_bench_update_bytes(m->n_params, rule);
}

/* ---- copy bandwidth ---------------------------------------------------------- */

gsgd_status gsgdi_bench_copy_gbs(gsgd_context *ctx, size_t bytes, int reps, double *gbs) {
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

static int step_gemms(gsgd_trainer *tr, size_t B, gemm_call *g) {
    gsgd_model *m = tr->m;
    gsgdi_step_buffers *sb = &tr->sb;
    int n = 0;
    for (int l = 0; l < m->n_layers; l++) {
        const gsgdi_layer *L = &m->layers[l];
        const float *in = l > 0 ? sb->act[l - 1] : sb->Xb;
        g[n++] = (gemm_call){0,     0,      B,          L->out, L->in, in, m->params + L->w_off,
                             L->in, L->out, sb->act[l], L->out, 0};
        g[n++] = (gemm_call){
            1,      0, L->in, L->out, B, in, sb->dact[l], L->in, L->out, tr->grads + L->w_off,
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
static gsgd_status time_gemm(gsgd_context *ctx, gsgd_precision prec, const gemm_call *g, int reps,
                             gsgdi_timer *t, double *s, double *median) {
    for (int r = -1; r < reps; r++) {
        GSGD_FORWARD_IF_ERROR(ctx->be->gemm(ctx, prec, g->ta, g->tb, g->M, g->N, g->K, 1.0f, g->A,
                                            g->lda, g->Bm, g->ldb, 0.0f, g->C, g->ldc));
        GSGD_FORWARD_IF_ERROR(gsgdi_timer_mark(t, r + 1));
    }
    for (int r = 0; r < reps; r++) GSGD_FORWARD_IF_ERROR(gsgdi_timer_seconds(t, r, r + 1, &s[r]));
    *median = quantile(s, reps, 0.5);
    return GSGD_STATUS_OK;
}

/* The GEMMs alone on the step's shapes, in the step's precision: the
 * summed medians of the forward and of the backward GEMMs. */
static gsgd_status time_sgemm(gsgd_trainer *tr, int reps, double *fwd_s, double *bwd_s) {
    gemm_call g[3 * GSGD_MAX_LAYERS];
    const int n = step_gemms(tr, tr->B, g);
    gsgdi_timer *t = NULL;
    double *s = calloc((size_t)reps, sizeof *s);
    GSGD_RETURN_ERROR_IF(!s, tr->ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    gsgd_status st;
    *fwd_s = *bwd_s = 0.0;
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(tr->ctx, reps + 1, &t), done);
    for (int i = 0; i < n; i++) {
        double med;
        GSGD_CHECK_GOTO(
            st,
            time_gemm(tr->ctx, (gsgd_precision)tr->opts.v[GSGD_PRECISION], &g[i], reps, t, s, &med),
            done);
        *(g[i].backward ? bwd_s : fwd_s) += med;
    }
done:
    gsgdi_timer_free(t);
    free(s);
    return st;
}

/* The GEMM alone on n x n x n in precision prec, the rate the step's
 * arithmetic is held to. */
gsgd_status gsgdi_bench_sgemm_peak(gsgd_context *ctx, gsgd_precision prec, size_t n, int reps,
                                   double *gflops) {
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
    GSGD_CHECK_GOTO(st, time_gemm(ctx, prec, &g, reps, t, s, &median), done);
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

/* The rows of the k-th timed step (warm-up included): consecutive batches,
 * wrapping within the data. */
static gsgdi_step timed_step(const gsgd_trainer *tr, int k, int t_in_epoch) {
    const size_t B = tr->B, n = tr->train->n;
    const gsgdi_step st = {.index = (size_t)k,
                           .lo = (size_t)k * B % (n - B + 1),
                           .b = B,
                           .global = B,
                           .lr = tr->lr,
                           .t = (uint64_t)k + 1,
                           .t_in_epoch = t_in_epoch};
    return st;
}

typedef struct {
    int steps;
} graphed_steps;

/* As the trainer records a chunk: every step's t counted within it. */
static gsgd_status issue_timed(gsgd_trainer *tr, void *user) {
    const graphed_steps *g = user;
    for (int k = 0; k < g->steps; k++) {
        const gsgdi_step st = timed_step(tr, k, 1);
        GSGD_FORWARD_IF_ERROR(gsgdi_step_run(tr, &st, NULL));
    }
    return GSGD_STATUS_OK;
}

/* Median seconds of a step replayed from a graph, as the trainer runs
 * steps on CUDA: `steps` steps recorded into one graph, replayed once
 * untimed, then GRAPH_REPLAYS times, each over `steps`. *recorded: whether
 * the recording succeeded (where it did not, the error is the
 * recording's). */
static gsgd_status time_graphed(gsgd_trainer *tr, int steps, double *step_s, int *recorded) {
    gsgd_context *ctx = tr->ctx;
    const gsgdi_backend *be = ctx->be;
    void *graph = NULL;
    gsgdi_timer *t = NULL;
    double s[GRAPH_REPLAYS];
    graphed_steps g = {steps};
    *recorded = 0;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_record(tr, issue_timed, &g, &graph));
    *recorded = 1;
    gsgd_status st;
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

/* The step driver's marks on a timer: mark base + phase + 1 after each
 * phase, the step's start stamped at base beforehand. */
typedef struct {
    gsgdi_timer *t;
    int base;
} phase_stamps;

static gsgd_status stamp(void *user, gsgdi_phase done) {
    const phase_stamps *ps = user;
    return gsgdi_timer_mark(ps->t, ps->base + (int)done + 1);
}

/* Sparse data: the mean nonzeros of the timed batches (rows perm[lo, lo +
 * B) of epoch 0's permutation, as timed_step takes them), and the bytes a
 * step must move: each row's two pointers, index and target, its
 * nonzeros' index and value, the logits and their gradient, the touched
 * rows of the first layer's W read by the forward pass, their compact
 * gradient written and read, and their update (weights and state read and
 * written), then the update of the rest of the buffer (all of it when the
 * update is dense). */
static gsgd_status sparse_figures(gsgd_trainer *tr, int warmup, int steps, gsgdi_bench_point *pt) {
    gsgd_context *ctx = tr->ctx;
    const gsgd_dataset *ds = tr->train;
    const size_t n = ds->n, B = tr->B;
    uint32_t *perm = malloc(n * sizeof *perm);
    GSGD_RETURN_ERROR_IF(!perm, ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    gsgd_status st = ctx->be->download(ctx, perm, tr->perm, n * sizeof *perm);
    int32_t touched = 0;
    if (st == GSGD_STATUS_OK)
        st = ctx->be->download(ctx, &touched, tr->sb.csr.n_feat, sizeof touched);
    double total = 0;
    for (int k = warmup; st == GSGD_STATUS_OK && k < warmup + steps; k++) {
        const gsgdi_step s = timed_step(tr, k, 0);
        for (size_t i = s.lo; i < s.lo + s.b; i++)
            total += (double)(ds->host_indptr[perm[i] + 1] - ds->host_indptr[perm[i]]);
    }
    free(perm);
    GSGD_FORWARD_IF_ERROR(st);
    const gsgd_model *m = tr->m;
    const double K0 = (double)m->layers[0].out, r = touched;
    const double w0 = (double)m->layers[0].in * K0;
    pt->batch_nnz = total / steps;
    pt->nnz_per_s = pt->batch_nnz / pt->step_train_s;
    pt->touched_rows = r;
    const double state = 8.0 * gsgdi_rule_state_count(&tr->rule);
    double bytes = (double)B * 24.0 + pt->batch_nnz * 8.0 + 8.0 * (double)B * (double)m->n_outputs;
    if (tr->lazy)
        bytes += r * K0 * (4.0 + 8.0 + 8.0 + state) +
                 gsgdi_bench_update_bytes(m->n_params - (size_t)w0, &tr->rule);
    else
        bytes += r * K0 * (4.0 + 8.0) + w0 * 4.0 + gsgdi_bench_update_bytes(m->n_params, &tr->rule);
    pt->floor_bytes = bytes;
    /* a lazy update moves the touched rows and the dense tail only */
    if (tr->lazy) {
        pt->update_bytes =
            r * K0 * (12.0 + state) + gsgdi_bench_update_bytes(m->n_params - (size_t)w0, &tr->rule);
        pt->update_gbs = pt->update_bytes / pt->phase_s[GSGDI_PHASE_UPDATE] / 1e9;
    }
    /* the flops of CSR x W and of the compact gradient, then the dense layers' */
    gsgdi_bench_gemm_flops(m, B, &pt->fwd_flops, &pt->bwd_flops);
    const double dense0 = 2.0 * (double)B * w0;
    pt->fwd_flops += 2.0 * pt->batch_nnz * K0 - dense0;
    pt->bwd_flops += 2.0 * pt->batch_nnz * K0 - dense0;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_bench_time_step(gsgd_trainer *tr, int warmup, int steps, double copy_gbs,
                                  double peak_gflops, gsgdi_bench_point *pt) {
    gsgd_context *ctx = tr->ctx;
    const size_t B = tr->B, n = tr->train->n;
    const int P = GSGDI_PHASE_COUNT;
    gsgdi_timer *t = NULL;
    double *v = calloc((size_t)steps, sizeof *v);
    GSGD_RETURN_ERROR_IF(!v || steps < 1, ctx, GSGD_STATUS_OUT_OF_MEMORY, "bench: out of memory");
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_step_prepare_probe(tr), done);
    GSGD_CHECK_GOTO(st, gsgdi_timer_create(ctx, (P + 1) * steps, &t), done);
    for (int s = -warmup; s < steps; s++) {
        phase_stamps ps = {t, (P + 1) * s}; /* marks base .. base + P of this step */
        const gsgdi_phase_marks marks = {stamp, &ps};
        const gsgdi_step step = timed_step(tr, s + warmup, 0);
        if (s >= 0) GSGD_CHECK_GOTO(st, gsgdi_timer_mark(t, ps.base), done);
        GSGD_CHECK_GOTO(st, gsgdi_step_run(tr, &step, s >= 0 ? &marks : NULL), done);
    }
    pt->batch = B;
    pt->timed_steps = steps;
    pt->steps_per_epoch = (n + B - 1) / B;
    for (int p = 0; p < P; p++) {
        for (int s = 0; s < steps; s++)
            GSGD_CHECK_GOTO(st, gsgdi_timer_seconds(t, (P + 1) * s + p, (P + 1) * s + p + 1, &v[s]),
                            done);
        pt->phase_s[p] = quantile(v, steps, 0.5);
    }
    pt->fused = tr->fused != NULL;
    pt->fused_s = NAN;
    if (pt->fused) { /* the whole gradient in the first phase, the next two empty */
        pt->fused_s = pt->phase_s[GSGDI_PHASE_GATHER];
        pt->phase_s[GSGDI_PHASE_GATHER] = pt->phase_s[GSGDI_PHASE_FORWARD] =
            pt->phase_s[GSGDI_PHASE_BACKWARD] = NAN;
    }
    for (int s = 0; s < steps; s++)
        GSGD_CHECK_GOTO(st, gsgdi_timer_seconds(t, (P + 1) * s, (P + 1) * s + P, &v[s]), done);
    pt->step_s = quantile(v, steps, 0.5);
    pt->step_p25 = quantile(v, steps, 0.25);
    pt->step_p75 = quantile(v, steps, 0.75);
    pt->step_min = v[0];
    /* As the trainer: replayed where it would replay them (not with
     * GSGD_CUDA_GRAPHS=0, nor for rules it issues one by one), issued one
     * by one when recording fails (a failed replay is an error). */
    pt->step_graph_s = NAN;
    if (gsgdi_trainer_replays(tr)) {
        int recorded;
        st = time_graphed(tr, steps, &pt->step_graph_s, &recorded);
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

    pt->update_bytes = gsgdi_bench_update_bytes(tr->m->n_params, &tr->rule);
    pt->update_gbs = pt->update_bytes / pt->phase_s[GSGDI_PHASE_UPDATE] / 1e9;
    pt->update_over_copy = pt->update_gbs / copy_gbs;
    pt->batch_nnz = pt->nnz_per_s = pt->touched_rows = NAN;
    double fwd_gemm = NAN, bwd_gemm = NAN;
    if (tr->train->sparse) { /* no GEMM on the sparse layer: no sgemm yardstick */
        GSGD_CHECK_GOTO(st, sparse_figures(tr, warmup, steps, pt), done);
        pt->update_over_copy = pt->update_gbs / copy_gbs;
    } else {
        pt->floor_bytes = gsgdi_bench_floor_bytes(
            tr->m, B, &tr->rule, tr->train->xt == GSGD_XTYPE_U8 ? 1 : sizeof(float), pt->fused);
        GSGD_CHECK_GOTO(st, time_sgemm(tr, steps < 5 ? 5 : steps, &fwd_gemm, &bwd_gemm), done);
        gsgdi_bench_gemm_flops(tr->m, B, &pt->fwd_flops, &pt->bwd_flops);
    }
    pt->floor_s = pt->floor_bytes / (copy_gbs * 1e9);
    pt->step_over_floor = pt->step_train_s / pt->floor_s;

    pt->fwd_gflops = pt->fwd_flops / pt->phase_s[GSGDI_PHASE_FORWARD] / 1e9;
    pt->bwd_gflops = pt->bwd_flops / pt->phase_s[GSGDI_PHASE_BACKWARD] / 1e9;
    pt->fwd_sgemm_gflops = pt->fwd_flops / fwd_gemm / 1e9;
    pt->bwd_sgemm_gflops = pt->bwd_flops / bwd_gemm / 1e9;
    pt->fwd_over_sgemm = pt->fwd_gflops / pt->fwd_sgemm_gflops;
    pt->bwd_over_sgemm = pt->bwd_gflops / pt->bwd_sgemm_gflops;
    pt->gemm_s = fwd_gemm + bwd_gemm;
    pt->step_over_gemm = pt->gemm_s / pt->step_train_s;
    pt->compute_floor_s = (pt->fwd_flops + pt->bwd_flops) / (peak_gflops * 1e9);
    pt->step_over_roofline = pt->step_train_s / fmax(pt->floor_s, pt->compute_floor_s);
done:
    gsgdi_timer_free(t);
    free(v);
    /* The timed steps' momentum and moments must not reach training. */
    if (st == GSGD_STATUS_OK) st = gsgdi_trainer_clear_state(tr);
    return st;
}
