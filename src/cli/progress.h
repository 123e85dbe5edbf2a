/*
 * Training progress on stderr and the per-epoch JSON-lines log, both fed by
 * the library's gsgd_progress callback.
 *
 * On a terminal one live line is rewritten in place ('\r' + clear to end of
 * line) and each finished epoch leaves a plain line behind; elsewhere (a
 * pipe, a file, CI) only the per-epoch lines are written, so logs stay
 * readable. --quiet silences both.
 */
#ifndef GSGD_CLI_PROGRESS_H
#define GSGD_CLI_PROGRESS_H

#include "gsgd.h"
#include "cli/outfile.h"

typedef struct {
    int show;             /* print progress at all (not --quiet) */
    int tty;              /* stderr is a terminal: live line */
    int line_open;        /* a live line without its newline is on screen */
    double last_draw;     /* p->seconds of the last live redraw */
    const char *log_path; /* --log, or NULL */
    cli_outfile log;      /* opened at the first finished epoch */
    int log_open;
    int log_exit;    /* the exit code once writing the log failed (said), else 0 */
    int open_epochs; /* --epochs auto: MAX_EPOCHS, the bound p->epochs holds
                        until the cooldown fixes the end; else 0 */
} cli_progress;

/* open_epochs: see cli_progress (0 for a run of given epochs). */
void cli_progress_init(cli_progress *pr, int quiet, const char *log_path, int open_epochs);
/* Whether gsgd_train needs the callback at all. Without it the library can
 * skip the per-epoch test evaluation. */
int cli_progress_wanted(const cli_progress *pr);
/* The gsgd_progress_fn; user is a cli_progress. Stops training (returns
 * nonzero) only when the log cannot be written. */
int cli_progress_cb(const gsgd_progress *p, void *user);
/* Ends a pending live line and publishes the log (also after a failed run:
 * the epochs that did finish are worth keeping). Returns 0, or -1 when the
 * log could not be written, which was said on stderr; pr->log_exit is
 * then the exit code (outfile.h: CLI_USAGE for a path refused, CLI_RUNTIME
 * for a write that failed). */
int cli_progress_finish(cli_progress *pr);

#endif
