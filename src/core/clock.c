/* The monotonic clock (core/util.h). */
#include <time.h>

#include "core/util.h"

double gsgdi_now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
