/*
 * What gsgd bench measures inside the library: the trainer's own step,
 * run by the one step driver (train/step.h) at learning rate 0, timed
 * phase by phase through its marks (CUDA events on the context's stream:
 * the timed steps run back to back with no host synchronisation between
 * phases, as in training; the monotonic clock on the CPU), replayed from a
 * recorded graph where training replays steps; and the yardsticks each
 * figure is set against: a device copy's bandwidth, sgemm alone on the
 * step's shapes and on a large square, and the bytes and flops the step
 * must move and do. Internal: the CLI's `gsgd bench` reports it.
 */
#ifndef GSGD_BENCH_STEP_BENCH_H
#define GSGD_BENCH_STEP_BENCH_H

#include <stddef.h>

#include "train/step.h"

/* One batch size. Times in seconds, rates in bytes or flops per second;
 * NaN where not measured. */
typedef struct {
    size_t batch;
    size_t steps_per_epoch; /* ceil(n / batch) */
    int timed_steps;
    double step_s, step_p25, step_p75, step_min; /* whole step: median, quartiles, min */
    double phase_s[GSGDI_PHASE_COUNT];           /* median of each phase */
    int fused;                                   /* gradient by the fused op */
    double fused_s;                              /* its median (NaN if composed) */
    /* The step replayed from a CUDA Graph, as the trainer runs steps there
     * (median over replays of all the timed steps; NaN where the backend
     * records none), and the step as training runs it: that, else step_s. */
    double step_graph_s, step_train_s;
    double samples_per_s, epoch_s; /* batch / step_train_s, steps_per_epoch x step_train_s */
    /* yardsticks, against figures measured in the same run */
    double update_bytes, update_gbs, update_over_copy; /* fused update vs the copy */
    double fwd_flops, bwd_flops, fwd_gflops, bwd_gflops;
    double fwd_sgemm_gflops, bwd_sgemm_gflops; /* sgemm alone on the same shapes */
    double fwd_over_sgemm, bwd_over_sgemm;     /* phase rate / sgemm rate */
    /* the step's GEMMs alone (forward and backward, the step's shapes and
     * precision) over the whole step as training runs it: the share of
     * the GEMMs' rate the step keeps (1 = nothing but its products) */
    double gemm_s, step_over_gemm;
    /* bandwidth floor of the step, step_train_s over it */
    double floor_bytes, floor_s, step_over_floor;
    /* its flops at the sgemm peak; step_train_s over the larger of the floors */
    double compute_floor_s, step_over_roofline;
    /* sparse data: nonzeros of a timed batch (mean), their rate, and the
     * distinct features (touched rows of W) of the last timed batch; NaN
     * for dense data */
    double batch_nnz, nnz_per_s, touched_rows;
    /* time to target (--target-acc) */
    int ttt_reached; /* -1 not run, 0 not reached, 1 reached */
    int ttt_epochs;
    size_t ttt_steps;
    double ttt_s, ttt_accuracy, ttt_lr;
} gsgdi_bench_point;

/* Device-to-device copy bandwidth (memcpy on the CPU) of a bytes-long
 * buffer: 2 x bytes moved (read + write) over the median of reps copies. */
gsgd_status gsgdi_bench_copy_gbs(gsgd_context *ctx, size_t bytes, int reps, double *gbs);

/* The GEMM's rate on n x n x n in precision prec (median of reps after
 * one untimed call), in GFLOP/s: the arithmetic yardstick of a step whose
 * floor is its flops, so a TF32 or BF16 step is held to the tensor
 * cores' rate. */
gsgd_status gsgdi_bench_sgemm_peak(gsgd_context *ctx, gsgd_precision prec, size_t n, int reps,
                                   double *gflops);

/* Times warmup + steps training steps of tr's batch B at learning rate 0
 * (the model is left as it is, so every batch size is timed at the same
 * point), each phase apart; replays them from a recorded graph where the
 * trainer would (gsgdi_trainer_replays); then sgemm alone on the step's
 * shapes; and fills pt's timing and yardstick fields (copy_gbs:
 * gsgdi_bench_copy_gbs's figure; peak_gflops: gsgdi_bench_sgemm_peak's).
 * Leaves tr's optimizer state as a fresh trainer's. */
gsgd_status gsgdi_bench_time_step(gsgd_trainer *tr, int warmup, int steps, double copy_gbs,
                                  double peak_gflops, gsgdi_bench_point *pt);

/* Bytes one step must move at batch B. Composed (fused = 0): each GEMM
 * reads its operands and writes its result once; bias, ReLU and column
 * sums counted as fused into the GEMMs beside them; gather reads the rows
 * as stored, x_size bytes a feature, and writes the float batch; the loss
 * reads logits and writes their gradient. Fused: the rows as stored, their
 * index and target once, the weights read and the gradient written. Both:
 * the update reads and writes what its rule needs. Flops of the forward
 * and backward GEMMs. */
double gsgdi_bench_floor_bytes(const gsgd_model *m, size_t B, const gsgdi_update_rule *rule,
                               size_t x_size, int fused);
double gsgdi_bench_update_bytes(size_t n_params, const gsgdi_update_rule *rule);
void gsgdi_bench_gemm_flops(const gsgd_model *m, size_t B, double *fwd, double *bwd);

#endif
