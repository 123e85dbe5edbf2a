/*
 * `gsgd train --distributed`: data-parallel training over MPI ranks: the
 * gradient is summed with MPI_Allreduce on the CPU backend and with
 * ncclAllReduce on CUDA (distributed_nccl.c, built when CMake finds NCCL;
 * the communicator's id is broadcast over MPI). The library knows nothing
 * of MPI:
 * this glue uses its experimental replica and gradient-hook API, the same
 * way an embedding code would with its own communicator.
 *
 * distributed.c is compiled only when CMake finds MPI; without it the
 * functions below are stubs and cli_dist_available() is 0.
 */
#ifndef GSGD_CLI_DISTRIBUTED_H
#define GSGD_CLI_DISTRIBUTED_H

#include "cli/cli.h"
#include "gsgd.h"

typedef struct {
    int rank, size;
    int local_rank;    /* rank among the ranks on this node: picks its GPU */
    int initialized;   /* MPI_Init done by us */
    int in_collective; /* inside training: a failing rank must abort the others */
    void *nccl;        /* ncclComm_t of the CUDA path, else NULL */
} cli_dist;

#ifdef GSGD_HAVE_MPI
/* 1: this program was built with MPI. */
int cli_dist_available(void);
/* Initialises MPI and fills rank and size. Returns CLI_OK or an exit code
 * after printing why. */
int cli_dist_begin(cli_dist *d);
/* Checks that every rank loaded the same training set and, with shard,
 * replaces *train by this rank's part: every size-th sample from rank, the
 * same count on every rank (up to size - 1 trailing samples are dropped so
 * that all ranks take the same number of steps). */
int cli_dist_prepare_data(cli_dist *d, gsgd_context *ctx, int shard, gsgd_dataset **train);
/* The --device to open on this rank: "cuda" and "auto" (or none) become
 * "cuda:LOCAL_RANK" and "auto:LOCAL_RANK", so that the ranks of a node use
 * one GPU each (NCCL needs distinct devices); anything else is kept. buf
 * holds the result. */
const char *cli_dist_device(const cli_dist *d, const char *device, char *buf, size_t size);
/* Makes tr (training model) replica rank of size and installs the
 * one-allreduce-per-step gradient hook (MPI on the CPU, NCCL on CUDA);
 * training may start after this.
 * Clear d->in_collective once training has succeeded. */
int cli_dist_attach(cli_dist *d, gsgd_context *ctx, gsgd_model *model, gsgd_trainer *tr, int shard);
/* Replaces res->train_loss, this rank's mean over its own samples, by the
 * mean over every rank's samples (one allreduce; call on every rank after
 * training succeeded). n_train: this rank's training samples. */
void cli_dist_global_loss(cli_dist *d, gsgd_train_result *res, size_t n_train, int shard);
/* Ends MPI. A rank that failed during training aborts the job (MPI_Abort
 * with exit code rc), since the other ranks would wait for it forever. */
void cli_dist_end(cli_dist *d, int rc);
#else
static inline int cli_dist_available(void) { return 0; }
static inline int cli_dist_begin(cli_dist *d) {
    (void)d;
    cli_error("--distributed: not built in (this gsgd was built without MPI; install "
              "libopenmpi-dev and rebuild)");
    return CLI_USAGE;
}
static inline const char *cli_dist_device(const cli_dist *d, const char *device, char *buf,
                                          size_t size) {
    (void)d, (void)buf, (void)size;
    return device;
}
static inline int cli_dist_prepare_data(cli_dist *d, gsgd_context *ctx, int shard,
                                        gsgd_dataset **train) {
    (void)d, (void)ctx, (void)shard, (void)train;
    return CLI_USAGE;
}
static inline int cli_dist_attach(cli_dist *d, gsgd_context *ctx, gsgd_model *model,
                                  gsgd_trainer *tr, int shard) {
    (void)d, (void)ctx, (void)model, (void)tr, (void)shard;
    return CLI_USAGE;
}
static inline void cli_dist_global_loss(cli_dist *d, gsgd_train_result *res, size_t n_train,
                                        int shard) {
    (void)d, (void)res, (void)n_train, (void)shard;
}
static inline void cli_dist_end(cli_dist *d, int rc) { (void)d, (void)rc; }
#endif

#ifdef GSGD_HAVE_NCCL
/* distributed_nccl.c: the communicator of all ranks (its id broadcast from
 * rank 0 over MPI) and the hook summing the gradient with one
 * ncclAllReduce on the step's stream. */
int cli_dist_nccl_attach(cli_dist *d, gsgd_context *ctx, gsgd_trainer *tr);
void cli_dist_nccl_end(cli_dist *d);
#endif

#endif
