/*
 * Batch gather from the device-resident dataset, converting its storage
 * (float32, or bytes read as GSGD_U8_FEATURE) to the float batch.
 * CPU reference: cpu_gather in src/backend_cpu.c.
 *
 * One block row per sample row (grid-stride over blockIdx.y), threads
 * along the features, so every read of X and every write of Xb is
 * coalesced; no per-element division to recover (row, column).
 */
#include <stdint.h>

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

/* Four features at a time when d is a multiple of 4: one 4-byte (bytes)
 * or 16-byte (floats) load and one 16-byte store per thread, over the
 * batch flattened to B x d/4 quads, so that every thread has work
 * whatever d is (one block per row left most threads idle at d = 784,
 * and ran at a third of the copy bandwidth). Rows of X then start on 4- or
 * 16-byte boundaries and rows of Xb on 16-byte ones (cudaMalloc aligns to
 * 256; the launcher checks). Each element's arithmetic is gather_kernel's.
 * Quad indices fit 32 bits (the launcher checks): a 64-bit division per
 * quad would cost more than the quad's bytes. */
__device__ __forceinline__ float4 quad_of(const uint8_t *X, size_t row, unsigned d, unsigned q) {
    const uchar4 b = reinterpret_cast<const uchar4 *>(X + (size_t)row * d)[q];
    return make_float4(feature(b.x), feature(b.y), feature(b.z), feature(b.w));
}

__device__ __forceinline__ float4 quad_of(const float *X, size_t row, unsigned d, unsigned q) {
    return reinterpret_cast<const float4 *>(X + (size_t)row * d)[q];
}

template <typename T>
__global__ void gather_quads_kernel(const T *__restrict__ X, const float *__restrict__ y,
                                    unsigned d, const uint32_t *__restrict__ perm, size_t start,
                                    unsigned B, const float *__restrict__ mean,
                                    const float *__restrict__ inv_std, float *__restrict__ Xb,
                                    float *__restrict__ yb) {
    const unsigned d4 = d / 4, total = B * d4;
    for (unsigned e = blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += gridDim.x * blockDim.x) {
        const unsigned i = e / d4, q = e - i * d4;
        const size_t row = perm ? (size_t)perm[start + i] : start + i;
        float4 v = quad_of(X, row, d, q);
        v.x = standardise(v.x, mean, inv_std, 4 * q);
        v.y = standardise(v.y, mean, inv_std, 4 * q + 1);
        v.z = standardise(v.z, mean, inv_std, 4 * q + 2);
        v.w = standardise(v.w, mean, inv_std, 4 * q + 3);
        reinterpret_cast<float4 *>(Xb)[e] = v; /* Xb + i d + 4 q */
        if (q == 0) yb[i] = y[row];
    }
}

static bool aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

extern "C" int gsgdi_k_gather(const void *X, gsgdi_xtype xt, const float *y, size_t d,
                              const uint32_t *perm, size_t start, size_t B, const float *mean,
                              const float *inv_std, float *Xb, float *yb, void *stream) {
    if (B == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    /* Half the 32-bit range: the grid-stride index must not wrap. */
    const bool quads = d % 4 == 0 && d <= UINT32_MAX && B * (d / 4) <= UINT32_MAX / 2 &&
                       aligned(Xb, 16) && aligned(X, xt == GSGD_XTYPE_F32 ? 16 : 4);
    if (quads) {
        const unsigned blocks = gsgdi_blocks(B * (d / 4), GSGD_THREADS);
        if (xt == GSGD_XTYPE_F32)
            gather_quads_kernel<float><<<blocks, GSGD_THREADS, 0, s>>>(
                (const float *)X, y, (unsigned)d, perm, start, (unsigned)B, mean, inv_std, Xb, yb);
        else
            gather_quads_kernel<uint8_t>
                <<<blocks, GSGD_THREADS, 0, s>>>((const uint8_t *)X, y, (unsigned)d, perm, start,
                                                 (unsigned)B, mean, inv_std, Xb, yb);
    } else if (xt == GSGD_XTYPE_F32) {
        dim3 grid(gsgdi_row_blocks(d), gsgdi_rows_grid(B));
        gather_kernel<float><<<grid, gsgdi_row_threads(d), 0, s>>>((const float *)X, y, d, perm,
                                                                   start, B, mean, inv_std, Xb, yb);
    } else {
        dim3 grid(gsgdi_row_blocks(d), gsgdi_rows_grid(B));
        gather_kernel<uint8_t><<<grid, gsgdi_row_threads(d), 0, s>>>(
            (const uint8_t *)X, y, d, perm, start, B, mean, inv_std, Xb, yb);
    }
    return (int)cudaGetLastError();
}
