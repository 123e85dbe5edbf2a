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

#include "cli/cmdline.h"
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
    int read;     /* --data was read (or is being read) by cli_startup_read */
    const char *source;
    gsgd_data_options *o; /* the options it is read with (cli_load_options's) */
    gsgd_host_data *h;
    gsgd_status st;
    char error[1024]; /* the reader thread's gsgd_last_error(NULL) */
    double read_start, read_end;
} cli_startup;

/* Starts the clock: the breakdown NaN, process_start_s measured. */
void cli_startup_begin(cli_startup *su);
/* Before the device opens: checks the data options (as cli_load_data
 * does) and reads --data with cli_load_options's options, on a thread when
 * `ahead` (to overlap the device's opening), else now. Nothing is read with --resume, whose
 * checkpoint's model (on a context) decides how the data is read. CLI_OK or an exit code, the error
 * said. */
int cli_startup_read(cli_startup *su, cli_session *s, uint64_t seed, int ahead);
/* The datasets, as cli_load_data gives them: --data from the read (joined,
 * then uploaded), --test after it; or, where nothing was read, all of
 * cli_load_data, timed as the read. A CLI exit code, the error said. */
int cli_startup_load_data(cli_startup *su, cli_session *s, uint64_t seed);
/* Joins the thread if it still runs (a run that failed before the data
 * was taken) and frees what it read. */
void cli_startup_end(cli_startup *su);
/* Seconds since the command began. */
double cli_startup_now(const cli_startup *su);
/* Fills the training parts and total_s from res, at the result; eval_s
 * adds extra_eval_s (the CLI's own evaluation of the test set). */
void cli_startup_finish(cli_startup *su, const gsgd_train_result *res, double extra_eval_s);

#endif
