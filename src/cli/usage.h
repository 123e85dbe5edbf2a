/* Help texts: the overview, and each command's help generated from the
 * option table's rows it composes. Defaults and ranges come from
 * gsgd_param_bounds, so the help never disagrees with the library. Every
 * line stays within 80 columns. */
#ifndef GSGD_CLI_USAGE_H
#define GSGD_CLI_USAGE_H

#include <stdio.h>

#include "cli/opttable.h"

void cli_usage_main(FILE *f);
/* cmd's synopsis, its options by group with their defaults and ranges,
 * and the data specs and exit codes where they apply. */
void cli_usage(FILE *f, const cli_command *cmd);

#endif
