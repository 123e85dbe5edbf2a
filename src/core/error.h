/*
 * Errors and log lines: how every internal function reports a failure
 * (zstd's GSGD_RETURN_ERROR_IF / GSGD_FORWARD_IF_ERROR pattern), so that nobody
 * hand-writes "if (err) return err;" and every message carries where it
 * was raised.
 */
#ifndef GSGD_CORE_ERROR_H
#define GSGD_CORE_ERROR_H

#include "gsgd.h"

#define GSGD_ERROR_LEN 1024

/* Records the message as the context's last error and returns status; in
 * debug builds and with GSGD_DEBUG=1, " [file:line]" follows it. ctx may be NULL: the message then
 * goes to the calling thread's buffer, which gsgd_last_error(NULL) returns. */
gsgd_status gsgdi_error_at(gsgd_context *ctx, gsgd_status status, const char *file, int line,
                           const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Sends one formatted line to the context's log callback, if any. */
void gsgdi_log(gsgd_context *ctx, gsgd_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies the detail of ctx's last error to the calling thread's buffer,
 * where gsgd_last_error(NULL) finds it once ctx is gone. */
void gsgdi_error_to_thread(const gsgd_context *ctx);

/* Fails with status and a formatted message. */
#define GSGD_ERROR(ctx, status, ...)                                                               \
    gsgdi_error_at((ctx), (status), __FILE__, __LINE__, __VA_ARGS__)

/* Returns status with a formatted message when cond holds. */
#define GSGD_RETURN_ERROR_IF(cond, ctx, status, ...)                                               \
    do {                                                                                           \
        if (cond) return GSGD_ERROR((ctx), (status), __VA_ARGS__);                                 \
    } while (0)

/* Evaluates expr (a gsgd_status) and returns it when it is not OK; the
 * callee already recorded the detail. */
#define GSGD_FORWARD_IF_ERROR(expr)                                                                \
    do {                                                                                           \
        gsgd_status forward_status_ = (expr);                                                      \
        if (forward_status_ != GSGD_STATUS_OK) return forward_status_;                             \
    } while (0)

/* Like GSGD_FORWARD_IF_ERROR, but jumps to a cleanup label keeping the status in
 * the variable st. */
#define GSGD_CHECK_GOTO(st, expr, label)                                                           \
    do {                                                                                           \
        (st) = (expr);                                                                             \
        if ((st) != GSGD_STATUS_OK) goto label;                                                    \
    } while (0)

#endif
