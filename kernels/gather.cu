/*
 * Batch gather from the device-resident dataset.
 * CPU reference: cpu_gather in src/backend_cpu.c.
 *
 * One block row per sample row (grid-stride over blockIdx.y), threads
 * along the features, so every read of X and every write of Xb is
 * coalesced; no per-element division to recover (row, column).
 */
#include "kernels.h"
#include "launch.cuh"

__global__ void gather_kernel(const float *__restrict__ X, const float *__restrict__ y, size_t d,
                              const uint32_t *__restrict__ perm, size_t start, size_t B,
                              const float *__restrict__ mean, const float *__restrict__ inv_std,
                              float *__restrict__ Xb, float *__restrict__ yb) {
    for (size_t i = blockIdx.y; i < B; i += gridDim.y) {
        const size_t row = perm ? (size_t)perm[start + i] : start + i;
        const float *src = X + row * d;
        float *dst = Xb + i * d;
        for (size_t j = (size_t)blockIdx.x * blockDim.x + threadIdx.x; j < d;
             j += (size_t)gridDim.x * blockDim.x) {
            /* Same expression as the CPU: a subtract then a multiply
             * cannot be contracted into an FMA, so results are identical. */
            dst[j] = mean ? (src[j] - mean[j]) * inv_std[j] : src[j];
        }
        if (blockIdx.x == 0 && threadIdx.x == 0) yb[i] = y[row];
    }
}

extern "C" int gsgd_k_gather(const float *X, const float *y, size_t d, const uint32_t *perm,
                             size_t start, size_t B, const float *mean, const float *inv_std,
                             float *Xb, float *yb, void *stream) {
    if (B == 0) return (int)cudaSuccess;
    dim3 grid(gsgd_row_blocks(d), gsgd_rows_grid(B));
    gather_kernel<<<grid, gsgd_row_threads(d), 0, (cudaStream_t)stream>>>(X, y, d, perm, start, B,
                                                                          mean, inv_std, Xb, yb);
    return (int)cudaGetLastError();
}
