/* Final result line and summary JSON of `gsgd train`, and the planner's
 * curve (see report.h). */
#include "cli/report.h"

#include <math.h>

#include "cli/fmt.h"
#include "cli/json.h"
#include "cli/metrics_out.h"

void cli_report_line(FILE *f, const cli_train_report *r) {
    const gsgd_train_result *s = &r->res;
    if (r->metrics) {
        fputs("test ", f);
        cli_metrics_line(f, r->metrics);
        fputs("  ", f);
    } else if (!isnan(s->test_accuracy)) {
        fprintf(f, "test accuracy %.4f  ", s->test_accuracy);
    } else if (!isnan(s->test_loss)) {
        fprintf(f, "test loss %.4f  ", s->test_loss);
    }
    fprintf(f, "train loss %.4f", s->train_loss);
    if (r->model_handle) fprintf(f, " (%s)", cli_loss_name(r->model_handle));
    fprintf(f, "  %d epoch%s  batch %zu  %.0f samples/s", s->epochs, s->epochs == 1 ? "" : "s",
            s->batch, s->samples_per_second);
    if (!isnan(s->samples_per_second_warm))
        fprintf(f, " (%.0f after epoch 1)", s->samples_per_second_warm);
    fprintf(f, "  %.2f s", s->seconds);
    if (r->target_acc > 0) {
        if (!isnan(s->time_to_target_s))
            fprintf(f, "  (time to %g: %.2f s)", r->target_acc, s->time_to_target_s);
        else
            fprintf(f, "  (%g not reached)", r->target_acc);
    }
    if (!isnan(s->validation_accuracy))
        fprintf(f, "  validation accuracy %.4f", s->validation_accuracy);
    if (s->skipped_steps)
        fprintf(f, "  (%zu step%s skipped: NaN/Inf)", s->skipped_steps,
                s->skipped_steps == 1 ? "" : "s");
    if (r->breakdown && isfinite(r->breakdown->total_s))
        fprintf(f, "  %.2f s from exec", r->breakdown->total_s);
    fputc('\n', f);
}

const char *cli_stop_reason_name(int reason) {
    switch (reason) {
    case GSGD_STOP_EPOCHS:
        return "epochs";
    case GSGD_STOP_CONVERGED:
        return "converged";
    case GSGD_STOP_MAX_EPOCHS:
        return "max_epochs";
    case GSGD_STOP_TARGET:
        return "target";
    case GSGD_STOP_NO_IMPROVEMENT:
        return "no_improvement";
    case GSGD_STOP_LR_FLOOR:
        return "lr_floor";
    }
    return "unknown";
}

void cli_report_stop(FILE *f, const cli_train_report *r) {
    const gsgd_train_result *s = &r->res;
    const char *what = r->validation ? "validation score" : "loss";
    const int e = s->epochs, cd = s->cooldown_epochs;
    char plateau[128];
    snprintf(plateau, sizeof plateau, "%s improved by < %g for %d epoch%s", what, r->tol,
             r->n_iter_no_change, r->n_iter_no_change == 1 ? "" : "s");
    fputs("stopped: ", f);
    switch (s->stop_reason) {
    case GSGD_STOP_EPOCHS:
        fprintf(f, "ran the %d epoch%s asked\n", e, e == 1 ? "" : "s");
        return;
    case GSGD_STOP_CONVERGED:
        fprintf(f, "converged after %d epoch%s (%s", e, e == 1 ? "" : "s", plateau);
        if (cd > 0) fprintf(f, ", then a %d-epoch cosine cooldown", cd);
        fputs(")\n", f);
        return;
    case GSGD_STOP_MAX_EPOCHS:
        fprintf(f, "--max-epochs %d reached before the %s stopped improving", r->max_epochs, what);
        if (cd > 0) fprintf(f, " (its last %d epoch%s a cosine cooldown)", cd, cd == 1 ? "" : "s");
        fputs("\n", f);
        return;
    case GSGD_STOP_TARGET:
        fprintf(f, "target accuracy %g reached after %d epoch%s\n", r->target_acc, e,
                e == 1 ? "" : "s");
        return;
    case GSGD_STOP_NO_IMPROVEMENT:
        fprintf(f, "after %d of the %d epochs asked: %s\n", e, r->epochs_asked, plateau);
        return;
    case GSGD_STOP_LR_FLOOR:
        fprintf(f, "after %d epoch%s: %s with the adaptive rate at its floor (1e-6)\n", e,
                e == 1 ? "" : "s", plateau);
        return;
    }
    fputs("unknown reason\n", f);
}

void cli_report_json(FILE *f, const cli_train_report *r) {
    const gsgd_train_result *s = &r->res;
    cli_json j;
    cli_json_begin(&j, f, 1);
    cli_json_num(&j, "test_accuracy", s->test_accuracy);
    cli_json_num(&j, "train_loss", s->train_loss);
    cli_json_num(&j, "test_loss", s->test_loss);
    cli_json_int(&j, "epochs", s->epochs);
    cli_json_int(&j, "steps", (long long)s->steps);
    cli_json_int(&j, "batch", (long long)s->batch);
    cli_json_num(&j, "samples_per_second", s->samples_per_second);
    cli_json_num(&j, "samples_per_second_warm", s->samples_per_second_warm);
    cli_json_num(&j, "seconds", s->seconds);
    cli_json_num(&j, "time_to_target_s", s->time_to_target_s);
    cli_json_num(&j, "target_acc", r->target_acc > 0 ? r->target_acc : NAN);
    cli_json_num(&j, "validation_accuracy", s->validation_accuracy);
    cli_json_int(&j, "stopped_early", s->stopped_early);
    cli_json_str(&j, "stop_reason", cli_stop_reason_name(s->stop_reason));
    cli_json_int(&j, "cooldown_epochs", s->cooldown_epochs);
    if (r->scaling) { /* --standardize's decision and auto's measure */
        cli_json_int(&j, "standardized", r->scaling->scaled);
        cli_json_num(&j, "scale_ratio", r->scaling->ratio);
    }
    cli_json_int(&j, "skipped_steps", (long long)s->skipped_steps);
    cli_json_str(&j, "device", r->device);
    cli_json_str(&j, "model", r->model);
    cli_json_str(&j, "optim", r->optim);
    cli_json_str(&j, "schedule", r->schedule);
    cli_json_str(&j, "precision", r->precision);
    cli_json_num(&j, "lr", r->lr);
    cli_json_str(&j, "data", r->data);
    cli_json_str(&j, "test_data", r->test_data);
    if (r->model_handle) cli_metrics_json(&j, r->metrics, r->model_handle);
    if (r->breakdown) { /* seconds of each part of the run: startup.h */
        const cli_breakdown *b = r->breakdown;
        cli_json_key(&j, "breakdown");
        cli_json o;
        cli_json_begin(&o, f, 0);
        cli_json_num(&o, "process_start_s", b->process_start_s);
        cli_json_num(&o, "data_read_s", b->data_read_s);
        cli_json_num(&o, "context_s", b->context_s);
        cli_json_num(&o, "data_wait_s", b->data_wait_s);
        cli_json_num(&o, "upload_s", b->upload_s);
        cli_json_num(&o, "model_s", b->model_s);
        cli_json_num(&o, "plan_s", b->plan_s);
        cli_json_num(&o, "train_s", b->train_s);
        cli_json_num(&o, "eval_s", b->eval_s);
        cli_json_num(&o, "other_s", b->other_s);
        cli_json_num(&o, "total_s", b->total_s);
        cli_json_int(&o, "read_overlapped", b->overlapped);
        cli_json_close(&o);
    }
    cli_json_end(&j);
}

void cli_print_curve(FILE *f, const gsgd_batch_plan *plan) {
    int n = gsgd_plan_curve_count(plan);
    if (n == 0) return;
    fprintf(f, "gsgd: --batch fastest, samples/s by batch (median of timed steps):");
    for (int i = 0; i < n; i++) {
        size_t b = 0;
        double sps = 0;
        char buf[32];
        gsgd_plan_curve(plan, i, &b, &sps);
        fprintf(f, "%s %zu: %s", i ? "," : "", b, cli_fmt_si(sps, buf, sizeof buf));
    }
    fprintf(f, "; chose %zu\n", gsgd_plan_batch(plan));
}
