/*
 * Bandwidth of the fused update kernel against the device's own copy
 * bandwidth, measured in the same run (design.md: goal >= 0.9 of a
 * device-to-device cudaMemcpy for SGD-momentum at 100M parameters).
 *
 *   gsgd_bench_update [N_PARAMS] [JSON_OUT] [--optim NAME]
 *
 * Without --optim: SGD, momentum and Nesterov, as the JSON reports them.
 * With it, that one rule (any of gsgd_optim's, by its --optim name).
 * Bytes moved per update: p and g read, p written (12 N bytes), plus a
 * read and a write per state buffer (8 N each); layer-wise rules (one
 * segment here) read p and g once more for their norms, and LAMB writes
 * and reads its direction (8 N) and reads p again for its second pass.
 * A copy of 4 N bytes moves 8 N. Times are the median of REPS runs, by
 * CUDA events on the context's stream.
 */
#include <stdio.h>
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

#define BENCH_NAME "bench_update"
#include "bench_cuda.h"

#define REPS 21

static const char *const NAMES[] = {"sgd",     "momentum", "nesterov", "adam", "adamw",
                                    "adagrad", "rmsprop",  "lars",     "lamb"};
enum { N_RULES = sizeof NAMES / sizeof NAMES[0] };

/* Bytes one update of rule `kind` moves over n parameters (header). */
static double bytes_moved(gsgd_optim kind, size_t n) {
    gsgdi_update_rule rule = {.kind = kind, .momentum = 0.9f};
    double per = 12.0 + 8.0 * gsgdi_rule_state_count(&rule);
    if (kind == GSGD_OPTIM_LARS) per += 8.0;
    if (kind == GSGD_OPTIM_LAMB) per += 20.0; /* u out, p and u norms, p and u in again */
    return per * (double)n;
}

/* Median milliseconds of REPS runs of one update (kind >= 0) or one copy
 * of p into s[0] (kind < 0), after two warm-up runs. */
static float median_ms(gsgd_context *ctx, int kind, float *lr, float *p, float *g, float **s,
                       float *work, size_t n) {
    gsgdi_update_rule rule = {.kind = (gsgd_optim)(kind < 0 ? 0 : kind),
                              .momentum = 0.9f,
                              .weight_decay = 1e-4f,
                              .beta1 = 0.9f,
                              .beta2 = 0.999f,
                              .eps = 1e-8f,
                              .alpha = 0.99f,
                              .trust_coef = 0.001f,
                              .n_decay = n,
                              .n_segments = 1,
                              .seg = {0, n}};
    cudaEvent_t t0, t1;
    CU(cudaEventCreate(&t0));
    CU(cudaEventCreate(&t1));
    float ms[REPS];
    for (int r = -2; r < REPS; r++) {
        gsgdi_update_args a = {.lr = lr,
                               .params = p,
                               .grads = g,
                               .n = n,
                               .state = {s[0], s[1]},
                               .work = work,
                               .t = (uint64_t)r + 3};
        CU(cudaEventRecord(t0, (cudaStream_t)ctx->stream));
        if (kind < 0)
            OK(ctx, ctx->be->copy(ctx, s[0], p, n * sizeof(float)));
        else
            OK(ctx, ctx->be->update(ctx, &rule, &a));
        CU(cudaEventRecord(t1, (cudaStream_t)ctx->stream));
        CU(cudaEventSynchronize(t1));
        if (r >= 0) CU(cudaEventElapsedTime(&ms[r], t0, t1));
    }
    CU(cudaEventDestroy(t0));
    CU(cudaEventDestroy(t1));
    qsort(ms, REPS, sizeof ms[0], cmp_float);
    return ms[REPS / 2];
}

static int rule_named(const char *name) {
    for (int k = 0; k < N_RULES; k++)
        if (strcmp(name, NAMES[k]) == 0) return k;
    fprintf(stderr, "bench_update: unknown --optim %s\n", name);
    exit(2);
}

int main(int argc, char **argv) {
    size_t n = 100000000;
    const char *json = NULL;
    int only = -1, pos = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--optim") == 0 && i + 1 < argc)
            only = rule_named(argv[++i]);
        else if (pos++ == 0)
            n = (size_t)strtoull(argv[i], NULL, 10);
        else
            json = argv[i];
    }
    gsgd_context *ctx;
    if (gsgd_context_create(&ctx, GSGD_DEVICE_CUDA, 0) != GSGD_STATUS_OK) {
        fprintf(stderr, "bench_update: %s\n", gsgd_last_error(NULL));
        return 1;
    }
    float *p, *g, *s[2], *work, *lr;
    const float lr_host = 1e-3f;
    const size_t bytes = n * sizeof(float), work_bytes = (GSGD_WORK_HEAD + n) * sizeof(float);
    OK(ctx, gsgdi_mem_alloc(ctx, bytes, (void **)&p));
    OK(ctx, gsgdi_mem_alloc(ctx, bytes, (void **)&g));
    OK(ctx, gsgdi_mem_alloc(ctx, bytes, (void **)&s[0]));
    OK(ctx, gsgdi_mem_alloc(ctx, bytes, (void **)&s[1]));
    OK(ctx, gsgdi_mem_alloc(ctx, work_bytes, (void **)&work));
    OK(ctx, gsgdi_mem_alloc(ctx, sizeof(float), (void **)&lr));
    OK(ctx, ctx->be->upload(ctx, lr, &lr_host, sizeof lr_host));
    OK(ctx, ctx->be->zero(ctx, p, bytes));
    OK(ctx, ctx->be->zero(ctx, g, bytes));
    OK(ctx, ctx->be->zero(ctx, s[0], bytes));
    OK(ctx, ctx->be->zero(ctx, s[1], bytes));
    OK(ctx, ctx->be->zero(ctx, work, work_bytes));

    char info[1024];
    gsgd_info(ctx, info, sizeof info);
    printf("%s", info);
    const double copy_ms = median_ms(ctx, -1, lr, p, g, s, work, n);
    const double copy_gbs = 8.0 * (double)n / (copy_ms * 1e6);
    printf("device-to-device copy of %zu floats: %.1f GB/s (%.3f ms)\n", n, copy_gbs, copy_ms);
    double gbs[N_RULES] = {0};
    for (int k = 0; k < N_RULES; k++) {
        if (only >= 0 ? k != only : k > GSGD_OPTIM_NESTEROV) continue;
        const double ms = median_ms(ctx, k, lr, p, g, s, work, n);
        gbs[k] = bytes_moved((gsgd_optim)k, n) / (ms * 1e6);
        printf("update %-8s %zu params: %.1f GB/s = %.3f of copy (%.3f ms)\n", NAMES[k], n, gbs[k],
               gbs[k] / copy_gbs, ms);
    }
    if (json) {
        FILE *f = fopen(json, "w");
        if (!f) {
            perror(json);
            return 1;
        }
        fprintf(f, "{\"n_params\": %zu, \"copy_gbs\": %.2f", n, copy_gbs);
        for (int k = 0; k < N_RULES; k++)
            if (gbs[k] > 0.0) fprintf(f, ", \"%s_gbs\": %.2f", NAMES[k], gbs[k]);
        if (gbs[GSGD_OPTIM_MOMENTUM] > 0.0)
            fprintf(f, ", \"momentum_over_copy\": %.4f", gbs[GSGD_OPTIM_MOMENTUM] / copy_gbs);
        fprintf(f, "}\n");
        fclose(f);
    }
    gsgdi_mem_free(ctx, p, bytes);
    gsgdi_mem_free(ctx, g, bytes);
    gsgdi_mem_free(ctx, s[0], bytes);
    gsgdi_mem_free(ctx, s[1], bytes);
    gsgdi_mem_free(ctx, work, work_bytes);
    gsgdi_mem_free(ctx, lr, sizeof(float));
    gsgd_context_free(ctx);
    return 0;
}
