/*
 * The buffers of one training step, allocated once per batch size, and the
 * timed measurements gsgd bench takes on them (bench_run.c). Built on the
 * library's internal API (src/internal.h) so that gather, forward,
 * backward and update can be timed apart; the update goes through
 * bench_update alone.
 */
#ifndef GSGD_CLI_BENCH_RUN_H
#define GSGD_CLI_BENCH_RUN_H

#include "cli/bench/bench.h"
#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

typedef struct {
    gsgd_context *ctx;
    gsgd_model *m;
    const gsgd_dataset *ds;
    gsgdi_update_rule rule;
    size_t B;
    gsgdi_step_buffers sb;
    float *grads, *lr; /* lr: one float of backend memory */
    float *state[2];   /* the rule's optimizer state (gsgdi_rule_state_count) */
    float *work;       /* the update's scratch (gsgdi_rule_work_floats) */
    size_t work_floats;
    uint32_t *perm;
    void *scratch;
    size_t scratch_bytes;
    void *fused; /* the fused gradient's scratch, or NULL: composed ops */
    size_t fused_bytes;
} bench_bufs;

/* Buffers for steps of up to B rows of ds on model m, with opts' update
 * rule; the permutation of epoch 0 of opts' seed is drawn, lr is set to 0. */
gsgd_status bench_bufs_alloc(bench_bufs *bb, gsgd_model *m, const gsgd_dataset *ds,
                             const gsgd_options *opts, size_t B);
void bench_bufs_free(bench_bufs *bb);

/* The gradient of the mean loss over rows perm[lo, lo + b) into bb->grads
 * (gather, forward, backward; or the fused op, as training takes it). */
gsgd_status bench_gradient(bench_bufs *bb, size_t lo, size_t b);
/* The fused update of the parameters at bb->lr: the one call of the
 * backend's update op in the program. */
gsgd_status bench_update(bench_bufs *bb);

/* Device-to-device copy bandwidth (memcpy on the CPU) of a bytes-long
 * buffer: 2 x bytes moved (read + write) over the median of reps copies. */
gsgd_status bench_copy_gbs(gsgd_context *ctx, size_t bytes, int reps, double *gbs);

/* sgemm's rate on n x n x n (median of reps after one untimed call), in
 * GFLOP/s: the arithmetic yardstick of a step whose floor is its flops. */
gsgd_status bench_sgemm_peak(gsgd_context *ctx, size_t n, int reps, double *gflops);

/* Times warmup + steps steps of bb->B rows (learning rate 0: the model is
 * left as it is, so every batch size is timed at the same point), each
 * phase apart, then sgemm alone on the step's shapes, and fills pt's
 * timing and yardstick fields (copy_gbs: bench_copy_gbs's figure;
 * peak_gflops: bench_sgemm_peak's). */
gsgd_status bench_time_point(bench_bufs *bb, int warmup, int steps, double copy_gbs,
                             double peak_gflops, bench_point *pt);

/* Bytes one step must move at batch B. Composed (fused = 0): each GEMM
 * reads its operands and writes its result once; bias, ReLU and column
 * sums counted as fused into the GEMMs beside them; gather reads the rows
 * as stored, x_size bytes a feature, and writes the float batch; the loss
 * reads logits and writes their gradient. Fused: the rows as stored, their
 * index and target once, the weights read and the gradient written. Both:
 * the update reads and writes what its rule needs. Flops of the forward
 * and backward GEMMs. */
double bench_floor_bytes(const gsgd_model *m, size_t B, const gsgdi_update_rule *rule,
                         size_t x_size, int fused);
double bench_update_bytes(size_t n_params, const gsgdi_update_rule *rule);
void bench_gemm_flops(const gsgd_model *m, size_t B, double *fwd, double *bwd);

#endif
