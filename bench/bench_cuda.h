/*
 * What the standalone CUDA benches (bench_update.c, bench_linear_grad.c)
 * share: checks that end the program on a failed call, saying which call
 * and why (define BENCH_NAME, the program's name, before including), and
 * the order of floats for a median.
 */
#ifndef GSGD_BENCH_CUDA_H
#define GSGD_BENCH_CUDA_H

#include <cuda_runtime_api.h>
#include <stdio.h>
#include <stdlib.h>

#include "core/error.h"

#define CU(expr)                                                                                   \
    do {                                                                                           \
        cudaError_t e_ = (cudaError_t)(expr);                                                      \
        if (e_ != cudaSuccess) {                                                                   \
            fprintf(stderr, BENCH_NAME ": %s: %s\n", #expr, cudaGetErrorString(e_));               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#define OK(ctx, expr)                                                                              \
    do {                                                                                           \
        if ((expr) != GSGD_STATUS_OK) {                                                            \
            fprintf(stderr, BENCH_NAME ": %s: %s\n", #expr, gsgd_last_error(ctx));                 \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

static int cmp_float(const void *a, const void *b) {
    float x = *(const float *)a, y = *(const float *)b;
    return (x > y) - (x < y);
}

#endif
