/* Small helpers shared by the test suites. */
#ifndef GSGD_TESTUTIL_H
#define GSGD_TESTUTIL_H

#include <stddef.h>

/* A fresh private directory under $TMPDIR (or /tmp); never NULL. The caller
 * may leave files in it (tests run in throwaway processes). */
const char *tu_tmpdir(void);
/* Joins tu_tmpdir() and name into a static-lifetime path (ring of 16). */
const char *tu_path(const char *name);
/* Writes len bytes to path (creating or truncating); returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);
/* Writes a NUL-terminated string to path; returns 0 on success. */
int tu_write_text(const char *path, const char *text);
/* Writes len bytes gzip-compressed to path; returns 0 on success. */
int tu_write_gzip(const char *path, const void *data, size_t len);
/* Runs a shell command, captures stdout+stderr into out (NUL-terminated,
 * truncated to size) and returns the exit status (or -1). */
int tu_run(const char *cmd, char *out, size_t size);
/* 1 when path exists. */
int tu_exists(const char *path);

#endif
