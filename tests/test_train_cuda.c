/*
 * Training and the embedding primitive on a CUDA device: one epoch agrees
 * with the CPU backend from the same seed (same permutation, same batches),
 * Fashion-MNIST softmax reaches 0.84, and gsgd_optimizer_step updates
 * caller-owned cudaMalloc'd buffers on the caller's stream as the closed
 * form says. Every test skips without a device.
 */
#include <criterion/criterion.h>
#include <cuda_runtime_api.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cudatest.h"
#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "train/trainer.h"
#include "testutil.h"

#define CU(expr)                                                                                   \
    do {                                                                                           \
        cudaError_t cu_e_ = (expr);                                                                \
        cr_assert_eq(cu_e_, cudaSuccess, "%s: %s", #expr, cudaGetErrorString(cu_e_));              \
    } while (0)

typedef struct {
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    gsgd_trainer *tr;
} run;

static void run_start(run *r, gsgd_context *ctx, const char *data, const char *spec,
                      const gsgd_options *opts) {
    memset(r, 0, sizeof *r);
    r->ctx = ctx;
    cr_assert_eq(gsgd_dataset_load(ctx, data, &r->train, &r->test), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    size_t d;
    int k;
    gsgd_dataset_shape(r->train, NULL, &d, &k);
    cr_assert_eq(gsgd_model_create(ctx, spec, d, k, 42, &r->model), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(gsgd_trainer_create(r->model, r->train, opts, &r->tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
}

static void run_finish(run *r) {
    gsgd_trainer_free(r->tr);
    gsgd_model_free(r->model);
    gsgd_dataset_free(r->train);
    gsgd_dataset_free(r->test);
    size_t in_use = 1;
    gsgd_context_memory(r->ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "%s: every backend buffer was released", r->ctx->be->name);
}

Test(train_cuda, one_epoch_matches_the_cpu_from_the_same_seed) {
    gsgd_context *gpu = cuda_context_or_skip(), *cpu;
    cr_assert_eq(gsgd_context_create(&cpu, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    /* A non-blocking user stream: work that ignored it would race. */
    cudaStream_t stream;
    CU(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    cr_assert_eq(gsgd_context_set_stream(gpu, stream), GSGD_STATUS_OK, "%s", gsgd_last_error(gpu));
    gsgd_options *o;
    gsgd_options_create(&o);
    const double lr = 0.02;
    const size_t B = 32;
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_SGD);
    gsgd_set(o, GSGD_LR, lr);
    gsgd_set(o, GSGD_BATCH, (double)B);
    gsgd_set(o, GSGD_SEED, 11);
    const char *data = "synth:1000,10,4:seed=3";
    run rc, rg;
    run_start(&rc, cpu, data, "softmax", o);
    run_start(&rg, gpu, data, "softmax", o);
    double loss_c, loss_g;
    cr_assert_eq(gsgd_train_epoch(rc.tr, &loss_c), GSGD_STATUS_OK, "%s", gsgd_last_error(cpu));
    cr_assert_eq(gsgd_train_epoch(rg.tr, &loss_g), GSGD_STATUS_OK, "%s", gsgd_last_error(gpu));

    const size_t np = rc.model->n_params, n = rc.train->n, d = rc.train->d, S = (n + B - 1) / B;
    float *pc = malloc(np * 4), *pg = malloc(np * 4), *p0 = malloc(np * 4);
    memcpy(pc, rc.model->params, np * 4); /* CPU backend memory is host memory */
    cr_assert_eq(gpu->be->download(gpu, pg, rg.model->params, np * 4), GSGD_STATUS_OK);
    gsgdi_model_init_host(rc.model, 42, p0);
    /* The bound. Softmax cross-entropy is convex and L-smooth with
     * L <= max ||(x,1)||^2 / 2, so with lr <= 2/L an exact SGD step is
     * non-expansive and the two runs drift apart by at most the sum of
     * their per-step rounding errors (both draw the same batches: same
     * permutation, bitwise-equal gather). Per step and element, with
     * u = 2^-24, |dz| <= 1/B, gradients bounded by g = max(max|x|, 1) and
     * parameters by p = max|p0| + S lr g:
     *   logits      ez = (d + 2) u (max||x||_1 p + p)
     *   dZ          (2 ez + 3 u) / B
     *   gradient    e  = g (2 ez + (B + 3) u)
     *   update      r  = u (p + 2 lr g)
     * so the 2-norm distance after S steps is at most
     * 2 S sqrt(n_params) (lr e + r), which bounds every element. */
    const float *X = rc.train->X;
    double xmax = 0, x1max = 0, x2max = 0, p0max = 0;
    for (size_t i = 0; i < n; i++) {
        double s1 = 0, s2 = 1;
        for (size_t j = 0; j < d; j++) {
            double a = fabs(X[i * d + j]);
            xmax = fmax(xmax, a), s1 += a, s2 += a * a;
        }
        x1max = fmax(x1max, s1), x2max = fmax(x2max, s2);
    }
    for (size_t i = 0; i < np; i++) p0max = fmax(p0max, fabs(p0[i]));
    cr_assert(lr <= 2.0 / (0.5 * x2max), "lr %g is past 2/L (L <= %g): the bound needs it", lr,
              0.5 * x2max);
    const double u = FLT_EPSILON / 2, g = fmax(xmax, 1.0), p = p0max + S * lr * g;
    const double ez = (d + 2) * u * (x1max * p + p), e = g * (2 * ez + (B + 3) * u);
    const double tol = 2.0 * S * sqrt((double)np) * (lr * e + u * (p + 2 * lr * g));
    double worst = 0;
    for (size_t i = 0; i < np; i++) worst = fmax(worst, fabs((double)pc[i] - pg[i]));
    cr_expect(worst <= tol, "max |cpu - cuda| = %.3g over %zu parameters, bound %.3g", worst, np,
              tol);
    cr_log_info("one epoch, cpu vs cuda: max |difference| %.3g (bound %.3g), mean loss %.9g vs "
                "%.9g",
                worst, tol, loss_c, loss_g);
    run_finish(&rc);
    run_finish(&rg);
    free(pc), free(pg), free(p0);
    gsgd_options_free(o);
    gsgd_context_free(cpu);
    gsgd_context_free(gpu);
    CU(cudaStreamDestroy(stream));
}

Test(train_cuda, fashion_mnist_softmax_reaches_0_84) {
    const char *file = "/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz";
    FILE *probe = fopen(file, "rb");
    if (!probe) cr_skip_test("%s not found (apt-get install dataset-fashion-mnist)", file);
    fclose(probe);
    gsgd_context *gpu = cuda_context_or_skip();
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_TARGET_ACC, 0.84);
    gsgd_set(o, GSGD_EPOCHS, 20);
    /* test_train's CPU run trains at 64 too: this checks the backend, not
     * the planner's choice of batch (BATCH = 0 plans one). */
    gsgd_set(o, GSGD_BATCH, 64);
    run r;
    run_start(&r, gpu, "fashion-mnist", "softmax", o);
    gsgd_train_result res;
    cr_assert_eq(gsgd_train(r.tr, r.test, NULL, NULL, &res), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(gpu));
    cr_expect(res.test_accuracy >= 0.84, "test accuracy %.4f after %d epochs", res.test_accuracy,
              res.epochs);
    cr_log_info("fashion-mnist softmax on cuda: %.4f after %d epochs, %.0f samples/s",
                res.test_accuracy, res.epochs, res.samples_per_second);
    run_finish(&r);
    gsgd_options_free(o);
    gsgd_context_free(gpu);
}

static int ulp_close(float a, double b, int ulps) {
    return fabs((double)a - b) <= ulps * fabs(b) * FLT_EPSILON + 1e-12;
}

/* Steps caller-owned device buffers of n floats (at offset floats into a
 * cudaMalloc'd block: 1 makes them misaligned for float4) on a user
 * stream, from p0 with a constant gradient, and checks every entry. */
static void check_step(gsgd_optim kind, double wd, size_t n, size_t offset, float p0,
                       const double *expect, int steps) {
    gsgd_context *gpu = cuda_context_or_skip();
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_OPTIMIZER, kind);
    gsgd_set(o, GSGD_LR, 0.1);
    gsgd_set(o, GSGD_MOMENTUM, 0.9);
    gsgd_set(o, GSGD_WEIGHT_DECAY, wd);
    gsgd_optimizer *opt;
    cr_assert_eq(gsgd_optimizer_create(gpu, o, n, &opt), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(gpu));
    cudaStream_t stream;
    CU(cudaStreamCreateWithFlags(&stream, cudaStreamNonBlocking));
    float *host = malloc(n * 4), *block_p, *block_g;
    CU(cudaMalloc((void **)&block_p, (n + offset) * 4));
    CU(cudaMalloc((void **)&block_g, (n + offset) * 4));
    float *params = block_p + offset, *grads = block_g + offset;
    for (size_t i = 0; i < n; i++) host[i] = p0;
    CU(cudaMemcpyAsync(params, host, n * 4, cudaMemcpyHostToDevice, stream));
    for (size_t i = 0; i < n; i++) host[i] = 1.0f;
    CU(cudaMemcpyAsync(grads, host, n * 4, cudaMemcpyHostToDevice, stream));
    for (int t = 0; t < steps; t++)
        cr_assert_eq(gsgd_optimizer_step(opt, params, grads, n, stream), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(gpu));
    CU(cudaMemcpyAsync(host, params, n * 4, cudaMemcpyDeviceToHost, stream));
    CU(cudaStreamSynchronize(stream));
    for (size_t i = 0; i < n; i++)
        if (!ulp_close(host[i], expect[steps - 1], 16))
            cr_assert_fail("kind %d offset %zu entry %zu: %.9g, closed form %.9g", kind, offset, i,
                           host[i], expect[steps - 1]);
    CU(cudaFree(block_p));
    CU(cudaFree(block_g));
    CU(cudaStreamDestroy(stream));
    free(host);
    gsgd_optimizer_free(opt);
    gsgd_options_free(o);
    gsgd_context_free(gpu);
}

/* The closed forms of test_optim.c with g = 1 everywhere (PyTorch's SGD):
 *   momentum: b = 1, 1.9, 2.71;  p = 1 - 0.1, - 0.19, - 0.271
 *   nesterov: b = 1, 1.9;        p = 1 - 0.1 (1 + 0.9), - 0.1 (1 + 1.71)
 *   sgd + wd: p = 2 - 0.1 (1 + 0.01 * 2)
 *   adam:     m = 1 - 0.9^t and s = 1 - 0.999^t are their own bias
 *             corrections, so each step is lr m^ / (sqrt(s^) + eps) =
 *             0.1 / (1 + 1e-8): p = 1 - 0.1 t to float precision */
Test(train_cuda, optimizer_step_updates_user_buffers_on_the_user_stream) {
    const double momentum[3] = {0.9, 0.71, 0.439}, nesterov[2] = {0.81, 0.539};
    const double sgd_wd[1] = {1.898}, adam[3] = {0.9, 0.8, 0.7};
    for (size_t off = 0; off < 2; off++) {
        check_step(GSGD_OPTIM_MOMENTUM, 0.0, 1000003, off, 1.0f, momentum, 3);
        check_step(GSGD_OPTIM_NESTEROV, 0.0, 1000003, off, 1.0f, nesterov, 2);
        check_step(GSGD_OPTIM_SGD, 0.01, 4097, off, 2.0f, sgd_wd, 1);
        check_step(GSGD_OPTIM_ADAM, 0.0, 100003, off, 1.0f, adam, 3);
    }
}

/* n ubyte images of 784 pixels (label: the brightest of the first 10),
 * written as an IDX pair; returns the idx: spec. */
static const char *pixel_spec(size_t n) {
    const size_t d = 784;
    uint8_t *img = malloc(n * d), *lab = malloc(n);
    uint64_t z = 99;
    for (size_t i = 0; i < n; i++) {
        uint8_t *px = img + i * d;
        size_t best = 0;
        for (size_t j = 0; j < d; j++) {
            z = z * 6364136223846793005ull + 1442695040888963407ull;
            px[j] = (uint8_t)(z >> 56);
            if (j < 10 && px[j] > px[best]) best = j;
        }
        lab[i] = (uint8_t)best;
    }
    cr_assert_eq(
        tu_write_idx(tu_path("px"), 0x08, 3, (uint32_t[]){(uint32_t)n, 28, 28}, img, n * d), 0);
    cr_assert_eq(tu_write_idx(tu_path("lab"), 0x08, 1, (uint32_t[]){(uint32_t)n}, lab, n), 0);
    free(img);
    free(lab);
    static char spec[1200];
    snprintf(spec, sizeof spec, "idx:%s,%s", tu_path("px"), tu_path("lab"));
    return spec;
}

/* Byte storage on the device: the gather gives bitwise the floats of
 * storage=f32 (test_backend_cuda), and every later op is deterministic on
 * one device, so two epochs leave bitwise the same parameters. */
Test(train_cuda, bytes_train_bit_identically_to_floats) {
    gsgd_context *gpu = cuda_context_or_skip();
    const char *u8 = pixel_spec(4000);
    char f32[1300];
    snprintf(f32, sizeof f32, "%s:storage=f32", u8);
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_BATCH, 256);
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
    gsgd_set(o, GSGD_SEED, 5);
    for (int standardize = 0; standardize < 2; standardize++) {
        float *p[2];
        size_t x_bytes[2], np = 0;
        for (int s = 0; s < 2; s++) {
            run r;
            memset(&r, 0, sizeof r);
            r.ctx = gpu;
            cr_assert_eq(gsgd_dataset_load(gpu, s ? f32 : u8, &r.train, NULL), 0, "%s",
                         gsgd_last_error(gpu));
            cr_assert_eq(r.train->xt, s ? GSGD_XTYPE_F32 : GSGD_XTYPE_U8);
            x_bytes[s] = gsgdi_dataset_x_bytes(r.train);
            cr_assert_eq(gsgd_model_create(gpu, "mlp:32", 784, 10, 42, &r.model), 0);
            if (standardize) cr_assert_eq(gsgd_model_fit_standardizer(r.model, r.train), 0);
            cr_assert_eq(gsgd_trainer_create(r.model, r.train, o, &r.tr), 0, "%s",
                         gsgd_last_error(gpu));
            for (int e = 0; e < 2; e++)
                cr_assert_eq(gsgd_train_epoch(r.tr, NULL), 0, "%s", gsgd_last_error(gpu));
            np = r.model->n_params;
            p[s] = malloc(np * sizeof(float));
            cr_assert_eq(gpu->be->download(gpu, p[s], r.model->params, np * sizeof(float)), 0);
            run_finish(&r);
        }
        cr_expect_eq(x_bytes[1], 4 * x_bytes[0]);
        cr_expect(memcmp(p[0], p[1], np * sizeof(float)) == 0, "standardize %d: parameters differ",
                  standardize);
        free(p[0]);
        free(p[1]);
    }
    gsgd_options_free(o);
    gsgd_context_free(gpu);
}

/* Trains softmax for 2 epochs on ds and downloads the parameters. */
static void params_after_training(gsgd_context *gpu, gsgd_dataset *ds, size_t d, float *out,
                                  size_t n_params) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(gpu, "softmax", d, 3, 7, &m), GSGD_STATUS_OK);
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_EPOCHS, 2);
    gsgd_set(o, GSGD_BATCH, 64);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(gpu));
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(gpu));
    float *p;
    size_t n;
    gsgd_model_params(m, &p, &n, NULL);
    cr_assert_eq(n, n_params);
    CU(cudaMemcpy(out, p, n * sizeof *p, cudaMemcpyDeviceToHost));
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
}

Test(train_cuda, the_callers_device_arrays_train_as_a_copy_of_them_does) {
    gsgd_context *gpu = cuda_context_or_skip();
    enum { N = 1000, D = 12, P = D * 3 + 3 };
    float *X = malloc(N * D * sizeof *X), y[N];
    for (size_t i = 0; i < (size_t)N * D; i++) X[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    for (size_t i = 0; i < N; i++) y[i] = (float)(i % 3);
    float *dX, *dy;
    CU(cudaMalloc((void **)&dX, N * D * sizeof *dX));
    CU(cudaMalloc((void **)&dy, N * sizeof *dy));
    CU(cudaMemcpy(dX, X, N * D * sizeof *X, cudaMemcpyHostToDevice));
    CU(cudaMemcpy(dy, y, N * sizeof *y, cudaMemcpyHostToDevice));
    gsgd_dataset *borrowed, *copied;
    cr_assert_eq(gsgd_dataset_from_device(gpu, dX, dy, N, D, 3, &borrowed), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(gpu));
    cr_assert_eq(gsgd_dataset_from_host(gpu, X, y, N, D, 3, &copied), GSGD_STATUS_OK);
    size_t in_use;
    gsgd_context_memory(gpu, &in_use, NULL);
    cr_expect_eq(in_use, (size_t)N * (D + 1) * sizeof(float), "only the copy is gsgd's");
    float a[P], b[P];
    params_after_training(gpu, borrowed, D, a, P);
    params_after_training(gpu, copied, D, b, P);
    cr_expect(memcmp(a, b, sizeof a) == 0, "same data on the device, same bits");
    gsgd_dataset_free(borrowed);
    gsgd_dataset_free(copied);
    CU(cudaFree(dX)); /* still the caller's: gsgd_dataset_free left it */
    CU(cudaFree(dy));
    free(X);
    gsgd_context_free(gpu);
}

Test(train_cuda, features_over_the_memory_limit_stay_in_pinned_host_memory_and_train_alike) {
    /* A context limit below the features' size sends them to mapped
     * pinned host memory; training reads them over the bus and must give
     * the bits training from device memory gives. */
    gsgd_context *gpu = cuda_context_or_skip();
    enum { N = 2000, D = 64, P = D * 3 + 3 };
    float *X = malloc((size_t)N * D * sizeof *X), y[N];
    for (size_t i = 0; i < (size_t)N * D; i++) X[i] = (float)((i * 40503u) % 977) / 977.0f;
    for (size_t i = 0; i < N; i++) y[i] = (float)(i % 3);
    gsgd_dataset *resident, *mapped;
    cr_assert_eq(gsgd_dataset_from_host(gpu, X, y, N, D, 3, &resident), GSGD_STATUS_OK);
    cr_expect_eq(resident->host_mapped, 0);
    size_t in_use;
    gsgd_context_memory(gpu, &in_use, NULL);
    /* Room for the targets and the training buffers, not for X again. */
    cr_assert_eq(gsgd_context_set_mem_limit(gpu, in_use + (size_t)N * D * sizeof(float) / 2),
                 GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_from_host(gpu, X, y, N, D, 3, &mapped), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(gpu));
    cr_expect_eq(mapped->host_mapped, 1, "X over the limit went to pinned host memory");
    size_t after;
    gsgd_context_memory(gpu, &after, NULL);
    cr_expect_eq(after - in_use, (size_t)N * sizeof(float), "only y is device memory");
    cr_assert_eq(gsgd_context_set_mem_limit(gpu, 0), GSGD_STATUS_OK);
    float a[P], b[P];
    params_after_training(gpu, resident, D, a, P);
    params_after_training(gpu, mapped, D, b, P);
    cr_expect(memcmp(a, b, sizeof a) == 0, "same features, same bits");
    gsgd_dataset_free(mapped);
    gsgd_dataset_free(resident);
    free(X);
    gsgd_context_free(gpu);
}

/* Trains mlp:16 on a synthetic set for 3 epochs of 24 steps, health checks
 * every 7 (chunks of 7, 7, 7 and 3 steps), momentum with clipping under a
 * cosine schedule with warmup: the rates change every step. Returns the
 * parameters and each epoch's mean loss; *graphs: chunks recorded. */
static float *train_chunks(gsgd_context *gpu, double loss[3], size_t *n_params, size_t *graphs) {
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_BATCH, 100);
    gsgd_set(o, GSGD_CHECK_EVERY, 7);
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
    gsgd_set(o, GSGD_CLIP_NORM, 1.0);
    gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_COSINE);
    gsgd_set(o, GSGD_WARMUP, 1.0);
    gsgd_set(o, GSGD_EPOCHS, 3);
    gsgd_set(o, GSGD_SEED, 9);
    run r;
    run_start(&r, gpu, "synth:3000,20,4", "mlp:16", o);
    for (int e = 0; e < 3; e++)
        cr_assert_eq(gsgd_train_epoch(r.tr, &loss[e]), GSGD_STATUS_OK, "%s", gsgd_last_error(gpu));
    *graphs = 0;
    for (size_t k = 0; k < r.tr->n_graphs; k++) *graphs += r.tr->graphs[k] != NULL;
    *n_params = r.model->n_params;
    float *p = malloc(*n_params * sizeof *p);
    cr_assert_eq(gpu->be->download(gpu, p, r.model->params, *n_params * sizeof *p), 0);
    run_finish(&r);
    gsgd_options_free(o);
    return p;
}

/* Steps recorded into CUDA Graphs in the first epoch and replayed in the
 * next ones compute what steps issued one by one compute, bit for bit
 * (cuBLAS, with the same workspace, picks the same kernels either way). */
Test(train_cuda, recorded_steps_train_bitwise_as_issued_ones) {
    gsgd_context *gpu = cuda_context_or_skip();
    double loss[2][3];
    size_t n[2], graphs[2];
    setenv("GSGD_CUDA_GRAPHS", "0", 1);
    float *eager = train_chunks(gpu, loss[0], &n[0], &graphs[0]);
    unsetenv("GSGD_CUDA_GRAPHS");
    float *replayed = train_chunks(gpu, loss[1], &n[1], &graphs[1]);
    cr_expect_eq(graphs[0], 0, "GSGD_CUDA_GRAPHS=0 records nothing");
    cr_expect_eq(graphs[1], 4, "one graph per chunk of 7, 7, 7 and 3 steps: %zu", graphs[1]);
    cr_assert_eq(n[0], n[1]);
    cr_expect(memcmp(eager, replayed, n[0] * sizeof *eager) == 0, "parameters differ");
    /* The loss kernel's blocks add into one double with atomics, in any
     * order: equal to a few double roundings, not bitwise. */
    for (int e = 0; e < 3; e++)
        cr_expect(fabs(loss[0][e] - loss[1][e]) <= 1e-12 * fabs(loss[0][e]),
                  "epoch %d loss %.17g vs %.17g", e + 1, loss[0][e], loss[1][e]);
    free(eager);
    free(replayed);
    gsgd_context_free(gpu);
}

/* The kernels' side of a recorded step's numbering: the guard records its
 * epoch's t_base plus the step's t within the epoch, in either mode. */
Test(train_cuda, a_step_numbered_within_its_epoch_is_recorded_from_the_epochs_base) {
    gsgd_context *gpu = cuda_context_or_skip();
    for (int skip = 0; skip < 2; skip++) {
        const gsgdi_update_rule rule = {.kind = GSGD_OPTIM_SGD, .skip_nonfinite = skip};
        const float h_lr = 0.5f, h_g = NAN, h_p = 1.0f;
        const gsgdi_guard h_guard = {.lr_factor = 1.0f, .t_base = 1000};
        float *lr, *g, *p, *work;
        gsgdi_guard *guard;
        CU(cudaMalloc((void **)&lr, 4));
        CU(cudaMalloc((void **)&g, 4));
        CU(cudaMalloc((void **)&p, 4));
        CU(cudaMalloc((void **)&work, GSGD_WORK_HEAD * 4));
        CU(cudaMalloc((void **)&guard, sizeof *guard));
        CU(cudaMemcpy(lr, &h_lr, 4, cudaMemcpyHostToDevice));
        CU(cudaMemcpy(g, &h_g, 4, cudaMemcpyHostToDevice));
        CU(cudaMemcpy(p, &h_p, 4, cudaMemcpyHostToDevice));
        CU(cudaMemcpy(guard, &h_guard, sizeof h_guard, cudaMemcpyHostToDevice));
        gsgdi_update_args a = {.lr = lr,
                               .params = p,
                               .grads = g,
                               .n = 1,
                               .work = work,
                               .t = 7,
                               .guard = guard,
                               .t_in_epoch = 1};
        cr_assert_eq(gpu->be->update(gpu, &rule, &a), GSGD_STATUS_OK, "%s", gsgd_last_error(gpu));
        gsgdi_guard got;
        CU(cudaMemcpy(&got, guard, sizeof got, cudaMemcpyDeviceToHost));
        cr_expect_eq(got.bad_steps, 1, "skip %d", skip);
        cr_expect_eq(got.first_bad, 1007, "skip %d: %llu", skip, (unsigned long long)got.first_bad);
        cudaFree(lr), cudaFree(g), cudaFree(p), cudaFree(work), cudaFree(guard);
    }
    gsgd_context_free(gpu);
}
