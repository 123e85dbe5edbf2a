/*
 * Atomic output files: content goes to PATH.tmp.<pid> and only a successful
 * commit (flush, fsync, rename, fsync of the directory) makes PATH appear,
 * so a reader never sees a half-written summary and a failed run leaves
 * nothing at PATH.
 */
#ifndef GSGD_CLI_OUTFILE_H
#define GSGD_CLI_OUTFILE_H

#include <stdio.h>

typedef struct {
    FILE *f;    /* write here between open and commit/abort */
    char *path; /* final name */
    char *tmp;  /* temporary name in the same directory */
} cli_outfile;

/* Opens the temporary file. Returns 0, or -1 with errno set. */
int cli_outfile_open(cli_outfile *o, const char *path);
/* Makes the content durable and visible at path. Returns 0, or -1 with
 * errno set (the temporary file is then removed). o is closed either way. */
int cli_outfile_commit(cli_outfile *o);
/* Discards the temporary file; a no-op on a closed or zeroed outfile. */
void cli_outfile_abort(cli_outfile *o);

#endif
