/* What the CPU backend's files share: cpu.c holds the vtable and the ops
 * of the forward and backward pass, cpu_update.c the update and the norms
 * it takes, cpu_context.c the entry points of the backend as a device
 * (lifetime, memory size, description, timers). Never installed. */
#ifndef GSGD_BACKEND_CPU_H
#define GSGD_BACKEND_CPU_H

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"

/* Below this many elements a parallel region costs more than it saves: a
 * fork/join is microseconds on an idle machine, and when the cores are
 * shared, OpenMP workers spinning at the barrier cost far more (measured:
 * softmax epochs 100x slower under load with per-step parallel loops). */
#define GSGD_CPU_PAR_MIN (1u << 17)

/* The backend's sumsq op: out[k] = sum of x[seg[k], seg[k + 1]) squared,
 * accumulated in double, independent of the thread count. */
gsgd_status gsgdi_cpu_sumsq(gsgd_context *ctx, const float *x, const size_t *seg, int n_segments,
                            float *out);

/* The backend's gemm op (cpu_gemm.c): SGEMM, or the product with its
 * inputs rounded to prec. */
gsgd_status gsgdi_cpu_gemm(gsgd_context *ctx, gsgd_precision prec, int trans_a, int trans_b,
                           size_t M, size_t N, size_t K, float alpha, const float *A, size_t lda,
                           const float *B, size_t ldb, float beta, float *C, size_t ldc);

/* The backend's update op: the rule's fused pass over the flat buffer. */
gsgd_status gsgdi_cpu_update(gsgd_context *ctx, const gsgdi_update_rule *rule,
                             const gsgdi_update_args *a);

/* The backend's sparse ops (backend.h, backend/sparse.h), in cpu_sparse.c. */
gsgd_status gsgdi_cpu_csr_gather(gsgd_context *ctx, const gsgdi_csr *X, const float *y,
                                 const uint32_t *perm, size_t start, size_t B, const float *inv_std,
                                 gsgdi_csr_batch *out, float *yb);
size_t gsgdi_cpu_csr_compact_scratch(gsgd_context *ctx, size_t d, size_t cap);
gsgd_status gsgdi_cpu_csr_compact(gsgd_context *ctx, gsgdi_csr_batch *b, size_t B, size_t d);
gsgd_status gsgdi_cpu_csr_matmul(gsgd_context *ctx, const gsgdi_csr_batch *b, size_t B,
                                 const float *W, size_t K, const float *bias, int relu, float *Z);
gsgd_status gsgdi_cpu_csr_weight_grad(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *dZ,
                                      size_t K, float *gW);
gsgd_status gsgdi_cpu_csr_scatter(gsgd_context *ctx, const gsgdi_csr_batch *b, const float *gW,
                                  size_t K, float *dW);
gsgd_status gsgdi_cpu_csr_catch_up(gsgd_context *ctx, const gsgdi_csr_batch *b, float *W, size_t K,
                                   const gsgdi_lazy_decay *z, size_t step);
gsgd_status gsgdi_cpu_csr_flush(gsgd_context *ctx, float *W, size_t d, size_t K,
                                const gsgdi_lazy_decay *z, size_t step);
gsgd_status gsgdi_cpu_update_rows(gsgd_context *ctx, const gsgdi_update_rule *rule,
                                  const gsgdi_rows_update_args *a);

/* Number of OpenMP threads the CPU backend uses. */
int gsgdi_cpu_threads(void);

/* The backend's lifetime, memory and description ops (backend.h), in
 * cpu_context.c. */
gsgd_status gsgdi_cpu_open(gsgd_context *ctx, int device_index);
void gsgdi_cpu_close(gsgd_context *ctx);
gsgd_status gsgdi_cpu_set_stream(gsgd_context *ctx, void *stream);
void gsgdi_cpu_describe(gsgd_context *ctx, char *buf, size_t size);
gsgd_status gsgdi_cpu_mem_info(gsgd_context *ctx, size_t *free_bytes, size_t *total_bytes);
gsgd_status gsgdi_cpu_machine(gsgd_context *ctx, gsgdi_machine *m);

/* The host's part of a machine's description, the same on every backend:
 * m->blas (OpenBLAS's configuration) and m->threads. */
void gsgdi_cpu_host_facts(gsgdi_machine *m);

/* The backend's timer ops: the monotonic clock at each mark. */
gsgd_status gsgdi_cpu_timer_create(gsgd_context *ctx, int n_marks, void **timer);
gsgd_status gsgdi_cpu_timer_mark(gsgd_context *ctx, void *timer, int i);
gsgd_status gsgdi_cpu_timer_seconds(gsgd_context *ctx, void *timer, int i, int j, double *seconds);
void gsgdi_cpu_timer_free(gsgd_context *ctx, void *timer);

#endif
