/*
 * The fused one-layer gradient, version 1: the first kernel (commits
 * ce983c5 to 7b91d7d), kept to measure later versions against
 * (linear_grad.cu says which runs by default). As it was at 7b91d7d,
 * adapted to today's op signature and names and to the pieces the
 * versions share (linear_grad.cuh); the arithmetic and the memory accesses
 * are that commit's.
 * CPU reference: the composed ops it replaces (cpu_gather, cpu_gemm,
 * cpu_bias_act, cpu_loss, cpu_gemm, cpu_col_sum in src/backend/cpu.c);
 * tests/fused_check.h bounds the difference (another summation order).
 *
 * Each row is read from the dataset as stored (one byte per feature for
 * images), turned into features in registers and used by both products;
 * the batch matrix, the logits and their gradients never go through global
 * memory. Persistent blocks (as many as fit on the device) take tiles of
 * LG_TILE rows in turn:
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
 *
 * Measured (run A, H100 80GB HBM3, bench/results/gpu_h200.md): the softmax
 * step at B* = 60000 0.289 ms against 0.491 ms composed; the kernel 243 us
 * at 24% occupancy, waiting on global loads in both phases; the reduction
 * 69 us (one thread per element adding 264 partials in turn).
 */
#include "linear_grad.cuh"

static __device__ __forceinline__ size_t lg1_row(const lg_params &p, size_t i) {
    return p.perm ? (size_t)p.perm[p.start + i] : p.start + i;
}

/* Shared memory of a block, in floats: weights and dW (KP x d each,
 * transposed), mean and 1/std (d each), the byte-to-feature table (256),
 * logits and their gradients (LG_TILE x LG_ZS(KP) each). */
static size_t lg1_smem_bytes(unsigned d, int KP) {
    return sizeof(float) *
           (2 * (size_t)KP * d + 2 * (size_t)d + 256 + 2 * (size_t)LG_TILE * LG_ZS(KP));
}

/* KP: K rounded up to the instance's width (linear_grad.cuh). */
template <typename T, int KP>
__global__ void __launch_bounds__(LG_THREADS) linear_grad_v1_kernel(lg_params p) {
    extern __shared__ float4 smem4[];
    const unsigned d = p.d, d4 = d / 4, K = p.K;
    float *Wt = reinterpret_cast<float *>(smem4); /* Wt[k d + j] = W[j][k] */
    float *dWs = Wt + KP * d;                     /* dWs[k d + j]: the block's dW */
    float *mean_s = dWs + KP * d, *istd_s = mean_s + d, *feat = istd_s + d;
    constexpr int ZS = LG_ZS(KP);
    float *zs = feat + 256, *dzs = zs + LG_TILE * ZS; /* [tile row][ZS] */
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

        /* Logits of this warp's rows, read from global memory (rows past
         * the batch repeat the last one, and their results are dropped). */
        size_t rows[LG_RPW];
#pragma unroll
        for (int r = 0; r < LG_RPW; r++) {
            const unsigned t = warp * LG_RPW + r;
            rows[r] = lg1_row(p, base + (t < rows_here ? t : rows_here - 1));
        }
        float acc[LG_RPW][KP];
        lg_zero(acc);
        for (unsigned q = lane; q < d4; q += 32) {
            float4 x[LG_RPW];
#pragma unroll
            for (int r = 0; r < LG_RPW; r++) {
                x[r] = lg_quad(X + rows[r] * d, q, feat);
                if (stdz) x[r] = lg_standardise(x[r], lg_f4(mean_s, q), lg_f4(istd_s, q));
            }
            lg_logits_quad<KP>(x, Wt, d, q, acc);
        }
        lg_logits_store<KP>(acc, p.b, K, warp, lane, zs);
        lg_warp_loss<KP>(p, rows, rows_here, warp, lane, zs, dzs, loss, correct);
        __syncthreads();

        /* dW of this thread's feature quads over the tile's rows, read from
         * global memory again. */
        for (unsigned q = threadIdx.x; q < d4; q += LG_THREADS) {
            float g[4][KP];
            lg_zero(g);
            for (unsigned t = 0; t < rows_here; t++) {
                float4 x = lg_quad(X + lg1_row(p, base + t) * d, q, feat);
                if (stdz) x = lg_standardise(x, lg_f4(mean_s, q), lg_f4(istd_s, q));
                lg_dw_row<KP>(x, dzs + t * ZS, g);
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
    lg_block_totals(loss, correct, p.part_acc);
}

/* Sums the blocks' partials in block order, in double, one thread per
 * element: dW back to d x K row-major, db, and the loss and correct count
 * added to acc. */
__global__ void linear_grad_v1_reduce_kernel(const float *__restrict__ part,
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

template <typename T> static lg_kernel_fn lg1_pick(size_t K, int *KP) {
    static const lg_kernel_fn fns[LG_N_WIDTHS] = LG_INSTANCES(linear_grad_v1_kernel, T);
    const int i = lg_width(K, KP);
    return i < 0 ? NULL : fns[i];
}

/* The instance for this shape and layout and its shared memory, or NULL
 * where the kernel does not take them. No CUDA call. */
static lg_kernel_fn lg1_instance(const void *X, gsgdi_xtype xt, size_t d, size_t K, size_t *smem) {
    if (d == 0 || d % 4 != 0 || d > (1u << 30) || K == 0 ||
        !lg_aligned(X, xt == GSGD_XTYPE_U8 ? 4 : 16))
        return NULL;
    int KP = 0;
    const lg_kernel_fn fn =
        xt == GSGD_XTYPE_U8 ? lg1_pick<uint8_t>(K, &KP) : lg1_pick<float>(K, &KP);
    if (fn) *smem = lg1_smem_bytes((unsigned)d, KP);
    return fn;
}

int gsgdi_k_linear_grad_v1_scratch(const void *X, gsgdi_xtype xt, size_t d, size_t K, int n_sm,
                                   size_t *bytes) {
    *bytes = 0;
    size_t smem = 0;
    const lg_kernel_fn fn = lg1_instance(X, xt, d, K, &smem);
    if (!fn || n_sm <= 0) return (int)cudaSuccess;
    return lg_scratch_bytes(fn, smem, d, K, n_sm, bytes);
}

int gsgdi_k_linear_grad_v1(const gsgdi_linear_grad_args *a, cudaStream_t s) {
    size_t smem = 0;
    const lg_kernel_fn fn = lg1_instance(a->X, a->xt, a->d, a->K, &smem);
    lg_params p;
    unsigned blocks = 0;
    if (!fn || !lg_launch_params(a, 1, 0, &p, &blocks)) return (int)cudaErrorInvalidValue;
    if (blocks) fn<<<blocks, LG_THREADS, smem, s>>>(p);
    const size_t stride = a->K * a->d + a->K;
    linear_grad_v1_reduce_kernel<<<gsgdi_blocks(stride, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
        p.part, p.part_acc, blocks, (unsigned)a->d, (unsigned)a->K, a->classify, a->dW, a->db,
        a->acc);
    return (int)cudaGetLastError();
}
