/* The trainer's state, shared by buffers.c (its buffers), step.c (the one
 * step driver), epoch.c (the step loop), loop.c (the multi-epoch driver),
 * trainer.c (the planned trainer of the public API), the planner, the
 * bench, and io/checkpoint*.c (which save and restore all of it). Never
 * installed. */
#ifndef GSGD_TRAINER_H
#define GSGD_TRAINER_H

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"
#include "optim/schedule.h"

struct gsgd_trainer {
    gsgd_context *ctx;
    gsgd_model *m;
    const gsgd_dataset *train; /* what the steps draw from */
    gsgd_dataset *own_train;   /* with VALIDATION_FRACTION: the training part
                                  of the caller's set (owned), else NULL */
    gsgd_dataset *val;         /* the held-out part (owned), else NULL */
    gsgd_options opts;
    gsgdi_update_rule rule;
    size_t B;
    gsgdi_step_buffers sb;
    float *grads;    /* flat, same layout as the parameters */
    float *state[2]; /* optimizer state (gsgdi_rule_state_count buffers) */
    float *work;     /* the update's scratch, work_floats floats */
    size_t work_floats;
    float *average;     /* AVERAGE: the running average of the iterates */
    size_t avg_count;   /* iterates averaged so far */
    int avg_swapped;    /* m->params and average are swapped (see gsgdi_trainer_use_average) */
    gsgdi_guard *guard; /* backend memory: the device-side NaN/Inf record */
    float *lr;          /* backend memory: lr_len rates, one per step of an
                           epoch when the rate changes within epochs
                           (uploaded once per epoch), else one */
    size_t lr_len;
    float *lr_host;          /* host staging for the rates, lr_len floats */
    gsgd_batch_plan *plan;   /* how the batch was chosen (owned) */
    double lr_now;           /* rate of the latest step, for messages and progress */
    double lr_factor;        /* ADAPTIVE's division by 5s (1 otherwise) */
    double best;             /* early stopping / ADAPTIVE: best monitored value */
    int no_improve;          /* epochs since the monitored value last improved */
    gsgdi_cooldown cooldown; /* EPOCHS 0 with COSINE: the final decay, once found */
    uint32_t bad_seen;       /* guard->bad_steps already reported */
    size_t checked_steps;    /* steps at the last health check */
    uint32_t *perm;          /* this epoch's permutation */
    void *perm_scratch;      /* backend scratch for building it */
    size_t perm_scratch_bytes;
    int lazy;               /* sparse data: the first layer's weights are updated on
                               the rows a batch touches only (update_rows), the rest
                               densely; else the whole buffer densely */
    gsgdi_lazy_decay decay; /* lazy plain SGD with weight decay: its state
                               (backend/sparse.h); else NULL arrays */
    int decay_pending;      /* steps since the last flush: rows may lag */
    void *fused;            /* the fused gradient's scratch (gsgdi_model_fused_bytes),
                               or NULL: steps compose gather, forward, backward */
    size_t fused_bytes;
    int epoch;                   /* epochs completed */
    size_t epoch_step;           /* steps done of the epoch in progress: nonzero only
                                    after a stop mid-epoch, where the next epoch
                                    call resumes (same permutation, same rates) */
    size_t steps;                /* optimizer steps taken */
    gsgd_grad_hook_fn grad_hook; /* between backward and update (data parallel) */
    void *grad_hook_user;
    int rank, n_replicas, shard; /* see gsgd_trainer_set_replica; 1 replica alone */
    void **graphs;               /* recorded steps (CUDA Graphs), one per chunk of
                                    CHECK_EVERY steps of an epoch, or NULL */
    size_t n_graphs;
    int graphs_per_step; /* the rate table's layout they were recorded with */
    int graphs_off;      /* a recording failed: steps are issued one by one */
};

/* What the step loop reports to a progress callback. */
typedef struct {
    gsgd_progress_fn fn;
    void *user;
    gsgd_progress p;
    double t0; /* wall clock at the start of gsgd_train */
} gsgdi_progress_state;

/* ---- buffers.c: the trainer's buffers, allocated once ---------------------- */

/* Checks that a model and a training set can train together. */
gsgd_status gsgdi_trainer_check(const gsgd_model *m, const gsgd_dataset *train);
/* Creates a trainer with every buffer for batch B (clamped to the data),
 * without planning: what gsgd_trainer_create does for a fixed BATCH. */
gsgd_status gsgdi_trainer_alloc(gsgd_model *m, const gsgd_dataset *train, const gsgd_options *opts,
                                size_t B, gsgd_trainer **out);
/* Frees what gsgdi_trainer_alloc allocated (and the recorded steps), the
 * model keeping the average when there is one; not the plan or the
 * datasets gsgd_trainer_create adds (gsgd_trainer_free). NULL: no-op. */
void gsgdi_trainer_release(gsgd_trainer *tr);
/* Zeroes the optimizer state: a fresh optimizer's. */
gsgd_status gsgdi_trainer_clear_state(gsgd_trainer *tr);
/* With AVERAGE, puts the average (on = 1) or the iterate (on = 0) in the
 * model's parameter pointer. */
void gsgdi_trainer_use_average(gsgd_trainer *tr, int on);
/* Releases the recorded steps. */
void gsgdi_trainer_drop_graphs(gsgd_trainer *tr);
/* Whether steps of this rule and options over train update rows lazily
 * (tr->lazy): sparse data, a row-sparse rule (gsgdi_rule_updates_rows), no
 * average, GSGD_SPARSE_LAZY not 0 in the environment. */
int gsgdi_trainer_lazy(const gsgdi_update_rule *rule, const gsgd_options *opts,
                       const gsgd_dataset *train);
/* Brings every row of a lazy trainer's first layer up to date (the decay
 * it has not had yet), so that the model holds the true weights: at the
 * end of each epoch, before evaluation, saving and release. Nothing to do
 * otherwise. */
gsgd_status gsgdi_trainer_flush(gsgd_trainer *tr);

/* ---- epoch.c: the step loop ------------------------------------------------ */

/* Whether the epoch loop records its steps once and replays them (CUDA
 * Graphs): a backend that records, no gradient hook (it may talk to other
 * ranks), an update whose scalars are the same every epoch (no Adam-family
 * bias correction, no average), GSGD_CUDA_GRAPHS not 0, no failed
 * recording. */
int gsgdi_trainer_replays(const gsgd_trainer *tr);
/* One epoch of steps (or the rest of one stopped mid-epoch), reporting to
 * ps when not NULL. */
gsgd_status gsgdi_trainer_run_epoch(gsgd_trainer *tr, gsgdi_progress_state *ps, double *mean_loss);

#endif
