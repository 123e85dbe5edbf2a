/* Output paths: the one rule for where a file that is written to a
 * temporary and renamed into place goes, shared by the library's writer
 * (fileio.c: model files, checkpoints) and the command line's
 * (src/cli/outfile.c: summaries, logs, bench and plan outputs).
 *
 * A regular file is replaced; a new path is created; a symbolic link is
 * followed, so its target is replaced (in the target's directory, where
 * the temporary goes too) and the link is kept. Anything else at the path
 * (a directory, a character or block device such as /dev/full, a FIFO, a
 * socket) is refused: renaming a file over it would replace the device
 * node or the pipe rather than write to it. Never installed. */
#ifndef GSGD_IO_OUTPATH_H
#define GSGD_IO_OUTPATH_H

#include <stddef.h>
#include <sys/types.h>

/* Resolves path to the file to replace or create. Returns 0 with *target
 * a malloc'd path (path itself, or where its links lead) and *mode the
 * permission bits of the file it replaces (0 for a new path); 1 when the
 * path is refused, with why saying what is there ("a character device");
 * -1 when it cannot be examined (errno set: EACCES, ENOTDIR, ENOMEM...). */
int gsgdi_output_target(const char *path, char **target, mode_t *mode, char *why, size_t why_size);

/* Whether a failure (errno e) to create a file at a path the caller gave
 * is the path's fault (missing or unwritable directory, read-only file
 * system, a name too long): 1; or the system's at the time (disk full,
 * quota, I/O error, out of descriptors): 0. The first is bad input, the
 * second a runtime failure. */
int gsgdi_output_path_fault(int e);

#endif
