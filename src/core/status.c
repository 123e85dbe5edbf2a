/* The status model: status names and texts (from gsgd.h's X-macro), the
 * version, and how errors are recorded (core/error.h) and read back. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/context.h"
#include "core/error.h"
#include "core/util.h"

#define STR_(x) #x
#define STR(x) STR_(x)

const char *gsgd_status_string(gsgd_status s) {
    switch (s) {
#define GSGD_STATUS_TEXT_(name, value, text)                                                       \
    case GSGD_STATUS_##name:                                                                       \
        return text;
        GSGD_STATUS_MAP(GSGD_STATUS_TEXT_)
#undef GSGD_STATUS_TEXT_
    }
    return "unknown status";
}

const char *gsgd_status_name(gsgd_status s) {
    switch (s) {
#define GSGD_STATUS_NAME_(name, value, text)                                                       \
    case GSGD_STATUS_##name:                                                                       \
        return #name;
        GSGD_STATUS_MAP(GSGD_STATUS_NAME_)
#undef GSGD_STATUS_NAME_
    }
    return "UNKNOWN";
}

unsigned gsgd_version(void) { return GSGD_VERSION_NUMBER; }

const char *gsgd_version_string(void) {
    return STR(GSGD_VERSION_MAJOR) "." STR(GSGD_VERSION_MINOR) "." STR(GSGD_VERSION_PATCH);
}

/* Errors that have no context to live in (gsgd_context_create failed, so
 * there is none): one buffer per thread, read by gsgd_last_error(NULL). */
static _Thread_local char thread_error[GSGD_ERROR_LEN];

/* Where an error was raised ("[dataset.c:120]") helps whoever debugs gsgd,
 * not whoever reads the message: it is added in debug builds (NDEBUG not
 * defined) and when GSGD_DEBUG is set to anything but "0". */
static int debug_locations(void) {
#ifndef NDEBUG
    return 1;
#else
    return gsgdi_env_switch("GSGD_DEBUG", 0);
#endif
}

gsgd_status gsgdi_error_at(gsgd_context *ctx, gsgd_status status, const char *file, int line,
                           const char *fmt, ...) {
    char *buf = ctx ? ctx->last_error : thread_error;
    const size_t size = GSGD_ERROR_LEN;
    va_list ap;
    va_start(ap, fmt);
    int len = vsnprintf(buf, size, fmt, ap);
    va_end(ap);
    if (len >= 0 && (size_t)len < size && debug_locations()) {
        const char *base = strrchr(file, '/');
        snprintf(buf + len, size - (size_t)len, " [%s:%d]", base ? base + 1 : file, line);
    }
    return status;
}

void gsgdi_log(gsgd_context *ctx, gsgd_log_level level, const char *fmt, ...) {
    if (!ctx || !ctx->log) return;
    char line[GSGD_ERROR_LEN];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    ctx->log(level, line, ctx->log_user);
}

const char *gsgd_last_error(const gsgd_context *ctx) {
    if (ctx) return ctx->last_error;
    return thread_error[0] ? thread_error : "gsgd_last_error: context is NULL";
}

void gsgdi_error_to_thread(const gsgd_context *ctx) {
    memcpy(thread_error, ctx->last_error, sizeof thread_error);
}
