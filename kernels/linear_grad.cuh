/*
 * What the versions of the fused one-layer gradient share (linear_grad.cu
 * chooses one; linear_grad_v1.cu, linear_grad_v2.cu are the versions): the
 * tile's shape, the launch parameters, the device pieces both compute in
 * the same order, and the host side that sizes a grid and splits the
 * scratch. Written once here, so a version's file holds only what makes it
 * that version, and a diff of two versions shows what was changed.
 */
#ifndef GSGD_LINEAR_GRAD_CUH
#define GSGD_LINEAR_GRAD_CUH

#include <stdint.h>

#include "kernels.h"
#include "launch.cuh"
#include "loss_row.cuh"

#define LG_THREADS 256
#define LG_WARPS (LG_THREADS / 32)
#define LG_RPW 4                    /* rows per warp in the logits phase */
#define LG_TILE (LG_WARPS * LG_RPW) /* rows per tile */

/* Row stride of the tile's logits and their gradients: KP rounded up to
 * whole float4s, so the dW phase reads a row's dz four at a time. */
#define LG_ZS(KP) (((KP) + 3) / 4 * 4)

typedef struct {
    gsgdi_loss kind;
    int classify;
    const void *X;
    const float *y;
    unsigned d, K;
    unsigned stages; /* v2: 1 or 2 tiles of rows in shared memory */
    int copy16;      /* v2: rows are copied 16 bytes at a time (else 4) */
    const uint32_t *perm;
    size_t start, B;
    const float *mean, *inv_std, *W, *b;
    float grad_scale;
    float *part;      /* per block: K x d (dW transposed), then K (db) */
    double *part_acc; /* per block: loss, correct */
} lg_params;

typedef void (*lg_kernel_fn)(lg_params);

/* ---- device pieces ------------------------------------------------------------ */

/* Four features of a row (global or shared memory): bytes through the
 * feature table (the gather's GSGD_U8_FEATURE values, so the same floats),
 * or floats as they are. */
static __device__ __forceinline__ float4 lg_quad(const uint8_t *row, unsigned q,
                                                 const float *feat) {
    const uchar4 b = reinterpret_cast<const uchar4 *>(row)[q];
    return make_float4(feat[b.x], feat[b.y], feat[b.z], feat[b.w]);
}

static __device__ __forceinline__ float4 lg_quad(const float *row, unsigned q, const float *feat) {
    (void)feat;
    return reinterpret_cast<const float4 *>(row)[q];
}

/* The gather's standardisation, (x - mean) * inv_std, element by element
 * (a subtract then a multiply: nothing to contract). */
static __device__ __forceinline__ float4 lg_standardise(float4 v, float4 m, float4 s) {
    return make_float4((v.x - m.x) * s.x, (v.y - m.y) * s.y, (v.z - m.z) * s.z, (v.w - m.w) * s.w);
}

static __device__ __forceinline__ float4 lg_f4(const float *a, unsigned q) {
    return reinterpret_cast<const float4 *>(a)[q];
}

template <int R, int C> __device__ __forceinline__ void lg_zero(float (&a)[R][C]) {
#pragma unroll
    for (int r = 0; r < R; r++)
#pragma unroll
        for (int c = 0; c < C; c++) a[r][c] = 0.0f;
}

/* The logits' products of feature quad q of a warp's LG_RPW rows: each
 * weight quad read from shared memory (Wt[k d + j] = W[j][k]) serves all
 * the rows. */
template <int KP>
__device__ __forceinline__ void lg_logits_quad(const float4 (&x)[LG_RPW], const float *Wt,
                                               unsigned d, unsigned q, float (&acc)[LG_RPW][KP]) {
#pragma unroll
    for (int k = 0; k < KP; k++) {
        const float4 w = lg_f4(Wt + k * d, q);
#pragma unroll
        for (int r = 0; r < LG_RPW; r++) {
            float a = acc[r][k];
            a = fmaf(x[r].x, w.x, a);
            a = fmaf(x[r].y, w.y, a);
            a = fmaf(x[r].z, w.z, a);
            acc[r][k] = fmaf(x[r].w, w.w, a);
        }
    }
}

/* Sums each lane's products over the warp (a butterfly: every lane gets
 * the K sums) and lane 0 writes the warp's rows' logits into zs. */
template <int KP>
__device__ __forceinline__ void lg_logits_store(float (&acc)[LG_RPW][KP], const float *b,
                                                unsigned K, unsigned warp, unsigned lane,
                                                float *zs) {
    constexpr int ZS = LG_ZS(KP);
#pragma unroll
    for (int r = 0; r < LG_RPW; r++)
#pragma unroll
        for (int k = 0; k < KP; k++)
            for (int o = 16; o > 0; o >>= 1)
                acc[r][k] += __shfl_xor_sync(0xffffffffu, acc[r][k], o);
    if (lane == 0)
#pragma unroll
        for (int r = 0; r < LG_RPW; r++)
#pragma unroll
            for (int k = 0; k < KP; k++)
                if (k < (int)K) zs[(warp * LG_RPW + r) * ZS + k] = acc[r][k] + b[k];
    __syncwarp();
}

/* Loss and dz of the warp's rows, the whole warp on each, as the loss
 * kernel (loss_row.cuh's row_loss): rows[r] is the dataset
 * row of the warp's row r, whose label is read. */
template <int KP>
__device__ __forceinline__ void lg_warp_loss(const lg_params &p, const size_t *rows,
                                             unsigned rows_here, unsigned warp, unsigned lane,
                                             float *zs, float *dzs, double &loss, double &correct) {
    constexpr int ZS = LG_ZS(KP);
#pragma unroll
    for (int r = 0; r < LG_RPW; r++) {
        const unsigned t = warp * LG_RPW + r;
        if (t >= rows_here) continue; /* the same for every lane */
        const float yv = p.y[rows[r]];
        loss += row_loss(p.kind, zs + t * ZS, yv, p.K, p.grad_scale, dzs + t * ZS, lane);
        if (p.classify) correct += row_correct(p.kind, zs + t * ZS, yv, p.K, lane);
    }
}

/* g[v][k] += x_v dz_k for one row's features x and its dz (one broadcast
 * load per four dz). */
template <int KP>
__device__ __forceinline__ void lg_dw_row(float4 x, const float *dz_row, float (&g)[4][KP]) {
    constexpr int ZS = LG_ZS(KP);
#pragma unroll
    for (int k4 = 0; k4 < ZS; k4 += 4) {
        const float4 dz4 = reinterpret_cast<const float4 *>(dz_row)[k4 / 4];
        const float dz[4] = {dz4.x, dz4.y, dz4.z, dz4.w};
#pragma unroll
        for (int c = 0; c < 4; c++) {
            const int k = k4 + c;
            if (k < KP) {
                g[0][k] = fmaf(x.x, dz[c], g[0][k]);
                g[1][k] = fmaf(x.y, dz[c], g[1][k]);
                g[2][k] = fmaf(x.z, dz[c], g[2][k]);
                g[3][k] = fmaf(x.w, dz[c], g[3][k]);
            }
        }
    }
}

/* The block's loss and correct count (lane 0 of each warp holds its warp's;
 * every lane holds the same) into its pair of part_acc, warps in order. */
static __device__ __forceinline__ void lg_block_totals(double loss, double correct,
                                                       double *part_acc) {
    __shared__ double warp_loss[LG_WARPS], warp_correct[LG_WARPS];
    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    if (lane == 0) {
        warp_loss[warp] = loss;
        warp_correct[warp] = correct;
    }
    __syncthreads();
    if (threadIdx.x == 0) {
        double l = 0.0, c = 0.0;
        for (int w = 0; w < LG_WARPS; w++) {
            l += warp_loss[w];
            c += warp_correct[w];
        }
        part_acc[2 * blockIdx.x] = l;
        part_acc[2 * blockIdx.x + 1] = c;
    }
}

/* ---- host side ------------------------------------------------------------------ */

/* The kernels' instances: K rounded up to one of these widths (weights and
 * dz beyond K are zero, so the padding adds nothing); wider layers compose
 * the ops. LG_INSTANCES lists a version's kernel at each width. */
#define LG_N_WIDTHS 6
#define LG_INSTANCES(kernel, T)                                                                    \
    { kernel<T, 1>, kernel<T, 2>, kernel<T, 4>, kernel<T, 8>, kernel<T, 10>, kernel<T, 16> }

/* The index of the narrowest width that holds K (into *KP), or -1. */
static inline int lg_width(size_t K, int *KP) {
    static const int widths[LG_N_WIDTHS] = {1, 2, 4, 8, 10, 16};
    for (int i = 0; i < LG_N_WIDTHS; i++)
        if (K <= (size_t)widths[i]) {
            *KP = widths[i];
            return i;
        }
    return -1;
}

static inline bool lg_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* Scratch of one block: its loss pair (the doubles first, for alignment)
 * and its partial dW and db. */
static inline size_t lg_block_bytes(size_t d, size_t K) {
    return 2 * sizeof(double) + (K * d + K) * sizeof(float);
}

/* Sizes a version's grid, once, where the backend asks for the scratch:
 * raises the instance's shared-memory limit (to the device's whole
 * allowance, so no later shape lowers it) and takes as many blocks of
 * LG_THREADS as run at once. The scratch holds one partial per block, so
 * the launch reads the grid back from its size and makes no CUDA call
 * besides its two launches (nothing to repeat per step, nothing a CUDA
 * Graph recording could object to). 0 bytes where smem does not fit. */
static inline int lg_scratch_bytes(lg_kernel_fn fn, size_t smem, size_t d, size_t K, int n_sm,
                                   size_t *bytes) {
    *bytes = 0;
    int dev = 0, optin = 0, per_sm = 0;
    cudaFuncAttributes attr;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, fn);
    if (e != cudaSuccess) return (int)e;
    if (smem + attr.sharedSizeBytes > (size_t)optin)
        return (int)cudaSuccess; /* too large to stage */
    e = cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             optin - (int)attr.sharedSizeBytes);
    if (e == cudaSuccess)
        e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, LG_THREADS, smem);
    if (e != cudaSuccess) return (int)e;
    *bytes = (size_t)per_sm * (size_t)n_sm * lg_block_bytes(d, K);
    return (int)cudaSuccess;
}

/* A launch's grid (the tiles, at most the blocks the scratch holds) and
 * its parameters, the scratch split into the blocks' partials; false where
 * the scratch holds no block (the backend asks for it first, on this
 * device). */
static inline bool lg_launch_params(const gsgdi_linear_grad_args *a, unsigned stages, int copy16,
                                    lg_params *p, unsigned *blocks) {
    const size_t max_blocks = a->scratch_bytes / lg_block_bytes(a->d, a->K);
    if (max_blocks == 0 || max_blocks > UINT32_MAX) return false;
    const size_t tiles = (a->B + LG_TILE - 1) / LG_TILE;
    *blocks = (unsigned)(tiles < max_blocks ? tiles : max_blocks);
    double *part_acc = (double *)a->scratch;
    const lg_params q = {a->kind,
                         a->classify,
                         a->X,
                         a->y,
                         (unsigned)a->d,
                         (unsigned)a->K,
                         stages,
                         copy16,
                         a->perm,
                         a->start,
                         a->B,
                         a->mean,
                         a->inv_std,
                         a->W,
                         a->b,
                         a->grad_scale,
                         (float *)(part_acc + 2 * max_blocks),
                         part_acc};
    *p = q;
    return true;
}

/* The versions' launchers (linear_grad.cu's table), as kernels.h's
 * gsgdi_k_linear_grad_scratch and gsgdi_k_linear_grad. */
int gsgdi_k_linear_grad_v1_scratch(const void *X, gsgdi_xtype xt, size_t d, size_t K, int n_sm,
                                   size_t *bytes);
int gsgdi_k_linear_grad_v1(const gsgdi_linear_grad_args *a, cudaStream_t stream);
int gsgdi_k_linear_grad_v2_scratch(const void *X, gsgdi_xtype xt, size_t d, size_t K, int n_sm,
                                   size_t *bytes);
int gsgdi_k_linear_grad_v2(const gsgdi_linear_grad_args *a, cudaStream_t stream);

#endif
