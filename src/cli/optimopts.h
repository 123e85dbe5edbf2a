/*
 * The optimizer, schedule, regularisation and stopping options of
 * `gsgd train` (--optim, --lr, --momentum, --schedule, --clip-norm, --l1,
 * --average, --tol, --on-nan, ...), parsed from one table so that the
 * option list, the checks and --help cannot drift apart.
 */
#ifndef GSGD_CLI_OPTIMOPTS_H
#define GSGD_CLI_OPTIMOPTS_H

#include <stdio.h>

#include "cli/args.h"
#include "gsgd.h"

/* Number of options in the table. */
#define CLI_OPTIM_N 24

/* Copies the table's definitions into defs[0..CLI_OPTIM_N). */
void cli_optim_optdefs(cli_optdef *defs);

/* Sets the parameters that values (indexed as cli_optim_optdefs, NULL when
 * absent) stand for, and warns about options the chosen rule or schedule
 * never reads. Returns CLI_OK, or CLI_USAGE after printing why. */
int cli_optim_options(gsgd_options *opts, const char *const *values);

/* The table's lines of `gsgd train --help`. */
void cli_usage_optim_options(FILE *f);

/* Command-line name of a schedule ("cosine"); "unknown" when invalid. */
const char *cli_schedule_name(int schedule);

#endif
