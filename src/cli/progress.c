/* Progress lines and the per-epoch log (see progress.h). */
#include "cli/progress.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/json.h"

/* Redraws of the live line per second: enough to look live, few enough
 * that a fast small model does not spend its time writing to a terminal. */
#define LIVE_REDRAWS_PER_S 10.0

void cli_progress_init(cli_progress *pr, int quiet, const char *log_path, int open_epochs) {
    pr->show = !quiet;
    pr->tty = isatty(STDERR_FILENO);
    pr->line_open = 0;
    pr->last_draw = -1.0;
    pr->log_path = log_path;
    memset(&pr->log, 0, sizeof pr->log);
    pr->log_open = 0;
    pr->log_exit = 0;
    pr->open_epochs = open_epochs;
}

/* Whether the run's end is still open (--epochs auto before its cooldown):
 * then p->epochs is only the --max-epochs bound, not a length to show as
 * "epoch 3/1000" or to compute an ETA from. */
static int end_open(const cli_progress *pr, const gsgd_progress *p) {
    return pr->open_epochs > 0 && p->epochs == pr->open_epochs;
}

/* "3/20", or "3" while the end is open. */
static const char *epoch_of(const cli_progress *pr, const gsgd_progress *p, char *buf,
                            size_t size) {
    if (end_open(pr, p))
        snprintf(buf, size, "%d", p->epoch);
    else
        snprintf(buf, size, "%d/%d", p->epoch, p->epochs);
    return buf;
}

int cli_progress_wanted(const cli_progress *pr) { return pr->show || pr->log_path; }

/* "12s", "3m05s", "2h07m": short enough for a status line. */
static void format_eta(double s, char *buf, size_t size) {
    if (!isfinite(s) || s < 0) {
        snprintf(buf, size, "?");
        return;
    }
    long t = lround(s);
    if (t < 60)
        snprintf(buf, size, "%lds", t);
    else if (t < 3600)
        snprintf(buf, size, "%ldm%02lds", t / 60, t % 60);
    else
        snprintf(buf, size, "%ldh%02ldm", t / 3600, (t % 3600) / 60);
}

/* %.4f for ordinary losses; %.4g once a run blows up, so a diverging loss
 * stays readable instead of printing 40 digits. */
static const char *fmt_loss(double v, char *buf, size_t size) {
    snprintf(buf, size, fabs(v) < 1e4 ? "%.4f" : "%.4g", v);
    return buf;
}

static void draw_live(cli_progress *pr, const gsgd_progress *p) {
    /* Whole-run ETA from the fraction of all planned steps done so far;
     * with --target-acc the run may end sooner. */
    double total = (double)p->epochs * (double)p->steps;
    double done = (double)(p->epoch - 1) * (double)p->steps + (double)p->step;
    char eta[32], loss[32], ep[32];
    format_eta(done > 0 && !end_open(pr, p) ? p->seconds * (total - done) / done : NAN, eta,
               sizeof eta);
    fprintf(stderr, "\r\033[Kepoch %s  step %zu/%zu  loss %s  %.0f samples/s  ETA %s",
            epoch_of(pr, p, ep, sizeof ep), p->step, p->steps, fmt_loss(p->loss, loss, sizeof loss),
            p->samples_per_second, eta);
    fflush(stderr);
    pr->line_open = 1;
    pr->last_draw = p->seconds;
}

static void print_epoch(cli_progress *pr, const gsgd_progress *p) {
    if (pr->tty) fputs("\r\033[K", stderr);
    char loss[32], ep[32];
    fprintf(stderr, "epoch %s  loss %s", epoch_of(pr, p, ep, sizeof ep),
            fmt_loss(p->loss, loss, sizeof loss));
    if (!isnan(p->test_accuracy)) fprintf(stderr, "  test acc %.4f", p->test_accuracy);
    fprintf(stderr, "  %.0f samples/s  lr %g  %.2f s\n", p->samples_per_second, p->lr, p->seconds);
    pr->line_open = 0;
}

static int log_epoch(cli_progress *pr, const gsgd_progress *p) {
    /* Created here, not up front, so a run that fails before its first
     * epoch leaves no empty log behind. */
    if (!pr->log_open) {
        pr->log_exit = cli_outfile_open(&pr->log, "--log", pr->log_path);
        if (pr->log_exit != CLI_OK) return -1;
        pr->log_open = 1;
    }
    cli_json j;
    cli_json_begin(&j, pr->log.f, 0);
    cli_json_int(&j, "epoch", p->epoch);
    cli_json_num(&j, "train_loss", p->loss);
    cli_json_num(&j, "test_accuracy", p->test_accuracy);
    cli_json_num(&j, "lr", p->lr);
    cli_json_num(&j, "seconds", p->seconds);
    cli_json_num(&j, "samples_per_second", p->samples_per_second);
    cli_json_end(&j);
    /* Flushed per epoch so the lines of a long run can be followed in the
     * temporary file and survive a crash. */
    if (fflush(pr->log.f) != 0 || ferror(pr->log.f)) {
        cli_error("--log: writing '%s' failed: %s", pr->log_path, strerror(errno ? errno : EIO));
        pr->log_exit = CLI_RUNTIME;
        return -1;
    }
    return 0;
}

int cli_progress_cb(const gsgd_progress *p, void *user) {
    cli_progress *pr = user;
    if (p->epoch_done) {
        if (pr->show) print_epoch(pr, p);
        if (pr->log_path && log_epoch(pr, p) != 0) return 1;
        return 0;
    }
    if (pr->show && pr->tty &&
        (pr->last_draw < 0 || p->seconds - pr->last_draw >= 1.0 / LIVE_REDRAWS_PER_S))
        draw_live(pr, p);
    return 0;
}

int cli_progress_finish(cli_progress *pr) {
    if (pr->line_open) {
        fputc('\n', stderr);
        pr->line_open = 0;
    }
    if (!pr->log_open) return pr->log_exit ? -1 : 0;
    pr->log_open = 0;
    if (pr->log_exit) {
        cli_outfile_abort(&pr->log);
        return -1;
    }
    pr->log_exit = cli_outfile_commit(&pr->log);
    return pr->log_exit ? -1 : 0;
}
