/*
 * gsgd bench's outputs: the terminal table, CSV and JSON (see bench.h).
 * The CSV and JSON take their per-batch columns from one list, so the two
 * files always carry the same figures under the same names.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "cli/bench/bench.h"
#include "cli/fmt.h"
#include "cli/json.h"

const char *const BENCH_PHASE_NAMES[PH_COUNT] = {"gather", "forward", "backward", "update"};

/* name, integer-valued (1) or not, value for point p. NaN: not measured. */
#define POINT_COLUMNS(X)                                                                           \
    X(batch, 1, (double)p->batch)                                                                  \
    X(steps_per_epoch, 1, (double)p->steps_per_epoch)                                              \
    X(timed_steps, 1, (double)p->timed_steps)                                                      \
    X(step_s, 0, p->step_s)                                                                        \
    X(step_s_p25, 0, p->step_p25)                                                                  \
    X(step_s_p75, 0, p->step_p75)                                                                  \
    X(step_s_min, 0, p->step_min)                                                                  \
    X(step_graph_s, 0, p->step_graph_s)                                                            \
    X(step_train_s, 0, p->step_train_s)                                                            \
    X(samples_per_s, 0, p->samples_per_s)                                                          \
    X(epoch_s, 0, p->epoch_s)                                                                      \
    X(gather_s, 0, p->phase_s[PH_GATHER])                                                          \
    X(forward_s, 0, p->phase_s[PH_FORWARD])                                                        \
    X(backward_s, 0, p->phase_s[PH_BACKWARD])                                                      \
    X(update_s, 0, p->phase_s[PH_UPDATE])                                                          \
    X(gather_share, 0, p->phase_s[PH_GATHER] / p->step_s)                                          \
    X(forward_share, 0, p->phase_s[PH_FORWARD] / p->step_s)                                        \
    X(backward_share, 0, p->phase_s[PH_BACKWARD] / p->step_s)                                      \
    X(update_share, 0, p->phase_s[PH_UPDATE] / p->step_s)                                          \
    X(fused, 1, (double)p->fused)                                                                  \
    X(fused_s, 0, p->fused_s)                                                                      \
    X(fused_share, 0, p->fused_s / p->step_s)                                                      \
    X(update_bytes, 1, p->update_bytes)                                                            \
    X(update_gbs, 0, p->update_gbs)                                                                \
    X(update_over_copy, 0, p->update_over_copy)                                                    \
    X(forward_flops, 1, p->fwd_flops)                                                              \
    X(forward_gflops, 0, p->fwd_gflops)                                                            \
    X(forward_sgemm_gflops, 0, p->fwd_sgemm_gflops)                                                \
    X(forward_over_sgemm, 0, p->fwd_over_sgemm)                                                    \
    X(backward_flops, 1, p->bwd_flops)                                                             \
    X(backward_gflops, 0, p->bwd_gflops)                                                           \
    X(backward_sgemm_gflops, 0, p->bwd_sgemm_gflops)                                               \
    X(backward_over_sgemm, 0, p->bwd_over_sgemm)                                                   \
    X(gemm_s, 0, p->gemm_s)                                                                        \
    X(step_over_gemm, 0, p->step_over_gemm)                                                        \
    X(floor_bytes, 1, p->floor_bytes)                                                              \
    X(floor_s, 0, p->floor_s)                                                                      \
    X(step_over_floor, 0, p->step_over_floor)                                                      \
    X(compute_floor_s, 0, p->compute_floor_s)                                                      \
    X(step_over_roofline, 0, p->step_over_roofline)                                                \
    X(batch_nonzeros, 0, p->batch_nnz)                                                             \
    X(nonzeros_per_s, 0, p->nnz_per_s)                                                             \
    X(touched_rows, 0, p->touched_rows)                                                            \
    X(target_reached, 1, p->ttt_reached < 0 ? NAN : (double)p->ttt_reached)                        \
    X(target_epochs, 1, p->ttt_reached < 0 ? NAN : (double)p->ttt_epochs)                          \
    X(target_steps, 1, p->ttt_reached < 0 ? NAN : (double)p->ttt_steps)                            \
    X(time_to_target_s, 0, p->ttt_reached == 1 ? p->ttt_s : NAN)                                   \
    X(target_final_accuracy, 0, p->ttt_reached < 0 ? NAN : p->ttt_accuracy)                        \
    X(target_lr, 0, p->ttt_reached < 0 ? NAN : p->ttt_lr)

enum {
#define X(name, integer, expr) PC_##name,
    POINT_COLUMNS(X)
#undef X
        PC_COUNT
};

static const struct {
    const char *name;
    int integer;
} POINT_COLS[PC_COUNT] = {
#define X(name, integer, expr) {#name, integer},
    POINT_COLUMNS(X)
#undef X
};

static double point_value(const bench_point *p, int c) {
    switch (c) {
#define X(name, integer, expr)                                                                     \
    case PC_##name:                                                                                \
        return (expr);
        POINT_COLUMNS(X)
#undef X
    }
    return NAN;
}

/* The run's figures: the same on every CSV line. */
#define RUN_COLUMNS(X)                                                                             \
    X(device, S, r->device, 0)                                                                     \
    X(device_name, S, r->machine.device_name, 0)                                                   \
    X(device_memory_bytes, I, 0, (double)r->machine.device_memory)                                 \
    X(cuda_runtime, S, r->machine.cuda_runtime, 0)                                                 \
    X(cuda_driver, S, r->machine.cuda_driver, 0)                                                   \
    X(cpu_model, S, r->cpu_model, 0)                                                               \
    X(cpu_cores, I, 0, (double)r->cpu_cores)                                                       \
    X(threads, I, 0, (double)r->machine.threads)                                                   \
    X(blas, S, r->machine.blas, 0)                                                                 \
    X(gsgd_version, S, gsgd_version_string(), 0)                                                   \
    X(clock, S, r->clock, 0)                                                                       \
    X(gradient, S, r->gradient, 0)                                                                 \
    X(data, S, r->data, 0)                                                                         \
    X(model, S, r->model, 0)                                                                       \
    X(optim, S, r->optim, 0)                                                                       \
    X(precision, S, r->precision, 0)                                                               \
    X(lr, N, 0, r->lr)                                                                             \
    X(lr_scaling, S, r->lr_scaling, 0)                                                             \
    X(n_train, I, 0, (double)r->n_train)                                                           \
    X(n_features, I, 0, (double)r->n_features)                                                     \
    X(n_classes, I, 0, (double)r->n_classes)                                                       \
    X(n_params, I, 0, (double)r->n_params)                                                         \
    X(planner_batch, I, 0, (double)r->planner_batch)                                               \
    X(copy_bytes, I, 0, r->copy_bytes)                                                             \
    X(copy_gbs, N, 0, r->copy_gbs)                                                                 \
    X(sgemm_peak_n, I, 0, (double)r->peak_n)                                                       \
    X(sgemm_peak_gflops, N, 0, r->peak_gflops)                                                     \
    X(target_acc, N, 0, r->target_acc > 0 ? r->target_acc : NAN)                                   \
    X(noise_batch_small, I, 0, r->noise_run ? (double)r->noise_small : NAN)                        \
    X(noise_batch_big, I, 0, r->noise_run ? (double)r->noise_big : NAN)                            \
    X(noise_g2, N, 0, r->noise_run ? r->noise.g2 : NAN)                                            \
    X(noise_trace, N, 0, r->noise_run ? r->noise.trace : NAN)                                      \
    X(noise_b_simple, N, 0, r->noise_run ? r->noise.b_simple : NAN)                                \
    X(noise_b_simple_se, N, 0, r->noise_run ? r->noise.b_simple_se : NAN)                          \
    X(date, S, r->date, 0)

int bench_csv_column_count(void) {
    int n = PC_COUNT;
#define X(name, kind, s, v) n++;
    RUN_COLUMNS(X)
#undef X
    return n;
}

const char *bench_csv_column_name(int c) {
    if (c >= 0 && c < PC_COUNT) return POINT_COLS[c].name;
    int k = PC_COUNT;
#define X(name, kind, s, v)                                                                        \
    if (c == k++) return #name;
    RUN_COLUMNS(X)
#undef X
    return NULL;
}

/* ---- CSV ------------------------------------------------------------------ */

static void csv_string(FILE *f, const char *s) {
    fputc('"', f);
    for (; s && *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s == '\n' ? ' ' : *s, f);
    }
    fputc('"', f);
}

static void csv_number(FILE *f, double v, int integer) {
    if (!isfinite(v)) return; /* an empty field: not measured */
    fprintf(f, integer ? "%.0f" : "%.6g", v);
}

void bench_write_csv(FILE *f, const bench_report *r) {
    for (int c = 0; c < bench_csv_column_count(); c++)
        fprintf(f, "%s%s", c ? "," : "", bench_csv_column_name(c));
    fputc('\n', f);
    for (int i = 0; i < r->n_points; i++) {
        const bench_point *p = &r->pts[i];
        for (int c = 0; c < PC_COUNT; c++) {
            if (c) fputc(',', f);
            csv_number(f, point_value(p, c), POINT_COLS[c].integer);
        }
#define S_(s, v) csv_string(f, (s))
#define I_(s, v) csv_number(f, (v), 1)
#define N_(s, v) csv_number(f, (v), 0)
#define X(name, kind, s, v)                                                                        \
    fputc(',', f);                                                                                 \
    kind##_(s, v);
        RUN_COLUMNS(X)
#undef X
        fputc('\n', f);
    }
}

/* ---- JSON ------------------------------------------------------------------ */

static void json_point(FILE *f, const bench_point *p) {
    cli_json j;
    cli_json_begin(&j, f, 0);
    for (int c = 0; c < PC_COUNT; c++) {
        double v = point_value(p, c);
        if (POINT_COLS[c].integer && isfinite(v))
            cli_json_int(&j, POINT_COLS[c].name, (long long)v);
        else
            cli_json_num(&j, POINT_COLS[c].name, v);
    }
    cli_json_close(&j);
}

void bench_write_json(FILE *f, const bench_report *r) {
    cli_json j;
    cli_json_begin(&j, f, 1);
#undef S_
#undef I_
#undef N_
#define S_(name, s, v) cli_json_str(&j, name, (s))
#define I_(name, s, v)                                                                             \
    (isfinite(v) ? cli_json_int(&j, name, (long long)(v)) : cli_json_num(&j, name, (v)))
#define N_(name, s, v) cli_json_num(&j, name, (v))
#define X(name, kind, s, v) kind##_(#name, s, v);
    RUN_COLUMNS(X)
#undef X
    cli_json_str(&j, "command", r->command);
    cli_json_int(&j, "warmup_steps", r->warmup_steps);
    cli_json_int(&j, "target_epochs_max", r->epochs);
    cli_json_key(&j, "noise_scale");
    if (r->noise_run) {
        cli_json n;
        cli_json_begin(&n, f, 0);
        cli_json_int(&n, "batch_small", (long long)r->noise_small);
        cli_json_int(&n, "batch_big", (long long)r->noise_big);
        cli_json_int(&n, "samples", r->noise.n_small);
        cli_json_int(&n, "after_epochs", r->noise_epochs);
        cli_json_num(&n, "g2", r->noise.g2);
        cli_json_num(&n, "g2_se", r->noise.g2_se);
        cli_json_num(&n, "trace", r->noise.trace);
        cli_json_num(&n, "trace_se", r->noise.trace_se);
        cli_json_num(&n, "b_simple", r->noise.b_simple);
        cli_json_num(&n, "b_simple_se", r->noise.b_simple_se);
        cli_json_close(&n);
    } else {
        fputs("null", f);
    }
    cli_json_key(&j, "points");
    fputc('[', f);
    for (int i = 0; i < r->n_points; i++) {
        fputs(i ? ",\n    " : "\n    ", f);
        json_point(f, &r->pts[i]);
    }
    fputc(']', f);
    cli_json_end(&j);
}

/* ---- the terminal table ------------------------------------------------------ */

void bench_print_table(FILE *f, const bench_report *r) {
    const gsgdi_machine *m = &r->machine;
    fprintf(f,
            "gsgd bench: %s on %s (%zu x %zu, %d classes, %zu parameters), %s, lr %g (%s), "
            "precision %s\n",
            r->model, r->data, r->n_train, r->n_features, r->n_classes, r->n_params, r->optim,
            r->lr, r->lr_scaling, r->precision ? r->precision : "fp32");
    fprintf(f, "device %s: %s, %.1f GiB", r->device, m->device_name,
            (double)m->device_memory / (1 << 30));
    if (m->cuda_runtime[0])
        fprintf(f, ", CUDA runtime %s, driver %s", m->cuda_runtime, m->cuda_driver);
    fprintf(f, "\ncpu %s, %d cores, %d threads; %.60s\n", r->cpu_model, r->cpu_cores, m->threads,
            m->blas);
    fprintf(f,
            "copy %.1f GB/s (%.0f MiB, median); gemm %.0f GFLOP/s (%zu^3, median); B* %zu "
            "(planner); step times: median of %d steps after %d warm-up, %s; gradient %s\n",
            r->copy_gbs, r->copy_bytes / 1048576.0, r->peak_gflops, r->peak_n, r->planner_batch,
            r->timed_steps, r->warmup_steps, r->clock, r->gradient);
    if (r->n_points > 0 && isfinite(r->pts[0].step_graph_s))
        fprintf(f, "graph ms: the timed steps replayed from one CUDA Graph, as training runs "
                   "them; samples/s, epoch s, x floor and x roof are of it\n");
    if (r->noise_run) {
        if (isfinite(r->noise.b_simple))
            fprintf(f, "noise scale B_simple %.0f +- %.0f", r->noise.b_simple,
                    r->noise.b_simple_se);
        else
            fprintf(f, "noise scale B_simple not resolved (|G|^2 estimate %.3g <= 0)", r->noise.g2);
        fprintf(f,
                " = tr(Sigma) %.4g / |G|^2 %.4g; batches %zu and %zu, %ld each, after %d "
                "epoch(s) at %zu\n",
                r->noise.trace, r->noise.g2, r->noise_small, r->noise_big, r->noise.n_small,
                r->noise_epochs, r->noise_small);
    }
    /* x gemm: the GEMMs alone, in the step's precision; of gemm: the
     * step's rate over theirs (their time over the step's). */
    fprintf(f, "\n%7s %10s %7s %9s %10s %9s  %-19s %9s %6s %6s %6s %6s %7s %7s\n", "batch",
            "step ms", "IQR %", "graph ms", "samples/s", "epoch s", "gath/fwd/bwd/upd %",
            "upd GB/s", "x copy", "fwd x", "bwd x", "step", "x floor", "x roof");
    fprintf(f, "%7s %10s %7s %9s %10s %9s  %-19s %9s %6s %6s %6s %6s %7s %7s\n", "", "(median)", "",
            "", "", "", "", "", "", "gemm", "gemm", "/gemm", "(bytes)", "");
    for (int i = 0; i < r->n_points; i++) {
        const bench_point *p = &r->pts[i];
        char sps[32], shares[32];
        if (p->fused)
            snprintf(shares, sizeof shares, "fused %2.0f, upd %2.0f", 100 * p->fused_s / p->step_s,
                     100 * p->phase_s[PH_UPDATE] / p->step_s);
        else
            snprintf(shares, sizeof shares, "%2.0f/%2.0f/%2.0f/%2.0f",
                     100 * p->phase_s[0] / p->step_s, 100 * p->phase_s[1] / p->step_s,
                     100 * p->phase_s[2] / p->step_s, 100 * p->phase_s[3] / p->step_s);
        char fwd[16], bwd[16]; /* "-" where there is no GEMM phase (fused) */
        snprintf(fwd, sizeof fwd, isfinite(p->fwd_over_sgemm) ? "%.2f" : "-", p->fwd_over_sgemm);
        snprintf(bwd, sizeof bwd, isfinite(p->bwd_over_sgemm) ? "%.2f" : "-", p->bwd_over_sgemm);
        char share[16];
        snprintf(share, sizeof share, isfinite(p->step_over_gemm) ? "%.2f" : "-",
                 p->step_over_gemm);
        char graph[16]; /* "-" where no graph was recorded (the CPU) */
        snprintf(graph, sizeof graph, isfinite(p->step_graph_s) ? "%.4f" : "-",
                 1e3 * p->step_graph_s);
        fprintf(f, "%7zu %10.4f %7.1f %9s %10s %9.3f  %-19s %9.2f %6.2f %6s %6s %6s %7.1f %7.1f\n",
                p->batch, 1e3 * p->step_s, 100 * (p->step_p75 - p->step_p25) / p->step_s, graph,
                cli_fmt_si(p->samples_per_s, sps, sizeof sps), p->epoch_s, shares, p->update_gbs,
                p->update_over_copy, fwd, bwd, share, p->step_over_floor, p->step_over_roofline);
    }
    for (int i = 0; i < r->n_points; i++) {
        const bench_point *p = &r->pts[i];
        char nz[32];
        if (!isfinite(p->batch_nnz)) continue;
        if (i == 0)
            fprintf(f, "\nsparse: x floor is against the batch's CSR bytes and the touched rows "
                       "of W and their update\n");
        fprintf(f, "%7zu %10.0f nonzeros/batch (mean) %10s nonzeros/s %8.0f touched rows\n",
                p->batch, p->batch_nnz, cli_fmt_si(p->nnz_per_s, nz, sizeof nz), p->touched_rows);
    }
    if (r->target_acc <= 0) return;
    fprintf(f, "\ntime to test accuracy %g (at most %d epochs):\n", r->target_acc, r->epochs);
    fprintf(f, "%7s %9s %8s %8s %10s %10s\n", "batch", "lr", "epochs", "steps", "seconds",
            "accuracy");
    for (int i = 0; i < r->n_points; i++) {
        const bench_point *p = &r->pts[i];
        if (p->ttt_reached < 0) continue;
        if (p->ttt_reached)
            fprintf(f, "%7zu %9.4g %8d %8zu %10.2f %10.4f\n", p->batch, p->ttt_lr, p->ttt_epochs,
                    p->ttt_steps, p->ttt_s, p->ttt_accuracy);
        else
            fprintf(f, "%7zu %9.4g %8s %8s %10s %10.4f  (not reached in %d epochs)\n", p->batch,
                    p->ttt_lr, "-", "-", "not reached", p->ttt_accuracy, p->ttt_epochs);
    }
}
