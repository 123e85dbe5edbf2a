/*
 * `gsgd bench`: for a model and a dataset, sweeps batch sizes and reports
 * per batch the step time (median and quartiles of timed steps after
 * warm-up), samples/s, time per epoch, the share of gather / forward /
 * backward / update, and ratios to yardsticks measured in the same run
 * (copy bandwidth, sgemm on the step's shapes, the step's bandwidth
 * floor); optionally the time to a target accuracy per batch, and the
 * gradient noise scale. Writes a table, --csv, --json and --plot.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/args.h"
#include "cli/bench/bench.h"
#include "cli/bench/bench_train.h"
#include "cli/cli.h"
#include "cli/outfile.h"
#include "cli/planopts.h"
#include "cli/usage.h"
#include "optim/rule.h"

enum {
    O_DATA,
    O_MODEL,
    O_OPTIM,
    O_LR,
    O_MOMENTUM,
    O_WEIGHT_DECAY,
    O_BATCHES,
    O_STEPS,
    O_WARMUP_STEPS,
    O_TARGET_ACC,
    O_EPOCHS,
    O_LR_SCALING,
    O_LR_REF_BATCH,
    O_WARMUP,
    O_MAX_BATCH,
    O_MEM_LIMIT,
    O_NOISE_BATCHES,
    O_NOISE_SAMPLES,
    O_NOISE_EPOCHS,
    O_DEVICE,
    O_SEED,
    O_CSV,
    O_JSON,
    O_PLOT,
    O_QUIET,
    O_HELP,
    O_COUNT
};

/* Same order as the enum above. */
static const cli_optdef OPTIONS[O_COUNT + 1] = {
    {"--data", 1},         {"--model", 1},         {"--optim", 1},
    {"--lr", 1},           {"--momentum", 1},      {"--weight-decay", 1},
    {"--batches", 1},      {"--steps", 1},         {"--warmup-steps", 1},
    {"--target-acc", 1},   {"--epochs", 1},        {"--lr-scaling", 1},
    {"--lr-ref-batch", 1}, {"--warmup", 1},        {"--max-batch", 1},
    {"--mem-limit", 1},    {"--noise-batches", 1}, {"--noise-samples", 1},
    {"--noise-epochs", 1}, {"--device", 1},        {"--seed", 1},
    {"--csv", 1},          {"--json", 1},          {"--plot", 1},
    {"--quiet", 0},        {"--help", 0},          {NULL, 0}};

#define DEFAULT_STEPS 30
#define DEFAULT_WARMUP_STEPS 3
#define DEFAULT_EPOCHS 20
#define DEFAULT_NOISE_SAMPLES 50
#define DEFAULT_NOISE_EPOCHS 1
/* Copy size of the bandwidth yardstick: far beyond the caches on the CPU,
 * large enough on a GPU for the copy to reach its plateau. */
#define COPY_BYTES_CPU ((size_t)64 << 20)
#define COPY_BYTES_CUDA ((size_t)256 << 20)
/* The sgemm that gives the arithmetic peak: large enough to run at the
 * library's best rate (on the CPU, 2 GFLOP: a fraction of a second). */
#define PEAK_N_CPU ((size_t)1024)
#define PEAK_N_CUDA ((size_t)8192)

typedef struct {
    const char *v[O_COUNT];
    gsgd_options *opts;
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    size_t batches[BENCH_MAX_POINTS];
    int n_batches, sweep;
    size_t noise_b[2];
    int steps, warmup_steps, epochs, noise_samples, noise_epochs;
    bench_report rep;
} bench_cli;

static void say(const bench_cli *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const bench_cli *b, const char *fmt, ...) {
    if (b->v[O_QUIET]) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("gsgd: bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* An integer option in [lo, hi] with a default. */
static int int_option(const bench_cli *b, int o, int dflt, int lo, int hi, int *out) {
    *out = dflt;
    if (!b->v[o]) return CLI_OK;
    uint64_t u;
    if (cli_parse_u64(OPTIONS[o].name, b->v[o], &u) != CLI_OK) return CLI_USAGE;
    if (u < (uint64_t)lo || u > (uint64_t)hi) {
        cli_error("%s: %s is outside [%d, %d]", OPTIONS[o].name, b->v[o], lo, hi);
        return CLI_USAGE;
    }
    *out = (int)u;
    return CLI_OK;
}

static int build_options(bench_cli *b) {
    const char **v = b->v;
    gsgd_status st = gsgd_options_create(&b->opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    /* The curve goes up to what fits in memory, not to train's default cap. */
    cli_plan_args a = {.max_batch = v[O_MAX_BATCH] ? v[O_MAX_BATCH] : "none",
                       .mem_limit = v[O_MEM_LIMIT],
                       .lr_scaling = v[O_LR_SCALING],
                       .lr_ref_batch = v[O_LR_REF_BATCH],
                       .warmup = v[O_WARMUP]};
    int rc = cli_plan_options(b->opts, &a);
    static const struct {
        int opt;
        gsgd_param p;
        int integer;
    } PARAMS[] = {{O_LR, GSGD_LR, 0},
                  {O_MOMENTUM, GSGD_MOMENTUM, 0},
                  {O_WEIGHT_DECAY, GSGD_WEIGHT_DECAY, 0},
                  {O_TARGET_ACC, GSGD_TARGET_ACC, 0},
                  {O_SEED, GSGD_SEED, 1}};
    for (size_t k = 0; rc == CLI_OK && k < sizeof PARAMS / sizeof PARAMS[0]; k++)
        if (v[PARAMS[k].opt])
            rc = cli_set_param(b->opts, PARAMS[k].p, OPTIONS[PARAMS[k].opt].name, v[PARAMS[k].opt],
                               PARAMS[k].integer);
    if (rc == CLI_OK && v[O_OPTIM]) {
        int optim = cli_optim_parse(v[O_OPTIM]);
        if (optim < 0) {
            cli_error("--optim: '%s' is not one of " CLI_OPTIM_LIST, v[O_OPTIM]);
            return CLI_USAGE;
        }
        st = gsgd_set(b->opts, GSGD_OPTIMIZER, optim);
        if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    }
    if (rc == CLI_OK) rc = int_option(b, O_STEPS, DEFAULT_STEPS, 1, 100000, &b->steps);
    if (rc == CLI_OK)
        rc = int_option(b, O_WARMUP_STEPS, DEFAULT_WARMUP_STEPS, 0, 100000, &b->warmup_steps);
    if (rc == CLI_OK) rc = int_option(b, O_EPOCHS, DEFAULT_EPOCHS, 1, 100000, &b->epochs);
    if (rc == CLI_OK)
        rc = int_option(b, O_NOISE_SAMPLES, DEFAULT_NOISE_SAMPLES, 0, 1000000, &b->noise_samples);
    if (rc == CLI_OK)
        rc = int_option(b, O_NOISE_EPOCHS, DEFAULT_NOISE_EPOCHS, 0, 100000, &b->noise_epochs);
    if (rc == CLI_OK && b->noise_samples == 1) {
        cli_error("--noise-samples: 1 gives no spread; use 0 (off) or at least 2");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = bench_parse_batches("--batches", v[O_BATCHES] ? v[O_BATCHES] : "sweep", b->batches,
                                 BENCH_MAX_POINTS, &b->n_batches, &b->sweep);
    if (rc == CLI_OK && v[O_NOISE_BATCHES]) {
        int n = 0, sweep = 0;
        rc = bench_parse_batches("--noise-batches", v[O_NOISE_BATCHES], b->noise_b, 2, &n, &sweep);
        if (rc == CLI_OK && n != 2) {
            cli_error("--noise-batches: '%s' is not two different batch sizes SMALL,BIG",
                      v[O_NOISE_BATCHES]);
            rc = CLI_USAGE;
        }
    }
    return rc;
}

/* Every output path can be created, and --plot has its gnuplot, before any
 * work is done. */
static int check_outputs(const bench_cli *b) {
    const int outs[] = {O_CSV, O_JSON, O_PLOT};
    for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++)
        if (b->v[outs[k]] && cli_check_writable(OPTIONS[outs[k]].name, b->v[outs[k]]) != CLI_OK)
            return CLI_USAGE;
    if (b->v[O_PLOT] && !bench_have_gnuplot()) {
        cli_error("--plot: gnuplot not found on PATH (Debian: apt-get install gnuplot-nox, or "
                  "scripts/setup --bench)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int load(bench_cli *b) {
    gsgd_status st = gsgd_dataset_load(b->ctx, b->v[O_DATA], &b->train, &b->test);
    if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
    if (b->v[O_TARGET_ACC] && !b->test) {
        cli_error("--target-acc needs a test set, and '%s' has none", b->v[O_DATA]);
        return CLI_USAGE;
    }
    double seed = 0;
    gsgd_get(b->opts, GSGD_SEED, &seed);
    return cli_model_for(b->ctx, b->v[O_MODEL], b->train, (uint64_t)seed, 0, &b->model);
}

static int describe(bench_cli *b, int argc, char **argv) {
    bench_report *r = &b->rep;
    double optim = 0, lr = 0, scaling = 0, target = 0;
    gsgd_get(b->opts, GSGD_OPTIMIZER, &optim);
    gsgd_get(b->opts, GSGD_LR, &lr);
    gsgd_get(b->opts, GSGD_LR_SCALING, &scaling);
    gsgd_get(b->opts, GSGD_TARGET_ACC, &target);
    static const char *const scalings[] = {"none", "linear", "sqrt"};
    r->data = b->v[O_DATA];
    r->model = b->model->spec;
    r->optim = cli_optim_name((int)optim);
    r->lr = gsgdi_base_lr(b->opts);
    r->lr_scaling = scalings[(int)scaling % 3];
    snprintf(r->device, sizeof r->device, "%s", cli_device_name(gsgd_context_device(b->ctx)));
    gsgd_dataset_shape(b->train, &r->n_train, &r->n_features, &r->n_classes);
    r->n_params = b->model->n_params;
    r->warmup_steps = b->warmup_steps;
    r->timed_steps = b->steps;
    r->target_acc = target;
    r->epochs = b->epochs;
    r->clock = gsgdi_timer_clock(b->ctx);
    const size_t fused_from = gsgdi_model_fused_from(b->model, b->train);
    if (fused_from > 1)
        snprintf(r->gradient, sizeof r->gradient, "fused from batch %zu", fused_from);
    else
        snprintf(r->gradient, sizeof r->gradient, "%s", fused_from ? "fused" : "composed");
    snprintf(r->cpu_model, sizeof r->cpu_model, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    char line[512];
    while (f && fgets(line, sizeof line, f)) {
        const char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) == 0 && colon) {
            snprintf(r->cpu_model, sizeof r->cpu_model, "%s", colon + 2);
            r->cpu_model[strcspn(r->cpu_model, "\n")] = '\0';
            break;
        }
    }
    if (f) fclose(f);
    r->cpu_cores = (int)sysconf(_SC_NPROCESSORS_ONLN);
    gsgd_status st = gsgdi_machine_describe(b->ctx, &r->machine);
    if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
    if (!r->machine.cuda_runtime[0]) /* the CPU backend runs on the CPU model */
        snprintf(r->machine.device_name, sizeof r->machine.device_name, "%s", r->cpu_model);
    size_t len = 0;
    for (int i = 0; i < argc && len + 2 < sizeof r->command; i++)
        len += (size_t)snprintf(r->command + len, sizeof r->command - len, "%s%s",
                                i ? " " : "gsgd ", argv[i]);
    time_t now = time(NULL);
    strftime(r->date, sizeof r->date, "%Y-%m-%d %H:%M", localtime(&now));
    return CLI_OK;
}

/* B* by the planner, then the batch sizes of the curve. */
static int plan(bench_cli *b) {
    gsgd_batch_plan *plan = NULL;
    gsgd_status st = gsgd_plan(b->ctx, b->model, b->train, b->opts, &plan);
    if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
    b->rep.planner_batch = gsgd_plan_batch(plan);
    say(b, "B* = %zu: %s", b->rep.planner_batch, gsgd_plan_reason(plan));
    gsgd_plan_free(plan);
    size_t n = b->rep.n_train;
    if (b->sweep)
        b->n_batches = bench_sweep_batches(b->rep.planner_batch, n, b->batches, BENCH_MAX_POINTS);
    else if (b->batches[b->n_batches - 1] > n) {
        cli_warn("--batches: sizes above the %zu training samples are measured at %zu", n, n);
        b->n_batches = bench_clamp_batches(b->batches, b->n_batches, n);
    }
    return CLI_OK;
}

static int measure(bench_cli *b) {
    bench_report *r = &b->rep;
    const int cuda = gsgd_context_device(b->ctx) == GSGD_DEVICE_CUDA;
    r->copy_bytes = (double)(cuda ? COPY_BYTES_CUDA : COPY_BYTES_CPU);
    gsgd_status st = gsgdi_bench_copy_gbs(b->ctx, (size_t)r->copy_bytes, 11, &r->copy_gbs);
    if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
    say(b, "copy %.1f GB/s", r->copy_gbs);
    r->peak_n = cuda ? PEAK_N_CUDA : PEAK_N_CPU;
    st = gsgdi_bench_sgemm_peak(b->ctx, r->peak_n, 5, &r->peak_gflops);
    if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
    say(b, "sgemm %zu^3: %.0f GFLOP/s", r->peak_n, r->peak_gflops);
    for (int i = 0; i < b->n_batches; i++) {
        gsgd_trainer *tr = NULL;
        bench_point *p = &r->pts[r->n_points];
        memset(p, 0, sizeof *p);
        p->ttt_reached = -1;
        /* The trainer's own buffers and step, as training at this batch. */
        st = gsgdi_trainer_alloc(b->model, b->train, b->opts, b->batches[i], &tr);
        if (st == GSGD_STATUS_OK)
            st = gsgdi_bench_time_step(tr, b->warmup_steps, b->steps, r->copy_gbs, r->peak_gflops,
                                       p);
        gsgdi_trainer_release(tr);
        if (st != GSGD_STATUS_OK) {
            cli_error("batch %zu: %s", b->batches[i], gsgd_last_error(b->ctx));
            return cli_exit_code(st);
        }
        r->n_points++;
        say(b, "batch %zu: %.4f ms/step (%.4f as trained), %.0f samples/s", p->batch,
            1e3 * p->step_s, 1e3 * p->step_train_s, p->samples_per_s);
    }
    return CLI_OK;
}

static int noise(bench_cli *b) {
    bench_report *r = &b->rep;
    if (b->noise_samples == 0) return CLI_OK;
    size_t n = r->n_train, s = b->noise_b[0], g = b->noise_b[1];
    if (!b->v[O_NOISE_BATCHES]) { /* the ends of the curve */
        s = b->batches[0];
        g = b->n_batches > 1 ? b->batches[b->n_batches - 1] : 16 * s;
    }
    if (g > n) g = n;
    if (s >= g) {
        cli_warn("noise scale skipped: needs two batch sizes below the %zu samples (got %zu, %zu)",
                 n, s, g);
        return CLI_OK;
    }
    say(b, "noise scale: %d batches of %zu and of %zu after %d epoch(s)", b->noise_samples, s, g,
        b->noise_epochs);
    gsgd_status st = bench_noise_scale(b->ctx, r->model, b->train, b->opts, s, g, b->noise_epochs,
                                       b->noise_samples, &r->noise);
    if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
    r->noise_run = 1;
    r->noise_small = s;
    r->noise_big = g;
    r->noise_epochs = b->noise_epochs;
    return CLI_OK;
}

static int time_to_target(bench_cli *b) {
    bench_report *r = &b->rep;
    if (r->target_acc <= 0) return CLI_OK;
    for (int i = 0; i < r->n_points; i++) {
        bench_point *p = &r->pts[i];
        int diverged = 0;
        gsgd_status st = bench_time_to_target(b->ctx, r->model, b->train, b->test, b->opts,
                                              p->batch, r->target_acc, b->epochs, p, &diverged);
        if (st != GSGD_STATUS_OK) return cli_fail(b->ctx, st);
        if (diverged) cli_warn("batch %zu: training diverged; counted as not reached", p->batch);
        say(b, "batch %zu: %s after %d epochs", p->batch,
            p->ttt_reached ? "reached" : "not reached", p->ttt_epochs);
    }
    return CLI_OK;
}

static int write_file(const char *opt, const char *path, const bench_report *r,
                      void (*write)(FILE *, const bench_report *)) {
    cli_outfile out;
    if (cli_outfile_open(&out, path) != 0) {
        cli_error("%s: cannot write '%s': %s", opt, path, strerror(errno));
        return CLI_USAGE;
    }
    write(out.f, r);
    if (cli_outfile_commit(&out) != 0) {
        cli_error("%s: cannot write '%s': %s", opt, path, strerror(errno));
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int run_bench(bench_cli *b, int argc, char **argv) {
    const char **v = b->v;
    if (!v[O_DATA]) {
        cli_error("bench: --data SPEC is required (see 'gsgd bench --help')");
        return CLI_USAGE;
    }
    if (!v[O_MODEL]) v[O_MODEL] = "softmax";
    int rc = build_options(b);
    if (rc == CLI_OK) rc = check_outputs(b);
    if (rc == CLI_OK) rc = cli_context_open(v[O_DEVICE], v[O_QUIET] != NULL, &b->ctx);
    /* Its trainers' plans are bench's own choices, reported in its table. */
    if (rc == CLI_OK) cli_log_warnings_only(b->ctx);
    if (rc == CLI_OK) rc = load(b);
    if (rc != CLI_OK) return rc;
    rc = describe(b, argc, argv);
    if (rc == CLI_OK) rc = plan(b);
    if (rc == CLI_OK) rc = measure(b);
    if (rc == CLI_OK) rc = noise(b);
    if (rc == CLI_OK) rc = time_to_target(b);
    if (rc != CLI_OK) return rc;
    bench_print_table(stdout, &b->rep);
    fflush(stdout);
    if (v[O_CSV]) rc = write_file("--csv", v[O_CSV], &b->rep, bench_write_csv);
    if (rc == CLI_OK && v[O_JSON]) rc = write_file("--json", v[O_JSON], &b->rep, bench_write_json);
    if (rc == CLI_OK && v[O_PLOT] && bench_plot(v[O_PLOT], &b->rep) != 0) rc = CLI_RUNTIME;
    return rc;
}

int cli_cmd_bench(int argc, char **argv) {
    bench_cli *b = calloc(1, sizeof *b);
    if (!b) {
        cli_error("bench: out of memory");
        return CLI_RUNTIME;
    }
    int rc = cli_parse_options("bench", argc, argv, OPTIONS, b->v);
    if (rc == CLI_OK && b->v[O_HELP])
        cli_usage_bench(stdout);
    else if (rc == CLI_OK)
        rc = run_bench(b, argc, argv);
    gsgd_model_free(b->model);
    gsgd_dataset_free(b->test);
    gsgd_dataset_free(b->train);
    gsgd_options_free(b->opts);
    gsgd_context_free(b->ctx);
    free(b);
    return rc;
}
