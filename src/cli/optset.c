/* Option values to library parameters (see optset.h). */
#include "cli/optset.h"

#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

double cli_get(const gsgd_options *opts, gsgd_param p) {
    double v = 0;
    (void)gsgd_get(opts, p, &v);
    return v;
}

static int set(gsgd_options *opts, gsgd_param p, const char *opt, double v) {
    gsgd_status st = gsgd_set(opts, p, v);
    if (st == GSGD_STATUS_OK) return CLI_OK;
    cli_error("%s: %s", opt, gsgd_status_string(st));
    return cli_exit_code(st);
}

/* One of the row's names, or one line listing them all. */
static int set_choice(gsgd_options *opts, const cli_optrow *r, const char *s) {
    for (int k = 0; k < r->n_choices; k++)
        if (r->choices[k] && strcmp(s, r->choices[k]) == 0) return set(opts, r->param, r->name, k);
    char list[256];
    size_t n = 0;
    list[0] = '\0';
    for (int k = 0; k < r->n_choices && n < sizeof list; k++)
        n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", k ? ", " : "", r->choices[k]);
    const char *near = cli_nearest(s, strlen(s), r->choices, r->n_choices);
    cli_error("%s: '%s' is not one of %s%s%s%s", r->name, s, list, near ? " (did you mean " : "",
              near ? near : "", near ? "?)" : "");
    return CLI_USAGE;
}

/* --batch auto | fastest | N */
static int set_batch(gsgd_options *opts, const cli_optrow *r, const char *s) {
    if (strcmp(s, "auto") == 0 || strcmp(s, "fastest") == 0) {
        int rc = set(opts, GSGD_BATCH, r->name, 0);
        if (rc == CLI_OK)
            rc = set(opts, GSGD_BATCH_POLICY, r->name,
                     s[0] == 'a' ? GSGD_BATCH_LARGEST : GSGD_BATCH_FASTEST);
        return rc;
    }
    /* 0 is the library's "planned", which the words above say better. */
    if (strcmp(s, "0") == 0) {
        cli_error("%s: 0 is not a batch size; use %s auto or a positive number", r->name, r->name);
        return CLI_USAGE;
    }
    if (strspn(s, "0123456789") != strlen(s) || !*s) {
        cli_error("%s: '%s' is not auto, fastest or a positive integer", r->name, s);
        return CLI_USAGE;
    }
    return cli_set_param(opts, r->param, r->name, s, 1);
}

/* --epochs auto | N: auto is the library's EPOCHS 0, which the word says
 * better than the number (0 passes would be no training at all). */
static int set_epochs(gsgd_options *opts, const cli_optrow *r, const char *s) {
    if (strcmp(s, "auto") == 0) return set(opts, r->param, r->name, 0);
    if (!*s || strspn(s, "0123456789") != strlen(s) || strspn(s, "0") == strlen(s)) {
        cli_error("%s: '%s' is not a positive number of epochs; %s auto trains until the loss "
                  "stops improving",
                  r->name, s, r->name);
        return CLI_USAGE;
    }
    return cli_set_param(opts, r->param, r->name, s, 1);
}

/* SIZE | P% (MEM_LIMIT or MEM_FRACTION), or SIZE alone. */
static int set_size(gsgd_options *opts, const cli_optrow *r, const char *s) {
    const int percent = r->kind == CLI_MEM_LIMIT;
    double bytes, fraction;
    int rc = cli_parse_size(r->name, s, percent, &bytes, &fraction);
    if (rc != CLI_OK) return rc;
    if (percent && fraction == 0.0 && bytes < 1.0) {
        cli_error("%s: %s leaves no memory at all", r->name, s);
        return CLI_USAGE;
    }
    return fraction > 0.0 ? set(opts, GSGD_MEM_FRACTION, r->name, fraction)
                          : set(opts, r->param, r->name, bytes);
}

static int set_row(gsgd_options *opts, int id, const char *s) {
    const cli_optrow *r = &CLI_OPTS[id];
    switch (r->kind) {
    case CLI_NUM:
    case CLI_INT:
        return cli_set_param(opts, r->param, r->name, s, r->kind == CLI_INT);
    case CLI_CHOICE:
        return set_choice(opts, r, s);
    case CLI_BATCH:
        return set_batch(opts, r, s);
    case CLI_EPOCHS:
        return set_epochs(opts, r, s);
    case CLI_MAX_BATCH: {
        double hi = 0;
        gsgd_param_bounds(r->param, NULL, &hi, NULL);
        return strcmp(s, "none") == 0 ? set(opts, r->param, r->name, hi)
                                      : cli_set_param(opts, r->param, r->name, s, 1);
    }
    case CLI_MEM_LIMIT:
    case CLI_SIZE:
        return set_size(opts, r, s);
    default: /* read by the command */
        return CLI_OK;
    }
}

/* Options the chosen rule or schedule never reads are almost certainly a
 * mistake worth pointing out, though not an error. */
static void warn_unread(const gsgd_options *o, const char *const *v) {
    const gsgd_optim rule = (gsgd_optim)cli_get(o, GSGD_OPTIMIZER);
    const gsgd_schedule sched = (gsgd_schedule)cli_get(o, GSGD_SCHEDULE);
    const int adam_like =
        rule == GSGD_OPTIM_ADAM || rule == GSGD_OPTIM_ADAMW || rule == GSGD_OPTIM_LAMB;
    for (int k = 0; k < CLI_N_OPTS; k++) {
        const cli_optrow *r = &CLI_OPTS[k];
        if (!v[k] || (r->group != CLI_G_OPTIM && r->group != CLI_G_SCHEDULE)) continue;
        const gsgd_param p = r->param;
        const char *why = NULL;
        if (p == GSGD_MOMENTUM &&
            (rule == GSGD_OPTIM_SGD || adam_like || rule == GSGD_OPTIM_ADAGRAD))
            why = "the rule has no momentum (momentum, nesterov, rmsprop and lars do)";
        else if ((p == GSGD_BETA1 || p == GSGD_BETA2) && !adam_like)
            why = "only adam, adamw and lamb read it";
        else if (p == GSGD_RMS_ALPHA && rule != GSGD_OPTIM_RMSPROP)
            why = "only rmsprop reads it";
        else if (p == GSGD_TRUST_COEF && rule != GSGD_OPTIM_LARS)
            why = "only lars reads it";
        else if (p == GSGD_LR_GAMMA && sched != GSGD_SCHEDULE_EXPONENTIAL &&
                 sched != GSGD_SCHEDULE_STEP && cli_get(o, GSGD_LR_STEP) == 0)
            why = "only the step (--lr-step) and exponential schedules read it";
        else if ((p == GSGD_LR_MIN || p == GSGD_COSINE_PERIOD || p == GSGD_COSINE_MULT) &&
                 sched != GSGD_SCHEDULE_COSINE)
            why = "only --schedule cosine reads it";
        else if (p == GSGD_POWER_T && sched != GSGD_SCHEDULE_INVSCALING)
            why = "only --schedule invscaling reads it";
        if (why) cli_warn("%s is ignored: %s", r->name, why);
    }
    /* Read only while --epochs auto decides the run's length. */
    const int auto_epochs = cli_get(o, GSGD_EPOCHS) == 0;
    const int ids[] = {CLI_O_MAX_EPOCHS, CLI_O_MIN_STEPS, CLI_O_COOLDOWN};
    for (size_t k = 0; k < sizeof ids / sizeof ids[0]; k++) {
        if (!v[ids[k]]) continue;
        if (!auto_epochs)
            cli_warn("%s is ignored: only --epochs auto reads it", CLI_OPTS[ids[k]].name);
        else if (ids[k] == CLI_O_COOLDOWN &&
                 (sched != GSGD_SCHEDULE_COSINE || cli_get(o, GSGD_COSINE_PERIOD) > 0))
            cli_warn("--cooldown is ignored: only --schedule cosine with --cosine-period 0 "
                     "reads it");
    }
}

int cli_options_apply(gsgd_options *opts, const char *const *v) {
    for (int k = 0; k < CLI_N_OPTS; k++) {
        if (!v[k]) continue;
        int rc = set_row(opts, k, v[k]);
        if (rc != CLI_OK) return rc;
    }
    const gsgd_schedule sched = (gsgd_schedule)cli_get(opts, GSGD_SCHEDULE);
    if (sched == GSGD_SCHEDULE_STEP && cli_get(opts, GSGD_LR_STEP) == 0) {
        cli_error("--schedule step needs --lr-step N (epochs between decays)");
        return CLI_USAGE;
    }
    if (sched == GSGD_SCHEDULE_OPTIMAL && cli_get(opts, GSGD_L1) == 0 &&
        cli_get(opts, GSGD_WEIGHT_DECAY) <= 0) {
        cli_error("--schedule optimal needs a regularisation strength: --weight-decay or --l1 "
                  "(scikit-learn's alpha, e.g. 1e-4)");
        return CLI_USAGE;
    }
    warn_unread(opts, v);
    return CLI_OK;
}

int cli_options_build(gsgd_options **opts, const char *const *v) {
    gsgd_status st = gsgd_options_create(opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    return cli_options_apply(*opts, v);
}

int cli_count(const char *const *v, int id, int *out) {
    const cli_optrow *r = &CLI_OPTS[id];
    *out = (int)r->dflt;
    if (!v[id]) return CLI_OK;
    uint64_t u;
    if (cli_parse_u64(r->name, v[id], &u) != CLI_OK) return CLI_USAGE;
    if ((double)u < r->lo || (double)u > r->hi) {
        cli_error("%s: %s is outside [%.0f, %.0f]", r->name, v[id], r->lo, r->hi);
        return CLI_USAGE;
    }
    *out = (int)u;
    return CLI_OK;
}
