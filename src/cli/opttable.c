/* The option table and the commands' membership in it (see opttable.h). */
#include "cli/opttable.h"

#include <stddef.h>

/* Indexed by gsgd_optim, gsgd_schedule, gsgd_on_nan, gsgd_lr_scaling,
 * gsgd_precision, gsgd_standardize. */
const char *const CLI_OPTIMS[] = {
    [GSGD_OPTIM_SGD] = "sgd",           [GSGD_OPTIM_MOMENTUM] = "momentum",
    [GSGD_OPTIM_NESTEROV] = "nesterov", [GSGD_OPTIM_ADAM] = "adam",
    [GSGD_OPTIM_ADAMW] = "adamw",       [GSGD_OPTIM_ADAGRAD] = "adagrad",
    [GSGD_OPTIM_RMSPROP] = "rmsprop",   [GSGD_OPTIM_LARS] = "lars",
    [GSGD_OPTIM_LAMB] = "lamb"};
const char *const CLI_SCHEDULES[] = {
    [GSGD_SCHEDULE_CONSTANT] = "constant",       [GSGD_SCHEDULE_STEP] = "step",
    [GSGD_SCHEDULE_EXPONENTIAL] = "exponential", [GSGD_SCHEDULE_COSINE] = "cosine",
    [GSGD_SCHEDULE_INVSCALING] = "invscaling",   [GSGD_SCHEDULE_OPTIMAL] = "optimal",
    [GSGD_SCHEDULE_ADAPTIVE] = "adaptive"};
const char *const CLI_ON_NAN[] = {[GSGD_ON_NAN_STOP] = "stop", [GSGD_ON_NAN_SKIP] = "skip"};
const char *const CLI_LR_SCALINGS[] = {[GSGD_LR_SCALING_NONE] = "none",
                                       [GSGD_LR_SCALING_LINEAR] = "linear",
                                       [GSGD_LR_SCALING_SQRT] = "sqrt"};
const char *const CLI_PRECISIONS[] = {
    [GSGD_PRECISION_FP32] = "fp32", [GSGD_PRECISION_TF32] = "tf32", [GSGD_PRECISION_BF16] = "bf16"};
const char *const CLI_STANDARDIZES[] = {
    [GSGD_STANDARDIZE_OFF] = "off", [GSGD_STANDARDIZE_ON] = "on", [GSGD_STANDARDIZE_AUTO] = "auto"};

#define CLI_CHOICES_(names) .choices = names, .n_choices = (int)(sizeof names / sizeof names[0])
#define CLI_OPTION_ROW_(id, group_, kind_, name_, meta_, ...)                                      \
    [CLI_O_##id] = {                                                                               \
        .name = name_, .meta = meta_, .group = CLI_G_##group_, .kind = CLI_##kind_, __VA_ARGS__},
const cli_optrow CLI_OPTS[CLI_N_OPTS] = {CLI_OPTION_TABLE(CLI_OPTION_ROW_)};
#undef CLI_OPTION_ROW_
#undef CLI_CHOICES_

int cli_command_has(const cli_command *cmd, int id) {
    if (id < 0 || id >= CLI_N_OPTS) return 0;
    if (id == CLI_O_HELP || (cmd->groups >> CLI_OPTS[id].group & 1u)) return 1;
    for (const int *o = cmd->own; o && *o >= 0; o++)
        if (*o == id) return 1;
    return 0;
}

const char *cli_command_default(const cli_command *cmd, int id) {
    for (const cli_default *d = cmd->defaults; d && d->id >= 0; d++)
        if (d->id == id) return d->value;
    return NULL;
}

const char *cli_choice_name(int id, int v) {
    const cli_optrow *r = &CLI_OPTS[id];
    return r->choices && v >= 0 && v < r->n_choices && r->choices[v] ? r->choices[v] : "unknown";
}

const char *cli_optim_name(int optim) { return cli_choice_name(CLI_O_OPTIM, optim); }
const char *cli_schedule_name(int schedule) { return cli_choice_name(CLI_O_SCHEDULE, schedule); }
const char *cli_lr_scaling_name(int scaling) { return cli_choice_name(CLI_O_LR_SCALING, scaling); }
