/*
 * Bias gradient: column sums of a row-major rows x cols matrix.
 * CPU reference: cpu_col_sum in src/backend_cpu.c (double accumulation,
 * rounded to float once).
 *
 * Accumulating in double, as the reference does, makes the two agree to
 * the final rounding whatever the order of the terms. Batches are tall and
 * narrow (B rows of 10..1000 columns), so rows are split over gridDim.y
 * blocks as well as over threadIdx.y; each block writes a partial sum per
 * column to scratch and a second kernel adds the partials in a fixed order,
 * which keeps the result deterministic (atomics would not be).
 */
#include "kernels.h"
#include "launch.cuh"

#define CS_X 32 /* columns per block: one warp wide, coalesced rows */
#define CS_Y 8  /* rows in flight per block */

__global__ void col_sum_partial_kernel(const float *__restrict__ dY, size_t rows, size_t cols,
                                       float *__restrict__ db, double *__restrict__ partial) {
    __shared__ double s[CS_Y][CS_X + 1];
    const size_t c = (size_t)blockIdx.x * CS_X + threadIdx.x;
    double acc = 0.0;
    if (c < cols) {
#pragma unroll 4
        for (size_t r = (size_t)blockIdx.y * CS_Y + threadIdx.y; r < rows;
             r += (size_t)gridDim.y * CS_Y)
            acc += (double)dY[r * cols + c];
    }
    s[threadIdx.y][threadIdx.x] = acc;
    __syncthreads();
    if (threadIdx.y == 0 && c < cols) {
        double t = 0.0;
        for (int k = 0; k < CS_Y; k++) t += s[k][threadIdx.x];
        if (gridDim.y == 1)
            db[c] = (float)t;
        else
            partial[(size_t)blockIdx.y * cols + c] = t;
    }
}

__global__ void col_sum_finish_kernel(const double *__restrict__ partial, unsigned parts,
                                      size_t cols, float *__restrict__ db) {
    for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < cols;
         c += (size_t)gridDim.x * blockDim.x) {
        double t = 0.0;
        for (unsigned g = 0; g < parts; g++) t += partial[(size_t)g * cols + c];
        db[c] = (float)t;
    }
}

extern "C" int gsgdi_k_col_sum(const float *dY, size_t rows, size_t cols, float *db,
                               double *scratch, size_t scratch_doubles, int n_sm, void *stream) {
    if (cols == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    const size_t gx = (cols + CS_X - 1) / CS_X;
    if (gx > 0x7fffffff) return (int)cudaErrorInvalidValue;
    /* Row blocks: about 4 blocks per multiprocessor in all, at least 64
     * rows per block (so a partial is worth writing), and as many partials
     * as the scratch holds. */
    size_t gy = (size_t)(n_sm > 0 ? n_sm : 1) * 4 / gx;
    size_t by_rows = (rows + 63) / 64, by_scratch = scratch ? scratch_doubles / cols : 0;
    if (gy > by_rows) gy = by_rows;
    if (gy > by_scratch) gy = by_scratch;
    if (gy > 65535) gy = 65535;
    if (gy < 1) gy = 1;
    dim3 grid((unsigned)gx, (unsigned)gy), block(CS_X, CS_Y);
    col_sum_partial_kernel<<<grid, block, 0, s>>>(dY, rows, cols, db, scratch);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess || gy == 1) return (int)e;
    col_sum_finish_kernel<<<gsgdi_blocks(cols, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
        scratch, (unsigned)gy, cols, db);
    return (int)cudaGetLastError();
}
