/*
 * Bandwidth of the fused update kernel against the device's own copy
 * bandwidth, measured in the same run (design.md: goal >= 0.9 of a
 * device-to-device cudaMemcpy for SGD-momentum at 100M parameters).
 *
 *   gsgd_bench_update [N_PARAMS] [JSON_OUT]
 *
 * Bytes moved per update: SGD reads p, g and writes p (12 N bytes);
 * momentum and Nesterov also read and write v (20 N bytes). A copy of
 * 4 N bytes moves 8 N. Times are the median of REPS runs, by CUDA events
 * on the context's stream.
 */
#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define REPS 21

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

#define CU(expr)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (expr);                                                                   \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, "bench_update: %s: %s\n", #expr, cudaGetErrorString(e_));              \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define OK(ctx, expr)                                                                              \
    do {                                                                                           \
        if ((expr) != GSGD_STATUS_OK) {                                                            \
            fprintf(stderr, "bench_update: %s: %s\n", #expr, gsgd_last_error(ctx));                \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* Median milliseconds of REPS runs of one update (kind >= 0) or one copy
 * of p into v (kind < 0), after two warm-up runs. */
static float median_ms(gsgd_context *ctx, int kind, float *lr, float *p, float *g, float *v,
                       size_t n) {
    gsgd_update_rule rule = {.kind = (gsgd_optim)(kind < 0 ? 0 : kind),
                             .momentum = 0.9f,
                             .weight_decay = 1e-4f,
                             .n_decay = n};
    cudaEvent_t t0, t1;
    CU(cudaEventCreate(&t0));
    CU(cudaEventCreate(&t1));
    float ms[REPS];
    for (int r = -2; r < REPS; r++) {
        CU(cudaEventRecord(t0, (cudaStream_t)ctx->stream));
        if (kind < 0)
            OK(ctx, ctx->be->copy(ctx, v, p, n * sizeof(float)));
        else
            OK(ctx, ctx->be->update(ctx, &rule, lr, p, g, v, n));
        CU(cudaEventRecord(t1, (cudaStream_t)ctx->stream));
        CU(cudaEventSynchronize(t1));
        if (r >= 0) CU(cudaEventElapsedTime(&ms[r], t0, t1));
    }
    CU(cudaEventDestroy(t0));
    CU(cudaEventDestroy(t1));
    qsort(ms, REPS, sizeof ms[0], cmp_float);
    return ms[REPS / 2];
}

int main(int argc, char **argv) {
    size_t n = argc > 1 ? (size_t)strtoull(argv[1], NULL, 10) : 100000000;
    const char *json = argc > 2 ? argv[2] : NULL;
    gsgd_context *ctx;
    if (gsgd_context_create(&ctx, GSGD_DEVICE_CUDA, 0) != GSGD_STATUS_OK) {
        fprintf(stderr, "bench_update: %s\n", gsgd_last_error(NULL));
        return 1;
    }
    float *p, *g, *v, *lr;
    const float lr_host = 1e-3f;
    OK(ctx, gsgd_mem_alloc(ctx, n * sizeof(float), (void **)&p));
    OK(ctx, gsgd_mem_alloc(ctx, n * sizeof(float), (void **)&g));
    OK(ctx, gsgd_mem_alloc(ctx, n * sizeof(float), (void **)&v));
    OK(ctx, gsgd_mem_alloc(ctx, sizeof(float), (void **)&lr));
    OK(ctx, ctx->be->upload(ctx, lr, &lr_host, sizeof lr_host));
    OK(ctx, ctx->be->zero(ctx, p, n * sizeof(float)));
    OK(ctx, ctx->be->zero(ctx, g, n * sizeof(float)));
    OK(ctx, ctx->be->zero(ctx, v, n * sizeof(float)));

    char info[1024];
    gsgd_info(ctx, info, sizeof info);
    printf("%s", info);
    const double copy_ms = median_ms(ctx, -1, lr, p, g, v, n);
    const double copy_gbs = 8.0 * (double)n / (copy_ms * 1e6);
    printf("device-to-device copy of %zu floats: %.1f GB/s (%.3f ms)\n", n, copy_gbs, copy_ms);
    static const char *names[] = {"sgd", "momentum", "nesterov"};
    double gbs[3];
    for (int k = 0; k < 3; k++) {
        const double ms = median_ms(ctx, k, lr, p, g, v, n);
        gbs[k] = (k == 0 ? 12.0 : 20.0) * (double)n / (ms * 1e6);
        printf("update %-8s %zu params: %.1f GB/s = %.3f of copy (%.3f ms)\n", names[k], n, gbs[k],
               gbs[k] / copy_gbs, ms);
    }
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(f,
                "{\"n_params\": %zu, \"copy_gbs\": %.2f, \"sgd_gbs\": %.2f, \"momentum_gbs\": "
                "%.2f, \"nesterov_gbs\": %.2f, \"momentum_over_copy\": %.4f}\n",
                n, copy_gbs, gbs[0], gbs[1], gbs[2], gbs[1] / copy_gbs);
        fclose(f);
    }
    gsgd_mem_free(ctx, p, n * sizeof(float));
    gsgd_mem_free(ctx, g, n * sizeof(float));
    gsgd_mem_free(ctx, v, n * sizeof(float));
    gsgd_mem_free(ctx, lr, sizeof(float));
    gsgd_context_free(ctx);
    return 0;
}
