/*
 * The fused one-layer gradient (backend.h's linear_grad) of any backend
 * against the composed CPU ops it replaces (gather, gemm, bias_act, loss,
 * gemm, col_sum), shared by the CPU and CUDA suites.
 *
 * On random data the two differ only by rounding, within the bounds that
 * fused_bound.h derives. The hinge loss's gradient is not continuous, so
 * it is checked on exact data only: integer features and weights on a 1/16
 * grid with a power-of-two batch, where every sum is exact and the two
 * must agree bitwise.
 */
#ifndef GSGD_FUSED_CHECK_H
#define GSGD_FUSED_CHECK_H

#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
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
#include "core/rng.h"
#include "fused_bound.h"

typedef struct {
    gsgdi_loss kind;
    size_t n, d, K, start, B;
    gsgdi_xtype xt;
    int standardise, permute;
    int exact;                /* exact data: bitwise agreement expected */
    gsgd_precision precision; /* of the products on both sides (CPU: rounded) */
    uint64_t seed;
} fc_case;

static void fc_ok(gsgd_context *ctx, gsgd_status st) {
    cr_assert_eq(st, GSGD_STATUS_OK, "%s: %s", ctx->be->name, gsgd_last_error(ctx));
}

/* A copy of host bytes (nonzero) in ctx's memory. */
static void *fc_put(gsgd_context *ctx, const void *host, size_t bytes) {
    void *p;
    fc_ok(ctx, gsgdi_mem_alloc(ctx, bytes, &p));
    if (host) fc_ok(ctx, ctx->be->upload(ctx, p, host, bytes));
    return p;
}

static double fc_uniform(gsgdi_rng *r, double lo, double hi) {
    return lo + (hi - lo) * gsgdi_rng_uniform(r);
}

/* Runs one case on ctx (any backend offering the fusion) and checks it
 * against the composed ops on cpu. */
static void fc_check(gsgd_context *ctx, gsgd_context *cpu, const fc_case *c) {
    const size_t n = c->n, d = c->d, K = c->K, B = c->B, xs = gsgdi_xtype_size(c->xt);
    const int classify = c->kind != GSGD_LOSS_SQUARED || K > 1;
    gsgdi_rng r = {gsgdi_mix64(c->seed)};
    unsigned char *X = malloc(n * d * xs);
    float *y = malloc(n * sizeof *y), *W = malloc(d * K * sizeof *W), *b = malloc(K * sizeof *b);
    float *mean = malloc(d * sizeof *mean), *inv_std = malloc(d * sizeof *inv_std);
    uint32_t *perm = malloc(n * sizeof *perm);
    for (size_t i = 0; i < n * d; i++) {
        if (c->xt == GSGD_XTYPE_U8)
            X[i] = (unsigned char)(gsgdi_rng_next(&r) & 255);
        else
            ((float *)X)[i] = c->exact ? (float)((int)(gsgdi_rng_next(&r) % 7) - 3)
                                       : (float)fc_uniform(&r, -1, 1);
    }
    for (size_t i = 0; i < n; i++)
        y[i] = classify ? (float)(gsgdi_rng_next(&r) % K)
                        : (c->exact ? (float)((int)(gsgdi_rng_next(&r) % 5) - 2)
                                    : (float)fc_uniform(&r, -1, 1));
    const double wscale = 1.0 / sqrt((double)d);
    for (size_t i = 0; i < d * K; i++)
        W[i] = c->exact ? (float)((int)(gsgdi_rng_next(&r) % 17) - 8) / 16.0f
                        : (float)fc_uniform(&r, -3 * wscale, 3 * wscale);
    for (size_t k = 0; k < K; k++)
        b[k] = c->exact ? (float)((int)(gsgdi_rng_next(&r) % 17) - 8) / 16.0f
                        : (float)fc_uniform(&r, -0.5, 0.5);
    for (size_t j = 0; j < d; j++) {
        mean[j] = (float)fc_uniform(&r, 0, 1);
        inv_std[j] = (float)fc_uniform(&r, 0.5, 4);
    }
    for (size_t i = 0; i < n; i++) perm[i] = (uint32_t)i;
    for (size_t i = n; c->permute && i > 1; i--) { /* Fisher-Yates */
        size_t k = (size_t)(gsgdi_rng_next(&r) % i);
        uint32_t t = perm[i - 1];
        perm[i - 1] = perm[k];
        perm[k] = t;
    }
    const float gs = 1.0f / (float)(B ? B : 1);
    const float *m_or_null = c->standardise ? mean : NULL;
    const float *s_or_null = c->standardise ? inv_std : NULL;
    const uint32_t *p_or_null = c->permute ? perm : NULL;

    /* The reference: the composed ops on the CPU backend. */
    const gsgdi_backend *cb = cpu->be;
    float *Xb = malloc((B ? B : 1) * d * sizeof *Xb), *yb = malloc((B ? B : 1) * sizeof *yb);
    float *Z = malloc((B ? B : 1) * K * sizeof *Z), *dZ = malloc((B ? B : 1) * K * sizeof *dZ);
    float *dW_ref = calloc(d * K, sizeof *dW_ref), *db_ref = calloc(K, sizeof *db_ref);
    double acc_ref[2] = {0, 0};
    fc_ok(cpu,
          cb->gather(cpu, X, c->xt, y, d, p_or_null, c->start, B, m_or_null, s_or_null, Xb, yb));
    fc_ok(cpu, cb->gemm(cpu, c->precision, 0, 0, B, K, d, 1.0f, Xb, d, W, K, 0.0f, Z, K));
    fc_ok(cpu, cb->bias_act(cpu, Z, b, B, K, 0));
    fc_ok(cpu, cb->loss(cpu, c->kind, Z, yb, B, K, classify, gs, dZ, acc_ref));
    fc_ok(cpu, cb->gemm(cpu, c->precision, 1, 0, d, K, B, 1.0f, Xb, d, dZ, K, 0.0f, dW_ref, K));
    fc_ok(cpu, cb->col_sum(cpu, dZ, B, K, db_ref));

    /* The fusion on ctx. */
    const gsgdi_backend *be = ctx->be;
    cr_assert(be->linear_grad && be->linear_grad_scratch, "%s offers no fused gradient", be->name);
    void *dX = fc_put(ctx, X, n * d * xs);
    const size_t scratch_bytes = be->linear_grad_scratch(ctx, dX, c->xt, d, K);
    cr_assert_gt(scratch_bytes, 0, "%s does not fuse d=%zu K=%zu", be->name, d, K);
    float *dy = fc_put(ctx, y, n * sizeof *y), *dWp = fc_put(ctx, W, d * K * sizeof *W),
          *dbp = fc_put(ctx, b, K * sizeof *b), *dmean = fc_put(ctx, mean, d * sizeof *mean),
          *dinv = fc_put(ctx, inv_std, d * sizeof *inv_std);
    uint32_t *dperm = fc_put(ctx, perm, n * sizeof *perm);
    float *ddW = fc_put(ctx, NULL, d * K * sizeof *ddW), *ddb = fc_put(ctx, NULL, K * sizeof *ddb);
    double *dacc = fc_put(ctx, NULL, 2 * sizeof(double));
    fc_ok(ctx, be->zero(ctx, dacc, 2 * sizeof(double)));
    void *scratch = fc_put(ctx, NULL, scratch_bytes);
    const gsgdi_linear_grad_args a = {.kind = c->kind,
                                      .classify = classify,
                                      .X = dX,
                                      .xt = c->xt,
                                      .y = dy,
                                      .d = d,
                                      .K = K,
                                      .perm = c->permute ? dperm : NULL,
                                      .start = c->start,
                                      .B = B,
                                      .mean = c->standardise ? dmean : NULL,
                                      .inv_std = c->standardise ? dinv : NULL,
                                      .W = dWp,
                                      .b = dbp,
                                      .grad_scale = gs,
                                      .precision = c->precision,
                                      .dW = ddW,
                                      .db = ddb,
                                      .acc = dacc,
                                      .scratch = scratch,
                                      .scratch_bytes = scratch_bytes};
    fc_ok(ctx, be->linear_grad(ctx, &a));
    /* Twice: a second call must overwrite dW and db, not add to them. */
    fc_ok(ctx, be->zero(ctx, dacc, 2 * sizeof(double)));
    fc_ok(ctx, be->linear_grad(ctx, &a));
    float *dW = malloc(d * K * sizeof *dW), *db = malloc(K * sizeof *db);
    double acc[2];
    fc_ok(ctx, be->download(ctx, dW, ddW, d * K * sizeof *dW));
    fc_ok(ctx, be->download(ctx, db, ddb, K * sizeof *db));
    fc_ok(ctx, be->download(ctx, acc, dacc, sizeof acc));

    /* Bounds (fused_bound.h). */
    fc_bounds t;
    fc_bounds_of(Xb, W, b, Z, dZ, B, d, K, gs, classify, &t);
    for (size_t k = 0; k < K; k++) {
        for (size_t j = 0; j < d; j++) {
            const double tol = t.dW[j * K + k];
            const double ref = dW_ref[j * K + k], got = dW[j * K + k];
            if (c->exact)
                cr_assert_eq(got, ref, "%s: dW[%zu][%zu] %.9g, composed %.9g (exact data)",
                             be->name, j, k, got, ref);
            else
                cr_assert(fabs(got - ref) <= tol,
                          "%s: dW[%zu][%zu] %.9g, composed %.9g (bound %.3g)", be->name, j, k, got,
                          ref, tol);
        }
        const double tol = t.db[k];
        if (c->exact)
            cr_assert_eq(db[k], db_ref[k], "%s: db[%zu] %.9g, composed %.9g (exact data)", be->name,
                         k, db[k], db_ref[k]);
        else
            cr_assert(fabs(db[k] - db_ref[k]) <= tol,
                      "%s: db[%zu] %.9g, composed %.9g (bound %.3g)", be->name, k, db[k], db_ref[k],
                      tol);
    }
    if (c->exact) {
        cr_assert_eq(acc[0], acc_ref[0], "%s: loss %.17g, composed %.17g", be->name, acc[0],
                     acc_ref[0]);
        cr_assert_eq(acc[1], acc_ref[1], "%s: correct %g, composed %g", be->name, acc[1],
                     acc_ref[1]);
    } else {
        cr_assert(fabs(acc[0] - acc_ref[0]) <= t.loss,
                  "%s: loss %.17g, composed %.17g (bound %.3g)", be->name, acc[0], acc_ref[0],
                  t.loss);
        cr_assert(fabs(acc[1] - acc_ref[1]) <= (double)t.near_ties,
                  "%s: correct %g, composed %g, %zu near ties", be->name, acc[1], acc_ref[1],
                  t.near_ties);
    }

    gsgdi_mem_free(ctx, dX, n * d * xs);
    gsgdi_mem_free(ctx, dy, n * sizeof *y);
    gsgdi_mem_free(ctx, dWp, d * K * sizeof *W);
    gsgdi_mem_free(ctx, dbp, K * sizeof *b);
    gsgdi_mem_free(ctx, dmean, d * sizeof *mean);
    gsgdi_mem_free(ctx, dinv, d * sizeof *inv_std);
    gsgdi_mem_free(ctx, dperm, n * sizeof *perm);
    gsgdi_mem_free(ctx, ddW, d * K * sizeof *ddW);
    gsgdi_mem_free(ctx, ddb, K * sizeof *ddb);
    gsgdi_mem_free(ctx, dacc, 2 * sizeof(double));
    gsgdi_mem_free(ctx, scratch, scratch_bytes);
    free(X), free(y), free(W), free(b), free(mean), free(inv_std), free(perm);
    free(Xb), free(yb), free(Z), free(dZ), free(dW_ref), free(db_ref), free(dW), free(db);
    fc_bounds_free(&t);
}

/* fc_check over each storage, with and without standardisation, with and
 * without a permutation (the permuted variants with d2 features, the
 * others with d1), for one loss, width and batch: rows start + [0, B) of
 * n. seed advances by one per variant. */
static void fc_check_variants(gsgd_context *ctx, gsgd_context *cpu, gsgdi_loss kind, size_t K,
                              size_t n, size_t start, size_t B, size_t d1, size_t d2,
                              uint64_t *seed) {
    for (int variant = 0; variant < 8; variant++) {
        fc_case c = {.kind = kind,
                     .n = n,
                     .d = variant & 4 ? d2 : d1,
                     .K = K,
                     .start = start,
                     .B = B,
                     .xt = variant & 1 ? GSGD_XTYPE_U8 : GSGD_XTYPE_F32,
                     .standardise = (variant >> 1) & 1,
                     .permute = (variant >> 2) & 1,
                     .seed = (*seed)++};
        fc_check(ctx, cpu, &c);
    }
}

#endif
