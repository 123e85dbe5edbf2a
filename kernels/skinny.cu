/*
 * Matrix products with a narrow result, N <= GSGD_K_SKINNY_NMAX columns:
 * the first layer of a softmax or linear model (N = classes), whose
 * products are memory-bound passes over the batch. cuBLAS ran them at a
 * third of the copy bandwidth on an H200 (softmax, Fashion-MNIST, batch
 * 60000: forward 144 us and dW 194 us for 188 MB each, against 47 us at
 * 4 TB/s). CPU reference: cblas_sgemm (cpu_gemm in src/backend_cpu.c);
 * tests/test_backend_cuda.c checks both against a double reference.
 *
 * nn: C = alpha A B + beta C, A M x K, B K x N (the forward X W). Each
 *   thread owns one row of C and its N sums; A is staged through shared
 *   memory in tiles read coalesced, B's tile is read as broadcast float4s.
 * tn: C = alpha A^T B + beta C, A K x M, B K x N (dW = X^T dZ). Each thread
 *   owns one column of A (one row of C) over a slice of the K rows; the
 *   slices' partial sums go to scratch and a second kernel adds them in a
 *   fixed order, so results do not depend on scheduling.
 */
#include "kernels.h"
#include "launch.cuh"

#define ROWS 64 /* rows of C per block (nn), columns of A per block (tn) */
#define TILE 32 /* columns of A per shared tile (nn), rows of B staged (tn) */

/* N rounded up to whole float4s. */
template <int N> struct padded { static const int V = (N + 3) / 4; };

template <int N>
__global__ void __launch_bounds__(ROWS)
    skinny_nn_kernel(size_t M, size_t K, float alpha, const float *__restrict__ A, size_t lda,
                     const float *__restrict__ B, size_t ldb, float beta, float *__restrict__ C,
                     size_t ldc) {
    const int V = padded<N>::V;
    __shared__ float As[ROWS][TILE + 1]; /* + 1: row t's column c in bank (t + c) % 32 */
    __shared__ float4 Bs[TILE][V];
    const int t = threadIdx.x;
    const size_t row0 = (size_t)blockIdx.x * ROWS;
    float acc[4 * V];
#pragma unroll
    for (int n = 0; n < 4 * V; n++) acc[n] = 0.0f;
    for (size_t k0 = 0; k0 < K; k0 += TILE) {
        /* Consecutive threads read consecutive columns of one row; all 32
         * loads of a thread are issued before the first store (bytes in
         * flight are what a memory-bound pass needs). */
#pragma unroll
        for (int e = t; e < ROWS * TILE; e += ROWS) {
            const int r = e / TILE, c = e % TILE;
            const size_t gr = row0 + r, gk = k0 + c;
            As[r][c] = gr < M && gk < K ? A[gr * lda + gk] : 0.0f;
        }
        for (int e = t; e < TILE * 4 * V; e += ROWS) {
            const int c = e / (4 * V), n = e % (4 * V);
            const size_t gk = k0 + c;
            reinterpret_cast<float *>(&Bs[c][0])[n] = gk < K && n < N ? B[gk * ldb + n] : 0.0f;
        }
        __syncthreads();
#pragma unroll 4
        for (int c = 0; c < TILE; c++) {
            const float a = As[t][c];
#pragma unroll
            for (int v = 0; v < V; v++) {
                const float4 b = Bs[c][v];
                acc[4 * v] = fmaf(a, b.x, acc[4 * v]);
                acc[4 * v + 1] = fmaf(a, b.y, acc[4 * v + 1]);
                acc[4 * v + 2] = fmaf(a, b.z, acc[4 * v + 2]);
                acc[4 * v + 3] = fmaf(a, b.w, acc[4 * v + 3]);
            }
        }
        __syncthreads();
    }
    const size_t gr = row0 + t;
    if (gr >= M) return;
#pragma unroll
    for (int n = 0; n < N; n++) {
        float *c = C + gr * ldc + n;
        *c = beta == 0.0f ? alpha * acc[n] : fmaf(beta, *c, alpha * acc[n]);
    }
}

/* Partial sums of slice blockIdx.y (rows [k_lo, k_hi) of A and B) for
 * columns blockIdx.x * ROWS + threadIdx.x of A, into P[slice][m][n]. */
template <int N>
__global__ void __launch_bounds__(ROWS)
    skinny_tn_kernel(size_t M, size_t K, size_t rows_per_slice, const float *__restrict__ A,
                     size_t lda, const float *__restrict__ B, size_t ldb, float *__restrict__ P) {
    const int V = padded<N>::V;
    __shared__ float4 Bs[TILE][V];
    const int t = threadIdx.x;
    const size_t m = (size_t)blockIdx.x * ROWS + t;
    const size_t k_lo = (size_t)blockIdx.y * rows_per_slice;
    const size_t k_hi = k_lo + rows_per_slice < K ? k_lo + rows_per_slice : K;
    float acc[4 * V];
#pragma unroll
    for (int n = 0; n < 4 * V; n++) acc[n] = 0.0f;
    for (size_t k0 = k_lo; k0 < k_hi; k0 += TILE) {
        for (int e = t; e < TILE * 4 * V; e += ROWS) {
            const int r = e / (4 * V), n = e % (4 * V);
            const size_t gk = k0 + r;
            reinterpret_cast<float *>(&Bs[r][0])[n] = gk < k_hi && n < N ? B[gk * ldb + n] : 0.0f;
        }
        __syncthreads();
        if (m < M) {
            const int rows = k_hi - k0 < TILE ? (int)(k_hi - k0) : TILE;
#pragma unroll 16
            for (int r = 0; r < rows; r++) {
                const float a = A[(k0 + r) * lda + m]; /* coalesced along m */
#pragma unroll
                for (int v = 0; v < V; v++) {
                    const float4 b = Bs[r][v];
                    acc[4 * v] = fmaf(a, b.x, acc[4 * v]);
                    acc[4 * v + 1] = fmaf(a, b.y, acc[4 * v + 1]);
                    acc[4 * v + 2] = fmaf(a, b.z, acc[4 * v + 2]);
                    acc[4 * v + 3] = fmaf(a, b.w, acc[4 * v + 3]);
                }
            }
        }
        __syncthreads();
    }
    if (m >= M) return;
    float *p = P + ((size_t)blockIdx.y * M + m) * N;
#pragma unroll
    for (int n = 0; n < N; n++) p[n] = acc[n];
}

/* C[m][n] = alpha * (sum over slices, in order) + beta * C[m][n]. */
__global__ void skinny_tn_sum_kernel(size_t M, int N, size_t slices, const float *__restrict__ P,
                                     float alpha, float beta, float *__restrict__ C, size_t ldc) {
    const size_t MN = M * (size_t)N;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < MN;
         e += (size_t)gridDim.x * blockDim.x) {
        float s = 0.0f;
        for (size_t g = 0; g < slices; g++) s += P[g * MN + e];
        float *c = C + (e / N) * ldc + e % N;
        *c = beta == 0.0f ? alpha * s : fmaf(beta, *c, alpha * s);
    }
}

template <int N>
static int launch_nn(size_t M, size_t K, float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, float beta, float *C, size_t ldc, cudaStream_t s) {
    const size_t blocks = (M + ROWS - 1) / ROWS;
    skinny_nn_kernel<N>
        <<<(unsigned)blocks, ROWS, 0, s>>>(M, K, alpha, A, lda, B, ldb, beta, C, ldc);
    return (int)cudaGetLastError();
}

/* Slices: enough blocks for eight per multiprocessor (each thread has 16
 * loads in flight), at most what the scratch holds, each slice at least
 * one tile of rows. */
template <int N>
static int launch_tn(size_t M, size_t K, float alpha, const float *A, size_t lda, const float *B,
                     size_t ldb, float beta, float *C, size_t ldc, float *scratch,
                     size_t scratch_floats, int n_sm, cudaStream_t s) {
    const size_t col_blocks = (M + ROWS - 1) / ROWS;
    size_t slices = (8 * (size_t)n_sm + col_blocks - 1) / col_blocks;
    const size_t fit = scratch_floats / (M * N), most = (K + TILE - 1) / TILE;
    if (slices > fit) slices = fit;
    if (slices > most) slices = most;
    if (slices > 65535) slices = 65535;
    const size_t per = (K + slices - 1) / slices;
    slices = (K + per - 1) / per;
    skinny_tn_kernel<N><<<dim3((unsigned)col_blocks, (unsigned)slices), ROWS, 0, s>>>(
        M, K, per, A, lda, B, ldb, scratch);
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess) return (int)e;
    skinny_tn_sum_kernel<<<gsgd_blocks(M * N, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
        M, N, slices, scratch, alpha, beta, C, ldc);
    return (int)cudaGetLastError();
}

extern "C" int gsgd_k_skinny_fits(int trans_a, size_t M, size_t N, size_t K,
                                  size_t scratch_floats) {
    if (N == 0 || N > GSGD_K_SKINNY_NMAX) return 0;
    if (!trans_a) return M >= GSGD_K_SKINNY_MIN_ROWS;
    return K >= GSGD_K_SKINNY_MIN_ROWS && M * N <= scratch_floats;
}

#define CASES(X)                                                                                   \
    X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)

extern "C" int gsgd_k_skinny_gemm(int trans_a, size_t M, size_t N, size_t K, float alpha,
                                  const float *A, size_t lda, const float *B, size_t ldb,
                                  float beta, float *C, size_t ldc, float *scratch,
                                  size_t scratch_floats, int n_sm, void *stream) {
    cudaStream_t s = (cudaStream_t)stream;
    if (M == 0) return (int)cudaSuccess;
    switch (N) {
#define NN(n)                                                                                      \
    case n:                                                                                        \
        return trans_a ? launch_tn<n>(M, K, alpha, A, lda, B, ldb, beta, C, ldc, scratch,          \
                                      scratch_floats, n_sm, s)                                     \
                       : launch_nn<n>(M, K, alpha, A, lda, B, ldb, beta, C, ldc, s);
        CASES(NN)
#undef NN
    default:
        return (int)cudaErrorInvalidValue;
    }
}
