/* Evaluation metrics with scikit-learn's definitions: accuracy, log loss,
 * per-class precision, recall and F1, the confusion matrix for classes;
 * mse, rmse, mae and r2 for regression. The outputs of each batch come to
 * the host (at most 1024 rows x outputs, dense or sparse rows alike), where
 * the figures are summed in double. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "data/dataset.h"
#include "model/model.h"

#define EVAL_ROWS 1024

struct gsgd_metrics {
    gsgd_context *ctx;
    int K; /* classes, 0 for regression */
    double v[GSGD_METRIC_R2 + 1];
    size_t *confusion; /* K x K, [true * K + predicted] */
};

/* Sums over the rows seen so far. */
typedef struct {
    double log_loss, abs_err, sq_err;
    double mean, m2; /* Welford's running mean and spread of the targets */
    size_t n;
} sums;

/* -ln p(true class) from one row's outputs, in double: logsumexp(z) - z_y
 * for softmax, the logistic loss for one output. */
static double row_log_loss(const gsgd_model *m, const float *z, size_t y) {
    if (m->loss == GSGD_LOSS_LOGISTIC) {
        const double s = z[0], t = (double)y;
        return fmax(s, 0.0) - t * s + log1p(exp(-fabs(s)));
    }
    double mx = z[0];
    for (size_t k = 1; k < m->n_outputs; k++) mx = fmax(mx, (double)z[k]);
    double s = 0.0;
    for (size_t k = 0; k < m->n_outputs; k++) s += exp((double)z[k] - mx);
    return log(s) + mx - (double)z[y];
}

static void add_rows(const gsgd_model *m, gsgd_metrics *r, sums *S, const float *z, const float *y,
                     size_t B) {
    const size_t K = m->n_outputs;
    for (size_t i = 0; i < B; i++) {
        const float *zi = z + i * K;
        if (r->K > 0) {
            const size_t t = (size_t)y[i], p = gsgdi_model_class_of(m, zi);
            r->confusion[t * (size_t)r->K + p]++;
            S->log_loss += row_log_loss(m, zi, t);
        } else {
            const double e = (double)zi[0] - (double)y[i];
            S->abs_err += fabs(e);
            S->sq_err += e * e;
            S->n++;
            const double delta = y[i] - S->mean;
            S->mean += delta / (double)S->n;
            S->m2 += delta * (y[i] - S->mean);
        }
    }
}

static void finish(const gsgd_model *m, gsgd_metrics *r, const sums *S, size_t n, double loss) {
    for (int k = 0; k <= GSGD_METRIC_R2; k++) r->v[k] = NAN;
    r->v[GSGD_METRIC_N] = (double)n;
    r->v[GSGD_METRIC_N_CLASSES] = r->K;
    r->v[GSGD_METRIC_LOSS] = loss;
    if (r->K == 0) {
        const double mse = S->sq_err / (double)n;
        r->v[GSGD_METRIC_MSE] = mse;
        r->v[GSGD_METRIC_RMSE] = sqrt(mse);
        r->v[GSGD_METRIC_MAE] = S->abs_err / (double)n;
        /* r2_score: 1 - SS_res / SS_tot; constant targets give 1 when
         * predicted exactly, else 0 (scikit-learn's force_finite). */
        r->v[GSGD_METRIC_R2] = S->m2 > 0.0 ? 1.0 - S->sq_err / S->m2 : S->sq_err == 0.0 ? 1.0 : 0.0;
        return;
    }
    const size_t K = (size_t)r->K;
    size_t right = 0;
    double f1_sum = 0.0;
    for (size_t k = 0; k < K; k++) right += r->confusion[k * K + k];
    r->v[GSGD_METRIC_ACCURACY] = (double)right / (double)n;
    const int probs = m->loss == GSGD_LOSS_SOFTMAX_CE || m->loss == GSGD_LOSS_LOGISTIC;
    r->v[GSGD_METRIC_LOG_LOSS] = probs ? S->log_loss / (double)n : NAN;
    for (int k = 0; k < r->K; k++) {
        double f1;
        gsgd_metrics_class(r, k, NULL, NULL, &f1, NULL);
        f1_sum += f1;
    }
    r->v[GSGD_METRIC_MACRO_F1] = f1_sum / (double)K;
}

typedef struct {
    gsgd_metrics *r;
    sums *S;
} chunk_sums;

static void add_chunk(const gsgd_model *m, const float *z, const float *y, size_t first, size_t B,
                      void *user) {
    (void)first;
    chunk_sums *c = user;
    add_rows(m, c->r, c->S, z, y, B);
}

static gsgd_status run(gsgd_model *m, const gsgd_dataset *ds, gsgd_metrics *r) {
    gsgd_eval_result check;
    gsgdi_step_buffers sb;
    const size_t rows = ds->n < EVAL_ROWS ? ds->n : EVAL_ROWS;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_buffers_alloc_for(m, ds, rows ? rows : 1, 0, &sb));
    /* The shape, label and target checks, and LOSS as gsgd_evaluate gives it. */
    gsgd_status st = gsgdi_evaluate_with(m, &sb, ds, &check);
    gsgdi_step_buffers_free(m, &sb);
    sums S = {0};
    chunk_sums c = {r, &S};
    if (st == GSGD_STATUS_OK) st = gsgdi_model_forward_dataset(m, ds, add_chunk, &c);
    if (st == GSGD_STATUS_OK) finish(m, r, &S, ds->n, check.loss);
    return st;
}

gsgd_status gsgd_evaluate_metrics(gsgd_model *m, const gsgd_dataset *ds, gsgd_metrics **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!m || !ds) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(ds->n == 0, m->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "evaluate_metrics: empty dataset");
    gsgd_metrics *r = calloc(1, sizeof *r);
    GSGD_RETURN_ERROR_IF(!r, m->ctx, GSGD_STATUS_OUT_OF_MEMORY, "metrics: out of memory");
    r->ctx = m->ctx;
    r->K = m->n_classes;
    if (r->K > 0) {
        r->confusion = calloc((size_t)r->K * (size_t)r->K, sizeof *r->confusion);
        if (!r->confusion) {
            free(r);
            return GSGD_ERROR(m->ctx, GSGD_STATUS_OUT_OF_MEMORY,
                              "metrics: out of memory for a %d x %d confusion matrix", m->n_classes,
                              m->n_classes);
        }
    }
    gsgd_status st = run(m, ds, r);
    if (st != GSGD_STATUS_OK) {
        gsgd_metrics_free(r);
        return st;
    }
    *out = r;
    return GSGD_STATUS_OK;
}

void gsgd_metrics_free(gsgd_metrics *r) {
    if (!r) return;
    free(r->confusion);
    free(r);
}

gsgd_status gsgd_metrics_get(const gsgd_metrics *r, gsgd_metric which, double *value) {
    if (!r || !value || (int)which < 0 || which > GSGD_METRIC_R2)
        return GSGD_STATUS_INVALID_ARGUMENT;
    *value = r->v[which];
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_metrics_class(const gsgd_metrics *r, int k, double *precision, double *recall,
                               double *f1, size_t *support) {
    if (!r) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(k < 0 || k >= r->K, r->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "metrics_class: class %d out of range (%d classes)", k, r->K);
    const size_t K = (size_t)r->K, kk = (size_t)k;
    size_t tp = r->confusion[kk * K + kk], actual = 0, predicted = 0;
    for (size_t j = 0; j < K; j++) {
        actual += r->confusion[kk * K + j];
        predicted += r->confusion[j * K + kk];
    }
    /* zero_division=0: an undefined ratio counts as 0. */
    const double p = predicted ? (double)tp / (double)predicted : 0.0;
    const double q = actual ? (double)tp / (double)actual : 0.0;
    if (precision) *precision = p;
    if (recall) *recall = q;
    if (f1) *f1 = p + q > 0.0 ? 2.0 * p * q / (p + q) : 0.0;
    if (support) *support = actual;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_metrics_confusion(const gsgd_metrics *r, size_t *counts) {
    if (!r || !counts) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(r->K == 0, r->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "metrics_confusion: a regression model has no confusion matrix");
    memcpy(counts, r->confusion, (size_t)r->K * (size_t)r->K * sizeof *counts);
    return GSGD_STATUS_OK;
}
