/*
 * `gsgd`: the command-line program, a thin client of the public API.
 * This file only dispatches to the subcommands.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/usage.h"

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} COMMANDS[] = {
    {"train", cli_cmd_train}, {"eval", cli_cmd_eval},   {"predict", cli_cmd_predict},
    {"plan", cli_cmd_plan},   {"bench", cli_cmd_bench}, {"info", cli_cmd_info},
};

int main(int argc, char **argv) {
    if (argc < 2) {
        /* No command is a usage error, but the overview is what helps. */
        cli_usage_main(stderr);
        return CLI_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
        /* "gsgd help train" is the same as "gsgd train --help". */
        if (strcmp(cmd, "help") == 0 && argc > 2) {
            char *args[] = {argv[2], "--help", NULL};
            for (size_t k = 0; k < sizeof COMMANDS / sizeof COMMANDS[0]; k++)
                if (strcmp(argv[2], COMMANDS[k].name) == 0) return COMMANDS[k].run(2, args);
            cli_error("help: unknown command '%s' (see 'gsgd --help')", argv[2]);
            return CLI_USAGE;
        }
        cli_usage_main(stdout);
        return CLI_OK;
    }
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "-V") == 0) {
        printf("gsgd %s\n", gsgd_version_string());
        return CLI_OK;
    }
    for (size_t k = 0; k < sizeof COMMANDS / sizeof COMMANDS[0]; k++)
        if (strcmp(cmd, COMMANDS[k].name) == 0) return COMMANDS[k].run(argc - 1, argv + 1);
    if (cmd[0] == '-')
        cli_error("unknown option '%s' (see 'gsgd --help')", cmd);
    else
        cli_error("unknown command '%s' (see 'gsgd --help')", cmd);
    return CLI_USAGE;
}
