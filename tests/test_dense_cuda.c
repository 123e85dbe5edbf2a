/*
 * The CUDA backend's dense layers with fused epilogues (src/backend/
 * cuda_lt.c, cuBLASLt) against their reference, the composed ops, in every
 * precision: the forward product with bias, ReLU and the ReLU's bit mask;
 * the gradient into a layer's input through the previous layer's mask,
 * with that layer's bias gradient; the weights' gradient with the bias's.
 * Each result is held to the exact value (double) of the unrounded
 * inputs within gemm_bound.h's bound for the precision. Where cuBLASLt
 * declines a call (*taken = 0) the model composes it; the log says which,
 * and the forward in FP32 on aligned shapes must be taken, or the path
 * would never run. Every test skips without a device.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "backend/precision.h"
#include "core/context.h"
#include "core/memory.h"
#include "core/rng.h"
#include "cudatest.h"
#include "gemm_bound.h"

static gsgd_context *gpu;

static void close_gpu(void) {
    gsgd_context_free(gpu);
    gpu = NULL;
}

TestSuite(dense_cuda, .fini = close_gpu);

static void ok(gsgd_status st) { cr_assert_eq(st, GSGD_STATUS_OK, "%s", gsgd_last_error(gpu)); }

static void *dev(const void *host, size_t bytes) {
    void *p;
    ok(gsgdi_mem_alloc(gpu, bytes ? bytes : 1, &p));
    if (host) ok(gpu->be->upload(gpu, p, host, bytes));
    return p;
}

static void fetch(void *host, const void *d, size_t bytes) {
    ok(gpu->be->download(gpu, host, d, bytes));
}

static float *rnd(size_t n, uint64_t seed) {
    float *a = malloc((n ? n : 1) * sizeof *a);
    gsgdi_rng r = {gsgdi_mix64(seed)};
    for (size_t i = 0; i < n; i++) a[i] = (float)(2.0 * gsgdi_rng_uniform(&r) - 1.0);
    return a;
}

/* The GPU's inputs may be rounded or truncated (cuBLAS does not say):
 * a whole step of the kept grid. */
static double u_of(gsgd_precision p) {
    return p == GSGD_PRECISION_FP32 ? 0.0 : 2.0 * gsgdi_precision_unit_roundoff(p);
}

typedef struct {
    int forward, data, weights; /* taken by cuBLASLt */
} taken3;

/* One layer of in inputs and out outputs over rows rows, whose input is
 * the ReLU output A (rows x in) of a previous layer of k0 inputs: that
 * layer's forward gives A and its mask, this one's the three ops. */
static taken3 check_layer(gsgd_precision p, size_t rows, size_t k0, size_t in, size_t out) {
    const gsgdi_backend *be = gpu->be;
    taken3 t = {0, 0, 0};
    float *X0 = rnd(rows * k0, 1), *W0 = rnd(k0 * in, 2), *b0 = rnd(in, 3);
    float *W = rnd(in * out, 4), *dY = rnd(rows * out, 5);
    const size_t mrow = be->relu_mask_row_bytes(in);
    float *dX0 = dev(X0, rows * k0 * 4), *dW0 = dev(W0, k0 * in * 4), *db0 = dev(b0, in * 4);
    float *dW = dev(W, in * out * 4), *ddY = dev(dY, rows * out * 4);
    float *dA = dev(NULL, rows * in * 4), *ddX = dev(NULL, rows * in * 4);
    float *ddb_prev = dev(NULL, in * 4), *ddWg = dev(NULL, in * out * 4), *ddb = dev(NULL, out * 4);
    void *dmask = dev(NULL, rows * mrow);
    float *A = malloc(rows * in * 4), *dX = malloc(rows * in * 4), *db_prev = malloc(in * 4);
    float *dWg = malloc(in * out * 4), *db = malloc(out * 4);
    unsigned char *mask = malloc(rows * mrow);
    const double u = u_of(p);

    /* forward: A = relu(X0 W0 + b0) and its mask */
    ok(be->dense_forward(gpu, p, rows, k0, in, dX0, dW0, db0, 1, dA, dmask, &t.forward));
    if (!t.forward) goto done;
    fetch(A, dA, rows * in * 4);
    fetch(mask, dmask, rows * mrow);
    for (size_t r = 0; r < rows; r++)
        for (size_t i = 0; i < in; i++) {
            double s;
            const double z =
                gb_exact(0, 0, k0, 1.0f, X0 + r * k0, k0, W0, in, 1.0f, b0[i], 0, i, &s);
            const double bound = gb_bound(u, k0 + 1, s + fabs(b0[i]), 0.0);
            const double got = A[r * in + i], want = z > 0 ? z : 0.0;
            if (!(fabs(got - want) <= bound))
                cr_assert_fail("p=%d forward A[%zu][%zu] %.9g, exact %.9g (bound %.3g)", p, r, i,
                               got, want, bound);
            const int bit = mask[r * mrow + i / 8] >> (i % 8) & 1;
            if (bit != (got > 0))
                cr_assert_fail("p=%d mask bit [%zu][%zu] is %d, A is %.9g", p, r, i, bit, got);
        }

    /* dX = (dY W^T) where A > 0, and the previous layer's db = its sums */
    ok(be->dense_backward_data(gpu, p, rows, in, out, ddY, dW, dmask, ddX, ddb_prev, &t.data));
    if (t.data) {
        fetch(dX, ddX, rows * in * 4);
        fetch(db_prev, ddb_prev, in * 4);
        for (size_t i = 0; i < in; i++) {
            double sum = 0.0, bsum = 0.0, mag = 0.0;
            for (size_t r = 0; r < rows; r++) {
                double s;
                /* (dY W^T)[r][i] = sum_o dY[r][o] W[i][o]: W^T row-major is W read transposed. */
                double g = gb_exact(0, 1, out, 1.0f, dY + r * out, out, W + i * out, out, 0.0f,
                                    0.0f, 0, 0, &s);
                double bound = gb_bound(u, out, s, 0.0);
                if (!(A[r * in + i] > 0)) g = 0.0, bound = 0.0;
                if (!(fabs(dX[r * in + i] - g) <= bound))
                    cr_assert_fail("p=%d dX[%zu][%zu] %.9g, exact %.9g (bound %.3g)", p, r, i,
                                   dX[r * in + i], g, bound);
                sum += g;
                bsum += bound;
                mag += fabs(g) + bound;
            }
            /* Its FP32 sum over rows, in any order, of values each within
             * its bound: sum of the bounds plus gamma_rows of the sum. */
            const double bound = bsum + (double)(rows + 1) * FLT_EPSILON * mag;
            if (!(fabs(db_prev[i] - sum) <= bound))
                cr_assert_fail("p=%d db (previous layer)[%zu] %.9g, exact %.9g (bound %.3g)", p, i,
                               db_prev[i], sum, bound);
        }
    }

    /* dW = A^T dY and db = dY's sums over rows */
    ok(be->dense_backward_weights(gpu, p, rows, in, out, dA, ddY, ddWg, ddb, &t.weights));
    if (t.weights) {
        fetch(dWg, ddWg, in * out * 4);
        fetch(db, ddb, out * 4);
        for (size_t i = 0; i < in; i++)
            for (size_t o = 0; o < out; o++) {
                double s;
                const double g = gb_exact(1, 0, rows, 1.0f, A, in, dY, out, 0.0f, 0.0f, i, o, &s);
                const double bound = gb_bound(u, rows, s, 0.0);
                if (!(fabs(dWg[i * out + o] - g) <= bound))
                    cr_assert_fail("p=%d dW[%zu][%zu] %.9g, exact %.9g (bound %.3g)", p, i, o,
                                   dWg[i * out + o], g, bound);
            }
        for (size_t o = 0; o < out; o++) {
            double sum = 0.0, mag = 0.0;
            for (size_t r = 0; r < rows; r++) sum += dY[r * out + o], mag += fabs(dY[r * out + o]);
            const double bound = gb_bound(u, rows, mag, 0.0);
            if (!(fabs(db[o] - sum) <= bound))
                cr_assert_fail("p=%d db[%zu] %.9g, exact %.9g (bound %.3g)", p, o, db[o], sum,
                               bound);
        }
    }
done:
    gsgdi_mem_free(gpu, dX0, rows * k0 * 4), gsgdi_mem_free(gpu, dW0, k0 * in * 4);
    gsgdi_mem_free(gpu, db0, in * 4), gsgdi_mem_free(gpu, dW, in * out * 4);
    gsgdi_mem_free(gpu, ddY, rows * out * 4), gsgdi_mem_free(gpu, dA, rows * in * 4);
    gsgdi_mem_free(gpu, ddX, rows * in * 4), gsgdi_mem_free(gpu, ddb_prev, in * 4);
    gsgdi_mem_free(gpu, ddWg, in * out * 4), gsgdi_mem_free(gpu, ddb, out * 4);
    gsgdi_mem_free(gpu, dmask, rows * mrow);
    free(X0), free(W0), free(b0), free(W), free(dY), free(A), free(dX), free(db_prev);
    free(dWg), free(db), free(mask);
    return t;
}

Test(dense_cuda, epilogues_match_the_composed_ops_in_every_precision) {
    gpu = cuda_context_or_skip();
    cr_assert(gpu->be->dense_forward && gpu->be->relu_mask_row_bytes);
    /* rows, previous layer's inputs, this layer's inputs and outputs:
     * shapes off every multiple (the mask's 128 bits, 16-byte rows), one
     * row, and aligned ones. */
    const size_t shapes[][4] = {
        {1, 5, 3, 2}, {37, 33, 129, 10}, {256, 784, 256, 128}, {1000, 64, 200, 10}};
    for (int p = 0; p <= GSGD_PRECISION_BF16; p++)
        for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
            const taken3 t = check_layer((gsgd_precision)p, shapes[s][0], shapes[s][1],
                                         shapes[s][2], shapes[s][3]);
            cr_log_info("precision %d, %zu rows, %zu -> %zu -> %zu: cuBLASLt took forward %d, "
                        "dX + db %d, dW + db %d (0: composed)",
                        p, shapes[s][0], shapes[s][1], shapes[s][2], shapes[s][3], t.forward,
                        t.data, t.weights);
            if (p == GSGD_PRECISION_FP32 && s == 2)
                cr_assert(t.forward, "the FP32 forward with bias, ReLU and mask at 256 x 784 x 256 "
                                     "was declined: the fused path would never run");
        }
}

/* GSGD_EPILOGUES=0 declines every call: the composed path, as on a backend
 * without them. */
Test(dense_cuda, the_switch_declines_every_epilogue) {
    setenv("GSGD_EPILOGUES", "0", 1);
    gpu = cuda_context_or_skip();
    float *d = dev(NULL, 64 * 64 * 4);
    int taken = 1;
    ok(gpu->be->dense_forward(gpu, GSGD_PRECISION_FP32, 64, 64, 64, d, d, d, 0, d, NULL, &taken));
    cr_expect_eq(taken, 0);
    gsgdi_mem_free(gpu, d, 64 * 64 * 4);
}
