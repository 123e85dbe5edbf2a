/* MPI glue of `gsgd train --distributed` (see distributed.h). */
#include "cli/train/distributed.h"

#include <limits.h>
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

int cli_dist_available(void) { return 1; }

int cli_dist_begin(cli_dist *d) {
    /* Only the main thread calls MPI; OpenMP threads live inside the
     * library's compute loops. */
    int provided = 0;
    if (MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
        cli_error("--distributed: MPI_Init failed");
        return CLI_RUNTIME;
    }
    d->initialized = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    MPI_Comm node;
    MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, d->rank, MPI_INFO_NULL, &node);
    MPI_Comm_rank(node, &d->local_rank);
    MPI_Comm_free(&node);
    return CLI_OK;
}

const char *cli_dist_device(const cli_dist *d, const char *device, char *buf, size_t size) {
    if (!device) device = "auto";
    if (strcmp(device, "cuda") != 0 && strcmp(device, "auto") != 0) return device;
    snprintf(buf, size, "%s:%d", device, d->local_rank);
    return buf;
}

/* 1 when every rank passed the same value. */
static int all_equal(uint64_t v) {
    uint64_t lo = 0, hi = 0;
    MPI_Allreduce(&v, &lo, 1, MPI_UINT64_T, MPI_MIN, MPI_COMM_WORLD);
    MPI_Allreduce(&v, &hi, 1, MPI_UINT64_T, MPI_MAX, MPI_COMM_WORLD);
    return lo == hi;
}

int cli_dist_prepare_data(cli_dist *d, gsgd_context *ctx, int shard, gsgd_dataset **train) {
    size_t n = 0, dim = 0;
    gsgd_status st = gsgd_dataset_shape(*train, &n, &dim, NULL);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    /* Replicas must agree on the samples behind every index, or the shared
     * permutation means different things on different ranks. */
    if (!all_equal(n) || !all_equal(dim)) {
        cli_error("--distributed: the ranks loaded training sets of different shapes "
                  "(rank %d: %zu samples of %zu features)",
                  d->rank, n, dim);
        return CLI_USAGE;
    }
    if (!shard) return CLI_OK;
    const size_t per = n / (size_t)d->size;
    if (per == 0) {
        cli_error("--shard: %zu training samples cannot be split over %d ranks", n, d->size);
        return CLI_USAGE;
    }
    if (d->rank == 0 && per * (size_t)d->size < n)
        cli_warn("--shard: dropping the last %zu of %zu samples so that each of the %d ranks "
                 "holds %zu",
                 n - per * (size_t)d->size, n, d->size, per);
    gsgd_dataset *part = NULL;
    st = gsgd_dataset_subset(*train, (size_t)d->rank, per, (size_t)d->size, &part);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    gsgd_dataset_free(*train);
    *train = part;
    return CLI_OK;
}

/* One MPI_Allreduce per step: the trainer already scaled each rank's
 * gradient by its share of the global batch, so the sum is the mean. */
static gsgd_status allreduce_sum(float *grads, size_t n, void *stream, void *user) {
    (void)stream; /* CPU backend: host memory, computed synchronously */
    (void)user;
    int rc = MPI_Allreduce(MPI_IN_PLACE, grads, (int)n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
    return rc == MPI_SUCCESS ? GSGD_STATUS_OK : GSGD_STATUS_INTERNAL;
}

int cli_dist_attach(cli_dist *d, gsgd_context *ctx, gsgd_model *model, gsgd_trainer *tr,
                    int shard) {
    const int cuda = gsgd_context_device(ctx) != GSGD_DEVICE_CPU;
#ifndef GSGD_HAVE_NCCL
    if (cuda) {
        /* Device buffers need NCCL (or a CUDA-aware MPI). */
        cli_error("--distributed on CUDA needs NCCL, which this build did not find (the "
                  "CUDA toolkit's nccl.h and libnccl); add --device cpu");
        return CLI_USAGE;
    }
#endif
    size_t n = 0;
    gsgd_status st = gsgd_model_params(model, NULL, &n, NULL);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    if (n > INT_MAX) { /* MPI-3 counts are int; one call per step is the point */
        cli_error("--distributed: %zu parameters exceed the %d one MPI_Allreduce can take", n,
                  INT_MAX);
        return CLI_USAGE;
    }
    st = gsgd_trainer_set_replica(tr, d->rank, d->size, shard);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
#ifdef GSGD_HAVE_NCCL
    if (cuda) {
        int rc = cli_dist_nccl_attach(d, ctx, tr);
        if (rc != CLI_OK) return rc;
        d->in_collective = 1;
        return CLI_OK;
    }
#endif
    st = gsgd_trainer_set_grad_hook(tr, allreduce_sum, d);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    d->in_collective = 1;
    return CLI_OK;
}

/* Samples this rank trains on per epoch: its shard, or its slices of the
 * global batches (the split documented at gsgd_trainer_set_replica). */
static size_t local_samples(const cli_dist *d, size_t n, size_t batch, int shard) {
    if (shard) return n;
    const size_t R = (size_t)d->size, r = (size_t)d->rank, G = batch * R;
    size_t total = 0;
    for (size_t start = 0; start < n; start += G) {
        size_t g = n - start < G ? n - start : G;
        total += g * (r + 1) / R - g * r / R;
    }
    return total;
}

void cli_dist_global_loss(cli_dist *d, gsgd_train_result *res, size_t n_train, int shard) {
    double count = (double)local_samples(d, n_train, res->batch, shard);
    double part[2] = {res->train_loss * count, count}, sum[2] = {0, 0};
    if (count == 0) part[0] = 0; /* a rank with no samples has a NaN mean */
    MPI_Allreduce(part, sum, 2, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
    res->train_loss = sum[0] / sum[1];
}

void cli_dist_end(cli_dist *d, int rc) {
    if (!d->initialized) return;
    if (rc != CLI_OK && d->in_collective && d->size > 1) {
        cli_error("rank %d of %d failed during training; stopping all ranks", d->rank, d->size);
        MPI_Abort(MPI_COMM_WORLD, rc);
    }
#ifdef GSGD_HAVE_NCCL
    cli_dist_nccl_end(d);
#endif
    MPI_Finalize();
}
