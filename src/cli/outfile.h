/*
 * Atomic output files: content goes to TARGET.tmp.<pid> and only a
 * successful commit (flush, fsync, rename, fsync of the directory) makes
 * the file appear, so a reader never sees a half-written summary and a
 * failed run leaves nothing behind.
 *
 * The path follows the library's rule (src/io/outpath.h): a regular file
 * is replaced, a new path created, a symbolic link followed (TARGET is
 * where it leads; the link is kept); a device, FIFO, socket or directory
 * is refused. "-" is standard output, for the text formats whose options
 * allow it (cli_check_output): written as it comes, nothing to rename.
 */
#ifndef GSGD_CLI_OUTFILE_H
#define GSGD_CLI_OUTFILE_H

#include <stdio.h>

typedef struct {
    FILE *f;         /* write here between open and commit/abort */
    const char *opt; /* the option, for messages ("--summary") */
    char *path;      /* the name given */
    char *target;    /* the file replaced: path, or where its links lead */
    char *tmp;       /* temporary name in target's directory; NULL for "-" */
} cli_outfile;

/* Opens opt's output. Returns CLI_OK, or after one line on stderr naming
 * opt and path: CLI_USAGE when the path is refused or cannot be created
 * there (a missing or unwritable directory), CLI_RUNTIME when creating the
 * temporary fails for the system's reasons (disk full, I/O error). */
int cli_outfile_open(cli_outfile *o, const char *opt, const char *path);
/* Makes the content durable and visible at the target. Returns CLI_OK, or
 * CLI_RUNTIME after a line naming opt and path (disk full, I/O error); the
 * temporary is then removed and the target left as it was. o is closed
 * either way. */
int cli_outfile_commit(cli_outfile *o);
/* Discards the temporary file; a no-op on a closed or zeroed outfile. */
void cli_outfile_abort(cli_outfile *o);

#endif
