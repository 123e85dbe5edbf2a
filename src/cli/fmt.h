/* Number formats shared by the CLI's tables. */
#ifndef GSGD_CLI_FMT_H
#define GSGD_CLI_FMT_H

#include <stddef.h>

/* A rate for tables: 1234567 -> "1.23M" (k, M, G), "-" when not finite.
 * Returns buf. */
const char *cli_fmt_si(double v, char *buf, size_t size);

#endif
