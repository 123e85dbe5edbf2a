/* What the CPU backend's two files share: backend_cpu.c holds the vtable
 * and the ops of the forward and backward pass, backend_cpu_update.c the
 * update and the norms it takes. Never installed. */
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

/* The backend's update op: the rule's fused pass over the flat buffer. */
gsgd_status gsgdi_cpu_update(gsgd_context *ctx, const gsgdi_update_rule *rule,
                             const gsgdi_update_args *a);

/* Number of OpenMP threads the CPU backend uses. */
int gsgdi_cpu_threads(void);

#endif
