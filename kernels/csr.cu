/*
 * Sparse (CSR) batches on the device: the gather of a batch's rows by the
 * device permutation (a segmented copy), their grouping by feature, CSR x W,
 * the compact weight gradient, and the lazy decay's catch-up and flush.
 * CPU reference: src/backend/cpu_sparse.c, op by op (gsgdi_cpu_csr_*).
 *
 * Nothing here needs the host to know a batch's nonzeros: every kernel is
 * launched for the planner's bound (cap) and reads the true counts from
 * device memory, so a step stays free of host synchronisation and can be
 * recorded into a CUDA Graph. Sums run in the CPU's order with the
 * round-to-nearest intrinsics, which nvcc never contracts into FMAs: CSR x
 * W and the weight gradient are bitwise the CPU's; only the order of the
 * distinct features differs (sorted here, first appearance on the CPU),
 * which names the rows of the compact gradient and changes no value.
 *
 * Grouping scratch, each part 256-byte aligned:
 *   keys_in[cap] | keys_out[cap] | pos_in[cap] | counts[cap] | CUB storage
 */
#include <cub/device/device_radix_sort.cuh>
#include <cub/device/device_run_length_encode.cuh>
#include <cub/device/device_scan.cuh>

#include "kernels.h"
#include "launch.cuh"

static size_t align256(size_t x) { return (x + 255) & ~(size_t)255; }

/* One warp per row (or feature), lanes along the K outputs. */
#define WARPS_PER_BLOCK 8

static unsigned warp_blocks(size_t items) {
    size_t b = (items + WARPS_PER_BLOCK - 1) / WARPS_PER_BLOCK;
    return (unsigned)(b == 0 ? 1 : (b > 65535 ? 65535 : b));
}

__device__ __forceinline__ int64_t col_at(const void *ind, int idx64, int64_t k) {
    return idx64 ? ((const int64_t *)ind)[k] : (int64_t)((const int32_t *)ind)[k];
}

/* ---- gather ------------------------------------------------------------- */

/* ptr[i + 1] = nonzeros of the first i + 1 rows: one block scans the B row
 * lengths in chunks of its threads, carrying the running total. */
__global__ void gather_ptr_kernel(const int64_t *__restrict__ indptr,
                                  const uint32_t *__restrict__ perm, size_t start, size_t B,
                                  int32_t *__restrict__ ptr) {
    __shared__ int32_t part[1024];
    __shared__ int32_t carry;
    if (threadIdx.x == 0) carry = 0, ptr[0] = 0;
    __syncthreads();
    for (size_t base = 0; base < B; base += blockDim.x) {
        const size_t i = base + threadIdx.x;
        int32_t len = 0;
        if (i < B) {
            const size_t r = perm ? (size_t)perm[start + i] : start + i;
            len = (int32_t)(indptr[r + 1] - indptr[r]);
        }
        part[threadIdx.x] = len;
        __syncthreads();
        for (unsigned off = 1; off < blockDim.x; off <<= 1) { /* Hillis-Steele */
            const int32_t v = threadIdx.x >= off ? part[threadIdx.x - off] : 0;
            __syncthreads();
            part[threadIdx.x] += v;
            __syncthreads();
        }
        if (i < B) ptr[i + 1] = carry + part[threadIdx.x];
        __syncthreads();
        if (threadIdx.x == blockDim.x - 1) carry += part[threadIdx.x];
        __syncthreads();
    }
}

__global__ void gather_rows_kernel(gsgdi_csr X, const float *__restrict__ y,
                                   const uint32_t *__restrict__ perm, size_t start, size_t B,
                                   const float *__restrict__ inv_std, gsgdi_csr_batch out,
                                   float *__restrict__ yb) {
    const unsigned lane = threadIdx.x % 32;
    for (size_t i = (size_t)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32; i < B;
         i += (size_t)gridDim.x * WARPS_PER_BLOCK) {
        const size_t r = perm ? (size_t)perm[start + i] : start + i;
        const int64_t lo = X.indptr[r];
        const int32_t q0 = out.ptr[i], q1 = out.ptr[i + 1];
        for (int32_t q = q0 + (int32_t)lane; q < q1 && (size_t)q < out.cap; q += 32) {
            const int64_t c = col_at(X.indices, X.idx64, lo + (q - q0));
            const float v = X.values[lo + (q - q0)];
            out.col[q] = (int32_t)c;
            out.val[q] = inv_std ? __fmul_rn(v, inv_std[c]) : v;
            out.row[q] = (int32_t)i;
        }
        if (lane == 0) yb[i] = y[r];
    }
}

extern "C" int gsgdi_k_csr_gather(const gsgdi_csr *X, const float *y, const uint32_t *perm,
                                  size_t start, size_t B, const float *inv_std,
                                  const gsgdi_csr_batch *out, float *yb, void *stream) {
    if (B == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    gather_ptr_kernel<<<1, 1024, 0, s>>>(X->indptr, perm, start, B, out->ptr);
    gather_rows_kernel<<<warp_blocks(B), 32 * WARPS_PER_BLOCK, 0, s>>>(*X, y, perm, start, B,
                                                                       inv_std, *out, yb);
    return (int)cudaGetLastError();
}

/* ---- grouping by feature -------------------------------------------------- */

typedef struct {
    int32_t *keys_in, *keys_out, *pos_in, *counts;
    void *temp;
    size_t temp_bytes;
} compact_parts;

static cudaError_t temp_bytes(size_t cap, size_t *bytes) {
    size_t a = 0, b = 0, c = 0;
    const int n = (int)cap;
    cudaError_t e =
        cub::DeviceRadixSort::SortPairs(NULL, a, (const int32_t *)NULL, (int32_t *)NULL,
                                        (const int32_t *)NULL, (int32_t *)NULL, n, 0, 32);
    if (e == cudaSuccess)
        e = cub::DeviceRunLengthEncode::Encode(NULL, b, (const int32_t *)NULL, (int32_t *)NULL,
                                               (int32_t *)NULL, (int32_t *)NULL, n);
    if (e == cudaSuccess)
        e = cub::DeviceScan::ExclusiveSum(NULL, c, (const int32_t *)NULL, (int32_t *)NULL, n);
    *bytes = a > b ? (a > c ? a : c) : (b > c ? b : c);
    return e;
}

extern "C" int gsgdi_k_csr_compact_scratch(size_t cap, size_t *bytes) {
    *bytes = 0;
    if (cap == 0) cap = 1;
    if (cap >= INT32_MAX) return (int)cudaErrorInvalidValue;
    size_t temp;
    const cudaError_t e = temp_bytes(cap, &temp);
    if (e != cudaSuccess) return (int)e;
    *bytes = 4 * align256(cap * sizeof(int32_t)) + align256(temp);
    return (int)cudaSuccess;
}

static compact_parts parts_of(void *scratch, size_t cap) {
    compact_parts p;
    char *base = (char *)scratch;
    const size_t a = align256(cap * sizeof(int32_t));
    p.keys_in = (int32_t *)base;
    p.keys_out = (int32_t *)(base + a);
    p.pos_in = (int32_t *)(base + 2 * a);
    p.counts = (int32_t *)(base + 3 * a);
    p.temp = base + 4 * a;
    return p;
}

/* Keys: each nonzero's feature, INT32_MAX past the batch's nonzeros (they
 * sort last and form one run, dropped by finish); values: positions. */
__global__ void compact_keys_kernel(const gsgdi_csr_batch b, size_t B, int32_t *keys,
                                    int32_t *pos) {
    const int32_t nnz = b.ptr[B];
    for (size_t p = (size_t)blockIdx.x * blockDim.x + threadIdx.x; p < b.cap;
         p += (size_t)gridDim.x * blockDim.x) {
        keys[p] = (int32_t)p < nnz ? b.col[p] : INT32_MAX;
        pos[p] = (int32_t)p;
    }
}

__global__ void compact_finish_kernel(const gsgdi_csr_batch b, size_t B) {
    const int32_t nnz = b.ptr[B];
    int32_t r = *b.n_feat;
    if (r > 0 && b.feat[r - 1] == INT32_MAX) r--;
    *b.n_feat = r;
    b.fptr[r] = nnz;
}

extern "C" int gsgdi_k_csr_compact(const gsgdi_csr_batch *b, size_t B, void *stream) {
    cudaStream_t s = (cudaStream_t)stream;
    const int n = (int)b->cap;
    size_t temp;
    cudaError_t e = temp_bytes(b->cap, &temp);
    if (e != cudaSuccess) return (int)e;
    compact_parts p = parts_of(b->scratch, b->cap);
    compact_keys_kernel<<<gsgdi_blocks(b->cap, GSGD_THREADS), GSGD_THREADS, 0, s>>>(
        *b, B, p.keys_in, p.pos_in);
    /* stable: a feature's nonzeros stay in batch order */
    e = cub::DeviceRadixSort::SortPairs(p.temp, temp, p.keys_in, p.keys_out, p.pos_in, b->order, n,
                                        0, 32, s);
    if (e == cudaSuccess)
        e = cub::DeviceRunLengthEncode::Encode(p.temp, temp, p.keys_out, b->feat, p.counts,
                                               b->n_feat, n, s);
    if (e == cudaSuccess) e = cub::DeviceScan::ExclusiveSum(p.temp, temp, p.counts, b->fptr, n, s);
    if (e != cudaSuccess) return (int)e;
    compact_finish_kernel<<<1, 1, 0, s>>>(*b, B);
    return (int)cudaGetLastError();
}

/* ---- CSR x W and the compact gradient ---------------------------------------- */

__global__ void matmul_kernel(const gsgdi_csr_batch b, size_t B, const float *__restrict__ W,
                              size_t K, const float *__restrict__ bias, int relu,
                              float *__restrict__ Z) {
    const unsigned lane = threadIdx.x % 32;
    for (size_t i = (size_t)blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32; i < B;
         i += (size_t)gridDim.x * WARPS_PER_BLOCK)
        for (size_t k = lane; k < K; k += 32) {
            float z = 0.0f;
            for (int32_t p = b.ptr[i]; p < b.ptr[i + 1]; p++)
                z = __fadd_rn(z, __fmul_rn(b.val[p], W[(size_t)b.col[p] * K + k]));
            z = __fadd_rn(z, bias[k]);
            Z[i * K + k] = relu && z < 0.0f ? 0.0f : z;
        }
}

extern "C" int gsgdi_k_csr_matmul(const gsgdi_csr_batch *b, size_t B, const float *W, size_t K,
                                  const float *bias, int relu, float *Z, void *stream) {
    if (B == 0) return (int)cudaSuccess;
    matmul_kernel<<<warp_blocks(B), 32 * WARPS_PER_BLOCK, 0, (cudaStream_t)stream>>>(*b, B, W, K,
                                                                                     bias, relu, Z);
    return (int)cudaGetLastError();
}

__global__ void weight_grad_kernel(const gsgdi_csr_batch b, const float *__restrict__ dZ, size_t K,
                                   float *__restrict__ gW) {
    const unsigned lane = threadIdx.x % 32;
    const int32_t r = *b.n_feat;
    for (int32_t i = (int32_t)(blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32); i < r;
         i += (int32_t)(gridDim.x * WARPS_PER_BLOCK))
        for (size_t k = lane; k < K; k += 32) {
            double acc = 0.0;
            for (int32_t q = b.fptr[i]; q < b.fptr[i + 1]; q++) {
                const int32_t p = b.order[q];
                acc = __dadd_rn(acc,
                                __dmul_rn((double)b.val[p], (double)dZ[(size_t)b.row[p] * K + k]));
            }
            gW[(size_t)i * K + k] = (float)acc;
        }
}

extern "C" int gsgdi_k_csr_weight_grad(const gsgdi_csr_batch *b, const float *dZ, size_t K,
                                       float *gW, void *stream) {
    weight_grad_kernel<<<warp_blocks(b->cap), 32 * WARPS_PER_BLOCK, 0, (cudaStream_t)stream>>>(
        *b, dZ, K, gW);
    return (int)cudaGetLastError();
}

__global__ void scatter_kernel(const gsgdi_csr_batch b, const float *__restrict__ gW, size_t K,
                               float *__restrict__ dW) {
    const size_t total = (size_t)*b.n_feat * K;
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < total;
         e += (size_t)gridDim.x * blockDim.x)
        dW[(size_t)b.feat[e / K] * K + e % K] = gW[e];
}

extern "C" int gsgdi_k_csr_scatter(const gsgdi_csr_batch *b, const float *gW, size_t K, float *dW,
                                   void *stream) {
    scatter_kernel<<<gsgdi_blocks(b->cap * K, GSGD_THREADS), GSGD_THREADS, 0,
                     (cudaStream_t)stream>>>(*b, gW, K, dW);
    return (int)cudaGetLastError();
}

/* ---- the lazy decay ------------------------------------------------------------ */

/* exp in double of a difference of sums of logs, rounded once (CPU:
 * catch_up_factor); CUDA's exp is within an ulp of glibc's. */
__device__ __forceinline__ float factor(const double *logf_, uint32_t upto, size_t s) {
    return (float)exp(logf_[s] - logf_[upto]);
}

__global__ void catch_up_kernel(const gsgdi_csr_batch b, float *__restrict__ W, size_t K,
                                uint32_t *__restrict__ upto, const double *__restrict__ logf_,
                                size_t step) {
    const unsigned lane = threadIdx.x % 32;
    const int32_t r = *b.n_feat;
    for (int32_t i = (int32_t)(blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32); i < r;
         i += (int32_t)(gridDim.x * WARPS_PER_BLOCK)) {
        const size_t j = (size_t)b.feat[i];
        const uint32_t u = upto[j];
        __syncwarp();
        if (u == step) continue;
        const float f = factor(logf_, u, step);
        for (size_t k = lane; k < K; k += 32) W[j * K + k] = __fmul_rn(W[j * K + k], f);
        if (lane == 0) upto[j] = (uint32_t)step;
    }
}

extern "C" int gsgdi_k_csr_catch_up(const gsgdi_csr_batch *b, float *W, size_t K, uint32_t *upto,
                                    const double *logf_, size_t step, void *stream) {
    catch_up_kernel<<<warp_blocks(b->cap), 32 * WARPS_PER_BLOCK, 0, (cudaStream_t)stream>>>(
        *b, W, K, upto, logf_, step);
    return (int)cudaGetLastError();
}

__global__ void flush_kernel(float *__restrict__ W, size_t d, size_t K,
                             const uint32_t *__restrict__ upto, const double *__restrict__ logf_,
                             size_t step) {
    for (size_t e = (size_t)blockIdx.x * blockDim.x + threadIdx.x; e < d * K;
         e += (size_t)gridDim.x * blockDim.x) {
        const uint32_t u = upto[e / K];
        if (u != step) W[e] = __fmul_rn(W[e], factor(logf_, u, step));
    }
}

extern "C" int gsgdi_k_csr_flush(float *W, size_t d, size_t K, const uint32_t *upto,
                                 const double *logf_, size_t step, void *stream) {
    flush_kernel<<<gsgdi_blocks(d * K, GSGD_THREADS), GSGD_THREADS, 0, (cudaStream_t)stream>>>(
        W, d, K, upto, logf_, step);
    return (int)cudaGetLastError();
}

/* ---- the row-sparse update -------------------------------------------------------- */

__global__ void update_rows_kernel(gsgdi_k_rows_args a) {
    const unsigned lane = threadIdx.x % 32;
    const gsgdi_csr_batch b = a.batch;
    const int32_t r = *b.n_feat;
    const gsgdi_step_scalars d =
        gsgdi_step_scalars_make(&a.c, *a.lr, a.guard ? a.guard->lr_factor : 1.0f, 1.0f);
    if (a.logf && blockIdx.x == 0 && threadIdx.x == 0)
        a.logf[a.step + 1] = a.logf[a.step] + log1p(-(double)d.lr * (double)a.c.wd);
    bool bad = false;
    for (int32_t i = (int32_t)(blockIdx.x * WARPS_PER_BLOCK + threadIdx.x / 32); i < r;
         i += (int32_t)(gridDim.x * WARPS_PER_BLOCK)) {
        const size_t base = (size_t)b.feat[i] * a.K;
        for (size_t k = lane; k < a.K; k += 32) {
            float w = a.W[base + k], s0 = a.s0 ? a.s0[base + k] : 0.0f,
                  s1 = a.s1 ? a.s1[base + k] : 0.0f;
            gsgdi_rule_step(a.c.kind, &a.c, &d, 1.0f, 1, a.gW[(size_t)i * a.K + k], &w, &s0, &s1,
                            NULL);
            a.W[base + k] = w;
            if (a.s0) a.s0[base + k] = s0;
            if (a.s1) a.s1[base + k] = s1;
            bad |= !isfinite(w);
        }
        if (a.upto && lane == 0) a.upto[b.feat[i]] = (uint32_t)(a.step + 1);
    }
    if (bad && a.bad_flag) atomicOr(a.bad_flag, 1u);
}

extern "C" int gsgdi_k_update_rows(const gsgdi_k_rows_args *a, void *stream) {
    update_rows_kernel<<<warp_blocks(a->batch.cap), 32 * WARPS_PER_BLOCK, 0,
                         (cudaStream_t)stream>>>(*a);
    return (int)cudaGetLastError();
}
