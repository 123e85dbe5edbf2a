/*
 * The one step driver: how a minibatch's gradient is computed and the
 * update applied, for every caller that runs steps — the epoch loop
 * (epoch.c), the planner's verification and --batch fastest (plan.c), and
 * gsgd bench (bench/step_bench.c), which times the phases through the
 * marks. Recording steps into a CUDA Graph and replaying them goes through
 * here too, so all of them run the step training runs.
 */
#ifndef GSGD_TRAIN_STEP_H
#define GSGD_TRAIN_STEP_H

#include <stddef.h>
#include <stdint.h>

#include "train/trainer.h"

/* The phases of a step, in order. The loss belongs to backward (as in
 * gsgdi_model_backward). With the fused gradient, gather, forward and
 * backward are one op, marked as gather, the other two marks following at
 * once. */
typedef enum {
    GSGDI_PHASE_GATHER,
    GSGDI_PHASE_FORWARD,
    GSGDI_PHASE_BACKWARD,
    GSGDI_PHASE_UPDATE,
    GSGDI_PHASE_COUNT
} gsgdi_phase;

/* Called right after each phase's work is enqueued (not when it has run:
 * a mark that stamps a CUDA event on the context's stream measures the
 * phase without a host synchronisation). Any status other than OK stops
 * the step with it. */
typedef struct {
    gsgd_status (*mark)(void *user, gsgdi_phase done);
    void *user;
} gsgdi_phase_marks;

/* One step: the gradient of this replica's rows perm[lo, lo + b) of a
 * step of `global` rows in all (alone: global == b), scaled by 1/global,
 * then the update at the rate *lr (backend memory). t is the step's
 * 1-based number, counted within the epoch when t_in_epoch (a recorded
 * step, see gsgdi_update_args). A probe step (the planner's, at rate 0)
 * leaves no trace: no guard, no average, no gradient hook; every other
 * step is the training step, the guard and the average as the trainer
 * keeps them. */
typedef struct {
    size_t index; /* 0-based within its epoch (messages) */
    size_t lo, b, global;
    const float *lr;
    uint64_t t;
    int t_in_epoch;
    int probe;
} gsgdi_step;

/* The rows of step s of an epoch (of the trainer's dataset, with its
 * replicas): lo, b and global of a gsgdi_step. */
void gsgdi_step_rows(const gsgd_trainer *tr, size_t s, size_t *lo, size_t *b, size_t *global);
/* Rows of the trainer's dataset that one step consumes: the global batch
 * when replicas share the data, the replica's own batch when sharded. */
size_t gsgdi_trainer_step_rows(const gsgd_trainer *tr);

/* The gradient of st's rows into tr->grads (gather, forward, backward; or
 * the fused op), loss and correct count added to tr->sb.acc; marks the
 * three phases when marks is not NULL. A replica whose slice is empty
 * contributes zeros. */
gsgd_status gsgdi_step_gradient(gsgd_trainer *tr, const gsgdi_step *st,
                                const gsgdi_phase_marks *marks);
/* A lazy trainer's gsgdi_step_gradient leaves the first layer's weight
 * gradient compact (tr->sb.gW, one row per feature of the batch) and its
 * block of tr->grads stale; this writes it there (zeros elsewhere), for a
 * caller that reads the whole flat gradient (the bench's noise scale).
 * Nothing to do for other trainers. */
gsgd_status gsgdi_step_flat_gradient(gsgd_trainer *tr);
/* The whole step: gsgdi_step_gradient, the gradient hook (not for a
 * probe), the rule's one fused update; every phase marked when marks is
 * not NULL. */
gsgd_status gsgdi_step_run(gsgd_trainer *tr, const gsgdi_step *st, const gsgdi_phase_marks *marks);

/* Records the work `issue` enqueues into *graph (a CUDA Graph on CUDA)
 * instead of running it; replay it with the backend's graph_launch. On
 * failure nothing ran, *graph is NULL, and the caller may issue the steps
 * itself. Backends without graphs (graph_begin NULL): UNSUPPORTED. */
gsgd_status gsgdi_step_record(gsgd_trainer *tr, gsgd_status (*issue)(gsgd_trainer *, void *),
                              void *user, void **graph);

/* Readies the trainer for probe and bench steps: rate 0 in tr->lr[0] (p -=
 * 0 * direction leaves every finite parameter as it was), the
 * permutation of epoch 0, the iterate in the model. */
gsgd_status gsgdi_step_prepare_probe(gsgd_trainer *tr);

/* Runs steps probe steps of b <= B rows at rate 0 over the data, which
 * leaves the parameters as they are, then clears the optimizer state the
 * steps left. With seconds not NULL, times each step (synchronised) into
 * seconds[s]. */
gsgd_status gsgdi_trainer_probe(gsgd_trainer *tr, size_t b, int steps, double *seconds);
/* Evaluates one batch of the training data on the trainer's buffers. */
gsgd_status gsgdi_trainer_probe_eval(gsgd_trainer *tr);

#endif
