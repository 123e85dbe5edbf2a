/*
 * Bias add with optional ReLU, and the ReLU backward mask.
 * CPU references: cpu_bias_act and cpu_relu_backward in src/backend_cpu.c.
 *
 * Both are elementwise and bandwidth-bound. bias_act walks rows with
 * blockIdx.y and columns with threads, so b[c] is read without a division
 * and every access is coalesced.
 */
#include "kernels.h"
#include "launch.cuh"

__global__ void bias_act_kernel(float *__restrict__ Y, const float *__restrict__ b, size_t rows,
                                size_t cols, int relu) {
    for (size_t r = blockIdx.y; r < rows; r += gridDim.y) {
        float *row = Y + r * cols;
        for (size_t c = (size_t)blockIdx.x * blockDim.x + threadIdx.x; c < cols;
             c += (size_t)gridDim.x * blockDim.x) {
            float v = row[c] + b[c];
            /* The CPU's exact test: NaN and -0.0f pass through unchanged. */
            row[c] = (relu && v < 0.0f) ? 0.0f : v;
        }
    }
}

__global__ void relu_backward_kernel(float *__restrict__ dY, const float *__restrict__ A,
                                     size_t n) {
    for (size_t i = (size_t)blockIdx.x * blockDim.x + threadIdx.x; i < n;
         i += (size_t)gridDim.x * blockDim.x)
        if (!(A[i] > 0.0f)) dY[i] = 0.0f;
}

extern "C" int gsgdi_k_bias_act(float *Y, const float *b, size_t rows, size_t cols, int relu,
                                void *stream) {
    if (rows == 0 || cols == 0) return (int)cudaSuccess;
    dim3 grid(gsgdi_row_blocks(cols), gsgdi_rows_grid(rows));
    bias_act_kernel<<<grid, gsgdi_row_threads(cols), 0, (cudaStream_t)stream>>>(Y, b, rows, cols,
                                                                                relu);
    return (int)cudaGetLastError();
}

extern "C" int gsgdi_k_relu_backward(float *dY, const float *A, size_t n, void *stream) {
    if (n == 0) return (int)cudaSuccess;
    relu_backward_kernel<<<gsgdi_blocks(n, GSGD_THREADS), GSGD_THREADS, 0, (cudaStream_t)stream>>>(
        dY, A, n);
    return (int)cudaGetLastError();
}
