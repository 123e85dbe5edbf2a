/*
 * Models on sparse (CSR) input against the dense path and against central
 * finite differences of an independent double-precision loss: the same
 * rows given as CSR and as dense floats must give the same loss and
 * gradient on every model (the first layer's weight gradient compact,
 * scattered back), and the sparse gradient must be the derivative.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/rng.h"
#include "data/dataset.h"
#include "model/model.h"
#include "ref_loss.h"

enum { B = 9, D = 12 };

typedef struct {
    gsgd_context *ctx;
    gsgd_model *m;
    gsgd_dataset *sparse, *dense;
    float X[B * D], y[B];
} problem;

/* About half the features of each row are zero; row 3 is all zero. */
static void make_problem(problem *pb, const char *spec, int n_classes, uint64_t seed) {
    cr_assert_eq(gsgd_context_create(&pb->ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(pb->ctx, spec, D, n_classes, seed, &pb->m), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(pb->ctx));
    gsgdi_rng r = {seed * 7919 + 1};
    int64_t indptr[B + 1] = {0};
    int32_t ind[B * D];
    float val[B * D];
    size_t nnz = 0;
    for (int i = 0; i < B; i++) {
        for (int j = 0; j < D; j++) {
            const int on = i != 3 && gsgdi_rng_uniform(&r) < 0.5;
            pb->X[i * D + j] = on ? (float)(4.0 * gsgdi_rng_uniform(&r) - 2.0) : 0.0f;
            if (on) {
                ind[nnz] = j;
                val[nnz++] = pb->X[i * D + j];
            }
        }
        indptr[i + 1] = (int64_t)nnz;
        pb->y[i] = n_classes ? (float)(gsgdi_rng_next(&r) % (uint64_t)n_classes)
                             : (float)(2.0 * gsgdi_rng_uniform(&r) - 1.0);
    }
    cr_assert_eq(gsgd_dataset_from_csr(pb->ctx, B, D, indptr, ind, GSGD_INDEX_INT32, val, pb->y,
                                       n_classes, &pb->sparse),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(pb->ctx));
    cr_assert_eq(gsgd_dataset_from_host(pb->ctx, pb->X, pb->y, B, D, n_classes, &pb->dense),
                 GSGD_STATUS_OK);
    float *p;
    size_t n;
    gsgd_model_params(pb->m, &p, &n, NULL);
    for (size_t i = 0; i < n; i++) p[i] *= 3.0f; /* away from ReLU and hinge kinks */
}

static void free_problem(problem *pb) {
    gsgd_dataset_free(pb->sparse);
    gsgd_dataset_free(pb->dense);
    gsgd_model_free(pb->m);
    gsgd_context_free(pb->ctx);
}

/* The sparse step's gradient (gather, group, forward, backward, the compact
 * rows scattered into a zeroed first-layer block) and its summed loss. */
static void sparse_gradient(problem *pb, float *grads, double *loss) {
    gsgd_model *m = pb->m;
    gsgd_context *ctx = pb->ctx;
    const gsgdi_backend *be = ctx->be;
    gsgdi_step_buffers sb;
    cr_assert_eq(gsgdi_step_buffers_alloc_for(m, pb->sparse, B, 1, &sb), GSGD_STATUS_OK);
    cr_assert(sb.sparse);
    cr_assert_eq(
        be->csr_gather(ctx, &pb->sparse->csr, pb->sparse->y, NULL, 0, B, NULL, &sb.csr, sb.yb),
        GSGD_STATUS_OK);
    cr_assert_eq(be->csr_compact(ctx, &sb.csr, B, D), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_model_csr_forward(m, &sb, B, GSGD_PRECISION_FP32), GSGD_STATUS_OK);
    memset(grads, 0, m->n_params * sizeof *grads);
    cr_assert_eq(gsgdi_model_csr_backward(m, &sb, B, 1.0f / B, GSGD_PRECISION_FP32, grads),
                 GSGD_STATUS_OK);
    cr_assert_eq(be->csr_scatter(ctx, &sb.csr, sb.gW, m->layers[0].out, grads), GSGD_STATUS_OK);
    memcpy(loss, sb.acc, sizeof(double));
    gsgdi_step_buffers_free(m, &sb);
}

static void dense_gradient(problem *pb, float *grads, double *loss) {
    gsgd_model *m = pb->m;
    gsgdi_step_buffers sb;
    cr_assert_eq(gsgdi_step_buffers_alloc(m, B, &sb), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_model_gather_forward(m, &sb, pb->dense, NULL, 0, B), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_model_backward(m, &sb, B, grads), GSGD_STATUS_OK);
    memcpy(loss, sb.acc, sizeof(double));
    gsgdi_step_buffers_free(m, &sb);
}

static void check(const char *spec, int n_classes) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
        problem pb;
        make_problem(&pb, spec, n_classes, seed);
        gsgd_model *m = pb.m;
        float *gs = malloc(m->n_params * sizeof *gs), *gd = malloc(m->n_params * sizeof *gd);
        double *p = malloc(m->n_params * sizeof *p), ls, ld;
        cr_assert(gs && gd && p);
        sparse_gradient(&pb, gs, &ls);
        dense_gradient(&pb, gd, &ld);
        /* As test_model.c: each gradient entry sums at most n = B + fan-in
         * + K fp32 products, error <= gamma_n relative to magnitudes of
         * O(10); the two paths sum in different orders (CSR in row order
         * or by feature in double, the dense one by sgemm), so they differ
         * by at most twice that. */
        size_t fan = D;
        for (int l = 0; l < m->n_layers; l++) fan = m->layers[l].in > fan ? m->layers[l].in : fan;
        const double nterms = B + fan + m->n_outputs;
        const double gamma = nterms * FLT_EPSILON / (1.0 - nterms * FLT_EPSILON);
        double scale = 0.0;
        for (size_t i = 0; i < m->n_params; i++) {
            p[i] = m->params[i];
            scale = fmax(scale, fabs(gd[i]));
        }
        const double tol = gamma * 10.0 * fmax(1.0, scale), h = 1e-6;
        for (size_t i = 0; i < m->n_params; i++) {
            cr_expect(fabs(gs[i] - gd[i]) <= 2 * tol, "%s seed %llu: grad[%zu] csr %.9g dense %.9g",
                      spec, (unsigned long long)seed, i, gs[i], gd[i]);
            const double keep = p[i];
            p[i] = keep + h;
            const double up = tu_ref_loss(m, p, pb.X, pb.y, B, D);
            p[i] = keep - h;
            const double down = tu_ref_loss(m, p, pb.X, pb.y, B, D);
            p[i] = keep;
            const double fd = (up - down) / (2 * h);
            cr_expect(fabs(gs[i] - fd) <= tol,
                      "%s seed %llu: sparse d/dp[%zu] %.9g, finite difference %.9g (tol %.3g)",
                      spec, (unsigned long long)seed, i, gs[i], fd, tol);
        }
        const double ref = tu_ref_loss(m, p, pb.X, pb.y, B, D);
        cr_expect(fabs(ls / B - ref) <= gamma * 10.0 * fmax(1.0, fabs(ref)),
                  "%s: sparse loss %.9g, reference %.9g", spec, ls / B, ref);
        cr_expect(fabs(ls - ld) <= 2 * gamma * 10.0 * fmax(1.0, fabs(ld)),
                  "%s: sparse loss %.9g, dense %.9g", spec, ls, ld);
        free(gs);
        free(gd);
        free(p);
        free_problem(&pb);
    }
}

Test(sparse_gradient, softmax_csr_equals_dense_and_finite_differences) { check("softmax", 3); }
Test(sparse_gradient, logistic_csr_equals_dense_and_finite_differences) { check("logistic", 2); }
Test(sparse_gradient, linear_csr_equals_dense_and_finite_differences) { check("linear", 0); }
Test(sparse_gradient, linear_one_hot_csr_equals_dense_and_finite_differences) {
    check("linear", 4);
}
Test(sparse_gradient, hinge_csr_equals_dense_and_finite_differences) { check("hinge", 4); }
Test(sparse_gradient, mlp_first_layer_csr_equals_dense_and_finite_differences) {
    check("mlp:6,4", 3);
}

/* The grouping lists every distinct feature once and each of its
 * nonzeros in batch order; and leaves its scratch zeroed. */
Test(sparse_ops, compact_groups_nonzeros_by_feature) {
    problem pb;
    make_problem(&pb, "softmax", 3, 5);
    gsgd_context *ctx = pb.ctx;
    gsgdi_step_buffers sb;
    cr_assert_eq(gsgdi_step_buffers_alloc_for(pb.m, pb.sparse, B, 1, &sb), GSGD_STATUS_OK);
    cr_assert_eq(
        ctx->be->csr_gather(ctx, &pb.sparse->csr, pb.sparse->y, NULL, 0, B, NULL, &sb.csr, sb.yb),
        GSGD_STATUS_OK);
    cr_assert_eq(ctx->be->csr_compact(ctx, &sb.csr, B, D), GSGD_STATUS_OK);
    const gsgdi_csr_batch *c = &sb.csr;
    int seen[D] = {0};
    int32_t total = 0;
    for (int32_t i = 0; i < *c->n_feat; i++) {
        cr_expect_eq(seen[c->feat[i]]++, 0, "feature %d listed twice", c->feat[i]);
        for (int32_t q = c->fptr[i]; q < c->fptr[i + 1]; q++) {
            cr_expect_eq(c->col[c->order[q]], c->feat[i]);
            if (q > c->fptr[i]) cr_expect_lt(c->order[q - 1], c->order[q]);
        }
        total += c->fptr[i + 1] - c->fptr[i];
    }
    cr_expect_eq(total, c->ptr[B]);
    for (int j = 0; j < D; j++) cr_expect_eq(((int32_t *)c->scratch)[j], 0);
    gsgdi_step_buffers_free(pb.m, &sb);
    free_problem(&pb);
}

/* Predictions and metrics on sparse rows: the same as on the dense copy of
 * the rows, within the error bound of the two summation orders (as
 * check()'s: gamma_n relative to outputs of O(10) each, twice). */
static void check_predictions(const char *spec, int n_classes) {
    problem pb;
    make_problem(&pb, spec, n_classes, 5);
    gsgd_model *m = pb.m;
    const size_t K = m->n_outputs, P = n_classes ? (size_t)(K == 1 ? 2 : K) : 1;
    const double nterms = B + D + K;
    const double tol = 2 * 10.0 * nterms * FLT_EPSILON / (1.0 - nterms * FLT_EPSILON);
    float zs[B * 8], zd[B * 8], ps[B * 8], pd[B * 8], vs[B], vd[B];
    cr_assert_eq(gsgd_decision_function_dataset(m, pb.sparse, zs), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(pb.ctx));
    cr_assert_eq(gsgd_decision_function_dataset(m, pb.dense, zd), GSGD_STATUS_OK);
    for (size_t i = 0; i < B * K; i++)
        cr_expect(fabs(zs[i] - zd[i]) <= tol * fmax(1.0, fabs(zd[i])), "%s: z[%zu] %.9g vs %.9g",
                  spec, i, zs[i], zd[i]);
    cr_assert_eq(gsgd_predict_dataset(m, pb.sparse, vs), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_predict_dataset(m, pb.dense, vd), GSGD_STATUS_OK);
    if (n_classes == 0) {
        for (int i = 0; i < B; i++) cr_expect(fabs(vs[i] - zs[i]) == 0, "the value is the output");
    } else {
        int32_t cs[B];
        cr_assert_eq(gsgd_predict_classes_dataset(m, pb.sparse, cs), GSGD_STATUS_OK);
        for (int i = 0; i < B; i++) {
            /* the class of the sparse outputs themselves; the dense one's
             * where no two outputs lie within the bound */
            size_t best = 0, second = 1;
            for (size_t k = 1; k < K; k++)
                if (zs[i * K + k] > zs[i * K + best]) best = k;
            if (K > 1)
                for (size_t k = 0; k < K; k++)
                    if (k != best && (second == best || zs[i * K + k] > zs[i * K + second]))
                        second = k;
            const size_t want = K == 1 ? zs[i] > 0 : best;
            cr_expect_eq((size_t)cs[i], want, "%s: row %d", spec, i);
            cr_expect_eq(vs[i], (float)want, "identity labels: the class index");
            if (K == 1 || zs[i * K + best] - zs[i * K + second] > 4 * tol)
                cr_expect_eq(vs[i], vd[i]);
        }
    }
    const gsgd_status st = gsgd_predict_proba_dataset(m, pb.sparse, ps);
    if (m->loss != GSGD_LOSS_SOFTMAX_CE && m->loss != GSGD_LOSS_LOGISTIC) {
        cr_expect_eq(st, GSGD_STATUS_UNSUPPORTED);
    } else {
        cr_assert_eq(st, GSGD_STATUS_OK);
        cr_assert_eq(gsgd_predict_proba_dataset(m, pb.dense, pd), GSGD_STATUS_OK);
        for (int i = 0; i < B; i++) {
            double sum = 0;
            for (size_t k = 0; k < P; k++) {
                sum += ps[i * P + k];
                cr_expect(fabs(ps[i * P + k] - pd[i * P + k]) <= 4 * tol, "%s: p[%d][%zu]", spec, i,
                          k);
            }
            cr_expect(fabs(sum - 1.0) <= P * FLT_EPSILON, "%s: row %d sums to %.9g", spec, i, sum);
        }
    }
    gsgd_metrics *ms, *md;
    cr_assert_eq(gsgd_evaluate_metrics(m, pb.sparse, &ms), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(pb.ctx));
    cr_assert_eq(gsgd_evaluate_metrics(m, pb.dense, &md), GSGD_STATUS_OK);
    const gsgd_metric which = n_classes ? GSGD_METRIC_LOSS : GSGD_METRIC_MSE;
    double a, b;
    gsgd_metrics_get(ms, which, &a);
    gsgd_metrics_get(md, which, &b);
    cr_expect(fabs(a - b) <= 4 * tol * fmax(1.0, fabs(b)), "%s: metric %.9g vs %.9g", spec, a, b);
    gsgd_metrics_free(ms);
    gsgd_metrics_free(md);
    free_problem(&pb);
}

Test(sparse_predict, softmax_outputs_classes_and_probabilities_as_dense) {
    check_predictions("softmax", 3);
}
Test(sparse_predict, logistic_outputs_classes_and_probabilities_as_dense) {
    check_predictions("logistic", 2);
}
Test(sparse_predict, mlp_outputs_classes_and_probabilities_as_dense) {
    check_predictions("mlp:5", 3);
}
Test(sparse_predict, hinge_has_outputs_and_classes_but_no_probabilities) {
    check_predictions("hinge", 4);
}
Test(sparse_predict, linear_regression_values_as_dense) { check_predictions("linear", 0); }
