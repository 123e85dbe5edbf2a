/* Small host helpers every layer may use: the monotonic clock and
 * on/off switches read from the environment. */
#ifndef GSGD_CORE_UTIL_H
#define GSGD_CORE_UTIL_H

#include <stdlib.h>
#include <string.h>

/* Monotonic wall clock in seconds: rates, time to target, the planner's
 * and the bench's timings. */
double gsgdi_now_seconds(void);

/* An on/off switch from the environment: "0" off (0), any other value on
 * (1), unset or empty dflt (GSGD_CUDA_GRAPHS, GSGD_FUSED_GRADIENT). */
static inline int gsgdi_env_switch(const char *name, int dflt) {
    const char *v = getenv(name);
    return v && *v ? strcmp(v, "0") != 0 : dflt;
}

#endif
