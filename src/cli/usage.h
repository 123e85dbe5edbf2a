/* Help texts. Defaults and ranges come from gsgd_param_bounds, so the help
 * never disagrees with the library. */
#ifndef GSGD_CLI_USAGE_H
#define GSGD_CLI_USAGE_H

#include <stdio.h>

void cli_usage_main(FILE *f);
void cli_usage_train(FILE *f);
void cli_usage_eval(FILE *f);
void cli_usage_info(FILE *f);
void cli_usage_plan(FILE *f);
void cli_usage_bench(FILE *f);
/* The lines of the batch and memory options train and plan share. */
void cli_usage_plan_options(FILE *f);

#endif
