/*
 * Predictions for host features: labels or values (gsgd_predict), class
 * indices, raw outputs and class probabilities (what scikit-learn's
 * predict, decision_function and predict_proba return), all from the
 * model's own forward pass (standardiser included) on the library's
 * buffers, a chunk of rows at a time.
 */
#include <math.h>
#include <stdlib.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* Rows per forward pass, so that the buffers stay small whatever n is. */
#define PREDICT_ROWS 1024

/* The class of a row's outputs z: the first largest (as the loss kernels
 * count accuracy), or z > 0 for logistic. */
size_t gsgdi_model_class_of(const gsgd_model *m, const float *z) {
    if (m->loss == GSGD_LOSS_LOGISTIC) return z[0] > 0.0f ? 1 : 0;
    size_t best = 0;
    for (size_t k = 1; k < m->n_outputs; k++)
        if (z[k] > z[best]) best = k;
    return best;
}

/* The model's outputs for n host rows X, chunk by chunk: each chunk's
 * B x n_outputs outputs (host) are handed to fn with the first row (and no
 * targets). */
static gsgd_status forward_host(gsgd_model *m, const float *X, size_t n, gsgdi_outputs_fn fn,
                                void *user) {
    gsgd_context *ctx = m->ctx;
    const size_t d = m->n_features, rows = n < PREDICT_ROWS ? n : PREDICT_ROWS, K = m->n_outputs;
    gsgdi_step_buffers sb;
    float *Xdev = NULL, *ydev = NULL, *logits = NULL;
    gsgd_status st = GSGD_STATUS_OK;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_buffers_alloc(m, rows, &sb));
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, rows * d * sizeof(float), (void **)&Xdev), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, rows * sizeof(float), (void **)&ydev), done);
    GSGD_CHECK_GOTO(st, ctx->be->zero(ctx, ydev, rows * sizeof(float)), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, rows * K * sizeof(float), (void **)&logits), done);
    for (size_t start = 0; start < n; start += rows) {
        size_t B = n - start < rows ? n - start : rows;
        GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, Xdev, X + start * d, B * d * sizeof(float)), done);
        GSGD_CHECK_GOTO(st,
                        ctx->be->gather(ctx, Xdev, GSGD_XTYPE_F32, ydev, d, NULL, 0, B, m->mean,
                                        m->inv_std, sb.Xb, sb.yb),
                        done);
        GSGD_CHECK_GOTO(st, gsgdi_model_forward(m, &sb, B, GSGD_PRECISION_FP32), done);
        GSGD_CHECK_GOTO(
            st, ctx->be->download(ctx, logits, sb.act[m->n_layers - 1], B * K * sizeof(float)),
            done);
        fn(m, logits, NULL, start, B, user);
    }
done:
    free(logits);
    gsgdi_mem_free(ctx, Xdev, rows * d * sizeof(float));
    gsgdi_mem_free(ctx, ydev, rows * sizeof(float));
    gsgdi_step_buffers_free(m, &sb);
    return st;
}

gsgd_status gsgdi_model_forward_dataset(gsgd_model *m, const gsgd_dataset *ds, gsgdi_outputs_fn fn,
                                        void *user) {
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(ds->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "predict: the model and the data belong to different contexts");
    GSGD_RETURN_ERROR_IF(ds->d != m->n_features && !(ds->sparse && ds->d < m->n_features), ctx,
                         GSGD_STATUS_SHAPE_MISMATCH,
                         "predict: model has %zu features, data has %zu", m->n_features, ds->d);
    GSGD_FORWARD_IF_ERROR(gsgdi_model_check_sparse(m, ds));
    if (ds->n == 0) return GSGD_STATUS_OK;
    const size_t rows = ds->n < PREDICT_ROWS ? ds->n : PREDICT_ROWS, K = m->n_outputs;
    gsgdi_step_buffers sb;
    float *z = NULL, *y = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_buffers_alloc_for(m, ds, rows, 0, &sb));
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, rows * K * sizeof(float), (void **)&z), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, rows * sizeof(float), (void **)&y), done);
    for (size_t start = 0, B; start < ds->n; start += B) {
        B = gsgdi_model_chunk_rows(ds, &sb,
                                   start); /* buffers sized for the densest rows: never 0 */
        GSGD_CHECK_GOTO(st, gsgdi_model_gather_forward(m, &sb, ds, NULL, start, B), done);
        GSGD_CHECK_GOTO(
            st, ctx->be->download(ctx, z, sb.act[m->n_layers - 1], B * K * sizeof(float)), done);
        GSGD_CHECK_GOTO(st, ctx->be->download(ctx, y, sb.yb, B * sizeof(float)), done);
        fn(m, z, y, start, B, user);
    }
done:
    free(z);
    free(y);
    gsgdi_step_buffers_free(m, &sb);
    return st;
}

static void write_values(const gsgd_model *m, const float *z, const float *y, size_t first,
                         size_t B, void *user) {
    (void)y;
    float *out = (float *)user + first;
    const size_t K = m->n_outputs;
    for (size_t i = 0; i < B; i++)
        out[i] = m->n_classes == 0 ? z[i * K]
                                   : gsgdi_model_label_value(m, gsgdi_model_class_of(m, z + i * K));
}

static void write_classes(const gsgd_model *m, const float *z, const float *y, size_t first,
                          size_t B, void *user) {
    (void)y;
    int32_t *out = (int32_t *)user + first;
    for (size_t i = 0; i < B; i++) out[i] = (int32_t)gsgdi_model_class_of(m, z + i * m->n_outputs);
}

static void write_logits(const gsgd_model *m, const float *z, const float *y, size_t first,
                         size_t B, void *user) {
    (void)y;
    float *out = (float *)user + first * m->n_outputs;
    for (size_t i = 0; i < B * m->n_outputs; i++) out[i] = z[i];
}

/* Softmax of the logits, or [1 - p, p] with p = sigmoid(z) for the
 * logistic model's one logit; in double, so that a probability near 1
 * and its complement near 0 are each rounded once. */
static void proba_row(const gsgd_model *m, const float *z, float *out) {
    if (m->loss == GSGD_LOSS_LOGISTIC) {
        out[0] = (float)(1.0 / (1.0 + exp((double)z[0])));
        out[1] = (float)(1.0 / (1.0 + exp(-(double)z[0])));
        return;
    }
    const size_t K = m->n_outputs;
    double mx = z[0], sum = 0.0;
    for (size_t k = 1; k < K; k++) mx = fmax(mx, z[k]);
    for (size_t k = 0; k < K; k++) sum += exp((double)z[k] - mx);
    for (size_t k = 0; k < K; k++) out[k] = (float)(exp((double)z[k] - mx) / sum);
}

static size_t proba_cols(const gsgd_model *m) {
    return m->loss == GSGD_LOSS_LOGISTIC ? 2 : m->n_outputs;
}

static void write_proba(const gsgd_model *m, const float *z, const float *y, size_t first, size_t B,
                        void *user) {
    (void)y;
    const size_t cols = proba_cols(m);
    float *out = (float *)user + first * cols;
    for (size_t i = 0; i < B; i++) proba_row(m, z + i * m->n_outputs, out + i * cols);
}

gsgd_status gsgd_predict(gsgd_model *m, const float *X, size_t n, float *out) {
    if (!m || (!X && n) || (!out && n)) return GSGD_STATUS_INVALID_ARGUMENT;
    if (n == 0) return GSGD_STATUS_OK;
    return forward_host(m, X, n, write_values, out);
}

gsgd_status gsgd_predict_dataset(gsgd_model *m, const gsgd_dataset *ds, float *out) {
    if (!m || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    return gsgdi_model_forward_dataset(m, ds, write_values, out);
}

static gsgd_status check_classes(const gsgd_model *m) {
    GSGD_RETURN_ERROR_IF(m->n_classes == 0, m->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "predict_classes: model '%s' predicts real values, not classes "
                         "(gsgd_predict gives them)",
                         m->spec);
    return GSGD_STATUS_OK;
}

static gsgd_status check_proba(const gsgd_model *m) {
    GSGD_RETURN_ERROR_IF(m->loss != GSGD_LOSS_SOFTMAX_CE && m->loss != GSGD_LOSS_LOGISTIC, m->ctx,
                         GSGD_STATUS_UNSUPPORTED,
                         "predict_proba: model '%s' has no probabilities (its loss is %s); "
                         "gsgd_decision_function gives its raw outputs",
                         m->spec, m->loss == GSGD_LOSS_HINGE ? "the hinge" : "squared");
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_predict_classes(gsgd_model *m, const float *X, size_t n, int32_t *out) {
    if (!m || (!X && n) || (!out && n)) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_classes(m));
    if (n == 0) return GSGD_STATUS_OK;
    return forward_host(m, X, n, write_classes, out);
}

gsgd_status gsgd_predict_classes_dataset(gsgd_model *m, const gsgd_dataset *ds, int32_t *out) {
    if (!m || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_classes(m));
    return gsgdi_model_forward_dataset(m, ds, write_classes, out);
}

gsgd_status gsgd_decision_function_dataset(gsgd_model *m, const gsgd_dataset *ds, float *out) {
    if (!m || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    return gsgdi_model_forward_dataset(m, ds, write_logits, out);
}

gsgd_status gsgd_predict_proba_dataset(gsgd_model *m, const gsgd_dataset *ds, float *out) {
    if (!m || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_proba(m));
    return gsgdi_model_forward_dataset(m, ds, write_proba, out);
}

gsgd_status gsgd_decision_function(gsgd_model *m, const float *X, size_t n, float *out) {
    if (!m || (!X && n) || (!out && n)) return GSGD_STATUS_INVALID_ARGUMENT;
    if (n == 0) return GSGD_STATUS_OK;
    return forward_host(m, X, n, write_logits, out);
}

gsgd_status gsgd_predict_proba(gsgd_model *m, const float *X, size_t n, float *out) {
    if (!m) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_proba(m));
    if ((!X && n) || (!out && n)) return GSGD_STATUS_INVALID_ARGUMENT;
    if (n == 0) return GSGD_STATUS_OK;
    return forward_host(m, X, n, write_proba, out);
}
