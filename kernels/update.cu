/*
 * The fused in-place optimizer update over the whole flat buffer.
 * CPU reference: gsgd_cpu_update in src/backend_cpu_update.c; the per-element
 * arithmetic of both is src/update_math.h, where every product, sum,
 * quotient and root is a round-to-nearest intrinsic that nvcc never
 * contracts into an FMA, so elementwise results are bitwise the CPU's. The
 * kernel is bandwidth-bound (12 to 28 bytes per parameter); FMAs would
 * save nothing.
 *
 * Nothing here needs the host mid-step: the learning rate, the guard and
 * the norms (work, written by sumsq.cu beforehand on the same stream) are
 * read from device memory, so a step can be captured in a CUDA Graph.
 * Every block reads the same work[0], so all of them take the same
 * decision to skip a non-finite step; block 0 alone records it in the
 * guard (one writer: no atomics). A non-finite result in stop mode is
 * ORed into a flag word that update_finish_kernel turns into one guard
 * record per step, however many blocks saw it.
 *
 * When every buffer is 16-byte aligned each thread moves float4s; a scalar
 * tail covers n % 4.
 */
#include <stdint.h>

#include "kernels.h"
#include "launch.cuh"

typedef gsgd_k_update_args args_t;

/* Per block: this step's scalars, and for the layer-wise rules each
 * segment's ratio (LARS's trust, LAMB's step) and decay. False when the
 * step is skipped: every thread of every block returns. */
static __device__ bool step_begin(const args_t &a, gsgd_step_scalars *d, size_t *seg, float *q,
                                  int *decay) {
    float clip = 1.0f;
    if (a.needs_total) {
        const float total = a.work[0];
        if (a.guard && a.skip_nonfinite && !isfinite(total)) {
            if (a.pass == 0 && blockIdx.x == 0 && threadIdx.x == 0) {
                gsgd_guard *g = a.guard;
                g->bad_steps++;
                if (g->first_bad == 0) g->first_bad = a.t;
                g->lr_factor = __fmul_rn(g->lr_factor, 0.5f);
            }
            return false;
        }
        clip = gsgd_clip_scale(a.c.clip_norm, total);
    }
    *d = gsgd_step_scalars_make(&a.c, *a.lr, a.guard ? a.guard->lr_factor : 1.0f, clip);
    const int S = a.n_segments;
    if (S > 0) {
        for (int k = threadIdx.x; k <= S; k += blockDim.x) seg[k] = a.seg[k];
        for (int k = threadIdx.x; k < S; k += blockDim.x) {
            const float w2 = a.work[1 + k], x2 = a.work[1 + S + k];
            decay[k] = a.seg[k + 1] <= a.c.n_decay;
            q[k] = a.c.kind == GSGD_OPTIM_LARS ? gsgd_lars_trust(&a.c, w2, x2, d->clip, decay[k])
                   : a.pass == 1               ? gsgd_lamb_step(d->lr, w2, x2)
                                               : 1.0f;
        }
        __syncthreads();
    }
    return true;
}

/* The segment holding element i: the last k with seg[k] <= i (empty
 * segments share a start with the next one). */
static __device__ __forceinline__ int segment_of(const size_t *seg, int S, size_t i) {
    int lo = 0, hi = S;
    while (hi - lo > 1) {
        const int mid = (lo + hi) / 2;
        if (seg[mid] <= i)
            lo = mid;
        else
            hi = mid;
    }
    return lo;
}

/* One element, its values in registers; loads and stores are the
 * caller's. Returns whether w is finite. */
static __device__ __forceinline__ int lane(const args_t &a, const gsgd_step_scalars &d,
                                           const size_t *seg, const float *q, const int *decay,
                                           size_t i, float &w, float g, float &s0, float &s1,
                                           float &u, float &avg) {
    float qi = 1.0f;
    int di = i < a.c.n_decay;
    if (a.n_segments > 0) {
        const int k = segment_of(seg, a.n_segments, i);
        qi = q[k];
        di = decay[k];
    }
    return gsgd_update_elem(a.c.kind, &a.c, &d, a.pass, qi, di, g, &w, &s0, &s1, &u,
                            a.average ? &avg : NULL);
}

/* What a pass reads and writes. LAMB's first pass leaves w and the
 * average alone and writes u; its second reads u and leaves the state. */
struct io {
    bool w_out, g_in, s0, s1, u_in, u_out, avg;
};

static __device__ __forceinline__ io io_of(const args_t &a) {
    const bool lamb = a.c.kind == GSGD_OPTIM_LAMB;
    io f;
    f.w_out = !(lamb && a.pass == 0);
    f.g_in = a.pass == 0;
    f.s0 = a.n_state >= 1 && a.pass == 0;
    f.s1 = a.n_state >= 2 && a.pass == 0;
    f.u_in = lamb && a.pass == 1;
    f.u_out = lamb && a.pass == 0;
    f.avg = a.average != NULL && f.w_out;
    return f;
}

static __device__ __forceinline__ int scalar_at(const args_t &a, const io &f,
                                                const gsgd_step_scalars &d, const size_t *seg,
                                                const float *q, const int *decay, size_t i) {
    float *u = a.work + GSGD_WORK_HEAD;
    float w = a.params[i], g = f.g_in ? a.grads[i] : 0.0f, s0 = f.s0 ? a.s0[i] : 0.0f,
          s1 = f.s1 ? a.s1[i] : 0.0f, ui = f.u_in ? u[i] : 0.0f, av = f.avg ? a.average[i] : 0.0f;
    const int ok = lane(a, d, seg, q, decay, i, w, g, s0, s1, ui, av);
    if (f.w_out) a.params[i] = w;
    if (f.s0) a.s0[i] = s0;
    if (f.s1) a.s1[i] = s1;
    if (f.u_out) u[i] = ui;
    if (f.avg) a.average[i] = av;
    return ok;
}

static __device__ __forceinline__ float4 load4(const float *p, size_t q, bool on) {
    return on ? reinterpret_cast<const float4 *>(p)[q] : make_float4(0.f, 0.f, 0.f, 0.f);
}

static __device__ __forceinline__ void store4(float *p, size_t q, bool on, float4 v) {
    if (on) reinterpret_cast<float4 *>(p)[q] = v;
}

static __device__ __forceinline__ int vec4_at(const args_t &a, const io &f,
                                              const gsgd_step_scalars &d, const size_t *seg,
                                              const float *q, const int *decay, size_t qi) {
    float *u = a.work + GSGD_WORK_HEAD;
    float4 w = load4(a.params, qi, true), g = load4(a.grads, qi, f.g_in),
           s0 = load4(a.s0, qi, f.s0), s1 = load4(a.s1, qi, f.s1), ui = load4(u, qi, f.u_in),
           av = load4(a.average, qi, f.avg);
    const size_t i = 4 * qi;
    int ok = lane(a, d, seg, q, decay, i, w.x, g.x, s0.x, s1.x, ui.x, av.x);
    ok &= lane(a, d, seg, q, decay, i + 1, w.y, g.y, s0.y, s1.y, ui.y, av.y);
    ok &= lane(a, d, seg, q, decay, i + 2, w.z, g.z, s0.z, s1.z, ui.z, av.z);
    ok &= lane(a, d, seg, q, decay, i + 3, w.w, g.w, s0.w, s1.w, ui.w, av.w);
    store4(a.params, qi, f.w_out, w);
    store4(a.s0, qi, f.s0, s0);
    store4(a.s1, qi, f.s1, s1);
    store4(u, qi, f.u_out, ui);
    store4(a.average, qi, f.avg, av);
    return ok;
}

template <bool VEC4> __global__ void update_kernel(const args_t a) {
    __shared__ size_t seg[GSGD_MAX_SEGMENTS + 1];
    __shared__ float q[GSGD_MAX_SEGMENTS];
    __shared__ int decay[GSGD_MAX_SEGMENTS];
    gsgd_step_scalars d;
    if (!step_begin(a, &d, seg, q, decay)) return;
    const io f = io_of(a);
    const size_t first = (size_t)blockIdx.x * blockDim.x + threadIdx.x,
                 stride = (size_t)gridDim.x * blockDim.x;
    const size_t from = VEC4 ? a.n / 4 * 4 : 0;
    int ok = 1;
    if (VEC4)
        for (size_t qi = first; qi < a.n / 4; qi += stride)
            ok &= vec4_at(a, f, d, seg, q, decay, qi);
    for (size_t i = from + first; i < a.n; i += stride) ok &= scalar_at(a, f, d, seg, q, decay, i);
    if (a.bad_flag && __syncthreads_or(!ok) && threadIdx.x == 0) atomicOr(a.bad_flag, 1u);
}

/* Stop mode: one guard record per step, from the flag the passes set. */
__global__ void update_finish_kernel(unsigned *flag, gsgd_guard *g, uint64_t t) {
    if (*flag == 0) return;
    *flag = 0;
    g->bad_steps++;
    if (g->first_bad == 0) g->first_bad = t;
}

static bool aligned(const void *p) { return ((uintptr_t)p & 15) == 0; }

extern "C" int gsgd_k_update(const gsgd_k_update_args *a, void *stream) {
    if (a->n == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    const bool lamb = a->c.kind == GSGD_OPTIM_LAMB;
    const bool vec4 = aligned(a->params) && aligned(a->grads) &&
                      (a->n_state < 1 || aligned(a->s0)) && (a->n_state < 2 || aligned(a->s1)) &&
                      (!a->average || aligned(a->average)) &&
                      (!lamb || aligned(a->work + GSGD_WORK_HEAD));
    if (vec4)
        update_kernel<true><<<gsgd_blocks(a->n / 4 + 1, GSGD_THREADS), GSGD_THREADS, 0, s>>>(*a);
    else
        update_kernel<false><<<gsgd_blocks(a->n, GSGD_THREADS), GSGD_THREADS, 0, s>>>(*a);
    return (int)cudaGetLastError();
}

extern "C" int gsgd_k_update_finish(unsigned *flag, gsgd_guard *guard, uint64_t t, void *stream) {
    update_finish_kernel<<<1, 1, 0, (cudaStream_t)stream>>>(flag, guard, t);
    return (int)cudaGetLastError();
}

extern "C" int gsgd_k_probe(void) {
    cudaFuncAttributes attr;
    return (int)cudaFuncGetAttributes(&attr, update_finish_kernel);
}
