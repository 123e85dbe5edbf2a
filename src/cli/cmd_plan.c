/*
 * `gsgd plan`: the memory table of a training run, the budget, the batch
 * the planner picks and why, verified by one real step (gsgd_plan). With
 * --json the same as one JSON object.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/data.h"
#include "cli/json.h"
#include "cli/optset.h"
#include "cli/outfile.h"
#include "cli/report.h"

typedef struct {
    cli_session s;
    gsgd_batch_plan *plan;
} plan_run;

/* Loads the data and the model (with the standardiser --standardize
 * decides, as train does) so that the plan counts exactly what `gsgd
 * train` would hold. */
static int load(plan_run *run) {
    const char *const *v = run->s.v;
    cli_scaling scaling = {0};
    int rc = cli_load_data(&run->s, (uint64_t)cli_get(run->s.opts, GSGD_SEED));
    if (rc == CLI_OK)
        rc = cli_model_for(run->s.ctx, v[CLI_O_MODEL], run->s.train, 0, &run->s.model);
    if (rc == CLI_OK)
        rc = cli_standardize(run->s.ctx, run->s.model, run->s.train, run->s.opts, &scaling);
    if (rc == CLI_OK && !v[CLI_O_QUIET]) {
        cli_describe_data_note("train", run->s.train, scaling.note);
        cli_describe_data("test", run->s.test);
    }
    return rc;
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
    const char *const *v = run->s.v;
    const gsgd_batch_plan *p = run->plan;
    char a[32], b[32], c[32], d[32], reason[512];
    fprintf(f, "gsgd plan: %s on %s, %s, %s\n\n", v[CLI_O_MODEL], v[CLI_O_DATA],
            cli_optim_name((int)cli_get(run->s.opts, GSGD_OPTIMIZER)),
            cli_device_name(gsgd_context_device(run->s.ctx)));
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
    fprintf(f, "batch      %zu: %s\n", gsgd_plan_batch(p),
            cli_flag_words(gsgd_plan_reason(p), reason, sizeof reason));
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
    const char *const *v = run->s.v;
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
    cli_json_str(&j, "device", cli_device_name(gsgd_context_device(run->s.ctx)));
    cli_json_str(&j, "reason", gsgd_plan_reason(p));
    cli_json_num(&j, "lr", gsgd_plan_lr(p));
    cli_json_num(&j, "plan_seconds", gsgd_plan_seconds(p));
    cli_json_str(&j, "model", v[CLI_O_MODEL]);
    cli_json_str(&j, "data", v[CLI_O_DATA]);
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
    const char **v = run->s.v;
    int rc = cli_options_build(&run->s.opts, v);
    if (rc == CLI_OK && v[CLI_O_JSON]) rc = cli_check_output("--json", v[CLI_O_JSON], 1);
    if (rc == CLI_OK)
        rc = cli_context_open(v[CLI_O_DEVICE], v[CLI_O_QUIET] != NULL, v[CLI_O_VERBOSE] != NULL,
                              &run->s.ctx);
    if (rc == CLI_OK) rc = load(run);
    if (rc != CLI_OK) return rc;
    gsgd_status st = gsgd_plan(run->s.ctx, run->s.model, run->s.train, run->s.opts, &run->plan);
    if (st != GSGD_STATUS_OK) return cli_fail(run->s.ctx, st);
    if (!v[CLI_O_QUIET]) cli_print_curve(stderr, run->plan);
    print_table(cli_results_stream(), run);
    fflush(cli_results_stream());
    if (!v[CLI_O_JSON]) return CLI_OK;
    cli_outfile out;
    rc = cli_outfile_open(&out, "--json", v[CLI_O_JSON]);
    if (rc != CLI_OK) return rc;
    write_json(out.f, run);
    return cli_outfile_commit(&out);
}

int cli_cmd_plan(int argc, char **argv) {
    plan_run run = {.plan = NULL};
    int rc = cli_session_begin(&run.s, &CLI_CMD_PLAN, argc, argv);
    if (rc == CLI_OK) rc = run_plan(&run);
    gsgd_plan_free(run.plan);
    return cli_session_end(&run.s, rc);
}
