/* Number formats shared by the CLI's tables (see fmt.h). */
#include "cli/fmt.h"

#include <math.h>
#include <stdio.h>

const char *cli_fmt_si(double v, char *buf, size_t size) {
    if (!isfinite(v))
        snprintf(buf, size, "-");
    else if (v >= 1e9)
        snprintf(buf, size, "%.2fG", v / 1e9);
    else if (v >= 1e6)
        snprintf(buf, size, "%.2fM", v / 1e6);
    else if (v >= 1e3)
        snprintf(buf, size, "%.1fk", v / 1e3);
    else
        snprintf(buf, size, "%.0f", v);
    return buf;
}
