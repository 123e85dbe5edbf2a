/*
 * The fused gradient of a one-layer model: backend.h's linear_grad.
 * CPU reference: the composed ops it replaces (cpu_gather, cpu_gemm,
 * cpu_bias_act, cpu_loss, cpu_gemm, cpu_col_sum in src/backend_cpu.c);
 * tests/fused_check.h bounds the difference (another summation order).
 *
 * Why: the composed step writes the gathered batch as floats and reads it
 * back twice, through GEMMs with N = K (10 for Fashion-MNIST) that run far
 * below the copy bandwidth. Here each row is read from the dataset as
 * stored (one byte per feature for images), turned into features in
 * registers and used by both products; the batch matrix, the logits and
 * their gradients never go through global memory.
 *
 * Persistent blocks (as many as fit on the device) take tiles of LG_TILE
 * rows in turn:
 *   logits  warp w owns LG_RPW rows of the tile; lanes stride over the
 *           row's feature quads, all LG_RPW rows at once, so each weight
 *           quad read from shared memory serves LG_RPW rows; a butterfly
 *           gives every lane the K sums.
 *   loss    the warp runs loss_row.cuh's row_loss (the loss kernel's) on
 *           each row's logits in shared memory, writing its dz there.
 *   dW      thread t owns feature quads t, t + LG_THREADS, ...: it reads
 *           the tile's rows again (from cache) and adds x_ij dz_ik over
 *           the tile into the block's dW in shared memory, which only it
 *           touches; threads t < K sum db the same way.
 * Each block writes its partial dW, db, loss and correct count to scratch;
 * a second kernel sums the partials in block order, in double: the result
 * is reproducible for a given device (the grid depends on its size).
 */
#include <stdint.h>

#include "kernels.h"
#include "launch.cuh"
#include "loss_row.cuh"

#define LG_THREADS 256
#define LG_WARPS (LG_THREADS / 32)
#define LG_RPW 4                    /* rows per warp in the logits phase */
#define LG_TILE (LG_WARPS * LG_RPW) /* rows per tile */

typedef struct {
    gsgd_loss kind;
    int classify;
    const void *X;
    const float *y;
    unsigned d, K;
    const uint32_t *perm;
    size_t start, B;
    const float *mean, *inv_std, *W, *b;
    float grad_scale;
    float *part;      /* per block: K x d (dW transposed), then K (db) */
    double *part_acc; /* per block: loss, correct */
} lg_params;

/* Four features of a row: bytes through the feature table (the gather's
 * GSGD_U8_FEATURE values, so the same floats), or floats as they are. */
__device__ __forceinline__ float4 lg_quad(const uint8_t *X, size_t row, unsigned d4, unsigned q,
                                          const float *feat) {
    const uchar4 b = reinterpret_cast<const uchar4 *>(X)[row * d4 + q];
    return make_float4(feat[b.x], feat[b.y], feat[b.z], feat[b.w]);
}

__device__ __forceinline__ float4 lg_quad(const float *X, size_t row, unsigned d4, unsigned q,
                                          const float *feat) {
    (void)feat;
    return reinterpret_cast<const float4 *>(X)[row * d4 + q];
}

/* The gather's standardisation, (x - mean) * inv_std, element by element
 * (a subtract then a multiply: nothing to contract). */
__device__ __forceinline__ float4 lg_standardise(float4 v, const float *mean_s, const float *istd_s,
                                                 unsigned q) {
    const float4 m = reinterpret_cast<const float4 *>(mean_s)[q];
    const float4 s = reinterpret_cast<const float4 *>(istd_s)[q];
    return make_float4((v.x - m.x) * s.x, (v.y - m.y) * s.y, (v.z - m.z) * s.z, (v.w - m.w) * s.w);
}

__device__ __forceinline__ size_t lg_row(const lg_params &p, size_t i) {
    return p.perm ? (size_t)p.perm[p.start + i] : p.start + i;
}

/* Row stride of the tile's logits and their gradients: KP rounded up to
 * whole float4s, so the dW phase reads a row's dz four at a time. */
#define LG_ZS(KP) (((KP) + 3) / 4 * 4)

/* Shared memory of a block, in floats: weights and dW (KP x d each,
 * transposed), mean and 1/std (d each), the byte-to-feature table (256),
 * logits and their gradients (LG_TILE x LG_ZS(KP) each). */
static size_t lg_smem_bytes(unsigned d, int KP) {
    return sizeof(float) *
           (2 * (size_t)KP * d + 2 * (size_t)d + 256 + 2 * (size_t)LG_TILE * LG_ZS(KP));
}

/* KP: K rounded up to the instance's width; weights and dz beyond K are
 * zero, so the padding adds nothing. */
template <typename T, int KP>
__global__ void __launch_bounds__(LG_THREADS) linear_grad_kernel(lg_params p) {
    extern __shared__ float4 smem4[];
    const unsigned d = p.d, d4 = d / 4, K = p.K;
    float *Wt = reinterpret_cast<float *>(smem4); /* Wt[k d + j] = W[j][k] */
    float *dWs = Wt + KP * d;                     /* dWs[k d + j]: the block's dW */
    float *mean_s = dWs + KP * d, *istd_s = mean_s + d, *feat = istd_s + d;
    constexpr int ZS = LG_ZS(KP);
    float *zs = feat + 256, *dzs = zs + LG_TILE * ZS; /* [tile row][ZS] */
    __shared__ double warp_loss[LG_WARPS], warp_correct[LG_WARPS];
    const T *X = static_cast<const T *>(p.X);
    const bool stdz = p.mean != nullptr;

    for (unsigned e = threadIdx.x; e < KP * d; e += LG_THREADS) {
        const unsigned k = e / d, j = e - k * d;
        Wt[e] = k < K ? p.W[(size_t)j * K + k] : 0.0f;
        dWs[e] = 0.0f;
    }
    for (unsigned j = threadIdx.x; stdz && j < d; j += LG_THREADS) {
        mean_s[j] = p.mean[j];
        istd_s[j] = p.inv_std[j];
    }
    for (unsigned e = threadIdx.x; e < 256; e += LG_THREADS) feat[e] = GSGD_U8_FEATURE(e);
    for (unsigned e = threadIdx.x; e < 2 * LG_TILE * ZS; e += LG_THREADS) zs[e] = 0.0f;
    __syncthreads();

    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    double loss = 0.0, correct = 0.0;
    float db = 0.0f; /* threads k < K: db[k] of the block's rows */
    const size_t n_tiles = (p.B + LG_TILE - 1) / LG_TILE;
    for (size_t tile = blockIdx.x; tile < n_tiles; tile += gridDim.x) {
        const size_t base = tile * LG_TILE;
        const unsigned rows_here = (unsigned)(p.B - base < LG_TILE ? p.B - base : LG_TILE);

        /* Logits of this warp's rows (rows past the batch repeat the last
         * one, and their results are dropped). */
        size_t rows[LG_RPW];
#pragma unroll
        for (int r = 0; r < LG_RPW; r++) {
            const unsigned t = warp * LG_RPW + r;
            rows[r] = lg_row(p, base + (t < rows_here ? t : rows_here - 1));
        }
        float acc[LG_RPW][KP];
#pragma unroll
        for (int r = 0; r < LG_RPW; r++)
#pragma unroll
            for (int k = 0; k < KP; k++) acc[r][k] = 0.0f;
        for (unsigned q = lane; q < d4; q += 32) {
            float4 x[LG_RPW];
#pragma unroll
            for (int r = 0; r < LG_RPW; r++) {
                x[r] = lg_quad(X, rows[r], d4, q, feat);
                if (stdz) x[r] = lg_standardise(x[r], mean_s, istd_s, q);
            }
#pragma unroll
            for (int k = 0; k < KP; k++) {
                const float4 w = reinterpret_cast<const float4 *>(Wt + k * d)[q];
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
                    if (k < (int)K) zs[(warp * LG_RPW + r) * ZS + k] = acc[r][k] + p.b[k];
        __syncwarp();

        /* Loss and dz of each row: the whole warp, as the loss kernel. */
#pragma unroll
        for (int r = 0; r < LG_RPW; r++) {
            const unsigned t = warp * LG_RPW + r;
            if (t >= rows_here) continue; /* the same for every lane */
            const float yv = p.y[rows[r]];
            loss += row_loss(p.kind, zs + t * ZS, yv, K, p.grad_scale, dzs + t * ZS, lane);
            if (p.classify) correct += row_correct(p.kind, zs + t * ZS, yv, K, lane);
        }
        __syncthreads();

        /* dW of this thread's feature quads over the tile's rows. */
        for (unsigned q = threadIdx.x; q < d4; q += LG_THREADS) {
            float g[4][KP];
#pragma unroll
            for (int v = 0; v < 4; v++)
#pragma unroll
                for (int k = 0; k < KP; k++) g[v][k] = 0.0f;
            for (unsigned t = 0; t < rows_here; t++) {
                float4 x = lg_quad(X, lg_row(p, base + t), d4, q, feat);
                if (stdz) x = lg_standardise(x, mean_s, istd_s, q);
#pragma unroll
                for (int k4 = 0; k4 < ZS; k4 += 4) { /* one broadcast load per 4 dz */
                    const float4 dz4 = reinterpret_cast<const float4 *>(dzs + t * ZS)[k4 / 4];
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
#pragma unroll
            for (int k = 0; k < KP; k++)
#pragma unroll
                for (int v = 0; v < 4; v++) dWs[k * d + 4 * q + v] += g[v][k];
        }
        if (threadIdx.x < K)
            for (unsigned t = 0; t < rows_here; t++) db += dzs[t * ZS + threadIdx.x];
        __syncthreads(); /* before the next tile's logits overwrite zs, dzs */
    }

    float *part = p.part + (size_t)blockIdx.x * ((size_t)K * d + K);
    for (unsigned e = threadIdx.x; e < K * d; e += LG_THREADS) part[e] = dWs[e];
    if (threadIdx.x < K) part[(size_t)K * d + threadIdx.x] = db;
    if (lane == 0) { /* every lane holds the same sums; lane 0's are kept */
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
        p.part_acc[2 * blockIdx.x] = l;
        p.part_acc[2 * blockIdx.x + 1] = c;
    }
}

/* Sums the blocks' partials in block order, in double: dW back to d x K
 * row-major, db, and the loss and correct count added to acc. */
__global__ void linear_grad_reduce_kernel(const float *__restrict__ part,
                                          const double *__restrict__ part_acc, unsigned blocks,
                                          unsigned d, unsigned K, int classify,
                                          float *__restrict__ dW, float *__restrict__ db,
                                          double *__restrict__ acc) {
    const size_t stride = (size_t)K * d + K;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < stride;
         e += (size_t)gridDim.x * blockDim.x) {
        double s = 0.0;
        for (unsigned b = 0; b < blocks; b++) s += part[b * stride + e];
        if (e < (size_t)K * d) {
            const size_t k = e / d, j = e - k * d;
            dW[j * K + k] = (float)s;
        } else {
            db[e - (size_t)K * d] = (float)s;
        }
    }
    if (blockIdx.x == 0 && threadIdx.x == 0) {
        double l = 0.0, c = 0.0;
        for (unsigned b = 0; b < blocks; b++) {
            l += part_acc[2 * b];
            c += part_acc[2 * b + 1];
        }
        acc[0] += l;
        if (classify) acc[1] += c;
    }
}

typedef void (*lg_kernel_fn)(lg_params);

/* The instance for K outputs over storage xt: the narrowest width that
 * holds K, or NULL past 16 outputs (wider layers compose the ops). */
template <typename T> static lg_kernel_fn lg_pick(size_t K, int *KP) {
    static const int widths[] = {1, 2, 4, 8, 10, 16};
    static const lg_kernel_fn fns[] = {linear_grad_kernel<T, 1>,  linear_grad_kernel<T, 2>,
                                       linear_grad_kernel<T, 4>,  linear_grad_kernel<T, 8>,
                                       linear_grad_kernel<T, 10>, linear_grad_kernel<T, 16>};
    for (int i = 0; i < 6; i++)
        if (K <= (size_t)widths[i]) {
            *KP = widths[i];
            return fns[i];
        }
    return NULL;
}

static bool lg_aligned(const void *p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* The instance for this shape and layout and its shared memory, or NULL
 * where the kernel does not take them. No CUDA call. */
static lg_kernel_fn lg_instance(const void *X, gsgd_xtype xt, size_t d, size_t K, size_t *smem) {
    if (d == 0 || d % 4 != 0 || d > (1u << 30) || K == 0 ||
        !lg_aligned(X, xt == GSGD_XTYPE_U8 ? 4 : 16))
        return NULL;
    int KP = 0;
    const lg_kernel_fn fn = xt == GSGD_XTYPE_U8 ? lg_pick<uint8_t>(K, &KP) : lg_pick<float>(K, &KP);
    if (fn) *smem = lg_smem_bytes((unsigned)d, KP);
    return fn;
}

/* Scratch of one block: its loss pair (the doubles first, for alignment)
 * and its partial dW and db. */
static size_t lg_block_bytes(size_t d, size_t K) {
    return 2 * sizeof(double) + (K * d + K) * sizeof(float);
}

/* Sizes the grid, once, where the backend asks for the scratch: raises the
 * instance's shared-memory limit (to the device's whole allowance, so no
 * later shape lowers it) and takes as many blocks as run at once. The
 * scratch holds one partial per block, so the launch reads the grid back
 * from its size and makes no CUDA call besides the two launches (nothing
 * to repeat per step, nothing a CUDA Graph recording could object to). */
extern "C" int gsgd_k_linear_grad_scratch(const void *X, gsgd_xtype xt, size_t d, size_t K,
                                          int n_sm, size_t *bytes) {
    *bytes = 0;
    size_t smem = 0;
    const lg_kernel_fn fn = lg_instance(X, xt, d, K, &smem);
    if (!fn || n_sm <= 0) return (int)cudaSuccess;
    int dev = 0, optin = 0, per_sm = 0;
    cudaFuncAttributes attr;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, fn);
    if (e != cudaSuccess) return (int)e;
    if (smem + attr.sharedSizeBytes > (size_t)optin)
        return (int)cudaSuccess; /* weights too large to stage */
    e = cudaFuncSetAttribute(fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             optin - (int)attr.sharedSizeBytes);
    if (e == cudaSuccess)
        e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, fn, LG_THREADS, smem);
    if (e != cudaSuccess) return (int)e;
    *bytes = (size_t)per_sm * (size_t)n_sm * lg_block_bytes(d, K);
    return (int)cudaSuccess;
}

extern "C" int gsgd_k_linear_grad(const gsgd_linear_grad_args *a, void *stream) {
    cudaStream_t s = (cudaStream_t)stream;
    size_t smem = 0;
    const lg_kernel_fn fn = lg_instance(a->X, a->xt, a->d, a->K, &smem);
    const size_t max_blocks = a->scratch_bytes / lg_block_bytes(a->d, a->K);
    /* The backend asked for the scratch first, on this device. */
    if (!fn || max_blocks == 0 || max_blocks > UINT32_MAX) return (int)cudaErrorInvalidValue;
    const size_t tiles = (a->B + LG_TILE - 1) / LG_TILE;
    const unsigned blocks = (unsigned)(tiles < max_blocks ? tiles : max_blocks);
    double *part_acc = (double *)a->scratch;
    float *part = (float *)(part_acc + 2 * max_blocks);
    if (blocks) {
        const lg_params p = {a->kind, a->classify,   a->X, a->y,    (unsigned)a->d, (unsigned)a->K,
                             a->perm, a->start,      a->B, a->mean, a->inv_std,     a->W,
                             a->b,    a->grad_scale, part, part_acc};
        fn<<<blocks, LG_THREADS, smem, s>>>(p);
    }
    const size_t stride = a->K * a->d + a->K;
    linear_grad_reduce_kernel<<<gsgd_blocks(stride, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
        part, part_acc, blocks, (unsigned)a->d, (unsigned)a->K, a->classify, a->dW, a->db, a->acc);
    return (int)cudaGetLastError();
}
