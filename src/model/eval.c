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
#include "data/loaders.h"
#include "model/model.h"

/* Rows per evaluation/prediction batch when the caller gives no buffers. */
#define EVAL_ROWS 1024
/* Rows per chunk when reading a dataset back to the host. */
#define STAT_ROWS 4096

static int cmp_double(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Rows STANDARDIZE = AUTO measures to decide: a pass over all of
 * Fashion-MNIST's 60000 took 0.43-0.73 s on this machine's shared cores
 * (load 16), longer than training to 0.84; a deterministic sample of 8192
 * 0.03-0.06 s, with the scales' ratio 2.151 against 2.147 (the threshold
 * is 10). A standardiser is then fitted on every row. */
#define DECIDE_ROWS 8192
#define DECIDE_BLOCK 64

/* Per-column mean and variance (population) of ds's rows, or with sample
 * of at most DECIDE_ROWS of them in blocks of DECIDE_BLOCK spread evenly
 * over the set (files sorted by label are sampled across the labels), in
 * double: shifted sums (by the first row) avoid cancellation. */
static gsgd_status column_stats(gsgd_context *ctx, const gsgd_dataset *ds, int sample, double *mean,
                                double *var) {
    const size_t d = ds->d, rows = ds->n < STAT_ROWS ? ds->n : STAT_ROWS;
    const int sampled = sample && ds->n > DECIDE_ROWS;
    const size_t n_blocks = DECIDE_ROWS / DECIDE_BLOCK;
    float *chunk = NULL;
    double *sum = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, rows * d * sizeof(float), (void **)&chunk), done);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, 3 * d * sizeof(double), (void **)&sum), done);
    double *sumsq = sum + d, *shift = sum + 2 * d;
    memset(sum, 0, 2 * d * sizeof(double));
    size_t seen = 0;
    for (size_t k = 0, start = 0; sampled ? k < n_blocks : start < ds->n; k++) {
        size_t r;
        if (sampled) {
            start = k * (ds->n - DECIDE_BLOCK) / (n_blocks - 1);
            r = DECIDE_BLOCK;
        } else {
            r = ds->n - start < rows ? ds->n - start : rows;
        }
        GSGD_CHECK_GOTO(st, gsgdi_dataset_read_rows(ds, start, r, chunk), done);
        if (seen == 0)
            for (size_t j = 0; j < d; j++) shift[j] = chunk[j];
        for (size_t i = 0; i < r; i++)
            for (size_t j = 0; j < d; j++) {
                double v = chunk[i * d + j] - shift[j];
                sum[j] += v;
                sumsq[j] += v * v;
            }
        seen += r;
        if (!sampled) start += r;
    }
    for (size_t j = 0; j < d; j++) {
        double mu = sum[j] / (double)seen;
        var[j] = fmax(sumsq[j] / (double)seen - mu * mu, 0.0);
        mean[j] = shift[j] + mu;
    }
done:
    free(chunk);
    free(sum);
    return st;
}

static gsgd_status check_stat_data(const gsgd_model *m, const gsgd_dataset *ds) {
    GSGD_RETURN_ERROR_IF(ds->ctx != m->ctx, m->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "standardize: the model and the data belong to different contexts");
    GSGD_RETURN_ERROR_IF(ds->d != m->n_features && !(ds->sparse && ds->d < m->n_features), m->ctx,
                         GSGD_STATUS_SHAPE_MISMATCH,
                         "standardize: model has %zu features, data has %zu", m->n_features, ds->d);
    GSGD_RETURN_ERROR_IF(ds->n == 0, m->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "standardize: empty dataset");
    return GSGD_STATUS_OK;
}

/* Scaling only, as scikit-learn's StandardScaler(with_mean=False) does for
 * sparse input: per-column mean and variance over all n rows of a CSR
 * dataset (zeros included), in double, for x' = x / std; the mean is
 * installed as 0 so every row stays sparse. d is the model's width (a
 * sparse set may have fewer columns). */
static gsgd_status column_stats_sparse(const gsgd_dataset *ds, size_t d, double *mean,
                                       double *var) {
    gsgdi_host_data h = {0};
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_dataset_csr_download(ds, &h), done);
    memset(mean, 0, d * sizeof(double));
    memset(var, 0, d * sizeof(double));
    for (size_t k = 0; k < h.nnz; k++) {
        const double v = h.values[k];
        mean[h.indices[k]] += v;
        var[h.indices[k]] += v * v;
    }
    for (size_t j = 0; j < d; j++) {
        mean[j] /= (double)ds->n;
        var[j] = fmax(var[j] / (double)ds->n - mean[j] * mean[j], 0.0);
    }
done:
    gsgdi_host_data_free(&h);
    return st;
}

/* Puts new statistics (backend memory) in the model, which frees its
 * old ones; *mean and *inv become NULL. host_mean says whether it centres. */
static void install(gsgd_model *m, float **mean, float **inv, const float *host_mean) {
    const size_t d = m->n_features;
    gsgdi_mem_free(m->ctx, m->mean, d * sizeof(float));
    gsgdi_mem_free(m->ctx, m->inv_std, d * sizeof(float));
    m->mean = *mean;
    m->inv_std = *inv;
    *mean = *inv = NULL;
    m->centered = 0;
    for (size_t j = 0; j < d; j++) m->centered |= host_mean[j] != 0.0f;
}

/* Stores (mean, 1/std) from the column statistics with the model; with
 * center 0 the stored mean is 0 (scaling only). */
static gsgd_status install_standardizer(gsgd_model *m, const double *mean, const double *var,
                                        int center) {
    gsgd_context *ctx = m->ctx;
    const size_t d = m->n_features;
    float *host = NULL, *dev_mean = NULL, *dev_inv = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, 2 * d * sizeof(float), (void **)&host), done);
    float *inv = host + d;
    for (size_t j = 0; j < d; j++) {
        host[j] = center ? (float)mean[j] : 0.0f;
        /* Constant features are centred only, as scikit-learn's StandardScaler. */
        inv[j] = var[j] > 0.0 ? (float)(1.0 / sqrt(var[j])) : 1.0f;
    }
    /* Into new buffers, which replace the model's only once both hold the
     * statistics: a failure leaves the model as it was, never with one of
     * the two (every forward pass reads both when mean is set). */
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, d * sizeof(float), (void **)&dev_mean), done);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, d * sizeof(float), (void **)&dev_inv), done);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, dev_mean, host, d * sizeof(float)), done);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, dev_inv, inv, d * sizeof(float)), done);
    install(m, &dev_mean, &dev_inv, host);
done:
    gsgdi_mem_free(ctx, dev_mean, d * sizeof(float));
    gsgdi_mem_free(ctx, dev_inv, d * sizeof(float));
    free(host);
    return st;
}

/* Fits the standardiser from the statistics of all of ds (scaling only for
 * sparse data); with only_if_spread, first decides on a sample of dense
 * data whether the scales call for one (*scale_ratio). */
static gsgd_status fit_from_data(gsgd_model *m, const gsgd_dataset *ds, double *scale_ratio,
                                 int only_if_spread) {
    const size_t d = m->n_features;
    double *stats = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(m->ctx, 2 * d * sizeof(double), (void **)&stats), done);
    if (only_if_spread) {
        GSGD_CHECK_GOTO(st, column_stats(m->ctx, ds, 1, stats, stats + d), done);
        const double ratio = gsgdi_scale_ratio(stats, stats + d, d);
        if (scale_ratio) *scale_ratio = ratio;
        if (!(ratio > GSGD_STANDARDIZE_AUTO_RATIO)) goto done;
    }
    if (ds->sparse) {
        GSGD_CHECK_GOTO(st, column_stats_sparse(ds, d, stats, stats + d), done);
        st = install_standardizer(m, stats, stats + d, 0);
        goto done;
    }
    GSGD_CHECK_GOTO(st, column_stats(m->ctx, ds, 0, stats, stats + d), done);
    st = install_standardizer(m, stats, stats + d, 1);
done:
    free(stats);
    return st;
}

gsgd_status gsgd_model_fit_standardizer(gsgd_model *m, const gsgd_dataset *ds) {
    if (!m || !ds) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_FORWARD_IF_ERROR(check_stat_data(m, ds));
    return fit_from_data(m, ds, NULL, 0);
}

gsgd_status gsgd_model_standardizer(const gsgd_model *m, float *mean, float *inv_std, int *has) {
    if (!m) return GSGD_STATUS_INVALID_ARGUMENT;
    if (has) *has = m->mean != NULL;
    if (!m->mean) return GSGD_STATUS_OK;
    const size_t bytes = m->n_features * sizeof(float);
    if (mean) GSGD_FORWARD_IF_ERROR(m->ctx->be->download(m->ctx, mean, m->mean, bytes));
    if (inv_std) GSGD_FORWARD_IF_ERROR(m->ctx->be->download(m->ctx, inv_std, m->inv_std, bytes));
    return GSGD_STATUS_OK;
}

/* Root mean squares s_j = sqrt(mean_j^2 + var_j) of the columns that are
 * not all zero; r = max(s_max, 1) / min(s_median, 1). */
double gsgdi_scale_ratio(const double *mean, const double *var, size_t d) {
    double *s = malloc((d ? d : 1) * sizeof *s);
    if (!s) return NAN;
    size_t k = 0;
    for (size_t j = 0; j < d; j++) {
        const double rms = sqrt(mean[j] * mean[j] + var[j]);
        if (rms > 0.0) s[k++] = rms;
    }
    double r = 1.0;
    if (k) {
        qsort(s, k, sizeof *s, cmp_double);
        const double median = k % 2 ? s[k / 2] : 0.5 * (s[k / 2 - 1] + s[k / 2]);
        r = fmax(s[k - 1], 1.0) / fmin(median, 1.0);
    }
    free(s);
    return r;
}

gsgd_status gsgd_model_standardize(gsgd_model *m, const gsgd_dataset *ds, const gsgd_options *opts,
                                   int *standardized, double *scale_ratio) {
    if (!m || !ds || !opts) return GSGD_STATUS_INVALID_ARGUMENT;
    if (scale_ratio) *scale_ratio = NAN;
    const gsgd_standardize mode = (gsgd_standardize)opts->v[GSGD_STANDARDIZE];
    gsgd_status st = GSGD_STATUS_OK;
    /* AUTO decides for dense features only: sparse text and click
     * features are used unscaled by convention (scikit-learn's
     * SGDClassifier, Vowpal Wabbit), and ON scales them without centring. */
    const int wanted =
        mode == GSGD_STANDARDIZE_ON || (mode == GSGD_STANDARDIZE_AUTO && !ds->sparse);
    if (!m->mean && wanted) {
        GSGD_FORWARD_IF_ERROR(check_stat_data(m, ds));
        st = fit_from_data(m, ds, scale_ratio, mode == GSGD_STANDARDIZE_AUTO);
    }
    if (standardized) *standardized = m->mean != NULL;
    return st;
}

gsgd_status gsgdi_evaluate_with(gsgd_model *m, gsgdi_step_buffers *sb, const gsgd_dataset *ds,
                                gsgd_eval_result *out) {
    gsgd_context *ctx = m->ctx;
    GSGD_RETURN_ERROR_IF(ds->ctx != ctx, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "evaluate: the model and the data belong to different contexts");
    GSGD_RETURN_ERROR_IF(ds->d != m->n_features && !(ds->sparse && ds->d < m->n_features), ctx,
                         GSGD_STATUS_SHAPE_MISMATCH,
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
    GSGD_FORWARD_IF_ERROR(gsgdi_model_check_sparse(m, ds));
    if (sb->sparse != ds->sparse) /* buffers of the other kind: own ones */
        return gsgd_evaluate(m, ds, out);
    GSGD_FORWARD_IF_ERROR(ctx->be->zero(ctx, sb->acc, 2 * sizeof(double)));
    for (size_t start = 0, B; start < ds->n; start += B) {
        B = gsgdi_model_chunk_rows(ds, sb, start);
        if (B == 0) /* a row denser than the buffers were planned for */
            return gsgd_evaluate(m, ds, out);
        GSGD_FORWARD_IF_ERROR(gsgdi_model_gather_forward(m, sb, ds, NULL, start, B));
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
    GSGD_FORWARD_IF_ERROR(
        gsgdi_step_buffers_alloc_for(m, ds, ds->n < EVAL_ROWS ? ds->n : EVAL_ROWS, 0, &sb));
    gsgd_status st = gsgdi_evaluate_with(m, &sb, ds, out);
    gsgdi_step_buffers_free(m, &sb);
    return st;
}
