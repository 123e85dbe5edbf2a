/*
 * The command line of each subcommand, parsed against the option table
 * (opttable.h): `--opt value` and `--opt=value`, each option at most once,
 * only the options the command composes; an unknown one is refused with
 * the nearest known name, --help prints the command's help (usage.h).
 */
#ifndef GSGD_CLI_CMDLINE_H
#define GSGD_CLI_CMDLINE_H

#include "cli/opttable.h"
#include "gsgd.h"

/* The commands (commands.c), and all of them, NULL last. */
extern const cli_command CLI_CMD_TRAIN, CLI_CMD_EVAL, CLI_CMD_PREDICT, CLI_CMD_PLAN, CLI_CMD_BENCH,
    CLI_CMD_INFO;
extern const cli_command *const CLI_COMMANDS[];

/* What cli_parse_command returns after printing --help: the command is
 * done and exits with CLI_OK. */
#define CLI_HELP_SHOWN (-1)

/* Parses argv[1..argc) (argv[0] is the subcommand) for cmd into
 * v[0..CLI_N_OPTS): the value given for each row ("" for a flag), cmd's
 * own default where it has one and the option is absent, else NULL.
 * "-h" is "--help". Returns CLI_OK, CLI_HELP_SHOWN after printing cmd's
 * help on stdout, or CLI_USAGE after printing one line that names the
 * offending argument: an unknown option (with the nearest known one, or
 * the commands that take it), a repeated one, a missing value, a value
 * given to a flag, a required option absent. */
int cli_parse_command(const cli_command *cmd, int argc, char **argv, const char **v);

/* What every command holds: the values of its options and the library's
 * objects it creates (NULL until then). */
typedef struct {
    const char *v[CLI_N_OPTS]; /* as cli_parse_command fills it */
    gsgd_options *opts;
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
} cli_session;

/* Empties s and parses argv into s->v for cmd; returns as
 * cli_parse_command does. */
int cli_session_begin(cli_session *s, const cli_command *cmd, int argc, char **argv);
/* Frees what s holds, children before their context, and turns the exit
 * code rc of the command into the process's (CLI_HELP_SHOWN: CLI_OK). */
int cli_session_end(cli_session *s, int rc);

#endif
