/*
 * The fused in-place optimizer update over the whole flat buffer.
 * CPU reference: cpu_update in src/backend_cpu.c (rule in backend.h):
 *   g = grad + weight_decay * p        (i < n_decay)
 *   SGD:       p -= lr * g
 *   momentum:  v = mu * v + g;  p -= lr * v
 *   nesterov:  v = mu * v + g;  p -= lr * (g + mu * v)
 *
 * Every product and sum is written with the round-to-nearest intrinsics
 * (__fmul_rn, __fadd_rn, __fsub_rn), which nvcc never contracts into FMAs:
 * the CPU reference (ISO C, no contraction) rounds after every operation,
 * so the two compute bitwise the same values. The kernel is bandwidth-bound
 * (12 or 20 bytes per parameter); the FMAs would save nothing.
 *
 * The learning rate is read from device memory, so a step needs no host
 * sync and can be captured in a CUDA Graph. When all buffers are 16-byte
 * aligned, each thread moves float4s; a scalar tail covers n % 4.
 */
#include <stdint.h>

#include "kernels.h"
#include "launch.cuh"

static __device__ __forceinline__ void update_one(gsgd_optim kind, float lr, float mu, float wd,
                                                  bool decay, float &p, float g, float &v) {
    if (decay) g = __fadd_rn(g, __fmul_rn(wd, p));
    switch (kind) {
    case GSGD_OPTIM_SGD:
        p = __fsub_rn(p, __fmul_rn(lr, g));
        break;
    case GSGD_OPTIM_MOMENTUM:
        v = __fadd_rn(__fmul_rn(mu, v), g);
        p = __fsub_rn(p, __fmul_rn(lr, v));
        break;
    case GSGD_OPTIM_NESTEROV:
        v = __fadd_rn(__fmul_rn(mu, v), g);
        p = __fsub_rn(p, __fmul_rn(lr, __fadd_rn(g, __fmul_rn(mu, v))));
        break;
    }
}

/* Elements [from, n) one at a time, grid-stride from thread offset `first`. */
static __device__ __forceinline__ void update_range(gsgd_optim kind, float lr, float mu, float wd,
                                                    size_t n_decay, float *__restrict__ params,
                                                    const float *__restrict__ grads,
                                                    float *__restrict__ velocity, size_t from,
                                                    size_t n, size_t first, size_t stride) {
    const bool has_v = kind != GSGD_OPTIM_SGD;
    for (size_t i = from + first; i < n; i += stride) {
        float p = params[i], v = has_v ? velocity[i] : 0.0f;
        update_one(kind, lr, mu, wd, i < n_decay, p, grads[i], v);
        params[i] = p;
        if (has_v) velocity[i] = v;
    }
}

__global__ void update_scalar_kernel(gsgd_optim kind, float mu, float wd, size_t n_decay,
                                     const float *__restrict__ lr_p, float *__restrict__ params,
                                     const float *__restrict__ grads, float *__restrict__ velocity,
                                     size_t n) {
    const float lr = *lr_p;
    update_range(kind, lr, mu, wd, n_decay, params, grads, velocity, 0, n,
                 (size_t)blockIdx.x * blockDim.x + threadIdx.x, (size_t)gridDim.x * blockDim.x);
}

__global__ void update_vec4_kernel(gsgd_optim kind, float mu, float wd, size_t n_decay,
                                   const float *__restrict__ lr_p, float *__restrict__ params,
                                   const float *__restrict__ grads, float *__restrict__ velocity,
                                   size_t n) {
    const float lr = *lr_p;
    const bool has_v = kind != GSGD_OPTIM_SGD;
    const size_t n4 = n / 4, first = (size_t)blockIdx.x * blockDim.x + threadIdx.x,
                 stride = (size_t)gridDim.x * blockDim.x;
    float4 *p4 = reinterpret_cast<float4 *>(params);
    const float4 *g4 = reinterpret_cast<const float4 *>(grads);
    float4 *v4 = reinterpret_cast<float4 *>(velocity);
    for (size_t q = first; q < n4; q += stride) {
        float4 p = p4[q], g = g4[q], v = has_v ? v4[q] : make_float4(0.f, 0.f, 0.f, 0.f);
        const size_t i = 4 * q;
        update_one(kind, lr, mu, wd, i < n_decay, p.x, g.x, v.x);
        update_one(kind, lr, mu, wd, i + 1 < n_decay, p.y, g.y, v.y);
        update_one(kind, lr, mu, wd, i + 2 < n_decay, p.z, g.z, v.z);
        update_one(kind, lr, mu, wd, i + 3 < n_decay, p.w, g.w, v.w);
        p4[q] = p;
        if (has_v) v4[q] = v;
    }
    update_range(kind, lr, mu, wd, n_decay, params, grads, velocity, 4 * n4, n, first, stride);
}

extern "C" int gsgd_k_update(gsgd_optim kind, float momentum, float weight_decay, size_t n_decay,
                             const float *lr, float *params, const float *grads, float *velocity,
                             size_t n, void *stream) {
    if (n == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    const uintptr_t bits =
        (uintptr_t)params | (uintptr_t)grads | (kind != GSGD_OPTIM_SGD ? (uintptr_t)velocity : 0);
    if ((bits & 15) == 0) {
        update_vec4_kernel<<<gsgd_blocks(n / 4 + 1, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
            kind, momentum, weight_decay, n_decay, lr, params, grads, velocity, n);
    } else {
        update_scalar_kernel<<<gsgd_blocks(n, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
            kind, momentum, weight_decay, n_decay, lr, params, grads, velocity, n);
    }
    return (int)cudaGetLastError();
}

extern "C" int gsgd_k_probe(void) {
    cudaFuncAttributes attr;
    return (int)cudaFuncGetAttributes(&attr, update_scalar_kernel);
}
