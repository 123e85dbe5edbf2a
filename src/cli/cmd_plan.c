/*
 * `gsgd plan`: the memory table of a training run, the budget, the batch
 * the planner picks and why, verified by one real step (gsgd_plan). With
 * --json the same as one JSON object.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/outfile.h"
#include "cli/planopts.h"
#include "cli/usage.h"

enum {
    O_DATA,
    O_MODEL,
    O_OPTIM,
    O_DEVICE,
    O_STANDARDIZE,
    O_BATCH,
    O_MAX_BATCH,
    O_MEM_LIMIT,
    O_MEM_HEADROOM,
    O_MEM_RESERVE,
    O_LR,
    O_LR_SCALING,
    O_LR_REF_BATCH,
    O_WARMUP,
    O_JSON,
    O_QUIET,
    O_HELP,
    O_COUNT
};

/* Same order as the enum above. */
static const cli_optdef OPTIONS[O_COUNT + 1] = {
    {"--data", 1},         {"--model", 1},       {"--optim", 1},
    {"--device", 1},       {"--standardize", 0}, {"--batch", 1},
    {"--max-batch", 1},    {"--mem-limit", 1},   {"--mem-headroom", 1},
    {"--mem-reserve", 1},  {"--lr", 1},          {"--lr-scaling", 1},
    {"--lr-ref-batch", 1}, {"--warmup", 1},      {"--json", 1},
    {"--quiet", 0},        {"--help", 0},        {NULL, 0}};

typedef struct {
    const char *v[O_COUNT];
    gsgd_options *opts;
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    gsgd_batch_plan *plan;
} plan_run;

static int build_options(plan_run *run) {
    const char **v = run->v;
    gsgd_status st = gsgd_options_create(&run->opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    cli_plan_args a = {.batch = v[O_BATCH],
                       .max_batch = v[O_MAX_BATCH],
                       .mem_limit = v[O_MEM_LIMIT],
                       .mem_headroom = v[O_MEM_HEADROOM],
                       .mem_reserve = v[O_MEM_RESERVE],
                       .lr_scaling = v[O_LR_SCALING],
                       .lr_ref_batch = v[O_LR_REF_BATCH],
                       .warmup = v[O_WARMUP]};
    int rc = cli_plan_options(run->opts, &a);
    if (rc == CLI_OK && v[O_LR]) rc = cli_set_param(run->opts, GSGD_LR, "--lr", v[O_LR], 0);
    if (rc == CLI_OK && v[O_OPTIM]) {
        int optim = cli_optim_parse(v[O_OPTIM]);
        if (optim < 0) {
            cli_error("--optim: '%s' is not one of " CLI_OPTIM_LIST, v[O_OPTIM]);
            return CLI_USAGE;
        }
        st = gsgd_set(run->opts, GSGD_OPTIMIZER, optim);
        if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    }
    return rc;
}

/* Loads the data and the model (with its standardiser when asked) so that
 * the plan counts exactly what `gsgd train` would hold. */
static int load(plan_run *run) {
    gsgd_status st = gsgd_dataset_load(run->ctx, run->v[O_DATA], &run->train, &run->test);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    return cli_model_for(run->ctx, run->v[O_MODEL], run->train, 0, run->v[O_STANDARDIZE] != NULL,
                         &run->model);
}

static const char *human(size_t bytes, char *buf, size_t size) {
    double v = (double)bytes;
    const char *unit = "B";
    static const char *const units[] = {"KiB", "MiB", "GiB", "TiB"};
    for (int u = 0; u < 4 && v >= 1024.0; u++) {
        v /= 1024.0;
        unit = units[u];
    }
    if (unit[0] == 'B')
        snprintf(buf, size, "%zu B", bytes);
    else
        snprintf(buf, size, "%.2f %s", v, unit);
    return buf;
}

static void print_table(FILE *f, const plan_run *run) {
    const gsgd_batch_plan *p = run->plan;
    char a[32], b[32], c[32], d[32];
    double optim = 0;
    gsgd_get(run->opts, GSGD_OPTIMIZER, &optim);
    fprintf(f, "gsgd plan: %s on %s, %s, %s\n\n", run->v[O_MODEL], run->v[O_DATA],
            cli_optim_name((int)optim), cli_device_name(gsgd_context_device(run->ctx)));
    fprintf(f, "  %-44s %15s  %s\n", "buffer", "bytes", "kind");
    for (int i = 0; i < gsgd_plan_item_count(p); i++) {
        const char *name = "";
        size_t bytes = 0;
        int per_sample = 0, resident = 0;
        gsgd_plan_item(p, i, &name, &bytes, &per_sample, &resident);
        fprintf(f, "  %-44s %15zu  %s\n", name, bytes,
                per_sample == 2 ? "per nonzero"
                : per_sample    ? "per sample"
                : resident      ? "fixed, already allocated"
                                : "fixed");
    }
    fprintf(f, "  %-44s %15zu  %s\n", "fixed total", gsgd_plan_fixed(p),
            human(gsgd_plan_fixed(p), a, sizeof a));
    fprintf(f, "  %-44s %15zu  %s\n", "per sample total", gsgd_plan_per_sample(p),
            human(gsgd_plan_per_sample(p), b, sizeof b));
    if (gsgd_plan_per_nonzero(p))
        fprintf(f, "  %-44s %15zu  %s\n", "per nonzero total", gsgd_plan_per_nonzero(p),
                human(gsgd_plan_per_nonzero(p), b, sizeof b));
    fputc('\n', f);
    size_t free_b = 0, total_b = 0, cap = 0, headroom = 0;
    gsgd_plan_memory(p, &free_b, &total_b, &cap, &headroom);
    fprintf(f, "memory     %s free of %s; cap %s\n", human(free_b, a, sizeof a),
            human(total_b, b, sizeof b), human(cap, c, sizeof c));
    fprintf(f, "budget     %s = cap - headroom %s (--mem-headroom, --mem-reserve, rounding)\n",
            human(gsgd_plan_budget(p), a, sizeof a), human(headroom, b, sizeof b));
    fprintf(f, "batch      %zu: %s\n", gsgd_plan_batch(p), gsgd_plan_reason(p));
    if (gsgd_plan_per_nonzero(p))
        fprintf(f,
                "nonzeros   %zu at most in a batch of %zu (its densest rows)\n"
                "predicted  %s at batch %zu (fixed + batch x per sample + nonzeros x per "
                "nonzero)\n",
                gsgd_plan_batch_nonzeros(p), gsgd_plan_batch(p),
                human(gsgd_plan_predicted(p), c, sizeof c), gsgd_plan_batch(p));
    else
        fprintf(f, "predicted  %s at batch %zu (fixed + batch x per sample)\n",
                human(gsgd_plan_predicted(p), c, sizeof c), gsgd_plan_batch(p));
    fprintf(f, "measured   %s (peak while running one step and one evaluation batch)\n",
            human(gsgd_plan_measured(p), d, sizeof d));
    fprintf(f, "lr         %g at batch %zu\n", gsgd_plan_lr(p), gsgd_plan_batch(p));
    fprintf(f, "planned in %.3f s\n", gsgd_plan_seconds(p));
}

static void write_json(FILE *f, const plan_run *run) {
    const gsgd_batch_plan *p = run->plan;
    size_t free_b = 0, total_b = 0, cap = 0, headroom = 0;
    gsgd_plan_memory(p, &free_b, &total_b, &cap, &headroom);
    cli_json j;
    cli_json_begin(&j, f, 1);
    cli_json_int(&j, "batch", (long long)gsgd_plan_batch(p));
    cli_json_int(&j, "max_fit", (long long)gsgd_plan_max_fit(p));
    cli_json_int(&j, "budget_bytes", (long long)gsgd_plan_budget(p));
    cli_json_int(&j, "cap_bytes", (long long)cap);
    cli_json_int(&j, "headroom_bytes", (long long)headroom);
    cli_json_int(&j, "free_bytes", (long long)free_b);
    cli_json_int(&j, "total_bytes", (long long)total_b);
    cli_json_int(&j, "fixed_bytes", (long long)gsgd_plan_fixed(p));
    cli_json_int(&j, "per_sample_bytes", (long long)gsgd_plan_per_sample(p));
    cli_json_int(&j, "per_nonzero_bytes", (long long)gsgd_plan_per_nonzero(p));
    cli_json_int(&j, "batch_nonzeros", (long long)gsgd_plan_batch_nonzeros(p));
    cli_json_int(&j, "predicted_bytes", (long long)gsgd_plan_predicted(p));
    cli_json_int(&j, "measured_bytes", (long long)gsgd_plan_measured(p));
    cli_json_str(&j, "device", cli_device_name(gsgd_context_device(run->ctx)));
    cli_json_str(&j, "reason", gsgd_plan_reason(p));
    cli_json_num(&j, "lr", gsgd_plan_lr(p));
    cli_json_num(&j, "plan_seconds", gsgd_plan_seconds(p));
    cli_json_str(&j, "model", run->v[O_MODEL]);
    cli_json_str(&j, "data", run->v[O_DATA]);
    /* The table and the curve as arrays of one-line objects. */
    cli_json_key(&j, "items");
    fputc('[', f);
    for (int i = 0; i < gsgd_plan_item_count(p); i++) {
        const char *name = "";
        size_t bytes = 0;
        int per_sample = 0, resident = 0;
        gsgd_plan_item(p, i, &name, &bytes, &per_sample, &resident);
        cli_json it;
        fputs(i ? ",\n    " : "\n    ", f);
        cli_json_begin(&it, f, 0);
        cli_json_str(&it, "name", name);
        cli_json_int(&it, "bytes", (long long)bytes);
        cli_json_str(&it, "kind",
                     per_sample == 2 ? "per_nonzero"
                     : per_sample    ? "per_sample"
                                     : "fixed");
        cli_json_int(&it, "resident", resident);
        cli_json_close(&it);
    }
    fputs("]", f);
    cli_json_key(&j, "curve");
    fputc('[', f);
    for (int i = 0; i < gsgd_plan_curve_count(p); i++) {
        size_t b = 0;
        double sps = 0;
        gsgd_plan_curve(p, i, &b, &sps);
        cli_json pt;
        fputs(i ? ", " : "", f);
        cli_json_begin(&pt, f, 0);
        cli_json_int(&pt, "batch", (long long)b);
        cli_json_num(&pt, "samples_per_second", sps);
        cli_json_close(&pt);
    }
    fputs("]", f);
    cli_json_end(&j);
}

static int run_plan(plan_run *run) {
    const char **v = run->v;
    if (!v[O_DATA] || !v[O_MODEL]) {
        cli_error("plan: %s is required (see 'gsgd plan --help')",
                  !v[O_DATA] ? "--data SPEC" : "--model MODEL");
        return CLI_USAGE;
    }
    int rc = build_options(run);
    if (rc == CLI_OK && v[O_JSON]) rc = cli_check_writable("--json", v[O_JSON]);
    if (rc == CLI_OK) rc = cli_context_open(v[O_DEVICE], v[O_QUIET] != NULL, &run->ctx);
    if (rc == CLI_OK) rc = load(run);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_plan(run->ctx, run->model, run->train, run->opts, &run->plan);
    if (st != GSGD_STATUS_OK) return cli_fail(run->ctx, st);
    if (!v[O_QUIET]) cli_print_curve(stderr, run->plan);
    print_table(stdout, run);
    fflush(stdout);
    if (!v[O_JSON]) return CLI_OK;
    cli_outfile out;
    if (cli_outfile_open(&out, v[O_JSON]) != 0) {
        cli_error("--json: cannot write '%s': %s", v[O_JSON], strerror(errno));
        return CLI_USAGE;
    }
    write_json(out.f, run);
    if (cli_outfile_commit(&out) != 0) {
        cli_error("--json: cannot write '%s': %s", v[O_JSON], strerror(errno));
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_cmd_plan(int argc, char **argv) {
    plan_run run;
    memset(&run, 0, sizeof run);
    int rc = cli_parse_options("plan", argc, argv, OPTIONS, run.v);
    if (rc != CLI_OK) return rc;
    if (run.v[O_HELP]) {
        cli_usage_plan(stdout);
        return CLI_OK;
    }
    rc = run_plan(&run);
    gsgd_plan_free(run.plan);
    gsgd_model_free(run.model);
    gsgd_dataset_free(run.test);
    gsgd_dataset_free(run.train);
    gsgd_options_free(run.opts);
    gsgd_context_free(run.ctx);
    return rc;
}
