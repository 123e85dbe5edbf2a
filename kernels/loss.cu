/*
 * Losses with their gradients in one pass: softmax cross-entropy, logistic,
 * squared and multiclass hinge.
 * CPU reference: cpu_loss (row_loss, row_correct) in src/backend_cpu.c;
 * every formula below is that one, term for term, in the same precision
 * (double where the reference uses double), so the gradients agree to the
 * last float rounding and the losses to double rounding.
 *
 * One warp per row: lanes stride over the K logits, warp shuffles give the
 * row's max, argmax, sums and violation count. Lane 0 of each warp keeps
 * its rows' loss and correct count; a block reduction and one double
 * atomicAdd per block put them into acc[0] and acc[1].
 */
#include <math.h>

#include "kernels.h"
#include "launch.cuh"

#define WARPS (GSGD_THREADS / 32)

static __device__ __forceinline__ double warp_sum(double v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

static __device__ __forceinline__ int warp_sum_int(int v) {
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* The CPU's argmax: the first index of the largest value. Each lane scans
 * its strided share with a strict '>', then lanes merge keeping the larger
 * value and, on ties, the smaller index. Every lane gets the result. */
static __device__ __forceinline__ size_t warp_argmax(const float *z, size_t K, unsigned lane) {
    float best = -INFINITY;
    size_t arg = (size_t)-1;
    for (size_t k = lane; k < K; k += 32)
        if (arg == (size_t)-1 || z[k] > best) {
            best = z[k];
            arg = k;
        }
    for (int o = 16; o > 0; o >>= 1) {
        float ob = __shfl_xor_sync(0xffffffffu, best, o);
        size_t oa = __shfl_xor_sync(0xffffffffu, arg, o);
        if (oa != (size_t)-1 && (arg == (size_t)-1 || ob > best || (ob == best && oa < arg))) {
            best = ob;
            arg = oa;
        }
    }
    return arg;
}

/* Loss of row z (K logits, target yv); writes grad_scale * dloss/dz into dz
 * when not NULL. All lanes return the same loss. */
static __device__ double row_loss(gsgd_loss kind, const float *z, float yv, size_t K,
                                  float grad_scale, float *dz, unsigned lane) {
    switch (kind) {
    case LOSS_SOFTMAX_CE: {
        const size_t label = (size_t)yv;
        const float m = z[warp_argmax(z, K, lane)];
        double s = 0.0;
        for (size_t k = lane; k < K; k += 32) s += exp((double)(z[k] - m));
        s = warp_sum(s);
        if (dz)
            for (size_t k = lane; k < K; k += 32) {
                float g = (float)(exp((double)(z[k] - m)) / s) - (k == label ? 1.0f : 0.0f);
                dz[k] = g * grad_scale;
            }
        /* A label outside the row can only come from invalid data; NaN
         * reports it as divergence instead of reading out of bounds. */
        const float zl = label < K ? z[label] : NAN;
        return log(s) + m - zl;
    }
    case LOSS_LOGISTIC: {
        const double zz = z[0], t = yv;
        if (dz && lane == 0) dz[0] = (float)(1.0 / (1.0 + exp(-zz)) - t) * grad_scale;
        return fmax(zz, 0.0) - t * zz + log1p(exp(-fabs(zz)));
    }
    case LOSS_SQUARED: {
        const size_t label = K == 1 ? 0 : (size_t)yv;
        double l = 0.0;
        for (size_t k = lane; k < K; k += 32) {
            const double t = K == 1 ? (double)yv : (k == label ? 1.0 : 0.0);
            const double r = z[k] - t;
            if (dz) dz[k] = (float)r * grad_scale;
            l += 0.5 * r * r;
        }
        return warp_sum(l);
    }
    case LOSS_HINGE: {
        const size_t label = (size_t)yv;
        const float zl = label < K ? z[label] : NAN;
        double l = 0.0;
        int violations = 0;
        for (size_t k = lane; k < K; k += 32) {
            if (k == label) continue;
            const double margin = (double)z[k] - zl + 1.0;
            const int active = margin > 0.0;
            if (active) l += margin;
            violations += active;
            if (dz) dz[k] = (float)active * grad_scale;
        }
        violations = warp_sum_int(violations);
        if (dz && lane == 0 && label < K) dz[label] = -(float)violations * grad_scale;
        return warp_sum(l);
    }
    }
    return NAN;
}

static __device__ int row_correct(gsgd_loss kind, const float *z, float yv, size_t K,
                                  unsigned lane) {
    if (kind == LOSS_LOGISTIC) return (z[0] > 0.0f) == (yv > 0.5f);
    return warp_argmax(z, K, lane) == (size_t)yv;
}

__global__ void loss_kernel(gsgd_loss kind, const float *__restrict__ Z,
                            const float *__restrict__ y, size_t B, size_t K, int classify,
                            float grad_scale, float *__restrict__ dZ, double *__restrict__ acc) {
    __shared__ double s_loss[WARPS], s_correct[WARPS];
    const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32;
    double loss = 0.0, correct = 0.0;
    /* The loop bound is the same for all lanes of a warp, so every shuffle
     * inside runs with the full warp. */
    for (size_t i = (size_t)blockIdx.x * WARPS + warp; i < B; i += (size_t)gridDim.x * WARPS) {
        const float *z = Z + i * K;
        loss += row_loss(kind, z, y[i], K, grad_scale, dZ ? dZ + i * K : NULL, lane);
        if (classify) correct += row_correct(kind, z, y[i], K, lane);
    }
    if (lane == 0) {
        s_loss[warp] = loss;
        s_correct[warp] = correct;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double l = 0.0, c = 0.0;
        for (int w = 0; w < WARPS; w++) {
            l += s_loss[w];
            c += s_correct[w];
        }
        atomicAdd(&acc[0], l);
        if (classify) atomicAdd(&acc[1], c);
    }
}

extern "C" int gsgd_k_loss(gsgd_loss kind, const float *Z, const float *y, size_t B, size_t K,
                           int classify, float grad_scale, float *dZ, double *acc, void *stream) {
    if (B == 0) return (int)cudaSuccess;
    /* At most 1024 blocks: each adds one pair of atomics, and 1024 blocks
     * of 8 warps already cover 8192 rows per sweep. */
    size_t blocks = (B + WARPS - 1) / WARPS;
    if (blocks > 1024) blocks = 1024;
    loss_kernel<<<(unsigned)blocks, GSGD_THREADS, 0, (cudaStream_t)stream>>>(
        kind, Z, y, B, K, classify, grad_scale, dZ, acc);
    return (int)cudaGetLastError();
}
