/*
 * Losses with their gradients in one pass: softmax cross-entropy, logistic,
 * squared and multiclass hinge.
 * CPU reference: cpu_loss (row_loss, row_correct) in src/backend_cpu.c;
 * every formula (loss_row.cuh) is that one, term for term, in the same
 * precision (double where the reference uses double), so the gradients
 * agree to the last float rounding and the losses to double rounding.
 *
 * One warp per row (loss_row.cuh). Lane 0 of each warp keeps
 * its rows' loss and correct count; a block reduction and one double
 * atomicAdd per block put them into acc[0] and acc[1].
 */
#include <math.h>

#include "kernels.h"
#include "launch.cuh"
#include "loss_row.cuh"

#define WARPS (GSGD_THREADS / 32)

__global__ void loss_kernel(gsgdi_loss kind, const float *__restrict__ Z,
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

extern "C" int gsgdi_k_loss(gsgdi_loss kind, const float *Z, const float *y, size_t B, size_t K,
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
