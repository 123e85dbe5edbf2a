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

#include "cli/bench/bench.h"
#include "cli/bench/bench_train.h"
#include "cli/cli.h"
#include "cli/cmdline.h"
#include "cli/data.h"
#include "cli/optset.h"
#include "cli/outfile.h"
#include "optim/rule.h"

/* Copy size of the bandwidth yardstick: far beyond the caches on the CPU,
 * large enough on a GPU for the copy to reach its plateau. */
#define COPY_BYTES_CPU ((size_t)64 << 20)
#define COPY_BYTES_CUDA ((size_t)256 << 20)
/* The sgemm that gives the arithmetic peak: large enough to run at the
 * library's best rate (on the CPU, 2 GFLOP: a fraction of a second). */
#define PEAK_N_CPU ((size_t)1024)
#define PEAK_N_CUDA ((size_t)8192)

typedef struct {
    cli_session s;
    size_t batches[BENCH_MAX_POINTS];
    int n_batches, sweep;
    size_t noise_b[2];
    int steps, warmup_steps, epochs, noise_samples, noise_epochs;
    bench_report rep;
} bench_cli;

static void say(const bench_cli *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(const bench_cli *b, const char *fmt, ...) {
    if (b->s.v[CLI_O_QUIET]) return;
    va_list ap;
    va_start(ap, fmt);
    fputs("gsgd: bench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

static int build_options(bench_cli *b) {
    const char *const *v = b->s.v;
    int rc = cli_options_build(&b->s.opts, v);
    if (rc == CLI_OK) rc = cli_count(v, CLI_O_STEPS, &b->steps);
    if (rc == CLI_OK) rc = cli_count(v, CLI_O_WARMUP_STEPS, &b->warmup_steps);
    if (rc == CLI_OK) rc = cli_count(v, CLI_O_BENCH_EPOCHS, &b->epochs);
    if (rc == CLI_OK) rc = cli_count(v, CLI_O_NOISE_SAMPLES, &b->noise_samples);
    if (rc == CLI_OK) rc = cli_count(v, CLI_O_NOISE_EPOCHS, &b->noise_epochs);
    if (rc == CLI_OK && b->noise_samples == 1) {
        cli_error("--noise-samples: 1 gives no spread; use 0 (off) or at least 2");
        rc = CLI_USAGE;
    }
    if (rc == CLI_OK)
        rc = bench_parse_batches("--batches", v[CLI_O_BATCHES], b->batches, BENCH_MAX_POINTS,
                                 &b->n_batches, &b->sweep);
    if (rc == CLI_OK && v[CLI_O_NOISE_BATCHES]) {
        int n = 0, sweep = 0;
        rc = bench_parse_batches("--noise-batches", v[CLI_O_NOISE_BATCHES], b->noise_b, 2, &n,
                                 &sweep);
        if (rc == CLI_OK && n != 2) {
            cli_error("--noise-batches: '%s' is not two different batch sizes SMALL,BIG",
                      v[CLI_O_NOISE_BATCHES]);
            rc = CLI_USAGE;
        }
    }
    return rc;
}

/* Every output path can be created, and --plot has its gnuplot, before any
 * work is done. */
static int check_outputs(const bench_cli *b) {
    const char *const *v = b->s.v;
    const int outs[] = {CLI_O_CSV, CLI_O_JSON, CLI_O_PLOT};
    for (size_t k = 0; k < sizeof outs / sizeof outs[0]; k++) /* text to stdout, not the image */
        if (v[outs[k]] &&
            cli_check_output(CLI_OPTS[outs[k]].name, v[outs[k]], outs[k] != CLI_O_PLOT) != CLI_OK)
            return CLI_USAGE;
    if (v[CLI_O_PLOT] && !bench_have_gnuplot()) {
        cli_error("--plot: gnuplot not found on PATH (Debian: apt-get install gnuplot-nox, or "
                  "scripts/setup --bench)");
        return CLI_USAGE;
    }
    return CLI_OK;
}

static int load(bench_cli *b) {
    const char *const *v = b->s.v;
    int rc = cli_load_data(&b->s, (uint64_t)cli_get(b->s.opts, GSGD_SEED));
    if (rc != CLI_OK) return rc;
    if (v[CLI_O_TARGET_ACC] && !b->s.test) {
        cli_error("--target-acc needs a test set, and '%s' has none", v[CLI_O_DATA]);
        return CLI_USAGE;
    }
    /* The timed model is scaled as train would scale it (--standardize,
     * auto by default); the training runs decide the same on their own. */
    cli_scaling scaling = {0};
    rc = cli_model_for(b->s.ctx, v[CLI_O_MODEL], b->s.train,
                       (uint64_t)cli_get(b->s.opts, GSGD_SEED), &b->s.model);
    if (rc == CLI_OK) rc = cli_standardize(b->s.ctx, b->s.model, b->s.train, b->s.opts, &scaling);
    if (rc == CLI_OK && !v[CLI_O_QUIET]) {
        cli_describe_data_note("train", b->s.train, scaling.note);
        cli_describe_data("test", b->s.test);
    }
    return rc;
}

static int describe(bench_cli *b, int argc, char **argv) {
    bench_report *r = &b->rep;
    r->data = b->s.v[CLI_O_DATA];
    r->model = b->s.model->spec;
    r->optim = cli_optim_name((int)cli_get(b->s.opts, GSGD_OPTIMIZER));
    r->lr = gsgdi_base_lr(b->s.opts);
    r->lr_scaling = cli_lr_scaling_name((int)cli_get(b->s.opts, GSGD_LR_SCALING));
    snprintf(r->device, sizeof r->device, "%s", cli_device_name(gsgd_context_device(b->s.ctx)));
    gsgd_dataset_shape(b->s.train, &r->n_train, &r->n_features, &r->n_classes);
    r->n_params = b->s.model->n_params;
    r->warmup_steps = b->warmup_steps;
    r->timed_steps = b->steps;
    r->target_acc = cli_get(b->s.opts, GSGD_TARGET_ACC);
    r->epochs = b->epochs;
    r->clock = gsgdi_timer_clock(b->s.ctx);
    const size_t fused_from = gsgdi_model_fused_from(b->s.model, b->s.train);
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
    gsgd_status st = gsgdi_machine_describe(b->s.ctx, &r->machine);
    if (st != GSGD_STATUS_OK) return cli_fail(b->s.ctx, st);
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
    gsgd_status st = gsgd_plan(b->s.ctx, b->s.model, b->s.train, b->s.opts, &plan);
    if (st != GSGD_STATUS_OK) return cli_fail(b->s.ctx, st);
    b->rep.planner_batch = gsgd_plan_batch(plan);
    char reason[512];
    say(b, "B* = %zu: %s", b->rep.planner_batch,
        cli_flag_words(gsgd_plan_reason(plan), reason, sizeof reason));
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
    const int cuda = gsgd_context_device(b->s.ctx) == GSGD_DEVICE_CUDA;
    r->copy_bytes = (double)(cuda ? COPY_BYTES_CUDA : COPY_BYTES_CPU);
    gsgd_status st = gsgdi_bench_copy_gbs(b->s.ctx, (size_t)r->copy_bytes, 11, &r->copy_gbs);
    if (st != GSGD_STATUS_OK) return cli_fail(b->s.ctx, st);
    say(b, "copy %.1f GB/s", r->copy_gbs);
    r->peak_n = cuda ? PEAK_N_CUDA : PEAK_N_CPU;
    /* The step's precision: a TF32 or BF16 step is held to that GEMM. */
    const int prec = (int)cli_get(b->s.opts, GSGD_PRECISION);
    r->precision = cli_choice_name(CLI_O_PRECISION, prec);
    st = gsgdi_bench_sgemm_peak(b->s.ctx, (gsgd_precision)prec, r->peak_n, 5, &r->peak_gflops);
    if (st != GSGD_STATUS_OK) return cli_fail(b->s.ctx, st);
    say(b, "gemm %zu^3 (%s): %.0f GFLOP/s", r->peak_n, r->precision, r->peak_gflops);
    for (int i = 0; i < b->n_batches; i++) {
        gsgd_trainer *tr = NULL;
        bench_point *p = &r->pts[r->n_points];
        memset(p, 0, sizeof *p);
        p->ttt_reached = -1;
        /* The trainer's own buffers and step, as training at this batch. */
        st = gsgdi_trainer_alloc(b->s.model, b->s.train, b->s.opts, b->batches[i], &tr);
        if (st == GSGD_STATUS_OK)
            st = gsgdi_bench_time_step(tr, b->warmup_steps, b->steps, r->copy_gbs, r->peak_gflops,
                                       p);
        gsgdi_trainer_release(tr);
        if (st != GSGD_STATUS_OK) {
            cli_error("batch %zu: %s", b->batches[i], gsgd_last_error(b->s.ctx));
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
    if (!b->s.v[CLI_O_NOISE_BATCHES]) { /* the ends of the curve */
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
    gsgd_status st = bench_noise_scale(b->s.ctx, r->model, b->s.train, b->s.opts, s, g,
                                       b->noise_epochs, b->noise_samples, &r->noise);
    if (st != GSGD_STATUS_OK) return cli_fail(b->s.ctx, st);
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
        gsgd_status st = bench_time_to_target(b->s.ctx, r->model, b->s.train, b->s.test, b->s.opts,
                                              p->batch, r->target_acc, b->epochs, p, &diverged);
        if (st != GSGD_STATUS_OK) return cli_fail(b->s.ctx, st);
        if (diverged) cli_warn("batch %zu: training diverged; counted as not reached", p->batch);
        say(b, "batch %zu: %s after %d epochs", p->batch,
            p->ttt_reached ? "reached" : "not reached", p->ttt_epochs);
    }
    return CLI_OK;
}

static int write_file(const char *opt, const char *path, const bench_report *r,
                      void (*write)(FILE *, const bench_report *)) {
    cli_outfile out;
    int rc = cli_outfile_open(&out, opt, path);
    if (rc != CLI_OK) return rc;
    write(out.f, r);
    return cli_outfile_commit(&out);
}

static int run_bench(bench_cli *b, int argc, char **argv) {
    const char **v = b->s.v;
    int rc = build_options(b);
    if (rc == CLI_OK) rc = check_outputs(b);
    if (rc == CLI_OK)
        rc = cli_context_open(v[CLI_O_DEVICE], v[CLI_O_QUIET] != NULL, v[CLI_O_VERBOSE] != NULL,
                              &b->s.ctx);
    /* Its trainers' plans are bench's own choices, reported in its table. */
    if (rc == CLI_OK) cli_log_warnings_only(b->s.ctx);
    if (rc == CLI_OK) rc = load(b);
    if (rc != CLI_OK) return rc;
    rc = describe(b, argc, argv);
    if (rc == CLI_OK) rc = plan(b);
    if (rc == CLI_OK) rc = measure(b);
    if (rc == CLI_OK) rc = noise(b);
    if (rc == CLI_OK) rc = time_to_target(b);
    if (rc != CLI_OK) return rc;
    bench_print_table(cli_results_stream(), &b->rep);
    fflush(cli_results_stream());
    if (v[CLI_O_CSV]) rc = write_file("--csv", v[CLI_O_CSV], &b->rep, bench_write_csv);
    if (rc == CLI_OK && v[CLI_O_JSON])
        rc = write_file("--json", v[CLI_O_JSON], &b->rep, bench_write_json);
    if (rc == CLI_OK && v[CLI_O_PLOT] && bench_plot(v[CLI_O_PLOT], &b->rep) != 0) rc = CLI_RUNTIME;
    return rc;
}

int cli_cmd_bench(int argc, char **argv) {
    bench_cli *b = calloc(1, sizeof *b);
    if (!b) {
        cli_error("bench: out of memory");
        return CLI_RUNTIME;
    }
    int rc = cli_session_begin(&b->s, &CLI_CMD_BENCH, argc, argv);
    if (rc == CLI_OK) rc = run_bench(b, argc, argv);
    rc = cli_session_end(&b->s, rc);
    free(b);
    return rc;
}
