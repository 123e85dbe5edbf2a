/* `gsgd info`: version, build and CPU backend, and whether CUDA is usable;
 * `gsgd info MODEL`: what a model file or checkpoint holds. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/opttable.h"

static int print_info(gsgd_context *ctx) {
    char buf[4096];
    gsgd_status st = gsgd_info(ctx, buf, sizeof buf);
    if (st != GSGD_STATUS_OK) return cli_fail(ctx, st);
    fputs(buf, stdout);
    if (*buf && buf[strlen(buf) - 1] != '\n') fputc('\n', stdout);
    return CLI_OK;
}

static int build_info(void) {
    printf("gsgd %s\n\n", gsgd_version_string());
    gsgd_context *ctx = NULL;
    gsgd_status st = gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    printf("[cpu]\n");
    int rc = print_info(ctx);
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

/* A parameter's value, by name where it is one of a list. */
static void option_value(gsgd_param p, double v, char *buf, size_t size) {
    const char *name = NULL;
    /* The option table's names for every parameter set by a choice
     * (optimizer, schedule, standardize, precision, ...). */
    for (int id = 0; id < CLI_N_OPTS && !name; id++)
        if (CLI_OPTS[id].kind == CLI_CHOICE && CLI_OPTS[id].param == p)
            name = cli_choice_name(id, (int)v);
    if (p == GSGD_BATCH_POLICY) name = v == GSGD_BATCH_FASTEST ? "fastest" : "largest";
    /* The values include/gsgd.h documents as "automatic": the rule, the
     * data or the device picks the value at training time. */
    static const struct {
        gsgd_param p;
        double v;
    } automatic[] = {{GSGD_LR, 0},     {GSGD_MOMENTUM, -1}, {GSGD_WEIGHT_DECAY, -1},
                     {GSGD_EPOCHS, 0}, {GSGD_EPS, -1},      {GSGD_TOL, -1},
                     {GSGD_BATCH, 0},  {GSGD_MAX_BATCH, 0}, {GSGD_MEM_RESERVE, -1}};
    for (size_t i = 0; i < sizeof automatic / sizeof *automatic; i++)
        if (p == automatic[i].p && v == automatic[i].v) name = "auto";
    if (name)
        snprintf(buf, size, "%s", name);
    else
        cli_fmt_num(v, buf, (unsigned)size);
}

/* "options: optimizer sgd, lr 0.1, ..." wrapped at 80 columns. */
static void print_options(const gsgd_options *opts) {
    int col = printf("options:");
    for (int k = 0; gsgd_param_name((gsgd_param)k); k++) {
        double v = 0;
        char value[64], item[128];
        (void)gsgd_get(opts, (gsgd_param)k, &v);
        option_value((gsgd_param)k, v, value, sizeof value);
        int len = snprintf(item, sizeof item, " %s %s%s", gsgd_param_name((gsgd_param)k), value,
                           gsgd_param_name((gsgd_param)(k + 1)) ? "," : "");
        if (col + len > 80) {
            printf("\n ");
            col = 1;
        }
        col += printf("%s", item);
    }
    printf("\n");
}

/* What kind of file path is, the model (described), and the training
 * state a checkpoint has. */
static int describe_file(gsgd_context *ctx, const char *path, const char *described) {
    gsgd_options *opts = NULL;
    gsgd_status st = gsgd_options_create(&opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    int epochs = 0;
    size_t step = 0;
    st = gsgd_checkpoint_options(ctx, path, opts, &epochs, &step);
    if (st == GSGD_STATUS_OK) {
        printf("%s: checkpoint: %d epoch%s trained", path, epochs, epochs == 1 ? "" : "s");
        if (step) printf(" and %zu step%s of the next", step, step == 1 ? "" : "s");
        printf("; 'gsgd train --resume %s' goes on from there\n%s\n", path, described);
        print_options(opts);
    } else if (st == GSGD_STATUS_BAD_FORMAT) {
        /* gsgd_model_load read path, so it is a model file or a checkpoint;
         * a checkpoint it reads is one gsgd_checkpoint_options reads. */
        printf("%s: model file, no training state (a checkpoint of 'gsgd train --save' has it)\n"
               "%s\n",
               path, described);
    } else {
        printf("%s: no training state readable: %s\n%s\n", path, gsgd_last_error(ctx), described);
    }
    gsgd_options_free(opts);
    return CLI_OK;
}

static int model_info(const char *path) {
    gsgd_context *ctx = NULL;
    gsgd_model *model = NULL;
    gsgd_status st = gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    int rc = CLI_OK;
    char buf[4096];
    st = gsgd_model_load(ctx, path, &model);
    if (st == GSGD_STATUS_OK) st = gsgd_model_describe(model, buf, sizeof buf);
    if (st != GSGD_STATUS_OK) rc = cli_fail(ctx, st);
    if (rc == CLI_OK) rc = describe_file(ctx, path, buf);
    gsgd_model_free(model);
    gsgd_context_free(ctx);
    return rc;
}

int cli_cmd_info(int argc, char **argv) {
    /* The one positional argument of the program: MODEL. */
    const char *model = NULL;
    char *args[64];
    int n = 0;
    for (int i = 0; i < argc && n < 64; i++) {
        if (i > 0 && argv[i][0] != '-' && !model)
            model = argv[i];
        else
            args[n++] = argv[i];
    }
    const char *v[CLI_N_OPTS];
    int rc = cli_parse_command(&CLI_CMD_INFO, n, args, v);
    if (rc != CLI_OK) return rc == CLI_HELP_SHOWN ? CLI_OK : rc;
    return model ? model_info(model) : build_info();
}
