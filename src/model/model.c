/*
 * Models as compositions of backend ops over views of ONE flat parameter
 * buffer. Every model is a stack of dense layers (ReLU between them) ending
 * in a loss; the linear models are the zero-hidden-layer case.
 *
 * Flat layout: all weight matrices first (layer by layer, row-major
 * in x out), then all biases, so weight decay is the prefix [0, n_decay).
 */
#include <errno.h>
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
#include "core/rng.h"

static gsgd_status parse_hidden(gsgd_context *ctx, const char *spec, const char *list,
                                size_t *widths, int *count) {
    *count = 0;
    const char *p = list;
    GSGD_RETURN_ERROR_IF(!*p, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "model '%s': mlp needs hidden widths, e.g. mlp:256,128", spec);
    for (;;) {
        GSGD_RETURN_ERROR_IF(*count >= GSGD_MAX_LAYERS - 1, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "model '%s': at most %d hidden layers", spec, GSGD_MAX_LAYERS - 1);
        /* Digits only: strtoull alone would take "+5", " 5" and "-5". */
        GSGD_RETURN_ERROR_IF(!*p, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "model '%s': a hidden width is missing after the last ','", spec);
        char *end;
        errno = 0;
        unsigned long long w = *p >= '0' && *p <= '9' ? strtoull(p, &end, 10) : 0;
        GSGD_RETURN_ERROR_IF(w == 0 || errno || w > (1ull << 20), ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "model '%s': hidden width must be an integer in [1, 1048576]", spec);
        widths[(*count)++] = (size_t)w;
        if (!*end) break;
        GSGD_RETURN_ERROR_IF(*end != ',', ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "model '%s': unexpected '%c' in hidden widths", spec, *end);
        p = end + 1;
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_model_layout(gsgd_context *ctx, const char *spec, size_t n_features,
                               int n_classes, gsgd_model *m) {
    GSGD_RETURN_ERROR_IF(!spec || strlen(spec) >= GSGD_SPEC_LEN, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "model spec missing or longer than %d characters", GSGD_SPEC_LEN - 1);
    GSGD_RETURN_ERROR_IF(n_features == 0 || n_features > (1u << 30), ctx,
                         GSGD_STATUS_INVALID_ARGUMENT, "model '%s': %zu features", spec,
                         n_features);
    GSGD_RETURN_ERROR_IF(n_classes < 0 || n_classes == 1, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "model '%s': n_classes must be 0 (regression) or >= 2, got %d", spec,
                         n_classes);
    memset(m, 0, sizeof *m);
    strcpy(m->spec, spec);
    m->ctx = ctx;
    m->n_features = n_features;
    m->n_classes = n_classes;

    size_t hidden[GSGD_MAX_LAYERS];
    int n_hidden = 0;
    int needs_classes = 1;
    if (strcmp(spec, "linear") == 0) {
        m->loss = GSGD_LOSS_SQUARED;
        m->n_outputs = n_classes == 0 ? 1 : (size_t)n_classes;
        needs_classes = 0;
    } else if (strcmp(spec, "logistic") == 0) {
        GSGD_RETURN_ERROR_IF(n_classes != 2, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                             "model 'logistic' is binary but the data has %d classes; use softmax",
                             n_classes);
        m->loss = GSGD_LOSS_LOGISTIC;
        m->n_outputs = 1;
    } else if (strcmp(spec, "softmax") == 0 || strcmp(spec, "hinge") == 0) {
        m->loss = spec[0] == 's' ? GSGD_LOSS_SOFTMAX_CE : GSGD_LOSS_HINGE;
        m->n_outputs = (size_t)n_classes;
    } else if (strncmp(spec, "mlp:", 4) == 0) {
        GSGD_FORWARD_IF_ERROR(parse_hidden(ctx, spec, spec + 4, hidden, &n_hidden));
        /* Classes: a softmax output (scikit-learn's MLPClassifier); real
         * targets: one linear output under the squared loss, as
         * MLPRegressor. */
        m->loss = n_classes ? GSGD_LOSS_SOFTMAX_CE : GSGD_LOSS_SQUARED;
        m->n_outputs = n_classes ? (size_t)n_classes : 1;
        needs_classes = 0;
    } else {
        return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                          "unknown model '%s': expected linear, logistic, softmax, hinge or "
                          "mlp:H1[,H2...]",
                          spec);
    }
    GSGD_RETURN_ERROR_IF(needs_classes && n_classes == 0, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "model '%s' needs class labels but the data is a regression problem",
                         spec);

    m->n_layers = n_hidden + 1;
    size_t in = n_features, off = 0;
    for (int l = 0; l < m->n_layers; l++) {
        size_t out = l < n_hidden ? hidden[l] : m->n_outputs, w;
        GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(in, out, &w) || w > (1ull << 34), ctx,
                             GSGD_STATUS_TOO_LARGE, "model '%s': layer %d has too many weights",
                             spec, l + 1);
        m->layers[l] = (gsgdi_layer){.in = in, .out = out, .w_off = off};
        off += w;
        in = out;
    }
    m->n_decay = off;
    for (int l = 0; l < m->n_layers; l++) {
        m->layers[l].b_off = off;
        off += m->layers[l].out;
    }
    m->n_params = off;
    return GSGD_STATUS_OK;
}

void gsgdi_model_init_host(const gsgd_model *m, uint64_t seed, float *p) {
    gsgdi_rng rng = {gsgdi_mix64(seed ^ 0x6a09e667f3bcc908ull)};
    for (int l = 0; l < m->n_layers; l++) {
        const gsgdi_layer *L = &m->layers[l];
        double bound = 1.0 / sqrt((double)L->in);
        for (size_t i = 0; i < L->in * L->out; i++)
            p[L->w_off + i] = (float)((2.0 * gsgdi_rng_uniform(&rng) - 1.0) * bound);
        for (size_t i = 0; i < L->out; i++)
            p[L->b_off + i] = (float)((2.0 * gsgdi_rng_uniform(&rng) - 1.0) * bound);
    }
}

gsgd_status gsgdi_model_alloc(gsgd_model *m) {
    return gsgdi_mem_alloc(m->ctx, m->n_params * sizeof(float), (void **)&m->params);
}

gsgd_status gsgd_model_create(gsgd_context *ctx, const char *spec, size_t n_features, int n_classes,
                              uint64_t seed, gsgd_model **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    *out = NULL;
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_model *m = calloc(1, sizeof *m);
    GSGD_RETURN_ERROR_IF(!m, ctx, GSGD_STATUS_OUT_OF_MEMORY, "model: out of memory");
    float *host = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_model_layout(ctx, spec, n_features, n_classes, m), fail);
    GSGD_CHECK_GOTO(st, gsgdi_model_alloc(m), fail);
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, m->n_params * sizeof(float), (void **)&host), fail);
    gsgdi_model_init_host(m, seed, host);
    GSGD_CHECK_GOTO(st, ctx->be->upload(ctx, m->params, host, m->n_params * sizeof(float)), fail);
    GSGD_CHECK_GOTO(st, gsgdi_model_default_labels(m), fail);
    free(host);
    *out = m;
    return GSGD_STATUS_OK;
fail:
    free(host);
    gsgd_model_free(m);
    return st;
}

void gsgd_model_free(gsgd_model *m) {
    if (!m) return;
    if (m->ctx) {
        gsgdi_mem_free(m->ctx, m->params, m->n_params * sizeof(float));
        gsgdi_mem_free(m->ctx, m->mean, m->n_features * sizeof(float));
        gsgdi_mem_free(m->ctx, m->inv_std, m->n_features * sizeof(float));
    }
    gsgdi_labels_free(m->labels);
    gsgdi_names_free(m->feature_names);
    free(m);
}

gsgd_status gsgd_model_params(gsgd_model *m, float **params, size_t *n, size_t *n_decay) {
    if (!m) return GSGD_STATUS_INVALID_ARGUMENT;
    if (params) *params = m->params;
    if (n) *n = m->n_params;
    if (n_decay) *n_decay = m->n_decay;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_model_shape(const gsgd_model *m, const char **spec, size_t *n_features,
                             int *n_classes) {
    if (!m) return GSGD_STATUS_INVALID_ARGUMENT;
    if (spec) *spec = m->spec;
    if (n_features) *n_features = m->n_features;
    if (n_classes) *n_classes = m->n_classes;
    return GSGD_STATUS_OK;
}

/* ---- step buffers ------------------------------------------------------- */

size_t gsgdi_model_mask_row_bytes(const gsgd_model *m, int l) {
    /* A layout of no context (the planner's tests) has no backend. */
    const gsgdi_backend *be = m->ctx ? m->ctx->be : NULL;
    if (l >= m->n_layers - 1 || !be || !be->relu_mask_row_bytes || !be->dense_forward) return 0;
    return be->relu_mask_row_bytes(m->layers[l].out);
}

size_t gsgdi_step_buffers_bytes(const gsgd_model *m, size_t B) {
    size_t floats = B * (m->n_features + 1), masks = 0;
    for (int l = 0; l < m->n_layers; l++) {
        floats += 2 * B * m->layers[l].out;
        masks += B * gsgdi_model_mask_row_bytes(m, l);
    }
    return floats * sizeof(float) + masks + 2 * sizeof(double);
}

gsgd_status gsgdi_step_buffers_alloc(gsgd_model *m, size_t B, gsgdi_step_buffers *sb) {
    memset(sb, 0, sizeof *sb);
    gsgd_context *ctx = m->ctx;
    size_t bytes;
    GSGD_RETURN_ERROR_IF(B == 0 || !gsgdi_mul_ok(B, m->n_features + 1, &bytes), ctx,
                         GSGD_STATUS_TOO_LARGE, "batch of %zu rows is too large", B);
    sb->B = B;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, B * m->n_features * sizeof(float), (void **)&sb->Xb),
                    fail);
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, B * sizeof(float), (void **)&sb->yb), fail);
    for (int l = 0; l < m->n_layers; l++) {
        size_t b = B * m->layers[l].out * sizeof(float);
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, b, (void **)&sb->act[l]), fail);
        GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, b, (void **)&sb->dact[l]), fail);
        const size_t mask = B * gsgdi_model_mask_row_bytes(m, l);
        if (mask) GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, mask, &sb->mask[l]), fail);
    }
    GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, 2 * sizeof(double), (void **)&sb->acc), fail);
    return ctx->be->zero(ctx, sb->acc, 2 * sizeof(double));
fail:
    gsgdi_step_buffers_free_dense(m, sb);
    return st;
}

void gsgdi_step_buffers_free_dense(gsgd_model *m, gsgdi_step_buffers *sb) {
    gsgd_context *ctx = m->ctx;
    gsgdi_mem_free(ctx, sb->Xb, sb->B * m->n_features * sizeof(float));
    gsgdi_mem_free(ctx, sb->yb, sb->B * sizeof(float));
    for (int l = 0; l < m->n_layers; l++) {
        gsgdi_mem_free(ctx, sb->act[l], sb->B * m->layers[l].out * sizeof(float));
        gsgdi_mem_free(ctx, sb->dact[l], sb->B * m->layers[l].out * sizeof(float));
        if (sb->mask[l]) gsgdi_mem_free(ctx, sb->mask[l], sb->B * gsgdi_model_mask_row_bytes(m, l));
    }
    gsgdi_mem_free(ctx, sb->acc, 2 * sizeof(double));
    memset(sb, 0, sizeof *sb);
}

/* ---- forward / backward -------------------------------------------------- */

/* Layer l's forward: one product with its epilogue where the backend
 * fuses it, else the product and bias_act. */
static gsgd_status layer_forward(gsgd_model *m, gsgdi_step_buffers *sb, int l, const float *in,
                                 size_t B, gsgd_precision prec) {
    const gsgdi_backend *be = m->ctx->be;
    const gsgdi_layer *L = &m->layers[l];
    const int relu = l < m->n_layers - 1;
    const float *W = m->params + L->w_off, *b = m->params + L->b_off;
    int taken = 0;
    sb->masked[l] = 0;
    if (be->dense_forward) {
        GSGD_FORWARD_IF_ERROR(be->dense_forward(m->ctx, prec, B, L->in, L->out, in, W, b, relu,
                                                sb->act[l], sb->mask[l], &taken));
        sb->masked[l] = taken && relu && sb->mask[l];
    }
    if (taken) return GSGD_STATUS_OK;
    GSGD_FORWARD_IF_ERROR(be->gemm(m->ctx, prec, 0, 0, B, L->out, L->in, 1.0f, in, L->in, W, L->out,
                                   0.0f, sb->act[l], L->out));
    return be->bias_act(m->ctx, sb->act[l], b, B, L->out, relu);
}

gsgd_status gsgdi_model_forward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                gsgd_precision prec) {
    return gsgdi_model_forward_layers(m, sb, B, 0, prec);
}

gsgd_status gsgdi_model_forward_layers(gsgd_model *m, gsgdi_step_buffers *sb, size_t B, int first,
                                       gsgd_precision prec) {
    const float *in = first > 0 ? sb->act[first - 1] : sb->Xb;
    for (int l = first; l < m->n_layers; l++) {
        GSGD_FORWARD_IF_ERROR(layer_forward(m, sb, l, in, B, prec));
        in = sb->act[l];
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_model_backward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B, float *grads) {
    return gsgdi_model_backward_scaled(m, sb, B, 1.0f / (float)B, GSGD_PRECISION_FP32, grads);
}

/* Layer l's dW and, unless the layer above gave it already (db_done), its
 * db: one product with the bias gradient as its epilogue where the
 * backend fuses it, else the product and col_sum. */
static gsgd_status layer_weights(gsgd_model *m, gsgdi_step_buffers *sb, int l, const float *in,
                                 size_t B, gsgd_precision prec, int db_done, float *grads) {
    const gsgdi_backend *be = m->ctx->be;
    const gsgdi_layer *L = &m->layers[l];
    float *dW = grads + L->w_off, *db = grads + L->b_off;
    int taken = 0;
    if (!db_done && be->dense_backward_weights)
        GSGD_FORWARD_IF_ERROR(be->dense_backward_weights(m->ctx, prec, B, L->in, L->out, in,
                                                         sb->dact[l], dW, db, &taken));
    if (taken) return GSGD_STATUS_OK;
    GSGD_FORWARD_IF_ERROR(be->gemm(m->ctx, prec, 1, 0, L->in, L->out, B, 1.0f, in, L->in,
                                   sb->dact[l], L->out, 0.0f, dW, L->out));
    return db_done ? GSGD_STATUS_OK : be->col_sum(m->ctx, sb->dact[l], B, L->out, db);
}

/* The gradient into layer l's input, dact[l - 1], through the ReLU of
 * layer l - 1; *db_below: layer l - 1's db came with it (the epilogue). */
static gsgd_status layer_data(gsgd_model *m, gsgdi_step_buffers *sb, int l, size_t B,
                              gsgd_precision prec, float *grads, int *db_below) {
    const gsgdi_backend *be = m->ctx->be;
    const gsgdi_layer *L = &m->layers[l];
    const float *W = m->params + L->w_off;
    int taken = 0;
    if (sb->masked[l - 1] && be->dense_backward_data)
        GSGD_FORWARD_IF_ERROR(be->dense_backward_data(m->ctx, prec, B, L->in, L->out, sb->dact[l],
                                                      W, sb->mask[l - 1], sb->dact[l - 1],
                                                      grads + m->layers[l - 1].b_off, &taken));
    *db_below = taken;
    if (taken) return GSGD_STATUS_OK;
    GSGD_FORWARD_IF_ERROR(be->gemm(m->ctx, prec, 0, 1, B, L->in, L->out, 1.0f, sb->dact[l], L->out,
                                   W, L->out, 0.0f, sb->dact[l - 1], L->in));
    return be->relu_backward(m->ctx, sb->dact[l - 1], sb->act[l - 1], B * L->in);
}

gsgd_status gsgdi_model_backward_scaled(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                        float grad_scale, gsgd_precision prec, float *grads) {
    const gsgdi_backend *be = m->ctx->be;
    const int last = m->n_layers - 1;
    GSGD_FORWARD_IF_ERROR(be->loss(m->ctx, m->loss, sb->act[last], sb->yb, B, m->n_outputs,
                                   m->n_classes > 0, grad_scale, sb->dact[last], sb->acc));
    return gsgdi_model_backward_layers(m, sb, B, prec, grads, 0);
}

gsgd_status gsgdi_model_backward_layers(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                        gsgd_precision prec, float *grads, int stop) {
    int db_done = 0;
    for (int l = m->n_layers - 1; l >= stop; l--) {
        const float *in = l > 0 ? sb->act[l - 1] : sb->Xb;
        GSGD_FORWARD_IF_ERROR(layer_weights(m, sb, l, in, B, prec, db_done, grads));
        if (l == 0) break;
        GSGD_FORWARD_IF_ERROR(layer_data(m, sb, l, B, prec, grads, &db_done));
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_model_score(gsgd_model *m, gsgdi_step_buffers *sb, size_t B) {
    return m->ctx->be->loss(m->ctx, m->loss, sb->act[m->n_layers - 1], sb->yb, B, m->n_outputs,
                            m->n_classes > 0, 1.0f, NULL, sb->acc);
}

/* ---- the fused one-layer gradient ------------------------------------------ */

/* The fused op's scratch for m over ds, and in *from the smallest batch
 * that takes it (both 0 where none does), with one scratch query. Rows in
 * mapped host memory take it too: the op reads each row once, as the
 * gather does (the CUDA kernel stages a tile's rows in shared memory). */
static size_t fused_scratch(const gsgd_model *m, const gsgd_dataset *ds, size_t *from) {
    const gsgdi_backend *be = m->ctx->be;
    const int forced = gsgdi_env_switch("GSGD_FUSED_GRADIENT", -1);
    *from = 0;
    if (ds->sparse || m->n_layers != 1 || !be->linear_grad || forced == 0 ||
        (forced < 0 && be->linear_grad_min_batch == 0))
        return 0;
    const size_t bytes = be->linear_grad_scratch(m->ctx, ds->X, ds->xt, ds->d, m->n_outputs);
    if (bytes) *from = forced > 0 ? 1 : be->linear_grad_min_batch;
    return bytes;
}

size_t gsgdi_model_fused_from(const gsgd_model *m, const gsgd_dataset *ds) {
    size_t from;
    fused_scratch(m, ds, &from);
    return from;
}

size_t gsgdi_model_fused_bytes(const gsgd_model *m, const gsgd_dataset *ds, size_t batch) {
    size_t from;
    const size_t bytes = fused_scratch(m, ds, &from);
    return from && batch >= from ? bytes : 0;
}

gsgd_status gsgdi_model_fused_gradient(gsgd_model *m, const gsgd_dataset *ds, const uint32_t *perm,
                                       size_t start, size_t B, float grad_scale,
                                       gsgd_precision prec, float *grads, double *acc,
                                       void *scratch, size_t scratch_bytes) {
    const gsgdi_layer *L = &m->layers[0];
    const gsgdi_linear_grad_args a = {.kind = m->loss,
                                      .classify = m->n_classes > 0,
                                      .X = ds->X,
                                      .xt = ds->xt,
                                      .y = ds->y,
                                      .d = ds->d,
                                      .K = L->out,
                                      .perm = perm,
                                      .start = start,
                                      .B = B,
                                      .mean = m->mean,
                                      .inv_std = m->inv_std,
                                      .W = m->params + L->w_off,
                                      .b = m->params + L->b_off,
                                      .grad_scale = grad_scale,
                                      .precision = prec,
                                      .dW = grads + L->w_off,
                                      .db = grads + L->b_off,
                                      .acc = acc,
                                      .scratch = scratch,
                                      .scratch_bytes = scratch_bytes};
    return m->ctx->be->linear_grad(m->ctx, &a);
}
