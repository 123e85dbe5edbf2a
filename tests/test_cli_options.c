/*
 * The option table as the commands compose it (src/cli/opttable.c,
 * commands.c): train, plan and bench take the same optimizer, schedule and
 * memory options, and plan and bench pass them on (plan's memory table
 * changes with --average, --clip-norm and a per-step schedule); each
 * command's --help lists every option it takes, within 80 columns; a
 * repeated option, a bad choice and a mistyped option each give one line
 * and exit 2.
 *
 * The table is compiled into this suite to know what to expect; the
 * program is run as a user runs it (GSGD_CLI_PATH).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cmdline.h"
#include "testutil.h"

#define OUT_SIZE 65536
#define SYNTH "synth:2000,20,4" /* 1600 training samples */
#define PLAN "plan --quiet --device cpu --data " SYNTH " --model softmax"
#define BENCH                                                                                      \
    "bench --quiet --device cpu --data " SYNTH " --batches 32 --steps 2 --warmup-steps 0 "         \
    "--noise-samples 0"

#define gsgd(out, ...) tu_gsgd((out), OUT_SIZE, __VA_ARGS__)

static int in_step_groups(int id) {
    const cli_group g = CLI_OPTS[id].group;
    return g == CLI_G_OPTIM || g == CLI_G_SCHEDULE || g == CLI_G_MEMORY;
}

/* A valid value of row id: its parameter's default, by name for a choice. */
static const char *valid_value(int id, char *buf, size_t size) {
    const cli_optrow *r = &CLI_OPTS[id];
    double d = 0;
    gsgd_param_bounds(r->param, NULL, NULL, &d);
    switch (r->kind) {
    case CLI_CHOICE:
        return r->choices[(int)d];
    case CLI_BATCH:
        return "auto";
    case CLI_MAX_BATCH:
        return "none";
    case CLI_MEM_LIMIT:
        return "50%";
    case CLI_SIZE:
        return "0";
    default:
        snprintf(buf, size, "%.17g", d);
        return buf;
    }
}

/* "--optim sgd --lr 0 ..." for every row of the step groups. */
static const char *every_step_option(void) {
    static char line[4096];
    size_t n = 0;
    for (int id = 0; id < CLI_N_OPTS; id++) {
        if (!in_step_groups(id)) continue;
        char buf[64];
        n += (size_t)snprintf(line + n, sizeof line - n, " %s %s", CLI_OPTS[id].name,
                              valid_value(id, buf, sizeof buf));
    }
    cr_assert_lt(n, sizeof line);
    return line;
}

/* fixed_bytes of plan --json with the extra options. */
static double plan_fixed(const char *extra, char *out) {
    const char *path = tu_path("plan.json");
    int rc = gsgd(out, PLAN " --json '%s' %s", path, extra);
    cr_assert_eq(rc, 0, "plan %s: %s", extra, out);
    const char *json = tu_read_text(path);
    const char *p = strstr(json, "\"fixed_bytes\": ");
    cr_assert_not_null(p, "%s", json);
    return strtod(p + strlen("\"fixed_bytes\": "), NULL);
}

/* ---- one composition of the step's options ---------------------------- */

Test(cli_options, train_plan_and_bench_compose_the_same_step_options) {
    int n = 0;
    for (int id = 0; id < CLI_N_OPTS; id++) {
        if (!in_step_groups(id)) continue;
        n++;
        cr_expect(cli_command_has(&CLI_CMD_TRAIN, id), "train lacks %s", CLI_OPTS[id].name);
        cr_expect(cli_command_has(&CLI_CMD_PLAN, id), "plan lacks %s", CLI_OPTS[id].name);
        cr_expect(cli_command_has(&CLI_CMD_BENCH, id), "bench lacks %s", CLI_OPTS[id].name);
    }
    /* 14 optimizer, 10 schedule and 5 memory rows when this was written */
    cr_expect_geq(n, 29, "%d rows in the optimizer, schedule and memory groups", n);
}

Test(cli_options, every_step_option_is_accepted_by_train_plan_and_bench) {
    char out[OUT_SIZE];
    const char *all = every_step_option();
    cr_expect_eq(gsgd(out, PLAN "%s", all), 0, "plan%s: %s", all, out);
    cr_expect_eq(gsgd(out, BENCH "%s", all), 0, "bench%s: %s", all, out);
    cr_expect_eq(gsgd(out,
                      "train --quiet --device cpu --data " SYNTH " --model softmax "
                      "--epochs 1%s",
                      all),
                 0, "train%s: %s", all, out);
}

/* ---- plan and bench pass them to the library -------------------------- */

Test(cli_options, plan_counts_average_clip_norm_and_a_per_step_schedule) {
    char out[OUT_SIZE];
    /* Against the constant rate (the default before issue 17; cosine's
     * rate per step is counted below). */
    const double base = plan_fixed("--schedule constant", out);
    cr_expect(!strstr(out, "averaged parameters") && !strstr(out, "update scratch"), "%s", out);

    /* 84 parameters of softmax on 20 features and 4 classes. */
    cr_expect_eq(plan_fixed("--schedule constant --average 5", out), base + 84 * 4, "%s", out);
    cr_expect(strstr(out, "averaged parameters"), "%s", out);

    cr_expect_gt(plan_fixed("--schedule constant --clip-norm 1", out), base, "%s", out);
    cr_expect(strstr(out, "update scratch"), "the global norm's sum: %s", out);

    /* A rate per step of an epoch (1600 at batch 1) instead of one. */
    cr_expect_eq(plan_fixed("--schedule cosine", out), base + 1599 * 4, "%s", out);
    cr_expect(strstr(out, "learning rates (one per step, 1600)"), "%s", out);
}

Test(cli_options, bench_takes_a_schedule_and_regularisation) {
    char out[OUT_SIZE];
    int rc = gsgd(out, BENCH " --schedule cosine --lr-min 0.01 --clip-norm 1 --average 5 "
                             "--target-acc 0.3 --epochs 1");
    cr_expect_eq(rc, 0, "%s", out);
    cr_expect(strstr(out, "time to test accuracy 0.3"), "%s", out);
    cr_expect(!strstr(out, "is ignored"), "cosine reads --lr-min: %s", out);
}

/* ---- help ---------------------------------------------------------------- */

Test(cli_options, each_help_lists_every_option_of_its_command_within_80_columns) {
    for (const cli_command *const *c = CLI_COMMANDS; *c; c++) {
        char out[OUT_SIZE];
        cr_assert_eq(gsgd(out, "%s --help", (*c)->name), 0, "%s", out);
        for (int id = 0; id < CLI_N_OPTS; id++) {
            if (!cli_command_has(*c, id)) continue;
            char pat[96];
            snprintf(pat, sizeof pat, "\n  %s%s%s", CLI_OPTS[id].name, CLI_OPTS[id].meta ? " " : "",
                     CLI_OPTS[id].meta ? CLI_OPTS[id].meta : "");
            cr_expect(strstr(out, pat), "gsgd %s --help lacks '%s'", (*c)->name, pat + 1);
        }
        for (const char *line = out; *line;) {
            size_t len = strcspn(line, "\n");
            cr_expect_leq(len, 80, "gsgd %s --help: %zu columns: %.*s", (*c)->name, len, (int)len,
                          line);
            line += len + (line[len] == '\n');
        }
    }
}

Test(cli_options, help_shows_defaults_and_ranges_from_the_library) {
    char out[OUT_SIZE];
    cr_assert_eq(gsgd(out, "plan --help"), 0);
    cr_expect(strstr(out, "(default 0.02, range [0, 0.9])"), "--mem-headroom: %s", out);
    cr_expect(strstr(out, "(default 0, at least 0)"), "--average: %s", out);
    cr_expect(strstr(out, "default sgd)"), "--optim: %s", out);
    cr_assert_eq(gsgd(out, "bench --help"), 0);
    /* bench's own defaults */
    cr_expect(strstr(out, "(default none, range [0, 2147483647])"), "--max-batch: %s", out);
    cr_expect(strstr(out, "(default 30, range [1, 100000])"), "--steps: %s", out);
}

/* ---- mistakes ------------------------------------------------------------ */

Test(cli_options, a_repeated_option_exits_2_naming_it) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, PLAN " --lr 0.1 --lr=0.2"), 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--lr is given twice"), "%s", out);
    cr_expect_eq(gsgd(out, "train --quiet --data " SYNTH " --model softmax --quiet"), 2, "%s", out);
    cr_expect(strstr(out, "--quiet is given twice"), "%s", out);
    cr_expect_eq(gsgd(out, "eval --data " SYNTH " --data " SYNTH " --model-file x"), 2, "%s", out);
    cr_expect(strstr(out, "--data is given twice"), "%s", out);
}

Test(cli_options, a_bad_choice_is_one_line_listing_the_valid_values) {
    static const struct {
        const char *opt;
        int id;
    } choices[] = {{"--optim", CLI_O_OPTIM},
                   {"--schedule", CLI_O_SCHEDULE},
                   {"--on-nan", CLI_O_ON_NAN},
                   {"--lr-scaling", CLI_O_LR_SCALING}};
    for (size_t k = 0; k < sizeof choices / sizeof choices[0]; k++) {
        for (const cli_command *const *c = CLI_COMMANDS; *c; c++) {
            if (!cli_command_has(*c, choices[k].id)) continue;
            char out[OUT_SIZE];
            int rc = gsgd(out, "%s --data " SYNTH " --model softmax %s frob", (*c)->name,
                          choices[k].opt);
            cr_expect_eq(rc, 2, "%s %s: %s", (*c)->name, choices[k].opt, out);
            cr_expect_eq(tu_count_lines(out), 1, "%s %s: %s", (*c)->name, choices[k].opt, out);
            const cli_optrow *r = &CLI_OPTS[choices[k].id];
            for (int v = 0; v < r->n_choices; v++)
                cr_expect(strstr(out, r->choices[v]), "%s lacks %s: %s", r->name, r->choices[v],
                          out);
        }
    }
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, "plan --quiet --device gpu --data " SYNTH " --model softmax"), 2, "%s",
                 out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "auto, cpu, cuda, cuda:N"), "%s", out);
    cr_expect_eq(gsgd(out, PLAN " --schedule cosin"), 2, "%s", out);
    cr_expect(strstr(out, "(did you mean cosine?)"), "%s", out);
}

Test(cli_options, a_mistyped_option_suggests_the_nearest_one) {
    char out[OUT_SIZE];
    cr_expect_eq(gsgd(out, PLAN " --max-bach 64"), 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "did you mean --max-batch?"), "%s", out);
    cr_expect_eq(gsgd(out, "train --data " SYNTH " --model softmax --clipnorm=1"), 2, "%s", out);
    cr_expect(strstr(out, "did you mean --clip-norm?"), "%s", out);
    /* An option of another command says which. */
    cr_expect_eq(gsgd(out, PLAN " --epochs 3"), 2, "%s", out);
    cr_expect_eq(tu_count_lines(out), 1, "%s", out);
    cr_expect(strstr(out, "--epochs does not apply to plan") && strstr(out, "train"), "%s", out);
}

Test(cli_options, no_command_takes_two_rows_of_one_name) {
    for (const cli_command *const *c = CLI_COMMANDS; *c; c++)
        for (int a = 0; a < CLI_N_OPTS; a++)
            for (int b = a + 1; b < CLI_N_OPTS; b++)
                if (cli_command_has(*c, a) && cli_command_has(*c, b))
                    cr_expect(strcmp(CLI_OPTS[a].name, CLI_OPTS[b].name) != 0, "%s: two rows %s",
                              (*c)->name, CLI_OPTS[a].name);
}
