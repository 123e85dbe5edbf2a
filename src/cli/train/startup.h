/*
 * Where the time of a `gsgd train` run goes, from the exec of the program
 * to its result, and the overlap that shortens its start: the --data
 * source is read and decompressed on a thread (gsgd_host_data_read) while
 * the main thread opens the device (gsgd_context_create), then uploaded.
 * The parts go to --summary under "breakdown" and the total to the result
 * line.
 */
#ifndef GSGD_CLI_TRAIN_STARTUP_H
#define GSGD_CLI_TRAIN_STARTUP_H

#include <pthread.h>

#include "gsgd.h"

/* Seconds of each part of a run, NaN where it did not happen. */
typedef struct {
    double process_start_s; /* exec to main: the loader mapping the program and
                               its libraries (CUDA's among them); from
                               /proc/self/stat, in 10 ms ticks */
    double data_read_s;     /* reading and decompressing --data (and --test) */
    double context_s;       /* opening the device (gsgd_context_create) */
    double data_wait_s;     /* the context waiting for the read: 0 when the read
                               was hidden behind the context */
    double upload_s;        /* the data into the device's memory */
    double model_s;         /* the model's creation (its initial weights) */
    double plan_s;          /* the trainer: planning the batch (one verifying step),
                               buffers; a checkpoint's restore */
    double train_s;         /* the epochs' steps (gsgd_train_result.train_seconds) */
    double eval_s;          /* the evaluations (gsgd_train_result.eval_seconds) */
    double other_s;         /* the rest of training: progress lines, checkpoints */
    double total_s;         /* exec to the result: process_start_s + the wall
                               clock since main */
    int overlapped;         /* 1 when the read ran on its own thread */
} cli_breakdown;

/* The run's clock and, while the read runs on its thread, its state. */
typedef struct {
    double t_main; /* monotonic clock when the command began */
    cli_breakdown b;
    /* the read of --data */
    pthread_t thread;
    int threaded; /* a thread was started and not yet joined */
    const char *source;
    gsgd_host_data *h;
    gsgd_status st;
    char error[1024]; /* the reader thread's gsgd_last_error(NULL) */
    double read_start, read_end;
} cli_startup;

/* Starts the clock: the breakdown NaN, process_start_s measured. */
void cli_startup_begin(cli_startup *su);
/* Starts reading source on a thread, to overlap the context's opening;
 * when the thread cannot start, the read runs later in
 * cli_startup_load_data. */
void cli_startup_read_async(cli_startup *su, const char *source);
/* The datasets of source (read on the thread or now) and, with test_spec,
 * that spec's training part as the test set (cli_load_test). A CLI exit
 * code, the error said. Must follow cli_startup_read_async when that was
 * called, with the same source. */
int cli_startup_load_data(cli_startup *su, gsgd_context *ctx, const char *source,
                          const char *test_spec, gsgd_dataset **train, gsgd_dataset **test);
/* Joins the thread if it still runs (a run that failed before the data
 * was taken) and frees what it read. */
void cli_startup_end(cli_startup *su);
/* Seconds since the command began. */
double cli_startup_now(const cli_startup *su);
/* Fills the training parts and total_s from res, at the result. */
void cli_startup_finish(cli_startup *su, const gsgd_train_result *res);

#endif
