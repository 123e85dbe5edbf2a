/* Evaluation and the input standardiser of a model (predictions: predict.c). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* Rows per evaluation/prediction batch when the caller gives no buffers. */
#define EVAL_ROWS 1024
/* Rows per chunk when reading a dataset back to the host. */
#define STAT_ROWS 4096

gsgd_status gsgd_model_fit_standardizer(gsgd_model *m, const gsgd_dataset *ds) {
    if (!m || !ds) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = m->ctx;
    const size_t d = m->n_features;
    GSGD_RETURN_ERROR_IF(ds->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "standardize: the model and the data belong to different contexts");
    GSGD_RETURN_ERROR_IF(ds->d != d, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "standardize: model has %zu features, data has %zu", d, ds->d);
    GSGD_RETURN_ERROR_IF(ds->n == 0, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "standardize: empty dataset");
    size_t rows = ds->n < STAT_ROWS ? ds->n : STAT_ROWS;
    float *chunk = NULL, *mean = NULL, *inv = NULL, *dev_mean = NULL, *dev_inv = NULL;
    double *sum = NULL, *sumsq = NULL, *shift = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, rows * d * sizeof(float), (void **)&chunk), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, 2 * d * sizeof(float), (void **)&mean), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, 3 * d * sizeof(double), (void **)&sum), done);
    inv = mean + d;
    sumsq = sum + d;
    shift = sum + 2 * d;
    memset(sum, 0, 2 * d * sizeof(double));
    /* Shifted sums (by the first row) avoid cancellation in the variance. */
    for (size_t start = 0; start < ds->n; start += rows) {
        size_t r = ds->n - start < rows ? ds->n - start : rows;
        GSGD_CHECK_GOTO(st, gsgdi_dataset_read_rows(ds, start, r, chunk), done);
        if (start == 0)
            for (size_t j = 0; j < d; j++) shift[j] = chunk[j];
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < d; j++) {
                double v = chunk[i * d + j] - shift[j];
                sum[j] += v;
                sumsq[j] += v * v;
            }
    }
    for (size_t j = 0; j < d; j++) {
        double mu = sum[j] / (double)ds->n;
        double var = fmax(sumsq[j] / (double)ds->n - mu * mu, 0.0);
        mean[j] = (float)(shift[j] + mu);
        /* Constant features are centred only, as scikit-learn's StandardScaler. */
        inv[j] = var > 0.0 ? (float)(1.0 / sqrt(var)) : 1.0f;
    }
    /* Into new buffers, which replace the model's only once both hold the
     * statistics: a failure leaves the model as it was, never with one of
     * the two (every forward pass reads both when mean is set). */
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, d * sizeof(float), (void **)&dev_mean), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, d * sizeof(float), (void **)&dev_inv), done);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, dev_mean, mean, d * sizeof(float)), done);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, dev_inv, inv, d * sizeof(float)), done);
    gsgdi_mem_free(ctx, m->mean, d * sizeof(float));
    gsgdi_mem_free(ctx, m->inv_std, d * sizeof(float));
    m->mean = dev_mean;
    m->inv_std = dev_inv;
    dev_mean = dev_inv = NULL;
done:
    gsgdi_mem_free(ctx, dev_mean, d * sizeof(float));
    gsgdi_mem_free(ctx, dev_inv, d * sizeof(float));
    free(chunk);
    free(mean);
    free(sum);
    return st;
}

gsgd_status gsgdi_evaluate_with(gsgd_model *m, gsgdi_step_buffers *sb, const gsgd_dataset *ds,
                                gsgd_eval_result *out) {
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(ds->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "evaluate: the model and the data belong to different contexts");
    GSGD_RETURN_ERROR_IF(ds->d != m->n_features, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "evaluate: model has %zu features, data has %zu", m->n_features, ds->d);
    GSGD_RETURN_ERROR_IF(
        (m->n_classes == 0) != (ds->n_classes == 0) || ds->n_classes > m->n_classes, ctx,
        GSGD_STATUS_SHAPE_MISMATCH, "evaluate: model has %d classes, data has %d", m->n_classes,
        ds->n_classes);
    GSGD_RETURN_ERROR_IF(ds->meta.no_targets, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "evaluate: %s has no targets to evaluate against (predict gives the "
                         "model's outputs for such rows)",
                         ds->meta.source[0] ? ds->meta.source : "the data");
    GSGD_FORWARD_IF_ERROR(gsgdi_model_check_labels(m, ds, "evaluate"));
    GSGD_FORWARD_IF_ERROR(ctx->be->zero(ctx, sb->acc, 2 * sizeof(double)));
    for (size_t start = 0; start < ds->n; start += sb->B) {
        size_t B = ds->n - start < sb->B ? ds->n - start : sb->B;
        GSGD_FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->xt, ds->y, ds->d, NULL, start, B,
                                              m->mean, m->inv_std, sb->Xb, sb->yb));
        GSGD_FORWARD_IF_ERROR(gsgdi_model_forward(m, sb, B, GSGD_PRECISION_FP32));
        GSGD_FORWARD_IF_ERROR(gsgdi_model_score(m, sb, B));
    }
    double acc[2];
    GSGD_FORWARD_IF_ERROR(ctx->be->download(ctx, acc, sb->acc, sizeof acc));
    out->n = ds->n;
    out->loss = ds->n ? acc[0] / (double)ds->n : NAN;
    out->accuracy = (m->n_classes > 0 && ds->n) ? acc[1] / (double)ds->n : NAN;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_evaluate(gsgd_model *m, const gsgd_dataset *ds, gsgd_eval_result *out) {
    if (!m || !ds || !out) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgdi_step_buffers sb;
    GSGD_FORWARD_IF_ERROR(gsgdi_step_buffers_alloc(m, ds->n < EVAL_ROWS ? ds->n : EVAL_ROWS, &sb));
    gsgd_status st = gsgdi_evaluate_with(m, &sb, ds, out);
    gsgdi_step_buffers_free(m, &sb);
    return st;
}
