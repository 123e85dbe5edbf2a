/* Evaluation figures as the program shows them (see metrics_out.h). */
#include "cli/metrics_out.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"

/* Past this many classes the confusion matrix is too wide to read. */
#define MAX_MATRIX_CLASSES 30
/* Labels are cut to this many bytes in the tables. */
#define LABEL_WIDTH 24

double cli_metric(const gsgd_metrics *m, gsgd_metric which) {
    double v = NAN;
    (void)gsgd_metrics_get(m, which, &v);
    return v;
}

static int n_classes(const gsgd_metrics *m) { return (int)cli_metric(m, GSGD_METRIC_N_CLASSES); }

const char *cli_loss_name(const gsgd_model *model) {
    const char *spec = "";
    (void)gsgd_model_shape(model, &spec, NULL, NULL);
    if (!spec) return "loss";
    if (strcmp(spec, "linear") == 0) return "half the squared error";
    if (strcmp(spec, "hinge") == 0) return "multiclass hinge";
    return "cross-entropy";
}

void cli_metrics_line(FILE *f, const gsgd_metrics *m) {
    if (n_classes(m) > 0) {
        fprintf(f, "accuracy %.4f", cli_metric(m, GSGD_METRIC_ACCURACY));
        const double log_loss = cli_metric(m, GSGD_METRIC_LOG_LOSS);
        if (!isnan(log_loss)) fprintf(f, "  log loss %.4f", log_loss);
        fprintf(f, "  macro F1 %.4f", cli_metric(m, GSGD_METRIC_MACRO_F1));
        return;
    }
    fprintf(f, "r2 %.4f  rmse %.4g  mae %.4g  mse %.4g", cli_metric(m, GSGD_METRIC_R2),
            cli_metric(m, GSGD_METRIC_RMSE), cli_metric(m, GSGD_METRIC_MAE),
            cli_metric(m, GSGD_METRIC_MSE));
}

static const char *label(const gsgd_model *model, int k) {
    const char *text = NULL;
    return gsgd_model_label(model, k, &text) == GSGD_STATUS_OK && text ? text : "?";
}

/* The widest label, at most LABEL_WIDTH, at least min. */
static int label_width(const gsgd_model *model, int k_classes, int min) {
    int w = min;
    for (int k = 0; k < k_classes; k++) {
        int len = (int)strlen(label(model, k));
        if (len > w) w = len;
    }
    return w > LABEL_WIDTH ? LABEL_WIDTH : w;
}

static void per_class(FILE *f, const gsgd_metrics *m, const gsgd_model *model, int k_classes) {
    const int w = label_width(model, k_classes, 9);
    fprintf(f, "%-*s  %9s  %9s  %9s  %9s\n", w, "class", "precision", "recall", "f1", "support");
    double sum[3] = {0, 0, 0};
    size_t total = 0;
    for (int k = 0; k < k_classes; k++) {
        double p = 0, r = 0, f1 = 0;
        size_t support = 0;
        gsgd_metrics_class(m, k, &p, &r, &f1, &support);
        fprintf(f, "%-*.*s  %9.4f  %9.4f  %9.4f  %9zu\n", w, w, label(model, k), p, r, f1, support);
        sum[0] += p, sum[1] += r, sum[2] += f1;
        total += support;
    }
    fprintf(f, "%-*s  %9.4f  %9.4f  %9.4f  %9zu\n", w, "macro avg", sum[0] / k_classes,
            sum[1] / k_classes, sum[2] / k_classes, total);
}

static int confusion(FILE *f, const gsgd_metrics *m, const gsgd_model *model, int k_classes) {
    if (k_classes > MAX_MATRIX_CLASSES) {
        fprintf(f, "confusion matrix: not shown for %d classes (at most %d)\n", k_classes,
                MAX_MATRIX_CLASSES);
        return CLI_OK;
    }
    size_t *counts = calloc((size_t)k_classes * (size_t)k_classes, sizeof *counts);
    if (!counts) {
        cli_error("--report: out of memory");
        return CLI_RUNTIME;
    }
    gsgd_metrics_confusion(m, counts);
    const int w = label_width(model, k_classes, 4);
    /* Each column as wide as its label or its largest count. */
    fprintf(f, "confusion matrix (rows: true class, columns: predicted)\n%-*s", w, "");
    for (int p = 0; p < k_classes; p++) fprintf(f, "  %*.*s", w, w, label(model, p));
    fputc('\n', f);
    for (int t = 0; t < k_classes; t++) {
        fprintf(f, "%-*.*s", w, w, label(model, t));
        for (int p = 0; p < k_classes; p++)
            fprintf(f, "  %*zu", w, counts[(size_t)t * (size_t)k_classes + (size_t)p]);
        fputc('\n', f);
    }
    free(counts);
    return CLI_OK;
}

int cli_metrics_report(FILE *f, const gsgd_metrics *m, const gsgd_model *model) {
    const int k_classes = n_classes(m);
    if (k_classes <= 0) return CLI_OK;
    per_class(f, m, model, k_classes);
    return confusion(f, m, model, k_classes);
}

void cli_metrics_json(cli_json *j, const gsgd_metrics *m, const gsgd_model *model) {
    int k_classes = 0;
    (void)gsgd_model_shape(model, NULL, NULL, &k_classes);
    cli_json_int(j, "n_classes", k_classes);
    cli_json_str(j, "loss_function", cli_loss_name(model));
    if (k_classes <= 0) {
        cli_json_str(j, "labels", NULL);
        cli_json_num(j, "mse", m ? cli_metric(m, GSGD_METRIC_MSE) : NAN);
        cli_json_num(j, "rmse", m ? cli_metric(m, GSGD_METRIC_RMSE) : NAN);
        cli_json_num(j, "mae", m ? cli_metric(m, GSGD_METRIC_MAE) : NAN);
        cli_json_num(j, "r2", m ? cli_metric(m, GSGD_METRIC_R2) : NAN);
        return;
    }
    const char **labels = malloc((size_t)k_classes * sizeof *labels);
    if (labels) {
        for (int k = 0; k < k_classes; k++) labels[k] = label(model, k);
        cli_json_strs(j, "labels", labels, k_classes);
        free(labels);
    } else { /* out of memory: the key stays, its value unknown */
        cli_json_str(j, "labels", NULL);
    }
    cli_json_num(j, "accuracy", m ? cli_metric(m, GSGD_METRIC_ACCURACY) : NAN);
    cli_json_num(j, "log_loss", m ? cli_metric(m, GSGD_METRIC_LOG_LOSS) : NAN);
    cli_json_num(j, "macro_f1", m ? cli_metric(m, GSGD_METRIC_MACRO_F1) : NAN);
}
