/*
 * The fused gradient of a one-layer model (backend.h's linear_grad), in
 * numbered versions kept side by side, as llm.c's dev/cuda keeps its
 * kernels: a faster variant is a new version beside the checked ones, and
 * the next change is measured against them. Every version is checked
 * against the CPU reference (the composed ops, src/backend/cpu.c;
 * tests/fused_check.h's bounds) by tests/test_backend_cuda.c, and
 * bench/bench_linear_grad.c checks and times them all on one device:
 *   1  linear_grad_v1.cu  rows read from global memory in both phases,
 *                         a one-thread-per-element reduction (ce983c5 to
 *                         7b91d7d). H100, run A: step at B* 0.289 ms.
 *   2  linear_grad_v2.cu  rows staged in shared memory by cp.async, the
 *                         first dW quad in registers, a sliced reduction
 *                         (9062d0f, c1ac762). H200, run D: step at B*
 *                         0.1976 ms issued (0.1875 ms replayed).
 * Version 2 is the default: the measured best (bench/results/gpu_h200.md;
 * runs A and D were on different devices, the bench compares the versions
 * on one). The backend runs another when GSGD_LINEAR_GRAD_VERSION names
 * it (src/backend/cuda.c).
 */
#include "linear_grad.cuh"

typedef struct {
    int (*scratch)(const void *X, gsgdi_xtype xt, size_t d, size_t K, int n_sm, size_t *bytes);
    int (*launch)(const gsgdi_linear_grad_args *a, cudaStream_t stream);
} lg_version;

static const lg_version lg_versions[GSGD_K_LINEAR_GRAD_VERSIONS] = {
    {gsgdi_k_linear_grad_v1_scratch, gsgdi_k_linear_grad_v1},
    {gsgdi_k_linear_grad_v2_scratch, gsgdi_k_linear_grad_v2},
};

extern "C" int gsgdi_k_linear_grad_scratch(int version, const void *X, gsgdi_xtype xt, size_t d,
                                           size_t K, int n_sm, size_t *bytes) {
    *bytes = 0;
    if (version < 1 || version > GSGD_K_LINEAR_GRAD_VERSIONS) return (int)cudaErrorInvalidValue;
    return lg_versions[version - 1].scratch(X, xt, d, K, n_sm, bytes);
}

extern "C" int gsgdi_k_linear_grad(int version, const gsgdi_linear_grad_args *a, void *stream) {
    if (version < 1 || version > GSGD_K_LINEAR_GRAD_VERSIONS) return (int)cudaErrorInvalidValue;
    return lg_versions[version - 1].launch(a, (cudaStream_t)stream);
}
