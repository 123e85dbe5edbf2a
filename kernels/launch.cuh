/* Launch-shape helpers shared by the kernel files (CUDA only). */
#ifndef GSGD_LAUNCH_CUH
#define GSGD_LAUNCH_CUH

#include <cuda_runtime.h>
#include <stddef.h>

/* Threads per block of the one-dimensional kernels: a multiple of the warp
 * size that keeps several blocks resident per multiprocessor. */
#define GSGD_THREADS 256

/* Blocks for a grid-stride loop over n items: enough to fill any current
 * GPU several times over (so bandwidth-bound loops saturate memory), never
 * more than the items need, and never zero. */
static inline unsigned gsgdi_blocks(size_t n, unsigned threads) {
    const size_t cap = 8192;
    size_t b = (n + threads - 1) / threads;
    return (unsigned)(b == 0 ? 1 : (b < cap ? b : cap));
}

/* gridDim.y and gridDim.z are limited to 65535; rows beyond that are
 * covered by a grid-stride loop over blockIdx.y. */
static inline unsigned gsgdi_rows_grid(size_t rows) {
    return (unsigned)(rows == 0 ? 1 : (rows < 65535 ? rows : 65535));
}

/* Threads along a row of cols items: the row rounded up to whole warps,
 * at most GSGD_THREADS (wider rows loop), so narrow rows waste no more than
 * one partial warp. */
static inline unsigned gsgdi_row_threads(size_t cols) {
    if (cols >= GSGD_THREADS) return GSGD_THREADS;
    return cols == 0 ? 32u : (unsigned)((cols + 31) / 32 * 32);
}

/* Blocks along a row: enough to cover it with gsgdi_row_threads, at most 64. */
static inline unsigned gsgdi_row_blocks(size_t cols) {
    size_t t = gsgdi_row_threads(cols), b = (cols + t - 1) / t;
    return (unsigned)(b == 0 ? 1 : (b > 64 ? 64 : b));
}

#endif
