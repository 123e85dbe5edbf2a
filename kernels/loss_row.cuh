/*
 * One row's loss and its gradient, computed by one warp: lanes stride over
 * the K logits, warp shuffles give the row's max, argmax, sums and
 * violation count. Shared by the loss kernel (loss.cu) and the fused
 * one-layer gradient (linear_grad.cu), so both compute exactly the CPU
 * reference's formulas (cpu_loss's row_loss, row_correct in
 * src/backend_cpu.c), term for term, in the same precision.
 */
#ifndef GSGD_LOSS_ROW_CUH
#define GSGD_LOSS_ROW_CUH

#include <math.h>
#include <stddef.h>

#include "backend/backend.h"

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
static __device__ double row_loss(gsgdi_loss kind, const float *z, float yv, size_t K,
                                  float grad_scale, float *dz, unsigned lane) {
    switch (kind) {
    case GSGD_LOSS_SOFTMAX_CE: {
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
    case GSGD_LOSS_LOGISTIC: {
        const double zz = z[0], t = yv;
        if (dz && lane == 0) dz[0] = (float)(1.0 / (1.0 + exp(-zz)) - t) * grad_scale;
        return fmax(zz, 0.0) - t * zz + log1p(exp(-fabs(zz)));
    }
    case GSGD_LOSS_SQUARED: {
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
    case GSGD_LOSS_HINGE: {
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

static __device__ int row_correct(gsgdi_loss kind, const float *z, float yv, size_t K,
                                  unsigned lane) {
    if (kind == GSGD_LOSS_LOGISTIC) return (z[0] > 0.0f) == (yv > 0.5f);
    return warp_argmax(z, K, lane) == (size_t)yv;
}

#endif
