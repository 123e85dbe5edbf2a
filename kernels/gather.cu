/*
 * Batch gather from the device-resident dataset, converting its storage
 * (float32, or bytes read as GSGD_U8_FEATURE) to the float batch.
 * CPU reference: cpu_gather in src/backend_cpu.c.
 *
 * One block row per sample row (grid-stride over blockIdx.y), threads
 * along the features, so every read of X and every write of Xb is
 * coalesced; no per-element division to recover (row, column).
 */
#include "kernels.h"
#include "launch.cuh"

__device__ __forceinline__ float feature(float x) { return x; }
__device__ __forceinline__ float feature(uint8_t b) { return GSGD_U8_FEATURE(b); }

/* Same expression as the CPU: a subtract then a multiply cannot be
 * contracted into an FMA, and the byte conversion is a correctly rounded
 * division, so results are identical. */
__device__ __forceinline__ float standardise(float x, const float *__restrict__ mean,
                                             const float *__restrict__ inv_std, size_t j) {
    return mean ? (x - mean[j]) * inv_std[j] : x;
}

template <typename T>
__global__ void gather_kernel(const T *__restrict__ X, const float *__restrict__ y, size_t d,
                              const uint32_t *__restrict__ perm, size_t start, size_t B,
                              const float *__restrict__ mean, const float *__restrict__ inv_std,
                              float *__restrict__ Xb, float *__restrict__ yb) {
    for (size_t i = blockIdx.y; i < B; i += gridDim.y) {
        const size_t row = perm ? (size_t)perm[start + i] : start + i;
        const T *src = X + row * d;
        float *dst = Xb + i * d;
        for (size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x; j < d;
             j += (size_t)gridDim.x * blockDim.x)
            dst[j] = standardise(feature(src[j]), mean, inv_std, j);
        if (blockIdx.x == 0 && threadIdx.x == 0) yb[i] = y[row];
    }
}

/* Bytes four at a time when d is a multiple of 4: one 4-byte load and one
 * 16-byte store per thread (rows of X then start on 4-byte and rows of Xb
 * on 16-byte boundaries; cudaMalloc aligns to 256, and the launcher checks).
 * Each element's arithmetic is gather_kernel's. */
__global__ void gather_u8x4_kernel(const uint8_t *__restrict__ X, const float *__restrict__ y,
                                   size_t d, const uint32_t *__restrict__ perm, size_t start,
                                   size_t B, const float *__restrict__ mean,
                                   const float *__restrict__ inv_std, float *__restrict__ Xb,
                                   float *__restrict__ yb) {
    const size_t d4 = d / 4;
    for (size_t i = blockIdx.y; i < B; i += gridDim.y) {
        const size_t row = perm ? (size_t)perm[start + i] : start + i;
        const uchar4 *src = reinterpret_cast<const uchar4 *>(X + row * d);
        float4 *dst = reinterpret_cast<float4 *>(Xb + i * d);
        for (size_t q = (size_t)blockIdx.x * blockDim.x + threadIdx.x; q < d4;
             q += (size_t)gridDim.x * blockDim.x) {
            const uchar4 b = src[q];
            float4 v;
            v.x = standardise(feature(b.x), mean, inv_std, 4 * q);
            v.y = standardise(feature(b.y), mean, inv_std, 4 * q + 1);
            v.z = standardise(feature(b.z), mean, inv_std, 4 * q + 2);
            v.w = standardise(feature(b.w), mean, inv_std, 4 * q + 3);
            dst[q] = v;
        }
        if (blockIdx.x == 0 && threadIdx.x == 0) yb[i] = y[row];
    }
}

static bool aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

extern "C" int gsgd_k_gather(const void *X, gsgd_xtype xt, const float *y, size_t d,
                             const uint32_t *perm, size_t start, size_t B, const float *mean,
                             const float *inv_std, float *Xb, float *yb, void *stream) {
    if (B == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    if (xt == GSGD_XTYPE_F32) {
        dim3 grid(gsgd_row_blocks(d), gsgd_rows_grid(B));
        gather_kernel<float><<<grid, gsgd_row_threads(d), 0, s>>>((const float *)X, y, d, perm,
                                                                  start, B, mean, inv_std, Xb, yb);
    } else if (d % 4 == 0 && aligned(X, 4) && aligned(Xb, 16)) {
        dim3 grid(gsgd_row_blocks(d / 4), gsgd_rows_grid(B));
        gather_u8x4_kernel<<<grid, gsgd_row_threads(d / 4), 0, s>>>(
            (const uint8_t *)X, y, d, perm, start, B, mean, inv_std, Xb, yb);
    } else {
        dim3 grid(gsgd_row_blocks(d), gsgd_rows_grid(B));
        gather_kernel<uint8_t><<<grid, gsgd_row_threads(d), 0, s>>>(
            (const uint8_t *)X, y, d, perm, start, B, mean, inv_std, Xb, yb);
    }
    return (int)cudaGetLastError();
}
