/*
 * Options shared by `gsgd train` and `gsgd plan`: how the batch is chosen
 * (--batch auto|fastest|N, --max-batch), the memory it may use
 * (--mem-limit, --mem-headroom, --mem-reserve) and how the learning rate
 * follows it (--lr-scaling, --lr-ref-batch, --warmup).
 */
#ifndef GSGD_CLI_PLANOPTS_H
#define GSGD_CLI_PLANOPTS_H

#include <stdio.h>

#include "gsgd.h"

/* The values as typed (NULL when absent). */
typedef struct {
    const char *batch, *max_batch;
    const char *mem_limit, *mem_headroom, *mem_reserve;
    const char *lr_scaling, *lr_ref_batch, *warmup;
} cli_plan_args;

/* Parses a memory size: bytes with an optional unit (B, KB, MB, GB, TB in
 * powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; any case), or,
 * when allow_percent, "P%" for 0 < P <= 100 of the device's total memory.
 * Sets *bytes (whole bytes) or *fraction (the other is set to 0). Returns
 * CLI_OK, or CLI_USAGE after naming the option and the value. */
int cli_parse_size(const char *opt, const char *s, int allow_percent, double *bytes,
                   double *fraction);

/* Sets the parameters a's options stand for. Returns CLI_OK, or CLI_USAGE
 * after printing why. */
int cli_plan_options(gsgd_options *opts, const cli_plan_args *a);

/* "batch 32: 1.2M samples/s, 64: ..." for a plan made with --batch
 * fastest; nothing for other plans. */
void cli_print_curve(FILE *f, const gsgd_batch_plan *plan);

#endif
