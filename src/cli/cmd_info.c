/* `gsgd info`: version, build and CPU backend, and whether CUDA is usable. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"

static int print_info(gsgd_context *ctx) {
    char buf[4096];
    gsgd_status st = gsgd_info(ctx, buf, sizeof buf);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    fputs(buf, stdout);
    if (*buf && buf[strlen(buf) - 1] != '\n') fputc('\n', stdout);
    return CLI_OK;
}

int cli_cmd_info(int argc, char **argv) {
    const char *v[CLI_N_OPTS];
    int rc = cli_parse_command(&CLI_CMD_INFO, argc, argv, v);
    if (rc != CLI_OK) return rc == CLI_HELP_SHOWN ? CLI_OK : rc;
    printf("gsgd %s\n\n", gsgd_version_string());

    gsgd_context *ctx = NULL;
    gsgd_status st = gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    printf("[cpu]\n");
    rc = print_info(ctx);
    gsgd_context_free(ctx);
    if (rc != CLI_OK) return rc;

    /* A missing GPU is a fact to report, not a failure of `info`. */
    ctx = NULL;
    st = gsgd_context_create(&ctx, GSGD_DEVICE_CUDA, 0);
    printf("\n[cuda]\n");
    if (st == GSGD_STATUS_OK) {
        rc = print_info(ctx);
    } else {
        printf("not available: %s (%s)\n", gsgd_last_error(NULL), gsgd_status_name(st));
    }
    gsgd_context_free(ctx);
    return rc;
}
