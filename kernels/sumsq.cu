/*
 * Per-segment sums of squares: the norms the update clips and scales by.
 * CPU reference: gsgdi_cpu_sumsq in src/backend_cpu_update.c (double accumulation,
 * rounded to float once).
 *
 * A float squared is exact in double, so only the order of the additions
 * differs from the CPU's, and the two agree to the final rounding. The
 * order is fixed: segment k's elements are dealt to the blocks of grid row
 * k, each block sums its share and reduces it by a fixed tree into a
 * partial, and a second kernel reduces each row's partials by the same
 * tree. No atomics, so a rerun gives the same bits; the grid depends on
 * the segment lengths only, so every device gives the same bits too.
 */
#include "kernels.h"
#include "launch.cuh"

#define SQ_THREADS 256  /* a power of two: the tree halves it */
#define SQ_PER_THREAD 8 /* elements per thread before another block pays */

typedef struct {
    size_t seg[GSGD_MAX_SEGMENTS + 1];
} sq_segments;

/* Sum of v over the block's threads, by a fixed tree; valid in thread 0. */
static __device__ double block_sum(double v, double *sh) {
    sh[threadIdx.x] = v;
    __syncthreads();
    for (unsigned s = SQ_THREADS / 2; s > 0; s >>= 1) {
        if (threadIdx.x < s) sh[threadIdx.x] += sh[threadIdx.x + s];
        __syncthreads();
    }
    return sh[0];
}

__global__ void sumsq_partial_kernel(const float *__restrict__ x, sq_segments s,
                                     double *__restrict__ partial) {
    __shared__ double sh[SQ_THREADS];
    const size_t lo = s.seg[blockIdx.y], hi = s.seg[blockIdx.y + 1];
    double acc = 0.0;
    for (size_t i = lo + (size_t)blockIdx.x * SQ_THREADS + threadIdx.x; i < hi;
         i += (size_t)gridDim.x * SQ_THREADS) {
        const double v = x[i];
        acc += v * v;
    }
    const double t = block_sum(acc, sh);
    if (threadIdx.x == 0) partial[(size_t)blockIdx.y * gridDim.x + blockIdx.x] = t;
}

__global__ void sumsq_finish_kernel(const double *__restrict__ partial, unsigned parts,
                                    float *__restrict__ out) {
    __shared__ double sh[SQ_THREADS];
    const double *row = partial + (size_t)blockIdx.x * parts;
    double acc = 0.0;
    for (unsigned j = threadIdx.x; j < parts; j += SQ_THREADS) acc += row[j];
    const double t = block_sum(acc, sh);
    if (threadIdx.x == 0) out[blockIdx.x] = (float)t;
}

extern "C" int gsgdi_k_sumsq(const float *x, const size_t *seg, int n_segments, float *out,
                             double *scratch, void *stream) {
    if (n_segments <= 0) return (int)cudaSuccess;
    if (n_segments > GSGD_MAX_SEGMENTS) return (int)cudaErrorInvalidValue;
    cudaStream_t st = (cudaStream_t)stream;
    sq_segments s;
    size_t longest = 0;
    for (int k = 0; k <= n_segments; k++) s.seg[k] = seg[k];
    for (int k = 0; k < n_segments; k++)
        if (seg[k + 1] - seg[k] > longest) longest = seg[k + 1] - seg[k];
    size_t parts = (longest + SQ_THREADS * SQ_PER_THREAD - 1) / (SQ_THREADS * SQ_PER_THREAD);
    if (parts > GSGD_K_SUMSQ_BLOCKS) parts = GSGD_K_SUMSQ_BLOCKS;
    if (parts < 1) parts = 1;
    dim3 grid((unsigned)parts, (unsigned)n_segments);
    sumsq_partial_kernel<<<grid, SQ_THREADS, 0, st>>>(x, s, scratch);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return (int)e;
    sumsq_finish_kernel<<<n_segments, SQ_THREADS, 0, st>>>(scratch, (unsigned)parts, out);
    return (int)cudaGetLastError();
}
