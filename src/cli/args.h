/*
 * Strict parsing of option values, whose error messages name the option
 * and the value as the user typed it: numbers, integers, sizes, library
 * parameters within their bounds, and the nearest of a list of names for
 * "did you mean" hints. The command line itself is parsed by cmdline.h.
 */
#ifndef GSGD_CLI_ARGS_H
#define GSGD_CLI_ARGS_H

#include <stddef.h>
#include <stdint.h>

#include "gsgd.h"

/* Strict parsers: the whole string must be a finite number (a non-negative
 * integer for the u64 one), with no trailing characters. Return CLI_OK or
 * CLI_USAGE after printing "gsgd: OPT: 'S' is not ...". */
int cli_parse_double(const char *opt, const char *s, double *out);
int cli_parse_u64(const char *opt, const char *s, uint64_t *out);

/* Parses a memory size: bytes with an optional unit (B, KB, MB, GB, TB in
 * powers of 1000; KiB, MiB, GiB, TiB in powers of 1024; any case), or,
 * when allow_percent, "P%" for 0 < P <= 100 of the device's total memory.
 * Sets *bytes (whole bytes) or *fraction (the other is set to 0). Returns
 * CLI_OK, or CLI_USAGE after naming the option and the value. */
int cli_parse_size(const char *opt, const char *s, int allow_percent, double *bytes,
                   double *fraction);

/* Parses s for parameter p (as an integer when integer is nonzero), checks
 * it against gsgd_param_bounds and sets it with gsgd_set. Defaults stay the
 * library's: this is only called for options the user gave. Returns CLI_OK
 * or CLI_USAGE after printing why. */
int cli_set_param(gsgd_options *opts, gsgd_param p, const char *opt, const char *s, int integer);

/* 1 when an upper bound hi means "no limit" (it reads better as a minimum). */
int cli_open_ended(double hi);

/* The name among names[0..n) (NULL entries skipped) closest to the first
 * len bytes of s, when close enough to be a likely typo (about a third of
 * its letters differ at most), else NULL. */
const char *cli_nearest(const char *s, size_t len, const char *const *names, int n);

#endif
