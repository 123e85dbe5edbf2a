/* Optimizer, schedule and stopping options (see optimopts.h). */
#include "cli/optimopts.h"

#include <string.h>

#include "cli/cli.h"

typedef enum { K_PARAM, K_INTEGER, K_OPTIM, K_SCHEDULE, K_ON_NAN } kind;

static const struct {
    const char *name;
    kind kind;
    gsgd_param param;
    const char *help;
} TABLE[CLI_OPTIM_N] = {
    {"--optim", K_OPTIM, GSGD_OPTIMIZER,
     "sgd, momentum, nesterov, adam, adamw, adagrad,\nrmsprop, lars, lamb"},
    {"--lr", K_PARAM, GSGD_LR,
     "learning rate; 0 = the rule's: 0.1 sgd;\n0.1*(1-momentum) momentum, nesterov;\n"
     "0.01*(1-momentum)/trust-coef lars;\n1e-3 adam, adamw, lamb; 1e-2 adagrad, rmsprop"},
    {"--momentum", K_PARAM, GSGD_MOMENTUM,
     "momentum (momentum, nesterov, rmsprop, lars);\n-1 = 0 for rmsprop, else 0.9"},
    {"--weight-decay", K_PARAM, GSGD_WEIGHT_DECAY,
     "L2 strength on the weights (decoupled for adamw, lamb);\n"
     "-1 = 0.01 for adamw and lamb, else 0"},
    {"--beta1", K_PARAM, GSGD_BETA1, "first-moment decay (adam, adamw, lamb)"},
    {"--beta2", K_PARAM, GSGD_BETA2, "second-moment decay (adam, adamw, lamb)"},
    {"--eps", K_PARAM, GSGD_EPS, "denominator term; -1 = 1e-10 adagrad, 1e-6 lamb,\nelse 1e-8"},
    {"--rms-alpha", K_PARAM, GSGD_RMS_ALPHA, "rmsprop's smoothing constant"},
    {"--trust-coef", K_PARAM, GSGD_TRUST_COEF, "lars's trust coefficient"},
    {"--clip-norm", K_PARAM, GSGD_CLIP_NORM,
     "scale the gradient to at most this global norm;\n0 = off"},
    {"--l1", K_PARAM, GSGD_L1,
     "elastic-net strength alpha: soft-threshold the\n"
     "weights by lr*alpha*ratio each step (exact zeros),\n"
     "plus L2 alpha*(1-ratio); 0 = off"},
    {"--l1-ratio", K_PARAM, GSGD_L1_RATIO, "the L1 share of --l1 (1 = pure L1)"},
    {"--schedule", K_SCHEDULE, GSGD_SCHEDULE,
     "constant | step | exponential | cosine |\ninvscaling | optimal | adaptive"},
    {"--lr-step", K_INTEGER, GSGD_LR_STEP, "step: multiply lr by --lr-gamma every N epochs"},
    {"--lr-gamma", K_PARAM, GSGD_LR_GAMMA, "step and exponential decay factor"},
    {"--lr-min", K_PARAM, GSGD_LR_MIN, "cosine: the rate at the end of a cycle"},
    {"--cosine-period", K_PARAM, GSGD_COSINE_PERIOD,
     "cosine: epochs of the first cycle; 0 = all\nepochs (no restart)"},
    {"--cosine-mult", K_PARAM, GSGD_COSINE_MULT, "cosine: growth of each next cycle"},
    {"--power-t", K_PARAM, GSGD_POWER_T, "invscaling: lr / step^power_t"},
    {"--average", K_INTEGER, GSGD_AVERAGE,
     "averaged SGD from step N on (evaluation and\n--save use the average); 0 = off"},
    {"--validation-fraction", K_PARAM, GSGD_VALIDATION_FRACTION,
     "hold out this share of the training data and\nstop on its accuracy"},
    {"--n-iter-no-change", K_INTEGER, GSGD_N_ITER_NO_CHANGE,
     "epochs without improvement by --tol before\nstopping (adaptive: lr / 5)"},
    {"--tol", K_PARAM, GSGD_TOL,
     "improvement that counts; 0 = no early stop on\nthe training loss"},
    {"--on-nan", K_ON_NAN, GSGD_ON_NAN,
     "stop | skip: on a NaN/Inf step, stop naming the\n"
     "step, or skip it and halve the learning rate"},
};

static const char *const SCHEDULES[] = {
    [GSGD_SCHEDULE_CONSTANT] = "constant",       [GSGD_SCHEDULE_STEP] = "step",
    [GSGD_SCHEDULE_EXPONENTIAL] = "exponential", [GSGD_SCHEDULE_COSINE] = "cosine",
    [GSGD_SCHEDULE_INVSCALING] = "invscaling",   [GSGD_SCHEDULE_OPTIMAL] = "optimal",
    [GSGD_SCHEDULE_ADAPTIVE] = "adaptive"};
#define N_SCHEDULES ((int)(sizeof SCHEDULES / sizeof SCHEDULES[0]))

static const char *const ON_NAN[] = {[GSGD_ON_NAN_STOP] = "stop", [GSGD_ON_NAN_SKIP] = "skip"};

const char *cli_schedule_name(int schedule) {
    return schedule >= 0 && schedule < N_SCHEDULES ? SCHEDULES[schedule] : "unknown";
}

void cli_optim_optdefs(cli_optdef *defs) {
    for (int k = 0; k < CLI_OPTIM_N; k++) defs[k] = (cli_optdef){TABLE[k].name, 1};
}

static double get(const gsgd_options *o, gsgd_param p) {
    double v = 0;
    (void)gsgd_get(o, p, &v);
    return v;
}

/* The value of a named choice, or CLI_USAGE after listing the choices. */
static int parse_choice(const char *opt, const char *s, const char *const *names, int n,
                        const char *list, int *out) {
    for (int k = 0; k < n; k++)
        if (names[k] && strcmp(s, names[k]) == 0) {
            *out = k;
            return CLI_OK;
        }
    cli_error("%s: '%s' is not one of %s", opt, s, list);
    return CLI_USAGE;
}

static int set_choice(gsgd_options *opts, int k, const char *s) {
    int v = -1, rc = CLI_OK;
    switch (TABLE[k].kind) {
    case K_OPTIM:
        v = cli_optim_parse(s);
        if (v < 0) {
            cli_error("%s: '%s' is not one of %s", TABLE[k].name, s, TABLE[k].help);
            return CLI_USAGE;
        }
        break;
    case K_SCHEDULE:
        rc = parse_choice(TABLE[k].name, s, SCHEDULES, N_SCHEDULES, TABLE[k].help, &v);
        break;
    case K_ON_NAN:
        rc = parse_choice(TABLE[k].name, s, ON_NAN, 2, "stop, skip", &v);
        break;
    default:
        return CLI_USAGE;
    }
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_set(opts, TABLE[k].param, v);
    if (st != GSGD_STATUS_OK) {
        cli_error("%s %s: %s", TABLE[k].name, s, gsgd_status_string(st));
        return cli_exit_code(st);
    }
    return CLI_OK;
}

/* Options the chosen rule or schedule never reads are almost certainly a
 * mistake worth pointing out, though not an error. */
static void warn_unread(const gsgd_options *o, const char *const *values) {
    const gsgd_optim rule = (gsgd_optim)get(o, GSGD_OPTIMIZER);
    const gsgd_schedule sched = (gsgd_schedule)get(o, GSGD_SCHEDULE);
    const int adam_like =
        rule == GSGD_OPTIM_ADAM || rule == GSGD_OPTIM_ADAMW || rule == GSGD_OPTIM_LAMB;
    for (int k = 0; k < CLI_OPTIM_N; k++) {
        if (!values[k]) continue;
        const gsgd_param p = TABLE[k].param;
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
                 sched != GSGD_SCHEDULE_STEP && get(o, GSGD_LR_STEP) == 0)
            why = "only the step (--lr-step) and exponential schedules read it";
        else if ((p == GSGD_LR_MIN || p == GSGD_COSINE_PERIOD || p == GSGD_COSINE_MULT) &&
                 sched != GSGD_SCHEDULE_COSINE)
            why = "only --schedule cosine reads it";
        else if (p == GSGD_POWER_T && sched != GSGD_SCHEDULE_INVSCALING)
            why = "only --schedule invscaling reads it";
        if (why) cli_warn("%s is ignored: %s", TABLE[k].name, why);
    }
}

int cli_optim_options(gsgd_options *opts, const char *const *values) {
    for (int k = 0; k < CLI_OPTIM_N; k++) {
        const char *s = values[k];
        if (!s) continue;
        int rc =
            TABLE[k].kind == K_PARAM || TABLE[k].kind == K_INTEGER
                ? cli_set_param(opts, TABLE[k].param, TABLE[k].name, s, TABLE[k].kind == K_INTEGER)
                : set_choice(opts, k, s);
        if (rc != CLI_OK) return rc;
    }
    const gsgd_schedule sched = (gsgd_schedule)get(opts, GSGD_SCHEDULE);
    if (sched == GSGD_SCHEDULE_STEP && get(opts, GSGD_LR_STEP) == 0) {
        cli_error("--schedule step needs --lr-step N (epochs between decays)");
        return CLI_USAGE;
    }
    if (sched == GSGD_SCHEDULE_OPTIMAL && get(opts, GSGD_L1) == 0 &&
        get(opts, GSGD_WEIGHT_DECAY) <= 0) {
        cli_error("--schedule optimal needs a regularisation strength: --weight-decay or --l1 "
                  "(scikit-learn's alpha, e.g. 1e-4)");
        return CLI_USAGE;
    }
    warn_unread(opts, values);
    return CLI_OK;
}

/* "  --name X   help", continuation lines indented, then the default on
 * a line of its own, as the other options' help does. */
static void usage_line(FILE *f, int k) {
    char opt[40];
    const kind kd = TABLE[k].kind;
    snprintf(opt, sizeof opt, "%s %s", TABLE[k].name,
             kd == K_PARAM     ? "X"
             : kd == K_INTEGER ? "N"
                               : "NAME");
    fprintf(f, "  %-22s ", opt);
    for (const char *h = TABLE[k].help; *h; h++) {
        fputc(*h, f);
        if (*h == '\n') fprintf(f, "  %-22s ", "");
    }
    double dflt = 0;
    if (gsgd_param_bounds(TABLE[k].param, NULL, NULL, &dflt) != GSGD_STATUS_OK) {
        fputc('\n', f);
        return;
    }
    fprintf(f, "\n  %-22s (default ", "");
    if (kd == K_OPTIM)
        fputs(cli_optim_name((int)dflt), f);
    else if (kd == K_SCHEDULE)
        fputs(cli_schedule_name((int)dflt), f);
    else if (kd == K_ON_NAN)
        fputs(ON_NAN[(int)dflt], f);
    else
        fprintf(f, "%g", dflt);
    fputs(")\n", f);
}

void cli_usage_optim_options(FILE *f) {
    for (int k = 0; k < CLI_OPTIM_N; k++) usage_line(f, k);
}
