/* Checkpoints of `gsgd train` (see ckpt.h). */
#include "cli/train/ckpt.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

static volatile sig_atomic_t stop_signal;
static struct sigaction old_int, old_term;

static void on_stop_signal(int sig) { stop_signal = sig; }

void cli_stop_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    /* SA_RESETHAND: the second signal acts as if there were no handler. */
    sa.sa_flags = SA_RESTART | SA_RESETHAND;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
}

void cli_stop_restore(void) {
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
}

int cli_stop_signal(void) { return (int)stop_signal; }

static int save(cli_ckpt *c, const char *path) {
    gsgd_status st = gsgd_trainer_save(c->tr, path);
    if (st == GSGD_STATUS_OK) return CLI_OK;
    /* Kept now: stopping training records a message of its own. */
    snprintf(c->error, sizeof c->error, "%s", gsgd_last_error(c->ctx));
    return cli_exit_code(st);
}

int cli_ckpt_cb(const gsgd_progress *p, void *user) {
    cli_ckpt *c = user;
    c->last = *p;
    if (c->pr && cli_progress_cb(p, c->pr)) return 1;
    if (p->epoch_done && c->every && (unsigned long)p->epoch % c->every == 0) {
        int rc = save(c, c->path);
        if (rc != CLI_OK) {
            c->save_failed = 1;
            c->save_exit = rc;
            return 1;
        }
    }
    return stop_signal != 0;
}

int cli_ckpt_interrupted(cli_ckpt *c, const char *data) {
    const int sig = (int)stop_signal;
    const char *path = c->path ? c->path : CLI_INTERRUPTED_PATH;
    int rc = save(c, path);
    if (rc != CLI_OK) {
        cli_error("interrupted by %s, and the checkpoint could not be saved: %s",
                  sig == SIGTERM ? "SIGTERM" : "SIGINT", c->error);
        return rc;
    }
    const gsgd_progress *p = &c->last;
    /* Epochs left of the planned run, the partial one included. */
    const int left = p->epochs - p->epoch + (p->epoch_done ? 0 : 1);
    char where[96];
    /* Under --epochs auto p->epochs is a bound (--max-epochs, or the end of
     * the cooldown), not a length asked for. */
    const char *of = c->auto_epochs ? " of at most " : "/";
    if (p->epoch_done)
        snprintf(where, sizeof where, "after epoch %d%s%d", p->epoch, of, p->epochs);
    else
        snprintf(where, sizeof where, "in epoch %d%s%d at step %zu of %zu", p->epoch, of, p->epochs,
                 p->step, p->steps);
    /* An auto run resumed without --epochs goes on deciding its own stop:
     * the checkpoint keeps EPOCHS 0, which --epochs could not say. */
    char more[32] = "";
    if (left > 0 && !c->auto_epochs) snprintf(more, sizeof more, " --epochs %d", left);
    cli_error("interrupted by %s %s; checkpoint saved to '%s'; continue with: gsgd train "
              "--resume '%s' --data '%s'%s",
              sig == SIGTERM ? "SIGTERM" : "SIGINT", where, path, path, data, more);
    return 128 + sig;
}
