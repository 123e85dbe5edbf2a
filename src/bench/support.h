/*
 * What `gsgd bench` needs from the library beyond the public API: timers
 * that read the backend's own clock (CUDA events on the context's stream,
 * so timing a phase never adds a host synchronisation; the monotonic clock
 * on the CPU, whose ops are synchronous) and a description of the machine
 * (device, memory, CUDA runtime and driver, BLAS). Internal: never
 * installed, no CUDA header needed by its users.
 */
#ifndef GSGD_BENCH_SUPPORT_H
#define GSGD_BENCH_SUPPORT_H

#include <stddef.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

typedef struct gsgdi_timer gsgdi_timer;

/* A timer with n_marks time stamps on ctx's backend. */
gsgd_status gsgdi_timer_create(gsgd_context *ctx, int n_marks, gsgdi_timer **out);
void gsgdi_timer_free(gsgdi_timer *t);
/* Stamps mark i once the work enqueued so far has run (a CUDA event
 * recorded on the stream; the clock now on the CPU). Never waits. */
gsgd_status gsgdi_timer_mark(gsgdi_timer *t, int i);
/* Seconds from mark i to mark j; waits for mark j. */
gsgd_status gsgdi_timer_seconds(gsgdi_timer *t, int i, int j, double *seconds);
/* The backend's clock: "cuda events" or "monotonic clock". */
const char *gsgdi_timer_clock(const gsgd_context *ctx);

/* Fills m (backend.h's gsgdi_machine) for ctx's device. */
gsgd_status gsgdi_machine_describe(gsgd_context *ctx, gsgdi_machine *m);

#endif
