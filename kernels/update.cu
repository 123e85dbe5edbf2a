/*
 * The fused in-place optimizer update over the whole flat buffer.
 * CPU reference: gsgdi_cpu_update in src/backend_cpu_update.c; the per-element
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

typedef gsgdi_k_update_args args_t;

/* Per block: this step's scalars, and for the layer-wise rules each
 * segment's ratio (LARS's trust, LAMB's step) and decay. False when the
 * step is skipped: every thread of every block returns. */
static __device__ bool step_begin(const args_t &a, gsgdi_step_scalars *d, size_t *seg, float *q,
                                  int *decay) {
    float clip = 1.0f;
    if (a.needs_total) {
        const float total = a.work[0];
        if (a.guard && a.skip_nonfinite && !isfinite(total)) {
            if (a.pass == 0 && blockIdx.x == 0 && threadIdx.x == 0) {
                gsgdi_guard *g = a.guard;
                g->bad_steps++;
                if (g->first_bad == 0) g->first_bad = a.t + (a.t_in_epoch ? g->t_base : 0);
                g->lr_factor = __fmul_rn(g->lr_factor, 0.5f);
            }
            return false;
        }
        clip = gsgdi_clip_scale(a.c.clip_norm, total);
    }
    *d = gsgdi_step_scalars_make(&a.c, *a.lr, a.guard ? a.guard->lr_factor : 1.0f, clip);
    const int S = a.n_segments;
    if (S > 0) {
        for (int k = threadIdx.x; k <= S; k += blockDim.x) seg[k] = a.seg[k];
        for (int k = threadIdx.x; k < S; k += blockDim.x) {
            const float w2 = a.work[1 + k], x2 = a.work[1 + S + k];
            decay[k] = a.seg[k + 1] <= a.c.n_decay;
            q[k] = a.c.kind == GSGD_OPTIM_LARS ? gsgdi_lars_trust(&a.c, w2, x2, d->clip, decay[k])
                   : a.pass == 1               ? gsgdi_lamb_step(d->lr, w2, x2)
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

/* KIND: the rule, fixed at compile time for the elementwise rules so that
 * each gets a kernel of its own (fewer registers, no per-element switch);
 * GENERIC for LARS and LAMB, which read it from the arguments and look up
 * each element's segment. */
#define GENERIC (-1)

template <int KIND> static __device__ __forceinline__ gsgd_optim kind_of(const args_t &a) {
    return KIND == GENERIC ? a.c.kind : (gsgd_optim)KIND;
}

/* One element, its values in registers; loads and stores are the
 * caller's. Returns whether w is finite. */
template <int KIND>
static __device__ __forceinline__ int lane(const args_t &a, const gsgdi_step_scalars &d,
                                           const size_t *seg, const float *q, const int *decay,
                                           size_t i, bool avg_on, float &w, float g, float &s0,
                                           float &s1, float &u, float &avg) {
    float qi = 1.0f;
    int di = i < a.c.n_decay;
    if (KIND == GENERIC && a.n_segments > 0) {
        const int k = segment_of(seg, a.n_segments, i);
        qi = q[k];
        di = decay[k];
    }
    const int ok =
        gsgdi_update_elem(kind_of<KIND>(a), &a.c, &d, a.pass, qi, di, g, &w, &s0, &s1, &u, NULL);
    /* The average's step, as gsgdi_update_elem takes it, here: a pointer
     * that is either &avg or NULL would put the quads in local memory. */
    if (avg_on) avg = GSGD_FADD(avg, GSGD_FMUL(a.c.avg_rate, GSGD_FSUB(w, avg)));
    return ok;
}

/* What a pass reads and writes. LAMB's first pass leaves w and the
 * average alone and writes u; its second reads u and leaves the state. */
struct io {
    bool w_out, g_in, s0, s1, u_in, u_out, avg;
};

template <int KIND> static __device__ __forceinline__ io io_of(const args_t &a) {
    const bool lamb = kind_of<KIND>(a) == GSGD_OPTIM_LAMB;
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

template <int KIND>
static __device__ __forceinline__ int scalar_at(const args_t &a, const io &f,
                                                const gsgdi_step_scalars &d, const size_t *seg,
                                                const float *q, const int *decay, size_t i) {
    float *u = a.work + GSGD_WORK_HEAD;
    float w = a.params[i], g = f.g_in ? a.grads[i] : 0.0f, s0 = f.s0 ? a.s0[i] : 0.0f,
          s1 = f.s1 ? a.s1[i] : 0.0f, ui = f.u_in ? u[i] : 0.0f, av = f.avg ? a.average[i] : 0.0f;
    const int ok = lane<KIND>(a, d, seg, q, decay, i, f.avg, w, g, s0, s1, ui, av);
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

/* Four consecutive elements of every buffer a pass touches. */
struct quad {
    float4 w, g, s0, s1, u, av;
};

static __device__ __forceinline__ void quad_load(const args_t &a, const io &f, size_t qi, quad &v) {
    const float *u = a.work + GSGD_WORK_HEAD;
    v.w = load4(a.params, qi, true);
    v.g = load4(a.grads, qi, f.g_in);
    v.s0 = load4(a.s0, qi, f.s0);
    v.s1 = load4(a.s1, qi, f.s1);
    v.u = load4(u, qi, f.u_in);
    v.av = load4(a.average, qi, f.avg);
}

template <int KIND>
static __device__ __forceinline__ int
quad_step(const args_t &a, const io &f, const gsgdi_step_scalars &d, const size_t *seg,
          const float *q, const int *decay, size_t qi, quad &v) {
    const size_t i = 4 * qi;
    const bool m = f.avg;
    int ok = lane<KIND>(a, d, seg, q, decay, i, m, v.w.x, v.g.x, v.s0.x, v.s1.x, v.u.x, v.av.x);
    ok &= lane<KIND>(a, d, seg, q, decay, i + 1, m, v.w.y, v.g.y, v.s0.y, v.s1.y, v.u.y, v.av.y);
    ok &= lane<KIND>(a, d, seg, q, decay, i + 2, m, v.w.z, v.g.z, v.s0.z, v.s1.z, v.u.z, v.av.z);
    ok &= lane<KIND>(a, d, seg, q, decay, i + 3, m, v.w.w, v.g.w, v.s0.w, v.s1.w, v.u.w, v.av.w);
    return ok;
}

static __device__ __forceinline__ void quad_store(const args_t &a, const io &f, size_t qi,
                                                  const quad &v) {
    float *u = a.work + GSGD_WORK_HEAD;
    store4(a.params, qi, f.w_out, v.w);
    store4(a.s0, qi, f.s0, v.s0);
    store4(a.s1, qi, f.s1, v.s1);
    store4(u, qi, f.u_out, v.u);
    store4(a.average, qi, f.avg, v.av);
}

/* The vector loop takes two quads a stride apart per iteration and issues
 * both quads' loads before either is used: twice the bytes in flight per
 * thread, which the rules with few buffers (SGD: two loads) need to keep
 * the memory system busy. */
template <int KIND, bool VEC4> __global__ void update_kernel(const args_t a) {
    __shared__ size_t seg[GSGD_MAX_SEGMENTS + 1];
    __shared__ float q[GSGD_MAX_SEGMENTS];
    __shared__ int decay[GSGD_MAX_SEGMENTS];
    gsgdi_step_scalars d;
    if (!step_begin(a, &d, seg, q, decay)) return;
    const io f = io_of<KIND>(a);
    const size_t first = (size_t)blockIdx.x * blockDim.x + threadIdx.x,
                 stride = (size_t)gridDim.x * blockDim.x;
    size_t from = 0; /* where the scalar loop starts */
    int ok = 1;
    if (VEC4) {
        const size_t nq = a.n / 4;
        from = 4 * nq;
        size_t qi = first;
        for (; qi + stride < nq; qi += 2 * stride) {
            quad v0, v1;
            quad_load(a, f, qi, v0);
            quad_load(a, f, qi + stride, v1);
            ok &= quad_step<KIND>(a, f, d, seg, q, decay, qi, v0);
            ok &= quad_step<KIND>(a, f, d, seg, q, decay, qi + stride, v1);
            quad_store(a, f, qi, v0);
            quad_store(a, f, qi + stride, v1);
        }
        if (qi < nq) {
            quad v;
            quad_load(a, f, qi, v);
            ok &= quad_step<KIND>(a, f, d, seg, q, decay, qi, v);
            quad_store(a, f, qi, v);
        }
    }
    for (size_t i = from + first; i < a.n; i += stride)
        ok &= scalar_at<KIND>(a, f, d, seg, q, decay, i);
    if (a.bad_flag && __syncthreads_or(!ok) && threadIdx.x == 0) atomicOr(a.bad_flag, 1u);
}

/* Stop mode: one guard record per step, from the flag the passes set. */
__global__ void update_finish_kernel(unsigned *flag, gsgdi_guard *g, uint64_t t, int t_in_epoch) {
    if (*flag == 0) return;
    *flag = 0;
    g->bad_steps++;
    if (g->first_bad == 0) g->first_bad = t + (t_in_epoch ? g->t_base : 0);
}

template <int KIND> static int launch(const gsgdi_k_update_args *a, bool vec4, cudaStream_t s) {
    if (vec4) {
        const size_t pairs = (a->n / 4 + 1) / 2 + 1; /* two quads per thread */
        update_kernel<KIND, true><<<gsgdi_blocks(pairs, GSGD_THREADS), GSGD_THREADS, 0, s>>>(*a);
    } else {
        update_kernel<KIND, false><<<gsgdi_blocks(a->n, GSGD_THREADS), GSGD_THREADS, 0, s>>>(*a);
    }
    return (int)cudaGetLastError();
}

static bool aligned(const void *p) { return ((uintptr_t)p & 15) == 0; }

extern "C" int gsgdi_k_update(const gsgdi_k_update_args *a, void *stream) {
    if (a->n == 0) return (int)cudaSuccess;
    cudaStream_t s = (cudaStream_t)stream;
    const bool lamb = a->c.kind == GSGD_OPTIM_LAMB;
    const bool vec4 = aligned(a->params) && aligned(a->grads) &&
                      (a->n_state < 1 || aligned(a->s0)) && (a->n_state < 2 || aligned(a->s1)) &&
                      (!a->average || aligned(a->average)) &&
                      (!lamb || aligned(a->work + GSGD_WORK_HEAD));
    switch (a->c.kind) {
    case GSGD_OPTIM_SGD:
        return launch<GSGD_OPTIM_SGD>(a, vec4, s);
    case GSGD_OPTIM_MOMENTUM:
        return launch<GSGD_OPTIM_MOMENTUM>(a, vec4, s);
    case GSGD_OPTIM_NESTEROV:
        return launch<GSGD_OPTIM_NESTEROV>(a, vec4, s);
    case GSGD_OPTIM_ADAM:
        return launch<GSGD_OPTIM_ADAM>(a, vec4, s);
    case GSGD_OPTIM_ADAMW:
        return launch<GSGD_OPTIM_ADAMW>(a, vec4, s);
    case GSGD_OPTIM_ADAGRAD:
        return launch<GSGD_OPTIM_ADAGRAD>(a, vec4, s);
    case GSGD_OPTIM_RMSPROP:
        return launch<GSGD_OPTIM_RMSPROP>(a, vec4, s);
    default:
        return launch<GENERIC>(a, vec4, s);
    }
}

extern "C" int gsgdi_k_update_finish(unsigned *flag, gsgdi_guard *guard, uint64_t t, int t_in_epoch,
                                     void *stream) {
    update_finish_kernel<<<1, 1, 0, (cudaStream_t)stream>>>(flag, guard, t, t_in_epoch);
    return (int)cudaGetLastError();
}

extern "C" int gsgdi_k_probe(void) {
    cudaFuncAttributes attr;
    return (int)cudaFuncGetAttributes(&attr, update_finish_kernel);
}
