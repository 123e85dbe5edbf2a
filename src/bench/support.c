/* Backend timers and the machine's description for gsgd bench (see
 * support.h): the checks and the bookkeeping here, the clock and the facts
 * from the context's backend (backend.h). */
#include "bench/support.h"

#include <stdlib.h>
#include <string.h>

#include "core/error.h"

struct gsgdi_timer {
    gsgd_context *ctx;
    const gsgdi_backend *be; /* the one that made marks */
    int n;
    void *marks; /* the backend's */
};

const char *gsgdi_timer_clock(const gsgd_context *ctx) { return ctx->be->timer_clock; }

gsgd_status gsgdi_timer_create(gsgd_context *ctx, int n_marks, gsgdi_timer **out) {
    *out = NULL;
    GSGD_RETURN_ERROR_IF(n_marks < 2, ctx, GSGD_STATUS_INVALID_ARGUMENT, "timer: %d marks",
                         n_marks);
    gsgdi_timer *t = calloc(1, sizeof *t);
    GSGD_RETURN_ERROR_IF(!t, ctx, GSGD_STATUS_OUT_OF_MEMORY, "timer: out of memory");
    t->ctx = ctx;
    t->be = ctx->be;
    gsgd_status st = t->be->timer_create(ctx, n_marks, &t->marks);
    if (st != GSGD_STATUS_OK) {
        free(t);
        return st;
    }
    t->n = n_marks;
    *out = t;
    return GSGD_STATUS_OK;
}

void gsgdi_timer_free(gsgdi_timer *t) {
    if (!t) return;
    t->be->timer_free(t->ctx, t->marks);
    free(t);
}

gsgd_status gsgdi_timer_mark(gsgdi_timer *t, int i) {
    GSGD_RETURN_ERROR_IF(i < 0 || i >= t->n, t->ctx, GSGD_STATUS_INTERNAL, "timer: mark %d of %d",
                         i, t->n);
    return t->be->timer_mark(t->ctx, t->marks, i);
}

gsgd_status gsgdi_timer_seconds(gsgdi_timer *t, int i, int j, double *seconds) {
    GSGD_RETURN_ERROR_IF(i < 0 || j < 0 || i >= t->n || j >= t->n, t->ctx, GSGD_STATUS_INTERNAL,
                         "timer: marks %d, %d of %d", i, j, t->n);
    return t->be->timer_seconds(t->ctx, t->marks, i, j, seconds);
}

gsgd_status gsgdi_machine_describe(gsgd_context *ctx, gsgdi_machine *m) {
    memset(m, 0, sizeof *m);
    return ctx->be->machine(ctx, m);
}
