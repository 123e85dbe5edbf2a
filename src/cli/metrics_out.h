/*
 * What gsgd_evaluate_metrics measured, as `gsgd train` and `gsgd eval`
 * show it: one line of figures, --report's per-class table and confusion
 * matrix with the labels as the data had them, and the summary's JSON
 * members. Classes give accuracy, log loss and macro F1; regression mse,
 * rmse, mae and r2.
 */
#ifndef GSGD_CLI_METRICS_OUT_H
#define GSGD_CLI_METRICS_OUT_H

#include <stdio.h>

#include "cli/json.h"
#include "gsgd.h"

/* The loss the model trains on, which gsgd_eval_result's and the
 * progress lines' loss is: "cross-entropy", "multiclass hinge", "half the
 * squared error" (linear: mse / 2). */
const char *cli_loss_name(const gsgd_model *model);

/* "accuracy 0.9444  log loss 0.1532  macro F1 0.9431" (log loss only
 * where the model gives probabilities), or "r2 0.9312  rmse 0.5012  mae
 * 0.3998  mse 0.2512"; no newline. */
void cli_metrics_line(FILE *f, const gsgd_metrics *m);

/* --report: for classes, each class's precision, recall, F1 and support
 * under its label, their macro average, and the confusion matrix (rows
 * the true class, columns the predicted; up to 30 classes); for regression
 * nothing (the line has every figure). Returns CLI_OK or an exit code. */
int cli_metrics_report(FILE *f, const gsgd_metrics *m, const gsgd_model *model);

/* The summary's members: n_classes and labels (an array of the labels'
 * texts; null for regression) of model, loss_function (cli_loss_name's),
 * and m's accuracy, log_loss and macro_f1, or mse, rmse, mae and r2 (null
 * when m is NULL: no test set). */
void cli_metrics_json(cli_json *j, const gsgd_metrics *m, const gsgd_model *model);

/* One figure (NaN where it does not apply). */
double cli_metric(const gsgd_metrics *m, gsgd_metric which);

#endif
