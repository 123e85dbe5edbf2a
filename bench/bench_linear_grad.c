/*
 * The versions of the fused one-layer gradient (kernels/linear_grad.cu)
 * side by side on one device, in one run, as llm.c's dev/cuda drivers
 * measure theirs: each version is checked against the CPU reference on the
 * inputs it is then timed on, so the next version is measured against the
 * ones before it.
 *
 *   gsgd_bench_linear_grad [--reps N] [--json FILE]
 *
 * Shapes: Fashion-MNIST's softmax, d = 784 features stored as bytes (u8,
 * as on CUDA by default) and as their floats (f32, :storage=f32), K = 10
 * classes; batches of 256, 1024, 4096 and 60000 of 60000 random rows,
 * taken through a random permutation as an epoch takes them, without
 * standardisation (train's default).
 *
 * Check: the composed CPU ops (gather, gemm, bias, loss, gemm, col_sum) on
 * the same rows; each version's dW, db and loss within the bounds of
 * tests/fused_bound.h (test_backend_cuda's), its correct count within the
 * rows whose best two logits are within the error. The figure shown is the
 * largest error over its bound.
 *
 * Time: the median of N ops (default 51) after 5 warm-up ones, by CUDA
 * events on the stream around each (its two kernels, as the backend runs
 * them). GB/s: the bytes the op must move, each row read once as stored
 * with its label and permutation entry (B (d x + 8), x = 1 or 4), W and b
 * read and dW and db written (8 (d K + K)), over its time; set against a
 * device-to-device copy of 256 MiB measured in the same run (its GB/s
 * count the read and the write). Each version's time is also given over
 * the default version's (GSGD_K_LINEAR_GRAD_BEST).
 *
 * Exit status 1 when a version fails its check or a call fails.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/rng.h"
#include "fused_bound.h"
#include "kernels.h"

#define BENCH_NAME "bench_linear_grad"
#include "bench_cuda.h"

enum { N_ROWS = 60000, N_FEAT = 784, N_CLASS = 10 };
#define WARMUP 5
#define COPY_BYTES ((size_t)256 << 20)
#define NV GSGD_K_LINEAR_GRAD_VERSIONS

static const size_t BATCHES[] = {256, 1024, 4096, 60000};
enum { N_BATCHES = sizeof BATCHES / sizeof BATCHES[0] };

static void *dev_copy(gsgd_context *ctx, const void *host, size_t bytes) {
    void *p;
    OK(ctx, gsgdi_mem_alloc(ctx, bytes, &p));
    if (host) OK(ctx, ctx->be->upload(ctx, p, host, bytes));
    return p;
}

/* Median milliseconds of reps calls of version v's op on a (v > 0), or of
 * a copy of COPY_BYTES from src to dst (v == 0), after WARMUP calls. */
static float median_ms(gsgd_context *ctx, int v, const gsgdi_linear_grad_args *a, void *dst,
                       const void *src, int reps) {
    cudaStream_t s = (cudaStream_t)ctx->stream;
    cudaEvent_t t0, t1;
    CU(cudaEventCreate(&t0));
    CU(cudaEventCreate(&t1));
    float *ms = malloc((size_t)reps * sizeof *ms);
    for (int r = -WARMUP; r < reps; r++) {
        CU(cudaEventRecord(t0, s));
        if (v > 0)
            CU(gsgdi_k_linear_grad(v, a, s));
        else
            CU(cudaMemcpyAsync(dst, src, COPY_BYTES, cudaMemcpyDeviceToDevice, s));
        CU(cudaEventRecord(t1, s));
        CU(cudaEventSynchronize(t1));
        if (r >= 0) CU(cudaEventElapsedTime(&ms[r], t0, t1));
    }
    CU(cudaEventDestroy(t0));
    CU(cudaEventDestroy(t1));
    qsort(ms, (size_t)reps, sizeof *ms, cmp_float);
    const float m = ms[reps / 2];
    free(ms);
    return m;
}

/* The composed CPU ops on rows perm[0, B) and their bounds. */
typedef struct {
    float dW[N_FEAT * N_CLASS], db[N_CLASS];
    double acc[2];
    fc_bounds bound;
} reference;

static void reference_of(gsgd_context *cpu, const void *X, gsgdi_xtype xt, const float *y,
                         const uint32_t *perm, const float *W, const float *b, size_t B,
                         reference *ref) {
    const gsgdi_backend *be = cpu->be;
    const float gs = 1.0f / (float)B;
    float *Xb = malloc(B * N_FEAT * sizeof *Xb), *yb = malloc(B * sizeof *yb);
    float *Z = malloc(B * N_CLASS * sizeof *Z), *dZ = malloc(B * N_CLASS * sizeof *dZ);
    ref->acc[0] = ref->acc[1] = 0.0;
    OK(cpu, be->gather(cpu, X, xt, y, N_FEAT, perm, 0, B, NULL, NULL, Xb, yb));
    OK(cpu, be->gemm(cpu, GSGD_PRECISION_FP32, 0, 0, B, N_CLASS, N_FEAT, 1.0f, Xb, N_FEAT, W,
                     N_CLASS, 0.0f, Z, N_CLASS));
    OK(cpu, be->bias_act(cpu, Z, b, B, N_CLASS, 0));
    OK(cpu, be->loss(cpu, GSGD_LOSS_SOFTMAX_CE, Z, yb, B, N_CLASS, 1, gs, dZ, ref->acc));
    OK(cpu, be->gemm(cpu, GSGD_PRECISION_FP32, 1, 0, N_FEAT, N_CLASS, B, 1.0f, Xb, N_FEAT, dZ,
                     N_CLASS, 0.0f, ref->dW, N_CLASS));
    OK(cpu, be->col_sum(cpu, dZ, B, N_CLASS, ref->db));
    fc_bounds_of(Xb, W, b, Z, dZ, B, N_FEAT, N_CLASS, gs, 1, &ref->bound);
    free(Xb), free(yb), free(Z), free(dZ);
}

/* The largest |got - want| / bound over n values (infinite where a bound
 * of 0 is not met exactly). */
static double worst(const float *got, const float *want, const double *bound, size_t n) {
    double w = 0.0;
    for (size_t i = 0; i < n; i++) {
        const double e = fabs((double)got[i] - want[i]);
        if (e > 0.0) w = fmax(w, bound[i] > 0.0 ? e / bound[i] : INFINITY);
    }
    return w;
}

/* Runs version v once on a (acc zeroed first) and checks it against ref;
 * prints the figures and returns whether it passed. */
static int check(gsgd_context *gpu, int v, const gsgdi_linear_grad_args *a, const reference *ref,
                 const char *what) {
    static float dW[N_FEAT * N_CLASS], db[N_CLASS];
    double acc[2];
    OK(gpu, gpu->be->zero(gpu, a->acc, sizeof acc));
    CU(gsgdi_k_linear_grad(v, a, gpu->stream));
    OK(gpu, gpu->be->download(gpu, dW, a->dW, sizeof dW));
    OK(gpu, gpu->be->download(gpu, db, a->db, sizeof db));
    OK(gpu, gpu->be->download(gpu, acc, a->acc, sizeof acc));
    const double w_dW = worst(dW, ref->dW, ref->bound.dW, N_FEAT * N_CLASS);
    const double w_db = worst(db, ref->db, ref->bound.db, N_CLASS);
    const double e_loss = fabs(acc[0] - ref->acc[0]), off = fabs(acc[1] - ref->acc[1]);
    const double w_loss = ref->bound.loss > 0.0 ? e_loss / ref->bound.loss : e_loss;
    const int pass = w_dW <= 1.0 && w_db <= 1.0 && w_loss <= 1.0 && off <= ref->bound.near_ties;
    printf("check %s v%d: %s (error over bound: dW %.3g, db %.3g, loss %.3g; correct %g off, "
           "%zu near ties)\n",
           what, v, pass ? "ok" : "FAILED", w_dW, w_db, w_loss, off, ref->bound.near_ties);
    return pass;
}

int main(int argc, char **argv) {
    int reps = 51;
    const char *json = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            reps = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--json") == 0 && i + 1 < argc) {
            json = argv[++i];
        } else {
            fprintf(stderr, "usage: gsgd_bench_linear_grad [--reps N] [--json FILE]\n");
            return 2;
        }
    }
    if (reps < 1) reps = 1;
    gsgd_context *gpu, *cpu;
    if (gsgd_context_create(&gpu, GSGD_DEVICE_CUDA, 0) != GSGD_STATUS_OK ||
        gsgd_context_create(&cpu, GSGD_DEVICE_CPU, 0) != GSGD_STATUS_OK) {
        fprintf(stderr, "bench_linear_grad: %s\n", gsgd_last_error(NULL));
        return 1;
    }
    char info[1024];
    gsgd_info(gpu, info, sizeof info);
    printf("%s", info);
    int dev = 0, n_sm = 0;
    CU(cudaGetDevice(&dev));
    CU(cudaDeviceGetAttribute(&n_sm, cudaDevAttrMultiProcessorCount, dev));

    /* The inputs: random bytes, their floats, labels, weights, a permutation. */
    gsgdi_rng r = {gsgdi_mix64(20)};
    unsigned char *X8 = malloc((size_t)N_ROWS * N_FEAT);
    float *X32 = malloc((size_t)N_ROWS * N_FEAT * sizeof *X32), *y = malloc(N_ROWS * sizeof *y);
    float *W = malloc(N_FEAT * N_CLASS * sizeof *W), b[N_CLASS];
    uint32_t *perm = malloc(N_ROWS * sizeof *perm);
    for (size_t i = 0; i < (size_t)N_ROWS * N_FEAT; i++) {
        X8[i] = (unsigned char)(gsgdi_rng_next(&r) & 255);
        X32[i] = GSGD_U8_FEATURE(X8[i]);
    }
    for (size_t i = 0; i < N_ROWS; i++) y[i] = (float)(gsgdi_rng_next(&r) % N_CLASS);
    for (size_t i = 0; i < N_FEAT * N_CLASS; i++) W[i] = (float)(0.2 * gsgdi_rng_uniform(&r) - 0.1);
    for (size_t k = 0; k < N_CLASS; k++) b[k] = (float)(gsgdi_rng_uniform(&r) - 0.5);
    for (size_t i = 0; i < N_ROWS; i++) perm[i] = (uint32_t)i;
    for (size_t i = N_ROWS; i > 1; i--) { /* Fisher-Yates */
        const size_t k = (size_t)(gsgdi_rng_next(&r) % i);
        const uint32_t t = perm[i - 1];
        perm[i - 1] = perm[k];
        perm[k] = t;
    }
    void *dX[2] = {dev_copy(gpu, X8, (size_t)N_ROWS * N_FEAT),
                   dev_copy(gpu, X32, (size_t)N_ROWS * N_FEAT * sizeof *X32)};
    float *dy = dev_copy(gpu, y, N_ROWS * sizeof *y),
          *dW = dev_copy(gpu, W, N_FEAT * N_CLASS * sizeof *W);
    float *db = dev_copy(gpu, b, sizeof b),
          *gW = dev_copy(gpu, NULL, N_FEAT * N_CLASS * sizeof(float));
    float *gb = dev_copy(gpu, NULL, N_CLASS * sizeof(float));
    uint32_t *dperm = dev_copy(gpu, perm, N_ROWS * sizeof *perm);
    double *dacc = dev_copy(gpu, NULL, 2 * sizeof(double));

    void *csrc = dev_copy(gpu, NULL, COPY_BYTES), *cdst = dev_copy(gpu, NULL, COPY_BYTES);
    OK(gpu, gpu->be->zero(gpu, csrc, COPY_BYTES));
    const double copy_ms = median_ms(gpu, 0, NULL, cdst, csrc, reps);
    const double copy_gbs = 2.0 * (double)COPY_BYTES / (copy_ms * 1e6);
    printf("device-to-device copy of %zu MiB: %.1f GB/s (%.3f ms)\n", COPY_BYTES >> 20, copy_gbs,
           copy_ms);
    gsgdi_mem_free(gpu, csrc, COPY_BYTES);
    gsgdi_mem_free(gpu, cdst, COPY_BYTES);

    FILE *jf = json ? fopen(json, "w") : NULL;
    if (json && !jf) {
        perror(json);
        return 1;
    }
    if (jf)
        fprintf(jf,
                "{\"d\": %d, \"K\": %d, \"n\": %d, \"copy_gbs\": %.2f, \"best_version\": %d, "
                "\"reps\": %d, \"points\": [",
                N_FEAT, N_CLASS, N_ROWS, copy_gbs, GSGD_K_LINEAR_GRAD_BEST, reps);
    int failed = 0, first = 1;
    for (int s = 0; s < 2; s++) {
        const gsgdi_xtype xt = s ? GSGD_XTYPE_F32 : GSGD_XTYPE_U8;
        const char *name = s ? "f32" : "u8";
        const size_t xsize = s ? sizeof(float) : 1;
        void *scratch[NV];
        size_t scratch_bytes[NV];
        for (int v = 1; v <= NV; v++) {
            CU(gsgdi_k_linear_grad_scratch(v, dX[s], xt, N_FEAT, N_CLASS, n_sm,
                                           &scratch_bytes[v - 1]));
            if (!scratch_bytes[v - 1]) {
                fprintf(stderr, "bench_linear_grad: v%d does not take d=%d K=%d %s\n", v, N_FEAT,
                        N_CLASS, name);
                return 1;
            }
            scratch[v - 1] = dev_copy(gpu, NULL, scratch_bytes[v - 1]);
        }
        for (int bi = 0; bi < N_BATCHES; bi++) {
            const size_t B = BATCHES[bi];
            static reference ref;
            reference_of(cpu, s ? (const void *)X32 : X8, xt, y, perm, W, b, B, &ref);
            char what[64];
            snprintf(what, sizeof what, "%s batch %zu", name, B);
            float ms[NV];
            for (int v = 1; v <= NV; v++) {
                const gsgdi_linear_grad_args a = {.kind = GSGD_LOSS_SOFTMAX_CE,
                                                  .classify = 1,
                                                  .X = dX[s],
                                                  .xt = xt,
                                                  .y = dy,
                                                  .d = N_FEAT,
                                                  .K = N_CLASS,
                                                  .perm = dperm,
                                                  .B = B,
                                                  .W = dW,
                                                  .b = db,
                                                  .grad_scale = 1.0f / (float)B,
                                                  .dW = gW,
                                                  .db = gb,
                                                  .acc = dacc,
                                                  .scratch = scratch[v - 1],
                                                  .scratch_bytes = scratch_bytes[v - 1]};
                const int pass = check(gpu, v, &a, &ref, what);
                failed += !pass;
                ms[v - 1] = pass ? median_ms(gpu, v, &a, NULL, NULL, reps) : NAN;
            }
            fc_bounds_free(&ref.bound);
            const double bytes =
                (double)B * (N_FEAT * xsize + 8) + 8.0 * (N_FEAT * N_CLASS + N_CLASS);
            for (int v = 1; v <= NV; v++) {
                if (isnan(ms[v - 1])) {
                    printf("%-3s %6zu  v%d  not timed: its check failed\n", name, B, v);
                    continue;
                }
                const double gbs = bytes / (ms[v - 1] * 1e6);
                const double over_best = ms[v - 1] / ms[GSGD_K_LINEAR_GRAD_BEST - 1];
                printf("%-3s %6zu  v%d  %8.4f ms  %7.1f GB/s = %.3f of copy  time %.2f of v%d's\n",
                       name, B, v, ms[v - 1], gbs, gbs / copy_gbs, over_best,
                       GSGD_K_LINEAR_GRAD_BEST);
                if (jf) {
                    char ob[32] = "null"; /* the default version failed its check */
                    if (!isnan(over_best)) snprintf(ob, sizeof ob, "%.4f", over_best);
                    fprintf(jf,
                            "%s{\"storage\": \"%s\", \"batch\": %zu, \"version\": %d, "
                            "\"ms\": %.5f, \"gbs\": %.2f, \"over_copy\": %.4f, "
                            "\"time_over_best\": %s}",
                            first ? "" : ", ", name, B, v, ms[v - 1], gbs, gbs / copy_gbs, ob);
                    first = 0;
                }
            }
        }
        for (int v = 1; v <= NV; v++) gsgdi_mem_free(gpu, scratch[v - 1], scratch_bytes[v - 1]);
    }
    if (jf) {
        fprintf(jf, "], \"checks_failed\": %d}\n", failed);
        fclose(jf);
    }
    printf("checks failed: %d\n", failed);

    gsgdi_mem_free(gpu, dX[0], (size_t)N_ROWS * N_FEAT);
    gsgdi_mem_free(gpu, dX[1], (size_t)N_ROWS * N_FEAT * sizeof *X32);
    gsgdi_mem_free(gpu, dy, N_ROWS * sizeof *y);
    gsgdi_mem_free(gpu, dW, N_FEAT * N_CLASS * sizeof *W);
    gsgdi_mem_free(gpu, db, sizeof b);
    gsgdi_mem_free(gpu, gW, N_FEAT * N_CLASS * sizeof(float));
    gsgdi_mem_free(gpu, gb, N_CLASS * sizeof(float));
    gsgdi_mem_free(gpu, dperm, N_ROWS * sizeof *perm);
    gsgdi_mem_free(gpu, dacc, 2 * sizeof(double));
    free(X8), free(X32), free(y), free(W), free(perm);
    gsgd_context_free(gpu);
    gsgd_context_free(cpu);
    return failed ? 1 : 0;
}
