/*
 * A model's raw outputs and class probabilities for host features: what
 * scikit-learn's decision_function and predict_proba return, computed by
 * the model's own forward pass (standardiser included) on the library's
 * buffers, as gsgd_predict does, a chunk of rows at a time.
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

/* Rows per forward pass: gsgd_predict's chunk, so that the buffers stay
 * small whatever n is. */
#define PREDICT_ROWS 1024

/* Writes one row of output from the row's K logits z. */
typedef void (*row_writer)(const gsgd_model *m, const float *z, float *out);

static void write_logits(const gsgd_model *m, const float *z, float *out) {
    for (size_t k = 0; k < m->n_outputs; k++) out[k] = z[k];
}

/* Softmax of the logits, or [1 - p, p] with p = sigmoid(z) for the
 * logistic model's one logit; in double, so that a probability near 1
 * and its complement near 0 are each rounded once. */
static void write_proba(const gsgd_model *m, const float *z, float *out) {
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

/* The forward pass of n rows of X, chunk by chunk; row i's cols outputs go
 * to out + i * cols through write. */
static gsgd_status forward_rows(gsgd_model *m, const float *X, size_t n, float *out, size_t cols,
                                row_writer write) {
    gsgd_context *ctx = m->ctx;
    const size_t d = m->n_features, rows = n < PREDICT_ROWS ? n : PREDICT_ROWS, K = m->n_outputs;
    gsgdi_step_buffers sb;
    float *Xdev = NULL, *ydev = NULL, *logits = NULL;
    gsgd_status st = GSGD_STATUS_OK;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_buffers_alloc(m, rows, &sb));
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, rows * d * sizeof(float), (void **)&Xdev), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, rows * sizeof(float), (void **)&ydev), done);
    /* The gather copies targets too; zeros keep them defined. */
    GSGD_CHECK_GOTO(st, ctx->be->zero(ctx, ydev, rows * sizeof(float)), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, rows * K * sizeof(float), (void **)&logits), done);
    for (size_t start = 0; start < n; start += rows) {
        size_t B = n - start < rows ? n - start : rows;
        GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, Xdev, X + start * d, B * d * sizeof(float)), done);
        /* The gather standardises the rows when the model has a standardiser. */
        GSGD_CHECK_GOTO(st,
                        ctx->be->gather(ctx, Xdev, GSGD_XTYPE_F32, ydev, d, NULL, 0, B, m->mean,
                                        m->inv_std, sb.Xb, sb.yb),
                        done);
        GSGD_CHECK_GOTO(st, gsgdi_model_forward(m, &sb, B), done);
        GSGD_CHECK_GOTO(
            st, ctx->be->download(ctx, logits, sb.act[m->n_layers - 1], B * K * sizeof(float)),
            done);
        for (size_t i = 0; i < B; i++) write(m, logits + i * K, out + (start + i) * cols);
    }
done:
    free(logits);
    gsgdi_mem_free(ctx, Xdev, rows * d * sizeof(float));
    gsgdi_mem_free(ctx, ydev, rows * sizeof(float));
    gsgdi_step_buffers_free(m, &sb);
    return st;
}

gsgd_status gsgd_decision_function(gsgd_model *m, const float *X, size_t n, float *out) {
    if (!m || (!X && n) || (!out && n)) return GSGD_STATUS_INVALID_ARGUMENT;
    if (n == 0) return GSGD_STATUS_OK;
    return forward_rows(m, X, n, out, m->n_outputs, write_logits);
}

gsgd_status gsgd_predict_proba(gsgd_model *m, const float *X, size_t n, float *out) {
    if (!m) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(m->loss != GSGD_LOSS_SOFTMAX_CE && m->loss != GSGD_LOSS_LOGISTIC, m->ctx,
                         GSGD_STATUS_UNSUPPORTED,
                         "predict_proba: model '%s' has no probabilities (its loss is %s); "
                         "gsgd_decision_function gives its raw outputs",
                         m->spec, m->loss == GSGD_LOSS_HINGE ? "the hinge" : "squared");
    if ((!X && n) || (!out && n)) return GSGD_STATUS_INVALID_ARGUMENT;
    if (n == 0) return GSGD_STATUS_OK;
    const size_t cols = m->loss == GSGD_LOSS_LOGISTIC ? 2 : m->n_outputs;
    return forward_rows(m, X, n, out, cols, write_proba);
}
