/*
 * Model gradients against central finite differences of an independent
 * double-precision implementation of the same loss.
 */
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
#include "ref_loss.h"

enum { B = 7, D = 5 };

typedef struct {
    gsgd_context *ctx;
    gsgd_model *m;
    float X[B * D], y[B];
} problem;

static void make_problem(problem *pb, const char *spec, int n_classes, uint64_t seed) {
    cr_assert_eq(gsgd_context_create(&pb->ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(pb->ctx, spec, D, n_classes, seed, &pb->m), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(pb->ctx));
    gsgdi_rng r = {seed * 7919 + 1};
    for (int i = 0; i < B * D; i++) pb->X[i] = (float)(4.0 * gsgdi_rng_uniform(&r) - 2.0);
    for (int i = 0; i < B; i++)
        pb->y[i] = n_classes ? (float)(gsgdi_rng_next(&r) % (uint64_t)n_classes)
                             : (float)(2.0 * gsgdi_rng_uniform(&r) - 1.0);
    /* Larger biases keep ReLUs and hinge margins away from their kinks,
     * where a finite difference is not a derivative. */
    float *p;
    size_t n, n_decay;
    gsgd_model_params(pb->m, &p, &n, &n_decay);
    for (size_t i = 0; i < n; i++) p[i] *= 3.0f;
}

static void free_problem(problem *pb) {
    gsgd_model_free(pb->m);
    gsgd_context_free(pb->ctx);
}

static void check_gradient(const char *spec, int n_classes) {
    for (uint64_t seed = 1; seed <= 3; seed++) {
        problem pb;
        make_problem(&pb, spec, n_classes, seed);
        gsgd_model *m = pb.m;
        gsgdi_step_buffers sb;
        cr_assert_eq(gsgdi_step_buffers_alloc(m, B, &sb), GSGD_STATUS_OK);
        memcpy(sb.Xb, pb.X, sizeof pb.X);
        memcpy(sb.yb, pb.y, sizeof pb.y);
        float *grads = calloc(m->n_params, sizeof *grads);
        double *p = malloc(m->n_params * sizeof *p);
        cr_assert(grads && p);
        cr_assert_eq(gsgdi_model_forward(m, &sb, B, GSGD_PRECISION_FP32), GSGD_STATUS_OK);
        cr_assert_eq(gsgdi_model_backward(m, &sb, B, grads), GSGD_STATUS_OK);

        /* The analytic gradient is computed in fp32: each entry is a sum of
         * at most n = B + max fan-in + K products whose accumulated rounding
         * error is bounded by gamma_n = n*eps/(1 - n*eps) relative to the
         * sum of magnitudes; the magnitudes here are O(10), and logits carry
         * a relative error of the same order into the loss derivative. The
         * central difference in double with h = 1e-6 adds O(h^2) truncation
         * and O(eps64/h) ~ 1e-10 roundoff, negligible against that. */
        size_t fan = D;
        for (int l = 0; l < m->n_layers; l++) fan = m->layers[l].in > fan ? m->layers[l].in : fan;
        double nterms = B + fan + m->n_outputs;
        double gamma = nterms * FLT_EPSILON / (1.0 - nterms * FLT_EPSILON);
        double scale = 0.0;
        for (size_t i = 0; i < m->n_params; i++) {
            p[i] = m->params[i];
            scale = fmax(scale, fabs(grads[i]));
        }
        double tol = gamma * 10.0 * fmax(1.0, scale);
        const double h = 1e-6;
        for (size_t i = 0; i < m->n_params; i++) {
            double keep = p[i];
            p[i] = keep + h;
            double up = tu_ref_loss(m, p, pb.X, pb.y, B, D);
            p[i] = keep - h;
            double down = tu_ref_loss(m, p, pb.X, pb.y, B, D);
            p[i] = keep;
            double fd = (up - down) / (2 * h);
            cr_expect(fabs(grads[i] - fd) <= tol,
                      "%s seed %llu: d/dp[%zu] analytic %.9g, finite difference %.9g (tol %.3g)",
                      spec, (unsigned long long)seed, i, grads[i], fd, tol);
        }
        /* The loss the backend accumulated is the same mean loss. */
        double acc[2];
        memcpy(acc, sb.acc, sizeof acc);
        double ref = tu_ref_loss(m, p, pb.X, pb.y, B, D);
        cr_expect(fabs(acc[0] / B - ref) <= gamma * 10.0 * fmax(1.0, fabs(ref)),
                  "%s: loss %.9g, reference %.9g", spec, acc[0] / B, ref);
        free(grads);
        free(p);
        gsgdi_step_buffers_free(m, &sb);
        free_problem(&pb);
    }
}

Test(model_gradient, softmax_matches_finite_differences) { check_gradient("softmax", 3); }
Test(model_gradient, logistic_matches_finite_differences) { check_gradient("logistic", 2); }
Test(model_gradient, linear_regression_matches_finite_differences) { check_gradient("linear", 0); }
Test(model_gradient, linear_one_hot_matches_finite_differences) { check_gradient("linear", 4); }
Test(model_gradient, hinge_matches_finite_differences) { check_gradient("hinge", 4); }
Test(model_gradient, mlp_matches_finite_differences) { check_gradient("mlp:6,4", 3); }
Test(model_gradient, mlp_regression_matches_finite_differences) { check_gradient("mlp:6,4", 0); }

Test(model_layout, mlp_on_real_targets_ends_in_one_squared_loss_output) {
    gsgd_context *ctx;
    gsgd_model *m;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8,5", 4, 0, 0, &m), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_expect_eq(m->loss, GSGD_LOSS_SQUARED);
    cr_expect_eq(m->n_outputs, 1u);
    cr_expect_eq(m->n_layers, 3);
    cr_expect_eq(m->n_params, 4u * 8 + 8 * 5 + 5 * 1 + 8 + 5 + 1);
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

Test(model_layout, weights_first_then_biases) {
    gsgd_context *ctx;
    gsgd_model *m;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "mlp:256,128", 784, 10, 0, &m), GSGD_STATUS_OK);
    size_t n, n_decay;
    float *p;
    cr_assert_eq(gsgd_model_params(m, &p, &n, &n_decay), GSGD_STATUS_OK);
    cr_expect_eq(n_decay, 784u * 256 + 256u * 128 + 128u * 10);
    cr_expect_eq(n, n_decay + 256 + 128 + 10);
    cr_expect_eq(m->layers[1].w_off, 784u * 256);
    cr_expect_eq(m->layers[0].b_off, n_decay);
    cr_expect_eq(m->layers[2].b_off, n_decay + 256 + 128);
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

Test(model_layout, init_is_pytorch_uniform_bound_and_seeded) {
    gsgd_context *ctx;
    gsgd_model *a, *b, *c;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 100, 10, 5, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 100, 10, 5, &b), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 100, 10, 6, &c), GSGD_STATUS_OK);
    double bound = 1.0 / sqrt(100.0), maxabs = 0.0;
    for (size_t i = 0; i < a->n_params; i++) maxabs = fmax(maxabs, fabs(a->params[i]));
    cr_expect(maxabs <= bound && maxabs > 0.9 * bound, "max |w| %g, bound %g", maxabs, bound);
    cr_expect(memcmp(a->params, b->params, a->n_params * sizeof(float)) == 0);
    cr_expect(memcmp(a->params, c->params, a->n_params * sizeof(float)) != 0);
    gsgd_model_free(a);
    gsgd_model_free(b);
    gsgd_model_free(c);
    gsgd_context_free(ctx);
}

Test(model_layout, rejects_bad_specs_with_a_message) {
    gsgd_context *ctx;
    gsgd_model *m = (gsgd_model *)1;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_model_create(ctx, "resnet", 4, 3, 0, &m), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_null(m);
    cr_expect(strstr(gsgd_last_error(ctx), "unknown model 'resnet'"));
    cr_expect_eq(gsgd_model_create(ctx, "mlp:", 4, 3, 0, &m), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_model_create(ctx, "mlp:8,x", 4, 3, 0, &m), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_model_create(ctx, "mlp:0", 4, 3, 0, &m), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_model_create(ctx, "logistic", 4, 10, 0, &m), GSGD_STATUS_SHAPE_MISMATCH);
    cr_expect(strstr(gsgd_last_error(ctx), "use softmax"));
    cr_expect_eq(gsgd_model_create(ctx, "softmax", 4, 0, 0, &m), GSGD_STATUS_SHAPE_MISMATCH);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "failed creates leave nothing allocated");
    gsgd_context_free(ctx);
}

Test(model_layout, hidden_widths_are_plain_digits_and_none_is_missing) {
    gsgd_context *ctx;
    gsgd_model *m = (gsgd_model *)1;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    /* strtoull alone takes a sign and leading blanks, and a trailing comma
     * ended the list without a word. */
    const char *bad[] = {"mlp:5,",   "mlp:+5",   "mlp: 5", "mlp:-5",
                         "mlp:5,,6", "mlp:5,+6", "mlp:,5", "mlp:5, 6"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cr_expect_eq(gsgd_model_create(ctx, bad[i], 4, 3, 0, &m), GSGD_STATUS_INVALID_ARGUMENT,
                     "%s", bad[i]);
        cr_expect_null(m);
        cr_expect(strstr(gsgd_last_error(ctx), bad[i]), "%s", gsgd_last_error(ctx));
    }
    cr_expect(strstr(gsgd_model_create(ctx, "mlp:5,", 4, 3, 0, &m) ? gsgd_last_error(ctx) : "",
                     "missing after the last ','"),
              "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_model_create(ctx, "mlp:5,6", 4, 3, 0, &m), GSGD_STATUS_OK);
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}
