/*
 * The CUDA backend's sparse (CSR) ops against the CPU's, op by op, on a
 * random batch of CSR rows gathered by a permutation: K below and above a
 * warp (7, 40), empty rows, features repeated across rows. CSR x W and the
 * weight gradient sum in the CPU's order with round-to-nearest intrinsics,
 * so they must be bitwise equal (the compact gradient's rows compared by
 * feature: the CPU lists features by first appearance, CUDA sorted); the
 * row update is update_math.h's arithmetic on both (bitwise); the lazy
 * decay's factor is exp of a double on each (CUDA's exp within 1 ulp of
 * glibc's), so it agrees to one float rounding. Every test skips without
 * a device.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cudatest.h"
#include "backend/backend.h"
#include "core/context.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "model/model.h"

enum { N = 300, D = 500, B = 97 };

typedef struct {
    gsgd_context *ctx;
    gsgd_dataset *ds;
    uint32_t *perm;
    gsgd_model *m;
    gsgdi_step_buffers sb;
} side;

static side cpu, gpu;

static void *to(gsgd_context *ctx, const void *host, size_t bytes) {
    void *p;
    cr_assert_eq(ctx->be->alloc(ctx, bytes, &p), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(ctx->be->upload(ctx, p, host, bytes), GSGD_STATUS_OK);
    return p;
}

static void back(gsgd_context *ctx, void *host, const void *dev, size_t bytes) {
    cr_assert_eq(ctx->be->download(ctx, host, dev, bytes), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
}

/* The same CSR rows, permutation and model (K outputs) on both devices, a
 * batch of B rows gathered and grouped on each. */
static void setup(size_t K) {
    gpu.ctx = cuda_context_or_skip();
    cr_assert_eq(gsgd_context_create(&cpu.ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    static int64_t ptr[N + 1];
    static int32_t ind[N * 40];
    static float val[N * 40], y[N];
    static uint32_t perm[N];
    gsgdi_rng r = {42};
    ptr[0] = 0;
    for (int i = 0; i < N; i++) {
        const int len = i % 17 == 0 ? 0 : (int)(gsgdi_rng_uniform(&r) * 40);
        for (int q = 0; q < len; q++) {
            ind[ptr[i] + q] = (int32_t)(gsgdi_rng_uniform(&r) * gsgdi_rng_uniform(&r) * D);
            val[ptr[i] + q] = (float)(2.0 * gsgdi_rng_uniform(&r) - 1.0);
        }
        ptr[i + 1] = ptr[i] + len;
        y[i] = (float)(gsgdi_rng_next(&r) % K);
        perm[i] = (uint32_t)i;
    }
    for (int i = N - 1; i > 0; i--) {
        const int j = (int)(gsgdi_rng_next(&r) % (uint64_t)(i + 1));
        const uint32_t t = perm[i];
        perm[i] = perm[j], perm[j] = t;
    }
    side *s[2] = {&cpu, &gpu};
    for (int k = 0; k < 2; k++) {
        gsgd_context *ctx = s[k]->ctx;
        cr_assert_eq(
            gsgd_dataset_from_csr(ctx, N, D, ptr, ind, GSGD_INDEX_INT32, val, y, (int)K, &s[k]->ds),
            GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
        s[k]->perm = to(ctx, perm, sizeof perm);
        cr_assert_eq(gsgd_model_create(ctx, "softmax", D, (int)K, 7, &s[k]->m), GSGD_STATUS_OK);
        cr_assert_eq(gsgdi_step_buffers_alloc_for(s[k]->m, s[k]->ds, B, 1, &s[k]->sb),
                     GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
        cr_assert_eq(ctx->be->csr_gather(ctx, &s[k]->ds->csr, s[k]->ds->y, s[k]->perm, 11, B, NULL,
                                         &s[k]->sb.csr, s[k]->sb.yb),
                     GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
        cr_assert_eq(ctx->be->csr_compact(ctx, &s[k]->sb.csr, B, D), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(ctx));
    }
}

static void teardown(void) {
    side *s[2] = {&cpu, &gpu};
    for (int k = 0; k < 2; k++) {
        if (!s[k]->ctx) continue;
        if (s[k]->m) gsgdi_step_buffers_free(s[k]->m, &s[k]->sb);
        if (s[k]->perm) s[k]->ctx->be->release(s[k]->ctx, s[k]->perm);
        gsgd_model_free(s[k]->m);
        gsgd_dataset_free(s[k]->ds);
        gsgd_context_free(s[k]->ctx);
        memset(s[k], 0, sizeof *s[k]);
    }
}

TestSuite(cuda_sparse, .fini = teardown);

/* The batch as the host sees it: counts, and each feature's row in the
 * compact order (feat_at[f] = i, or -1). */
typedef struct {
    int32_t ptr[B + 1], n_feat, feat[N * 40], fptr[N * 40 + 1], order[N * 40];
    int32_t col[N * 40], row[N * 40];
    float val[N * 40];
    int feat_at[D];
} host_batch;

static void fetch(const side *s, host_batch *h) {
    const gsgdi_csr_batch *c = &s->sb.csr;
    back(s->ctx, h->ptr, c->ptr, sizeof h->ptr);
    back(s->ctx, &h->n_feat, c->n_feat, sizeof h->n_feat);
    const size_t nnz = (size_t)h->ptr[B];
    back(s->ctx, h->col, c->col, nnz * 4);
    back(s->ctx, h->row, c->row, nnz * 4);
    back(s->ctx, h->val, c->val, nnz * 4);
    back(s->ctx, h->feat, c->feat, (size_t)h->n_feat * 4);
    back(s->ctx, h->fptr, c->fptr, ((size_t)h->n_feat + 1) * 4);
    back(s->ctx, h->order, c->order, nnz * 4);
    for (int j = 0; j < D; j++) h->feat_at[j] = -1;
    for (int i = 0; i < h->n_feat; i++) h->feat_at[h->feat[i]] = i;
}

Test(cuda_sparse, gather_and_grouping_match_the_cpu) {
    setup(7);
    static host_batch a, b;
    fetch(&cpu, &a);
    fetch(&gpu, &b);
    cr_assert_eq(memcmp(a.ptr, b.ptr, sizeof a.ptr), 0, "row pointers");
    const size_t nnz = (size_t)a.ptr[B];
    cr_expect_eq(memcmp(a.col, b.col, nnz * 4), 0);
    cr_expect_eq(memcmp(a.row, b.row, nnz * 4), 0);
    cr_expect_eq(memcmp(a.val, b.val, nnz * 4), 0);
    cr_assert_eq(a.n_feat, b.n_feat, "distinct features");
    for (int i = 1; i < b.n_feat; i++) cr_expect_lt(b.feat[i - 1], b.feat[i], "sorted on CUDA");
    for (int i = 0; i < a.n_feat; i++) {
        const int g = b.feat_at[a.feat[i]];
        cr_assert_geq(g, 0, "feature %d missing on CUDA", a.feat[i]);
        cr_expect_eq(a.fptr[i + 1] - a.fptr[i], b.fptr[g + 1] - b.fptr[g]);
        cr_expect_eq(memcmp(a.order + a.fptr[i], b.order + b.fptr[g],
                            (size_t)(a.fptr[i + 1] - a.fptr[i]) * 4),
                     0, "feature %d: nonzeros in batch order", a.feat[i]);
    }
}

static void matmul_and_gradient(size_t K) {
    setup(K);
    static host_batch a, b;
    fetch(&cpu, &a);
    fetch(&gpu, &b);
    static float W[D * 40], bias[40], dZ[B * 40], Zc[B * 40], Zg[B * 40], gc[N * 40 * 40],
        gg[N * 40 * 40];
    gsgdi_rng r = {3};
    for (size_t i = 0; i < D * K; i++) W[i] = (float)(gsgdi_rng_uniform(&r) - 0.5);
    for (size_t i = 0; i < K; i++) bias[i] = (float)(gsgdi_rng_uniform(&r) - 0.5);
    for (size_t i = 0; i < B * K; i++) dZ[i] = (float)(gsgdi_rng_uniform(&r) - 0.5);
    float *Wd = to(gpu.ctx, W, D * K * 4), *bd = to(gpu.ctx, bias, K * 4),
          *dZd = to(gpu.ctx, dZ, B * K * 4), *Zd, *gd;
    cr_assert_eq(gpu.ctx->be->alloc(gpu.ctx, B * K * 4, (void **)&Zd), GSGD_STATUS_OK);
    cr_assert_eq(gpu.ctx->be->alloc(gpu.ctx, gpu.sb.csr.cap * K * 4, (void **)&gd), GSGD_STATUS_OK);
    for (int relu = 0; relu < 2; relu++) {
        cr_assert_eq(cpu.ctx->be->csr_matmul(cpu.ctx, &cpu.sb.csr, B, W, K, bias, relu, Zc),
                     GSGD_STATUS_OK);
        cr_assert_eq(gpu.ctx->be->csr_matmul(gpu.ctx, &gpu.sb.csr, B, Wd, K, bd, relu, Zd),
                     GSGD_STATUS_OK, "%s", gsgd_last_error(gpu.ctx));
        back(gpu.ctx, Zg, Zd, B * K * 4);
        cr_expect_eq(memcmp(Zc, Zg, B * K * 4), 0, "CSR x W bitwise (K %zu, relu %d)", K, relu);
    }
    cr_assert_eq(cpu.ctx->be->csr_weight_grad(cpu.ctx, &cpu.sb.csr, dZ, K, gc), GSGD_STATUS_OK);
    cr_assert_eq(gpu.ctx->be->csr_weight_grad(gpu.ctx, &gpu.sb.csr, dZd, K, gd), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(gpu.ctx));
    back(gpu.ctx, gg, gd, (size_t)b.n_feat * K * 4);
    for (int i = 0; i < a.n_feat; i++)
        cr_expect_eq(memcmp(gc + (size_t)i * K, gg + (size_t)b.feat_at[a.feat[i]] * K, K * 4), 0,
                     "gradient row of feature %d bitwise", a.feat[i]);
    /* scattered: the same dense gradient */
    static float dc[D * 40], dg[D * 40];
    memset(dc, 0, sizeof dc);
    float *dd;
    cr_assert_eq(gpu.ctx->be->alloc(gpu.ctx, D * K * 4, (void **)&dd), GSGD_STATUS_OK);
    cr_assert_eq(gpu.ctx->be->zero(gpu.ctx, dd, D * K * 4), GSGD_STATUS_OK);
    cr_assert_eq(cpu.ctx->be->csr_scatter(cpu.ctx, &cpu.sb.csr, gc, K, dc), GSGD_STATUS_OK);
    cr_assert_eq(gpu.ctx->be->csr_scatter(gpu.ctx, &gpu.sb.csr, gd, K, dd), GSGD_STATUS_OK);
    back(gpu.ctx, dg, dd, D * K * 4);
    cr_expect_eq(memcmp(dc, dg, D * K * 4), 0, "scattered gradient bitwise");
    void *bufs[] = {Wd, bd, dZd, Zd, gd, dd};
    for (int i = 0; i < 6; i++) gpu.ctx->be->release(gpu.ctx, bufs[i]);
}

Test(cuda_sparse, matmul_and_weight_gradient_bitwise_k7) { matmul_and_gradient(7); }
Test(cuda_sparse, matmul_and_weight_gradient_bitwise_k40) { matmul_and_gradient(40); }

/* Steps of the row update (SGD with the lazy decay, Adam) on both: the
 * rows' arithmetic is update_math.h's on both (bitwise); the decay's
 * factors are exp of a double, within an ulp, so each catch-up or flush
 * rounds its product at most one float ulp apart: T steps, T + 1 factor
 * products at most, 2 (T + 1) u relative. */
static void rows_steps(gsgd_optim kind) {
    const size_t K = 7;
    setup(K);
    gsgdi_update_rule rule = {.kind = kind,
                              .weight_decay = kind == GSGD_OPTIM_SGD ? 0.01f : 0.0f,
                              .beta1 = 0.9f,
                              .beta2 = 0.999f,
                              .eps = 1e-8f,
                              .n_decay = D * K,
                              .n_segments = 1,
                              .seg = {0, D * K}};
    enum { T = 5 };
    static float W[D * 7], s0[D * 7], s1[D * 7], g[N * 40 * 7], Wg[D * 7];
    gsgdi_rng r = {9};
    for (size_t i = 0; i < D * K; i++) W[i] = (float)(gsgdi_rng_uniform(&r) - 0.5);
    memset(s0, 0, sizeof s0), memset(s1, 0, sizeof s1);
    host_batch *a = malloc(sizeof *a), *b = malloc(sizeof *b);
    fetch(&cpu, a);
    fetch(&gpu, b);
    for (int i = 0; i < a->n_feat * (int)K; i++) g[i] = (float)(gsgdi_rng_uniform(&r) - 0.5);
    /* the GPU's compact gradient in its own feature order */
    static float gperm[N * 40 * 7];
    for (int i = 0; i < a->n_feat; i++)
        memcpy(gperm + (size_t)b->feat_at[a->feat[i]] * K, g + (size_t)i * K, K * 4);
    const float lr = 0.3f;
    float *Wd = to(gpu.ctx, W, sizeof W), *s0d = to(gpu.ctx, s0, sizeof s0),
          *s1d = to(gpu.ctx, s1, sizeof s1), *gd = to(gpu.ctx, gperm, (size_t)b->n_feat * K * 4),
          *lrd = to(gpu.ctx, &lr, 4);
    static uint32_t upto[D];
    static double logf_[T + 1];
    memset(upto, 0, sizeof upto), memset(logf_, 0, sizeof logf_);
    const gsgdi_lazy_decay zc = {upto, logf_, T + 1};
    gsgdi_lazy_decay zg = {to(gpu.ctx, upto, sizeof upto), to(gpu.ctx, logf_, sizeof logf_), T + 1};
    const int decay = kind == GSGD_OPTIM_SGD;
    for (size_t s = 0; s < T; s++) {
        if (decay) {
            cr_assert_eq(cpu.ctx->be->csr_catch_up(cpu.ctx, &cpu.sb.csr, W, K, &zc, s),
                         GSGD_STATUS_OK);
            cr_assert_eq(gpu.ctx->be->csr_catch_up(gpu.ctx, &gpu.sb.csr, Wd, K, &zg, s),
                         GSGD_STATUS_OK);
        }
        const gsgdi_rows_update_args ac = {.lr = &lr,
                                           .W = W,
                                           .state = {s0, s1},
                                           .gW = g,
                                           .batch = &cpu.sb.csr,
                                           .K = K,
                                           .t = s + 1,
                                           .step = s,
                                           .decay = decay ? &zc : NULL};
        const gsgdi_rows_update_args ag = {.lr = lrd,
                                           .W = Wd,
                                           .state = {s0d, s1d},
                                           .gW = gd,
                                           .batch = &gpu.sb.csr,
                                           .K = K,
                                           .t = s + 1,
                                           .step = s,
                                           .decay = decay ? &zg : NULL};
        cr_assert_eq(cpu.ctx->be->update_rows(cpu.ctx, &rule, &ac), GSGD_STATUS_OK);
        cr_assert_eq(gpu.ctx->be->update_rows(gpu.ctx, &rule, &ag), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(gpu.ctx));
    }
    if (decay) {
        cr_assert_eq(cpu.ctx->be->csr_flush(cpu.ctx, W, D, K, &zc, T), GSGD_STATUS_OK);
        cr_assert_eq(gpu.ctx->be->csr_flush(gpu.ctx, Wd, D, K, &zg, T), GSGD_STATUS_OK);
    }
    back(gpu.ctx, Wg, Wd, sizeof Wg);
    const double tol = decay ? 2.0 * (T + 1) * (FLT_EPSILON / 2) : 0.0;
    for (size_t i = 0; i < D * K; i++)
        cr_expect(fabs(W[i] - Wg[i]) <= tol * fabs(W[i]), "w[%zu] cpu %.9g cuda %.9g", i, W[i],
                  Wg[i]);
    void *bufs[] = {Wd, s0d, s1d, gd, lrd, zg.upto, zg.logf};
    for (int i = 0; i < 7; i++) gpu.ctx->be->release(gpu.ctx, bufs[i]);
    free(a), free(b);
}

Test(cuda_sparse, sgd_rows_with_lazy_decay_match_the_cpu) { rows_steps(GSGD_OPTIM_SGD); }
Test(cuda_sparse, adam_rows_match_the_cpu_bitwise) { rows_steps(GSGD_OPTIM_ADAM); }

/* Whole training on both devices through the step driver (recorded CUDA
 * Graph steps included): the ops above plus the loss, whose exp differs
 * by ulps, so the runs are compared by what they learn. */
Test(cuda_sparse, softmax_training_agrees_with_the_cpu) {
    gsgd_context *g = cuda_context_or_skip(), *c;
    cr_assert_eq(gsgd_context_create(&c, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    double acc[2];
    gsgd_context *ctxs[2] = {c, g};
    for (int k = 0; k < 2; k++) {
        gsgd_dataset *tr, *te;
        gsgd_model *m;
        gsgd_options *o;
        gsgd_trainer *t;
        gsgd_train_result res;
        cr_assert_eq(gsgd_dataset_load(ctxs[k], "synth-sparse:4000,500,3,20:seed=1", &tr, &te),
                     GSGD_STATUS_OK, "%s", gsgd_last_error(ctxs[k]));
        cr_assert_eq(gsgd_model_create(ctxs[k], "softmax", 500, 3, 0, &m), GSGD_STATUS_OK);
        gsgd_options_create(&o);
        gsgd_set(o, GSGD_BATCH, 64);
        gsgd_set(o, GSGD_WEIGHT_DECAY, 1e-4);
        cr_assert_eq(gsgd_trainer_create(m, tr, o, &t), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(ctxs[k]));
        cr_assert_eq(gsgd_train(t, te, NULL, NULL, &res), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(ctxs[k]));
        acc[k] = res.test_accuracy;
        gsgd_trainer_free(t);
        gsgd_options_free(o);
        gsgd_model_free(m);
        gsgd_dataset_free(tr);
        gsgd_dataset_free(te);
    }
    cr_log_info("synth-sparse softmax: test accuracy cpu %.4f, cuda %.4f", acc[0], acc[1]);
    cr_expect(fabs(acc[0] - acc[1]) <= 0.01, "cpu %.4f, cuda %.4f", acc[0], acc[1]);
    gsgd_context_free(c);
    gsgd_context_free(g);
}
