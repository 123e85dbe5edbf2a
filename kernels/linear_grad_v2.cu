/*
 * The fused one-layer gradient, version 2: the rebuilt kernel (9062d0f,
 * then W, mean and 1/std staged by cp.async in c1ac762), the measured best
 * and the default (linear_grad.cu).
 * CPU reference: the composed ops it replaces (cpu_gather, cpu_gemm,
 * cpu_bias_act, cpu_loss, cpu_gemm, cpu_col_sum in src/backend/cpu.c);
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
 * fit (LG2_TWO_STAGE_MAX): every later read is from shared memory, so no
 * phase waits on a global load (version 1 read rows from global memory in
 * both phases, and on the H100 spent most of its time waiting).
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
 *
 * Measured (run D, H200, bench/results/gpu_h200.md): the softmax step at
 * B* = 60000 0.1976 ms issued, 0.1875 ms replayed from a CUDA Graph,
 * against 0.4740 and 0.4523 ms composed; the kernel 182 us, the reduction
 * 16 us (Nsight Compute).
 */
#include <cuda_pipeline.h>

#include "linear_grad.cuh"

/* Two stages of rows where a block's shared memory stays under this, so
 * that two blocks still fit on an SM (228 KB on sm_90). */
#define LG2_TWO_STAGE_MAX (100u * 1024u)
#define LGR_SLICES 8 /* the reduction's warps: slices of the block partials */

/* Threads t < LG_TILE: the dataset row of the tile's row t (0 past the
 * batch, where nothing is read). */
static __device__ __forceinline__ void lg2_tile_rows(const lg_params &p, size_t tile,
                                                     size_t n_tiles, size_t *rows) {
    const size_t i = tile * LG_TILE + threadIdx.x;
    if (threadIdx.x < LG_TILE)
        rows[threadIdx.x] =
            tile < n_tiles && i < p.B ? (p.perm ? (size_t)p.perm[p.start + i] : p.start + i) : 0;
}

/* Issues this thread's share of the copies of a tile's rows, as stored,
 * into dst (cp.async: nothing waits here). */
static __device__ __forceinline__ void lg2_issue(const lg_params &p, unsigned char *dst,
                                                 size_t tile, const size_t *rows,
                                                 size_t row_bytes) {
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

/* Features past the quads that threads hold in registers, whose dW the
 * block keeps in shared memory. */
static __host__ __device__ unsigned lg2_extra(unsigned d) {
    return d > 4 * LG_THREADS ? d - 4 * LG_THREADS : 0;
}

/* Shared memory of a block, in bytes: the stages of rows as stored, then,
 * in floats, the weights (KP x d, transposed), the extra features' dW (KP x
 * lg2_extra(d)), mean and 1/std (d each), the byte-to-feature table (256),
 * logits and their gradients (LG_TILE x LG_ZS(KP) each). */
static size_t lg2_smem_bytes(unsigned d, int KP, size_t xsize, unsigned stages) {
    return stages * LG_TILE * d * xsize +
           sizeof(float) * ((size_t)KP * (d + lg2_extra(d)) + 2 * (size_t)d + 256 +
                            2 * (size_t)LG_TILE * LG_ZS(KP));
}

/* dW of feature quad q over the tile's rows xt, added into g. */
template <typename T, int KP>
static __device__ __forceinline__ void
lg2_tile_dw(const T *xt, unsigned d, unsigned q, unsigned rows_here, const float *dzs,
            const float *feat, bool stdz, float4 m, float4 s, float (&g)[4][KP]) {
    for (unsigned t = 0; t < rows_here; t++) {
        float4 x = lg_quad(xt + (size_t)t * d, q, feat);
        if (stdz) x = lg_standardise(x, m, s);
        lg_dw_row<KP>(x, dzs + t * LG_ZS(KP), g);
    }
}

/* KP: K rounded up to the instance's width (linear_grad.cuh). */
template <typename T, int KP>
__global__ void __launch_bounds__(LG_THREADS, 2) linear_grad_v2_kernel(lg_params p) {
    extern __shared__ float4 smem4[];
    const unsigned d = p.d, d4 = d / 4, K = p.K, dx = lg2_extra(d), stages = p.stages;
    const size_t row_bytes = (size_t)d * sizeof(T), stage_bytes = LG_TILE * row_bytes;
    unsigned char *xs = reinterpret_cast<unsigned char *>(smem4);     /* [stage][tile row][d] */
    float *Wt = reinterpret_cast<float *>(xs + stages * stage_bytes); /* Wt[k d + j] = W[j][k] */
    float *dWx = Wt + KP * d; /* dWx[k dx + j]: dW of feature 4 LG_THREADS + j */
    float *mean_s = dWx + KP * dx, *istd_s = mean_s + d, *feat = istd_s + d;
    constexpr int ZS = LG_ZS(KP);
    float *zs = feat + 256, *dzs = zs + LG_TILE * ZS; /* [tile row][ZS] */
    __shared__ size_t rows_s[2][LG_TILE];             /* [stage]: the tile's dataset rows */
    const bool stdz = p.mean != nullptr;
    const size_t n_tiles = (p.B + LG_TILE - 1) / LG_TILE, grid = gridDim.x;

    for (unsigned st = 0; st < stages; st++)
        lg2_tile_rows(p, blockIdx.x + st * grid, n_tiles, rows_s[st]);
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
        lg2_issue(p, xs, blockIdx.x, rows_s[0], row_bytes);
        __pipeline_commit();
    }

    const unsigned warp = threadIdx.x / 32, lane = threadIdx.x % 32;
    double loss = 0.0, correct = 0.0;
    float db = 0.0f;    /* threads k < K: db[k] of the block's rows */
    float g_own[4][KP]; /* dW of this thread's first quad, over the block's rows */
    lg_zero(g_own);
    const bool owns = threadIdx.x < d4;
    const float4 zero4 = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    unsigned it = 0;
    for (size_t tile = blockIdx.x; tile < n_tiles; tile += grid, it++) {
        /* Issue this tile's rows (one stage) or the next tile's (two), then
         * wait for this tile's. */
        const unsigned s = stages == 2 ? it & 1 : 0, s_ahead = stages == 2 ? s ^ 1 : 0;
        const size_t ahead = tile + (stages - 1) * grid;
        if (ahead < n_tiles)
            lg2_issue(p, xs + s_ahead * stage_bytes, ahead, rows_s[s_ahead], row_bytes);
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
        lg_zero(acc);
        for (unsigned q = lane; q < d4; q += 32) {
            float4 x[LG_RPW];
            const float4 m = stdz ? lg_f4(mean_s, q) : zero4;
            const float4 sd = stdz ? lg_f4(istd_s, q) : zero4;
#pragma unroll
            for (int r = 0; r < LG_RPW; r++) {
                x[r] = lg_quad(xr[r], q, feat);
                if (stdz) x[r] = lg_standardise(x[r], m, sd);
            }
            lg_logits_quad<KP>(x, Wt, d, q, acc);
        }
        lg_logits_store<KP>(acc, p.b, K, warp, lane, zs);
        lg_warp_loss<KP>(p, rows_s[s] + warp * LG_RPW, rows_here, warp, lane, zs, dzs, loss,
                         correct);
        __syncthreads();

        /* dW: the first quad into registers, any others into shared memory. */
        if (owns) {
            const float4 m = stdz ? lg_f4(mean_s, threadIdx.x) : zero4;
            const float4 sd = stdz ? lg_f4(istd_s, threadIdx.x) : zero4;
            lg2_tile_dw<T, KP>(xt, d, threadIdx.x, rows_here, dzs, feat, stdz, m, sd, g_own);
        }
        for (unsigned q = threadIdx.x + LG_THREADS; q < d4; q += LG_THREADS) {
            float g[4][KP];
            lg_zero(g);
            const float4 m = stdz ? lg_f4(mean_s, q) : zero4;
            const float4 sd = stdz ? lg_f4(istd_s, q) : zero4;
            lg2_tile_dw<T, KP>(xt, d, q, rows_here, dzs, feat, stdz, m, sd, g);
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
        lg2_tile_rows(p, tile + stages * grid, n_tiles, rows_s[s]);
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
    lg_block_totals(loss, correct, p.part_acc);
}

/* The block's sum of v, in a fixed order (a tree over red). */
static __device__ __forceinline__ double lgr_block_sum(double v, double *red) {
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
 * at B* on the H100: version 1), then the slices are added in order; dW
 * goes back to d x K row-major. The last block adds the loss and correct
 * count to acc. */
__global__ void __launch_bounds__(LGR_SLICES * 32)
    linear_grad_v2_reduce_kernel(const float *__restrict__ part,
                                 const double *__restrict__ part_acc, unsigned blocks, unsigned d,
                                 unsigned K, int classify, float *__restrict__ dW,
                                 float *__restrict__ db, double *__restrict__ acc) {
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

template <typename T> static lg_kernel_fn lg2_pick(size_t K, int *KP) {
    static const lg_kernel_fn fns[LG_N_WIDTHS] = LG_INSTANCES(linear_grad_v2_kernel, T);
    const int i = lg_width(K, KP);
    return i < 0 ? NULL : fns[i];
}

/* How the kernel takes a shape and layout. */
typedef struct {
    lg_kernel_fn fn;
    size_t smem;     /* dynamic shared memory */
    unsigned stages; /* tiles of rows in shared memory */
    int copy16;      /* 16-byte row copies */
} lg2_plan;

/* The instance for this shape and layout, its shared memory and stages, or
 * fn NULL where the kernel does not take them. No CUDA call, so the launch
 * repeats it for nothing. */
static lg2_plan lg2_instance(const void *X, gsgdi_xtype xt, size_t d, size_t K) {
    lg2_plan pl = {NULL, 0, 1, 0};
    const size_t xsize = xt == GSGD_XTYPE_U8 ? 1 : sizeof(float);
    if (d == 0 || d % 4 != 0 || d > (1u << 24) || K == 0 ||
        !lg_aligned(X, xt == GSGD_XTYPE_U8 ? 4 : 16))
        return pl;
    int KP = 0;
    pl.fn = xt == GSGD_XTYPE_U8 ? lg2_pick<uint8_t>(K, &KP) : lg2_pick<float>(K, &KP);
    if (!pl.fn) return pl;
    pl.stages = lg2_smem_bytes((unsigned)d, KP, xsize, 2) <= LG2_TWO_STAGE_MAX ? 2 : 1;
    pl.smem = lg2_smem_bytes((unsigned)d, KP, xsize, pl.stages);
    pl.copy16 = (d * xsize) % 16 == 0 && lg_aligned(X, 16);
    return pl;
}

int gsgdi_k_linear_grad_v2_scratch(const void *X, gsgdi_xtype xt, size_t d, size_t K, int n_sm,
                                   size_t *bytes) {
    *bytes = 0;
    const lg2_plan pl = lg2_instance(X, xt, d, K);
    if (!pl.fn || n_sm <= 0) return (int)cudaSuccess;
    return lg_scratch_bytes(pl.fn, pl.smem, d, K, n_sm, bytes);
}

int gsgdi_k_linear_grad_v2(const gsgdi_linear_grad_args *a, cudaStream_t s) {
    const lg2_plan pl = lg2_instance(a->X, a->xt, a->d, a->K);
    lg_params p;
    unsigned blocks = 0;
    if (!pl.fn || !lg_launch_params(a, pl.stages, pl.copy16, &p, &blocks))
        return (int)cudaErrorInvalidValue;
    if (blocks) pl.fn<<<blocks, LG_THREADS, pl.smem, s>>>(p);
    /* 32 elements a block, and one more block for the loss and count. */
    const size_t stride = a->K * a->d + a->K;
    linear_grad_v2_reduce_kernel<<<(unsigned)((stride + 31) / 32) + 1, LGR_SLICES * 32, 0, s>>>(
        p.part, p.part_acc, blocks, (unsigned)a->d, (unsigned)a->K, a->classify, a->dW, a->db,
        a->acc);
    return (int)cudaGetLastError();
}
