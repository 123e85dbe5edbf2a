/*
 * The fused gradient of a one-layer model: backend.h's linear_grad.
 * CPU reference: the composed ops it replaces (cpu_gather, cpu_gemm,
 * cpu_bias_act, cpu_loss, cpu_gemm, cpu_col_sum in src/backend_cpu.c);
 * tests/fused_check.h bounds the difference (another summation order).
 *
 * Why: the composed step writes the gathered batch as floats and reads it
 * back twice, through GEMMs with N = K (10 for Fashion-MNIST) that run far
 * below the copy bandwidth. Here each row is read once from the dataset as
 * stored (one byte per feature for images) and used by both products; the
 * batch matrix, the logits and their gradients never go through global
 * memory.
 *
 * Persistent blocks (as many as fit on the device) take tiles of LG_TILE
 * rows in turn. A tile's rows are copied as stored into shared memory with
 * cp.async, the next tile's while this one is computed where two stages
 * fit (LG_TWO_STAGE_MAX): every later read is from shared memory, so no
 * phase waits on a global load (the first version read rows from global
 * memory in both phases, and on the H100 spent most of its time waiting).
 *   logits  warp w owns LG_RPW rows of the tile; lanes stride over the
 *           row's feature quads, all LG_RPW rows at once, so each weight
 *           quad read from shared memory serves LG_RPW rows; a butterfly
 *           gives every lane the K sums.
 *   loss    the warp runs loss_row.cuh's row_loss (the loss kernel's) on
 *           each row's logits in shared memory, writing its dz there.
 *   dW      thread t owns feature quads t, t + LG_THREADS, ...: it adds
 *           x_ij dz_ik over the tile's rows, for its first quad into
 *           registers kept across tiles, for the others (d > 4 LG_THREADS)
 *           into the block's dW in shared memory, which only it touches;
 *           threads t < K sum db the same way.
 * Each block writes its partial dW, db, loss and correct count to scratch;
 * a second kernel sums the partials in a fixed order, in double: the result
 * is reproducible for a given device (the grid depends on its size).
 */
#include <cuda_pipeline.h>
#include <stdint.h>

#include "kernels.h"
#include "launch.cuh"
#include "loss_row.cuh"

#define LG_THREADS 256
#define LG_WARPS (LG_THREADS / 32)
#define LG_RPW 4                    /* rows per warp in the logits phase */
#define LG_TILE (LG_WARPS * LG_RPW) /* rows per tile */
/* Two stages of rows where a block's shared memory stays under this, so
 * that two blocks still fit on an SM (228 KB on sm_90). */
#define LG_TWO_STAGE_MAX (100u * 1024u)
#define LGR_SLICES 8 /* the reduction's warps: slices of the block partials */

typedef struct {
    gsgdi_loss kind;
    int classify;
    const void *X;
    const float *y;
    unsigned d, K;
    unsigned stages; /* 1 or 2 tiles of rows in shared memory */
    int copy16;      /* rows are copied 16 bytes at a time (else 4) */
    const uint32_t *perm;
    size_t start, B;
    const float *mean, *inv_std, *W, *b;
    float grad_scale;
    float *part;      /* per block: K x d (dW transposed), then K (db) */
    double *part_acc; /* per block: loss, correct */
} lg_params;

/* Four features of a row in shared memory: bytes through the feature table
 * (the gather's GSGD_U8_FEATURE values, so the same floats), or floats as
 * they are. */
__device__ __forceinline__ float4 lg_quad(const uint8_t *row, unsigned q, const float *feat) {
    const uchar4 b = reinterpret_cast<const uchar4 *>(row)[q];
    return make_float4(feat[b.x], feat[b.y], feat[b.z], feat[b.w]);
}

__device__ __forceinline__ float4 lg_quad(const float *row, unsigned q, const float *feat) {
    (void)feat;
    return reinterpret_cast<const float4 *>(row)[q];
}

/* The gather's standardisation, (x - mean) * inv_std, element by element
 * (a subtract then a multiply: nothing to contract). */
__device__ __forceinline__ float4 lg_standardise(float4 v, float4 m, float4 s) {
    return make_float4((v.x - m.x) * s.x, (v.y - m.y) * s.y, (v.z - m.z) * s.z, (v.w - m.w) * s.w);
}

__device__ __forceinline__ float4 lg_f4(const float *a, unsigned q) {
    return reinterpret_cast<const float4 *>(a)[q];
}

/* Threads t < LG_TILE: the dataset row of the tile's row t (0 past the
 * batch, where nothing is read). */
__device__ __forceinline__ void lg_tile_rows(const lg_params &p, size_t tile, size_t n_tiles,
                                             size_t *rows) {
    const size_t i = tile * LG_TILE + threadIdx.x;
    if (threadIdx.x < LG_TILE)
        rows[threadIdx.x] =
            tile < n_tiles && i < p.B ? (p.perm ? (size_t)p.perm[p.start + i] : p.start + i) : 0;
}

/* Issues this thread's share of the copies of a tile's rows, as stored,
 * into dst (cp.async: nothing waits here). */
__device__ __forceinline__ void lg_issue(const lg_params &p, unsigned char *dst, size_t tile,
                                         const size_t *rows, size_t row_bytes) {
    const size_t base = tile * LG_TILE;
    const unsigned rows_here = (unsigned)(p.B - base < LG_TILE ? p.B - base : LG_TILE);
    const unsigned unit = p.copy16 ? 16 : 4, per_row = (unsigned)(row_bytes / unit);
    const unsigned char *X = static_cast<const unsigned char *>(p.X);
    for (unsigned e = threadIdx.x; e < rows_here * per_row; e += LG_THREADS) {
        const unsigned t = e / per_row, u = (e - t * per_row) * unit;
        const unsigned char *src = X + rows[t] * row_bytes + u;
        if (p.copy16)
            __pipeline_memcpy_async(dst + t * row_bytes + u, src, 16);
        else
            __pipeline_memcpy_async(dst + t * row_bytes + u, src, 4);
    }
}

/* Row stride of the tile's logits and their gradients: KP rounded up to
 * whole float4s, so the dW phase reads a row's dz four at a time. */
#define LG_ZS(KP) (((KP) + 3) / 4 * 4)

/* Features past the quads that threads hold in registers, whose dW the
 * block keeps in shared memory. */
static __host__ __device__ unsigned lg_extra(unsigned d) {
    return d > 4 * LG_THREADS ? d - 4 * LG_THREADS : 0;
}

/* Shared memory of a block, in bytes: the stages of rows as stored, then,
 * in floats, the weights (KP x d, transposed), the extra features' dW (KP x
 * lg_extra(d)), mean and 1/std (d each), the byte-to-feature table (256),
 * logits and their gradients (LG_TILE x LG_ZS(KP) each). */
static size_t lg_smem_bytes(unsigned d, int KP, size_t xsize, unsigned stages) {
    return stages * LG_TILE * d * xsize +
           sizeof(float) * ((size_t)KP * (d + lg_extra(d)) + 2 * (size_t)d + 256 +
                            2 * (size_t)LG_TILE * LG_ZS(KP));
}

/* dW of feature quad q over the tile's rows xt, added into g. */
template <typename T, int KP>
__device__ __forceinline__ void lg_tile_dw(const T *xt, unsigned d, unsigned q, unsigned rows_here,
                                           const float *dzs, const float *feat, bool stdz, float4 m,
                                           float4 s, float (&g)[4][KP]) {
    constexpr int ZS = LG_ZS(KP);
    for (unsigned t = 0; t < rows_here; t++) {
        float4 x = lg_quad(xt + (size_t)t * d, q, feat);
        if (stdz) x = lg_standardise(x, m, s);
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
}

/* KP: K rounded up to the instance's width; weights and dz beyond K are
 * zero, so the padding adds nothing. */
template <typename T, int KP>
__global__ void __launch_bounds__(LG_THREADS, 2) linear_grad_kernel(lg_params p) {
    extern __shared__ float4 smem4[];
    const unsigned d = p.d, d4 = d / 4, K = p.K, dx = lg_extra(d), stages = p.stages;
    const size_t row_bytes = (size_t)d * sizeof(T), stage_bytes = LG_TILE * row_bytes;
    unsigned char *xs = reinterpret_cast<unsigned char *>(smem4);     /* [stage][tile row][d] */
    float *Wt = reinterpret_cast<float *>(xs + stages * stage_bytes); /* Wt[k d + j] = W[j][k] */
    float *dWx = Wt + KP * d; /* dWx[k dx + j]: dW of feature 4 LG_THREADS + j */
    float *mean_s = dWx + KP * dx, *istd_s = mean_s + d, *feat = istd_s + d;
    constexpr int ZS = LG_ZS(KP);
    float *zs = feat + 256, *dzs = zs + LG_TILE * ZS; /* [tile row][ZS] */
    __shared__ size_t rows_s[2][LG_TILE];             /* [stage]: the tile's dataset rows */
    __shared__ double warp_loss[LG_WARPS], warp_correct[LG_WARPS];
    const bool stdz = p.mean != nullptr;
    const size_t n_tiles = (p.B + LG_TILE - 1) / LG_TILE, grid = gridDim.x;

    for (unsigned st = 0; st < stages; st++)
        lg_tile_rows(p, blockIdx.x + st * grid, n_tiles, rows_s[st]);
    /* W (read in order, written transposed), mean and 1/std by cp.async
     * too: they arrive with the first tile's rows (the first wait below),
     * and no thread waits on each load in turn. */
    for (unsigned e = threadIdx.x; e < K * d; e += LG_THREADS) {
        const unsigned j = e / K, k = e - j * K;
        __pipeline_memcpy_async(Wt + k * d + j, p.W + e, sizeof(float));
    }
    for (unsigned j = threadIdx.x; stdz && j < d; j += LG_THREADS) {
        __pipeline_memcpy_async(mean_s + j, p.mean + j, sizeof(float));
        __pipeline_memcpy_async(istd_s + j, p.inv_std + j, sizeof(float));
    }
    for (unsigned e = K * d + threadIdx.x; e < KP * d; e += LG_THREADS) Wt[e] = 0.0f;
    for (unsigned e = threadIdx.x; e < KP * dx; e += LG_THREADS) dWx[e] = 0.0f;
    for (unsigned e = threadIdx.x; e < 256; e += LG_THREADS) feat[e] = GSGD_U8_FEATURE(e);
    for (unsigned e = threadIdx.x; e < 2 * LG_TILE * ZS; e += LG_THREADS) zs[e] = 0.0f;
    __syncthreads();
    if (stages == 2) {
        lg_issue(p, xs, blockIdx.x, rows_s[0], row_bytes);
        __pipeline_commit();
    }

    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    double loss = 0.0, correct = 0.0;
    float db = 0.0f;    /* threads k < K: db[k] of the block's rows */
    float g_own[4][KP]; /* dW of this thread's first quad, over the block's rows */
#pragma unroll
    for (int v = 0; v < 4; v++)
#pragma unroll
        for (int k = 0; k < KP; k++) g_own[v][k] = 0.0f;
    const bool owns = threadIdx.x < d4;
    const float4 zero4 = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    unsigned it = 0;
    for (size_t tile = blockIdx.x; tile < n_tiles; tile += grid, it++) {
        /* Issue this tile's rows (one stage) or the next tile's (two), then
         * wait for this tile's. */
        const unsigned s = stages == 2 ? it & 1 : 0, s_ahead = stages == 2 ? s ^ 1 : 0;
        const size_t ahead = tile + (stages - 1) * grid;
        if (ahead < n_tiles)
            lg_issue(p, xs + s_ahead * stage_bytes, ahead, rows_s[s_ahead], row_bytes);
        __pipeline_commit();
        if (stages == 2)
            __pipeline_wait_prior(1);
        else
            __pipeline_wait_prior(0);
        __syncthreads();
        const T *xt = reinterpret_cast<const T *>(xs + s * stage_bytes); /* row t at xt + t d */
        const size_t base = tile * LG_TILE;
        const unsigned rows_here = (unsigned)(p.B - base < LG_TILE ? p.B - base : LG_TILE);

        /* Logits of this warp's rows (rows past the batch repeat the last
         * one, and their results are dropped). */
        const T *xr[LG_RPW];
#pragma unroll
        for (int r = 0; r < LG_RPW; r++) {
            const unsigned t = warp * LG_RPW + r;
            xr[r] = xt + (size_t)(t < rows_here ? t : rows_here - 1) * d;
        }
        float acc[LG_RPW][KP];
#pragma unroll
        for (int r = 0; r < LG_RPW; r++)
#pragma unroll
            for (int k = 0; k < KP; k++) acc[r][k] = 0.0f;
        for (unsigned q = lane; q < d4; q += 32) {
            float4 x[LG_RPW];
            const float4 m = stdz ? lg_f4(mean_s, q) : zero4;
            const float4 sd = stdz ? lg_f4(istd_s, q) : zero4;
#pragma unroll
            for (int r = 0; r < LG_RPW; r++) {
                x[r] = lg_quad(xr[r], q, feat);
                if (stdz) x[r] = lg_standardise(x[r], m, sd);
            }
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
            const float yv = p.y[rows_s[s][t]];
            loss += row_loss(p.kind, zs + t * ZS, yv, K, p.grad_scale, dzs + t * ZS, lane);
            if (p.classify) correct += row_correct(p.kind, zs + t * ZS, yv, K, lane);
        }
        __syncthreads();

        /* dW: the first quad into registers, any others into shared memory. */
        if (owns) {
            const float4 m = stdz ? lg_f4(mean_s, threadIdx.x) : zero4;
            const float4 sd = stdz ? lg_f4(istd_s, threadIdx.x) : zero4;
            lg_tile_dw<T, KP>(xt, d, threadIdx.x, rows_here, dzs, feat, stdz, m, sd, g_own);
        }
        for (unsigned q = threadIdx.x + LG_THREADS; q < d4; q += LG_THREADS) {
            float g[4][KP];
#pragma unroll
            for (int v = 0; v < 4; v++)
#pragma unroll
                for (int k = 0; k < KP; k++) g[v][k] = 0.0f;
            const float4 m = stdz ? lg_f4(mean_s, q) : zero4;
            const float4 sd = stdz ? lg_f4(istd_s, q) : zero4;
            lg_tile_dw<T, KP>(xt, d, q, rows_here, dzs, feat, stdz, m, sd, g);
            const unsigned j = 4 * (q - LG_THREADS);
#pragma unroll
            for (int k = 0; k < KP; k++)
#pragma unroll
                for (int v = 0; v < 4; v++) dWx[k * dx + j + v] += g[v][k];
        }
        if (threadIdx.x < K)
            for (unsigned t = 0; t < rows_here; t++) db += dzs[t * ZS + threadIdx.x];
        /* rows_s[s] was last read by the loss, before the barrier above: it
         * takes the rows of the tile this stage holds next. */
        lg_tile_rows(p, tile + stages * grid, n_tiles, rows_s[s]);
        __syncthreads(); /* before the next tiles overwrite this stage, zs, dzs */
    }

    float *part = p.part + (size_t)blockIdx.x * ((size_t)K * d + K);
    if (owns)
#pragma unroll
        for (int k = 0; k < KP; k++)
#pragma unroll
            for (int v = 0; v < 4; v++)
                if (k < (int)K) part[(size_t)k * d + 4 * threadIdx.x + v] = g_own[v][k];
    for (unsigned e = threadIdx.x; e < K * dx; e += LG_THREADS) {
        const unsigned k = e / dx, j = e - k * dx;
        part[(size_t)k * d + 4 * LG_THREADS + j] = dWx[e];
    }
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

/* The block's sum of v, in a fixed order (a tree over red). */
__device__ __forceinline__ double lgr_block_sum(double v, double *red) {
    red[threadIdx.x] = v;
    __syncthreads();
    for (unsigned w = blockDim.x / 2; w > 0; w >>= 1) {
        if (threadIdx.x < w) red[threadIdx.x] += red[threadIdx.x + w];
        __syncthreads();
    }
    const double s = red[0];
    __syncthreads();
    return s;
}

/* Sums the blocks' partials in double, in a fixed order: a block takes 32
 * elements, its warp w adds partials w, w + LGR_SLICES, ... (many loads in
 * flight; one thread per element, waiting on each load in turn, took 70 us
 * at B* on the H100), then the slices are added in order; dW goes back to
 * d x K row-major. The last block adds the loss and correct count to acc. */
__global__ void __launch_bounds__(LGR_SLICES * 32)
    linear_grad_reduce_kernel(const float *__restrict__ part, const double *__restrict__ part_acc,
                              unsigned blocks, unsigned d, unsigned K, int classify,
                              float *__restrict__ dW, float *__restrict__ db,
                              double *__restrict__ acc) {
    __shared__ double red[LGR_SLICES * 32];
    if (blockIdx.x == gridDim.x - 1) {
        double l = 0.0, c = 0.0;
        for (unsigned b = threadIdx.x; b < blocks; b += blockDim.x) {
            l += part_acc[2 * b];
            c += part_acc[2 * b + 1];
        }
        l = lgr_block_sum(l, red);
        c = lgr_block_sum(c, red);
        if (threadIdx.x == 0) {
            acc[0] += l;
            if (classify) acc[1] += c;
        }
        return;
    }
    const size_t stride = (size_t)K * d + K;
    const unsigned lane = threadIdx.x % 32, slice = threadIdx.x / 32;
    const size_t e = (size_t)blockIdx.x * 32 + lane;
    double s = 0.0;
    if (e < stride)
#pragma unroll 4
        for (unsigned b = slice; b < blocks; b += LGR_SLICES) s += part[b * stride + e];
    red[threadIdx.x] = s;
    __syncthreads();
    if (slice != 0 || e >= stride) return;
    for (unsigned w = 1; w < LGR_SLICES; w++) s += red[w * 32 + lane];
    if (e < (size_t)K * d) {
        const size_t k = e / d, j = e - k * d;
        dW[j * K + k] = (float)s;
    } else {
        db[e - (size_t)K * d] = (float)s;
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

/* How the kernel takes a shape and layout. */
typedef struct {
    lg_kernel_fn fn;
    size_t smem;     /* dynamic shared memory */
    unsigned stages; /* tiles of rows in shared memory */
    int copy16;      /* 16-byte row copies */
} lg_plan;

/* The instance for this shape and layout, its shared memory and stages, or
 * fn NULL where the kernel does not take them. No CUDA call, so the launch
 * repeats it for nothing. */
static lg_plan lg_instance(const void *X, gsgdi_xtype xt, size_t d, size_t K) {
    lg_plan pl = {NULL, 0, 1, 0};
    const size_t xsize = xt == GSGD_XTYPE_U8 ? 1 : sizeof(float);
    if (d == 0 || d % 4 != 0 || d > (1u << 24) || K == 0 ||
        !lg_aligned(X, xt == GSGD_XTYPE_U8 ? 4 : 16))
        return pl;
    int KP = 0;
    pl.fn = xt == GSGD_XTYPE_U8 ? lg_pick<uint8_t>(K, &KP) : lg_pick<float>(K, &KP);
    if (!pl.fn) return pl;
    pl.stages = lg_smem_bytes((unsigned)d, KP, xsize, 2) <= LG_TWO_STAGE_MAX ? 2 : 1;
    pl.smem = lg_smem_bytes((unsigned)d, KP, xsize, pl.stages);
    pl.copy16 = (d * xsize) % 16 == 0 && lg_aligned(X, 16);
    return pl;
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
extern "C" int gsgdi_k_linear_grad_scratch(const void *X, gsgdi_xtype xt, size_t d, size_t K,
                                           int n_sm, size_t *bytes) {
    *bytes = 0;
    const lg_plan pl = lg_instance(X, xt, d, K);
    if (!pl.fn || n_sm <= 0) return (int)cudaSuccess;
    int dev = 0, optin = 0, per_sm = 0;
    cudaFuncAttributes attr;
    cudaError_t e = cudaGetDevice(&dev);
    if (e == cudaSuccess)
        e = cudaDeviceGetAttribute(&optin, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev);
    if (e == cudaSuccess) e = cudaFuncGetAttributes(&attr, pl.fn);
    if (e != cudaSuccess) return (int)e;
    if (pl.smem + attr.sharedSizeBytes > (size_t)optin)
        return (int)cudaSuccess; /* weights and rows too large to stage */
    e = cudaFuncSetAttribute(pl.fn, cudaFuncAttributeMaxDynamicSharedMemorySize,
                             optin - (int)attr.sharedSizeBytes);
    if (e == cudaSuccess)
        e = cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, pl.fn, LG_THREADS, pl.smem);
    if (e != cudaSuccess) return (int)e;
    *bytes = (size_t)per_sm * (size_t)n_sm * lg_block_bytes(d, K);
    return (int)cudaSuccess;
}

extern "C" int gsgdi_k_linear_grad(const gsgdi_linear_grad_args *a, void *stream) {
    cudaStream_t s = (cudaStream_t)stream;
    const lg_plan pl = lg_instance(a->X, a->xt, a->d, a->K);
    const size_t max_blocks = a->scratch_bytes / lg_block_bytes(a->d, a->K);
    /* The backend asked for the scratch first, on this device. */
    if (!pl.fn || max_blocks == 0 || max_blocks > UINT32_MAX) return (int)cudaErrorInvalidValue;
    const size_t tiles = (a->B + LG_TILE - 1) / LG_TILE;
    const unsigned blocks = (unsigned)(tiles < max_blocks ? tiles : max_blocks);
    double *part_acc = (double *)a->scratch;
    float *part = (float *)(part_acc + 2 * max_blocks);
    if (blocks) {
        const lg_params p = {a->kind,        a->classify, a->X,       a->y,    (unsigned)a->d,
                             (unsigned)a->K, pl.stages,   pl.copy16,  a->perm, a->start,
                             a->B,           a->mean,     a->inv_std, a->W,    a->b,
                             a->grad_scale,  part,        part_acc};
        pl.fn<<<blocks, LG_THREADS, pl.smem, s>>>(p);
    }
    /* 32 elements a block, and one more block for the loss and count. */
    const size_t stride = a->K * a->d + a->K;
    linear_grad_reduce_kernel<<<(unsigned)((stride + 31) / 32) + 1, LGR_SLICES * 32, 0, s>>>(
        part, part_acc, blocks, (unsigned)a->d, (unsigned)a->K, a->classify, a->dW, a->db, a->acc);
    return (int)cudaGetLastError();
}
