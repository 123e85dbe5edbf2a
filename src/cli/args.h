/*
 * Option parsing for the subcommands: a table of long options, both
 * `--opt value` and `--opt=value`, and strict number parsing whose error
 * messages name the option and the value as the user typed it.
 */
#ifndef GSGD_CLI_ARGS_H
#define GSGD_CLI_ARGS_H

#include <stdint.h>

#include "gsgd.h"

typedef struct {
    const char *name; /* "--lr"; NULL ends the table */
    int has_value;    /* 1: takes a value, 0: a flag */
} cli_optdef;

/* Parses argv[1..argc) (argv[0] is the subcommand) against defs. values[k]
 * receives the last value given for defs[k] ("" for a flag that was given)
 * or NULL when absent; a later occurrence overrides an earlier one, as in
 * most tools. "-h" is an alias for "--help" when the table has it.
 * Returns CLI_OK, or CLI_USAGE after printing one line that names the
 * offending argument. */
int cli_parse_options(const char *cmd, int argc, char **argv, const cli_optdef *defs,
                      const char **values);

/* Strict parsers: the whole string must be a finite number (a non-negative
 * integer for the u64 one), with no trailing characters. Return CLI_OK or
 * CLI_USAGE after printing "gsgd: OPT: 'S' is not ...". */
int cli_parse_double(const char *opt, const char *s, double *out);
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);

/* Parses s for parameter p (as an integer when integer is nonzero), checks
 * it against gsgd_param_bounds and sets it with gsgd_set. Defaults stay the
 * library's: this is only called for options the user gave. Returns CLI_OK
 * or CLI_USAGE after printing why. */
int cli_set_param(gsgd_options *opts, gsgd_param p, const char *opt, const char *s, int integer);

#endif
