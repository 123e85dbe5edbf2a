/*
 * The values of a parsed command line (cmdline.h) turned into library
 * options: every row of the option table that sets a gsgd_param, parsed
 * as its kind says and checked against the parameter's bounds, then the
 * checks across options (a schedule that needs another option) and
 * warnings for options the chosen rule or schedule never reads. The same
 * code for every command, so --average means the same to plan as to train.
 */
#ifndef GSGD_CLI_OPTSET_H
#define GSGD_CLI_OPTSET_H

#include "cli/opttable.h"
#include "gsgd.h"

/* Sets in opts the parameters of the rows v gives (v as cli_parse_command
 * fills it); everything else keeps its value. Returns CLI_OK, or an exit
 * code after printing why. */
int cli_options_apply(gsgd_options *opts, const char *const *v);

/* Creates *opts with the library's defaults and applies v. */
int cli_options_build(gsgd_options **opts, const char *const *v);

/* The value of CLI_COUNT row id: v[id] within the row's range, or the
 * row's default when absent. Returns CLI_OK or CLI_USAGE after printing
 * why. */
int cli_count(const char *const *v, int id, int *out);

/* opts' value of p (0 if it cannot be read). */
double cli_get(const gsgd_options *opts, gsgd_param p);

#endif
