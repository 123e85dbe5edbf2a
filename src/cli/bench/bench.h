/*
 * `gsgd bench`: what one run measures and reports. cmd_bench.c parses the
 * options and drives the run; bench_batches.c picks the batch sizes;
 * the library's bench/step_bench.c times the trainer's step, phase by
 * phase, and the hardware yardsticks (the one part of the program that
 * reaches past gsgd.h: a harness must time gather, forward, backward and
 * update separately); bench_train.c trains (time to target, noise scale);
 * noise_scale.c is the estimator; bench_out.c and bench_plot.c write the
 * table, CSV, JSON and the gnuplot figure.
 */
#ifndef GSGD_CLI_BENCH_H
#define GSGD_CLI_BENCH_H

#include <stddef.h>
#include <stdio.h>

#include "bench/step_bench.h"
#include "bench/support.h"
#include "cli/bench/noise_scale.h"

#define BENCH_MAX_POINTS 32

/* The step's phases, in order (train/step.h's gsgdi_phase). Where the
 * model takes the fused gradient, gather, forward and backward are one op:
 * the point's fused_s, the three NaN. */
enum {
    PH_GATHER = GSGDI_PHASE_GATHER,
    PH_FORWARD = GSGDI_PHASE_FORWARD,
    PH_BACKWARD = GSGDI_PHASE_BACKWARD,
    PH_UPDATE = GSGDI_PHASE_UPDATE,
    PH_COUNT = GSGDI_PHASE_COUNT
};
extern const char *const BENCH_PHASE_NAMES[PH_COUNT];

/* One batch size (bench/step_bench.h). */
typedef gsgdi_bench_point bench_point;

typedef struct {
    /* what was measured */
    const char *data, *model, *optim, *lr_scaling;
    const char *precision; /* the step's products: "fp32", "tf32", "bf16" */
    char device[16];
    size_t n_train, n_features, n_params;
    int n_classes;
    double lr; /* base rate before scaling */
    int warmup_steps, timed_steps;
    size_t planner_batch; /* B*: the planner's batch, uncapped unless --max-batch */
    double target_acc;    /* 0: not asked */
    int epochs;           /* cap of the time-to-target runs */
    /* the machine */
    gsgdi_machine machine;
    char cpu_model[256];
    int cpu_cores;
    const char *clock;           /* "cuda events" or "monotonic clock" */
    char gradient[40];           /* "fused", "composed" or "fused from batch N" */
    double copy_bytes, copy_gbs; /* device-to-device copy (memcpy on the CPU) */
    size_t peak_n;               /* the GEMM on peak_n^3, in the step's precision: */
    double peak_gflops;          /* its rate */
    /* gradient noise scale */
    int noise_run;
    size_t noise_small, noise_big;
    int noise_epochs;
    noise_estimate noise;
    /* the curve */
    int n_points;
    bench_point pts[BENCH_MAX_POINTS];
    char command[1024], date[32];
} bench_report;

/* ---- bench_batches.c ---- */
/* Parses "--batches 64,256,1024" (positive integers, any order; duplicates
 * dropped, sorted ascending) or "sweep" (*sweep = 1, nothing else read).
 * Returns CLI_OK or CLI_USAGE after naming the option. */
int bench_parse_batches(const char *opt, const char *s, size_t *out, int max, int *count,
                        int *sweep);
/* Powers of two from 32 (from 1 when bstar < 32) up to bstar, and bstar
 * itself when it is not one, all clamped to n (no duplicates). */
int bench_sweep_batches(size_t bstar, size_t n, size_t *out, int max);
/* Clamps every batch to n, drops duplicates, keeps the order ascending.
 * Returns the new count. */
int bench_clamp_batches(size_t *b, int count, size_t n);

/* ---- bench_out.c ---- */
/* The terminal table. */
void bench_print_table(FILE *f, const bench_report *r);
/* One header line naming every column, one line per batch size; the
 * run's figures (machine, B*, noise scale, ...) repeat on every line. */
void bench_write_csv(FILE *f, const bench_report *r);
/* One JSON object: the run, the machine, the noise scale and "points". */
void bench_write_json(FILE *f, const bench_report *r);
/* Number of CSV columns and the name of column c (for tests). */
int bench_csv_column_count(void);
const char *bench_csv_column_name(int c);

/* ---- bench_plot.c ---- */
/* 1 when gnuplot is on PATH. */
int bench_have_gnuplot(void);
/* Draws samples/s and time to target against batch size (log2 axis) with
 * B* and B_simple marked, into the PNG at path (written atomically).
 * Returns 0, or -1 after printing why. */
int bench_plot(const char *path, const bench_report *r);

#endif
