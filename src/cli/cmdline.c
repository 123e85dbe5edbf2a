/* The subcommands' command lines (see cmdline.h). */
#include "cli/cmdline.h"

#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/usage.h"

/* The row of cmd called name (len bytes), or -1. Two rows may share a name
 * (bench's --epochs and train's) as long as no command takes both. */
static int find_row(const cli_command *cmd, const char *name, size_t len) {
    for (int k = 0; k < CLI_N_OPTS; k++)
        if (strlen(CLI_OPTS[k].name) == len && strncmp(CLI_OPTS[k].name, name, len) == 0 &&
            cli_command_has(cmd, k))
            return k;
    return -1;
}

/* One line for an option cmd does not take: the commands that do take it,
 * or else the nearest of cmd's own names. */
static void unknown_option(const cli_command *cmd, const char *name, size_t len) {
    char others[128] = "";
    size_t used = 0;
    for (const cli_command *const *c = CLI_COMMANDS; *c; c++)
        if (*c != cmd && find_row(*c, name, len) >= 0 && used + 16 < sizeof others)
            used += (size_t)snprintf(others + used, sizeof others - used, "%s%s", used ? ", " : "",
                                     (*c)->name);
    if (used) {
        cli_error("%s: %.*s does not apply to %s (it is an option of %s; see 'gsgd %s --help')",
                  cmd->name, (int)len, name, cmd->name, others, cmd->name);
        return;
    }
    const char *names[CLI_N_OPTS];
    for (int k = 0; k < CLI_N_OPTS; k++) names[k] = cli_command_has(cmd, k) ? CLI_OPTS[k].name : 0;
    const char *near = cli_nearest(name, len, names, CLI_N_OPTS);
    if (near)
        cli_error("%s: unknown option '%.*s' (did you mean %s?)", cmd->name, (int)len, name, near);
    else
        cli_error("%s: unknown option '%.*s' (see 'gsgd %s --help')", cmd->name, (int)len, name,
                  cmd->name);
}

int cli_parse_command(const cli_command *cmd, int argc, char **argv, const char **v) {
    for (int k = 0; k < CLI_N_OPTS; k++) v[k] = NULL;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (strcmp(arg, "-h") == 0) arg = "--help";
        if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0') {
            cli_error("%s: unexpected argument '%s' (see 'gsgd %s --help')", cmd->name, arg,
                      cmd->name);
            return CLI_USAGE;
        }
        const char *eq = strchr(arg, '=');
        size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
        int k = find_row(cmd, arg, len);
        if (k < 0) {
            unknown_option(cmd, arg, len);
            return CLI_USAGE;
        }
        const cli_optrow *r = &CLI_OPTS[k];
        /* "The last one wins" would hide a mistake in a long command line. */
        if (v[k]) {
            cli_error("%s: %s is given twice; give each option once", cmd->name, r->name);
            return CLI_USAGE;
        }
        if (!r->meta) {
            if (eq) {
                cli_error("%s takes no value (got '%s')", r->name, eq + 1);
                return CLI_USAGE;
            }
            v[k] = "";
        } else if (eq) {
            v[k] = eq + 1;
        } else if (r->bare && (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0 ||
                               strcmp(argv[i + 1], "-h") == 0)) {
            /* "--standardize" alone; the commands take no operands, so a
             * word after it can only be its value, checked as one. */
            v[k] = r->bare;
        } else if (i + 1 >= argc || strncmp(argv[i + 1], "--", 2) == 0) {
            /* "--data --model x" is a forgotten value, not a data spec named
             * "--model"; a lone "-" or "-1" is still accepted as a value. */
            cli_error("%s: missing value", r->name);
            return CLI_USAGE;
        } else {
            v[k] = argv[++i];
        }
    }
    if (v[CLI_O_HELP]) {
        cli_usage(stdout, cmd);
        return CLI_HELP_SHOWN;
    }
    for (int k = 0; k < CLI_N_OPTS; k++)
        if (!v[k]) v[k] = cli_command_default(cmd, k);
    for (const int *k = cmd->required; k && *k >= 0; k++)
        if (!v[*k]) {
            cli_error("%s: %s %s is required (see 'gsgd %s --help')", cmd->name, CLI_OPTS[*k].name,
                      CLI_OPTS[*k].meta, cmd->name);
            return CLI_USAGE;
        }
    return CLI_OK;
}

int cli_session_begin(cli_session *s, const cli_command *cmd, int argc, char **argv) {
    memset(s, 0, sizeof *s);
    return cli_parse_command(cmd, argc, argv, s->v);
}

int cli_session_end(cli_session *s, int rc) {
    gsgd_model_free(s->model);
    gsgd_dataset_free(s->test);
    gsgd_dataset_free(s->train);
    gsgd_options_free(s->opts);
    gsgd_context_free(s->ctx);
    memset(s, 0, sizeof *s);
    return rc == CLI_HELP_SHOWN ? CLI_OK : rc;
}
