/* What use_header.c gets from the C library alone: the macro list of this
 * file is subtracted from that of gsgd.h in header_check.cmake. */
#include <stddef.h>
#include <stdint.h>
