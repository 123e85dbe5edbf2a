/*
 * The CUDA path of `gsgd train --distributed` (see distributed.h): one NCCL
 * communicator over all ranks, one GPU per rank, and one ncclAllReduce of
 * the flat gradient per step, enqueued on the stream the trainer computed
 * the gradient on, so the step still needs no host synchronisation.
 */
#include <mpi.h>
#include <nccl.h>
#include <stdint.h>

#include "cli/train/distributed.h"

static gsgd_status nccl_sum(float *grads, size_t n, void *stream, void *user) {
    cli_dist *d = user;
    ncclResult_t r = ncclAllReduce(grads, grads, n, ncclFloat, ncclSum, (ncclComm_t)d->nccl,
                                   (cudaStream_t)stream);
    if (r != ncclSuccess) {
        cli_error("rank %d: ncclAllReduce of %zu floats failed: %s", d->rank, n,
                  ncclGetErrorString(r));
        return GSGD_STATUS_DEVICE_ERROR;
    }
    return GSGD_STATUS_OK;
}

int cli_dist_nccl_attach(cli_dist *d, gsgd_context *ctx, gsgd_trainer *tr) {
    /* Rank 0 makes the communicator's id; every rank needs the same. The
     * context has already made this rank's GPU the current device. */
    ncclUniqueId id;
    ncclResult_t r = ncclSuccess;
    if (d->rank == 0) r = ncclGetUniqueId(&id);
    int ok = r == ncclSuccess, all_ok = 0;
    MPI_Allreduce(&ok, &all_ok, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
    if (!all_ok) {
        cli_error("--distributed: ncclGetUniqueId failed on rank 0: %s", ncclGetErrorString(r));
        return CLI_RUNTIME;
    }
    MPI_Bcast(&id, (int)sizeof id, MPI_BYTE, 0, MPI_COMM_WORLD);
    ncclComm_t comm = NULL;
    r = ncclCommInitRank(&comm, d->size, id, d->rank);
    if (r != ncclSuccess) {
        cli_error("--distributed: rank %d of %d could not join the NCCL communicator: %s (one "
                  "GPU per rank: each rank of a node opens cuda:LOCAL_RANK)",
                  d->rank, d->size, ncclGetErrorString(r));
        return CLI_RUNTIME;
    }
    d->nccl = comm;
    gsgd_status st = gsgd_trainer_set_grad_hook(tr, nccl_sum, d);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    return CLI_OK;
}

void cli_dist_nccl_end(cli_dist *d) {
    if (d->nccl) ncclCommDestroy((ncclComm_t)d->nccl);
    d->nccl = NULL;
}
