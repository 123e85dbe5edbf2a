/*
 * Models on sparse (CSR) input: the buffers of a sparse batch and the
 * passes over it. The first layer is CSR x W (csr_matmul) and its weight
 * gradient row-sparse (csr_weight_grad: one row per feature of the
 * batch); every later layer is the dense one of model.c. No dense batch
 * of the input is ever formed.
 */
#include <string.h>

#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "data/dataset.h"
#include "model/model.h"

/* Compact gradient rows for a batch of cap nonzeros: never more than the
 * features there are. */
static size_t grad_rows(const gsgd_model *m, size_t cap) {
    return cap < m->n_features ? cap : m->n_features;
}

gsgd_status gsgdi_step_buffers_alloc_csr(gsgd_model *m, size_t B, size_t cap, int training,
                                         gsgdi_step_buffers *sb) {
    memset(sb, 0, sizeof *sb);
    gsgd_context *ctx = m->ctx;
    const gsgdi_backend *be = ctx->be;
    GSGD_RETURN_ERROR_IF(B == 0 || B >= INT32_MAX || cap >= INT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "sparse batch of %zu rows and %zu nonzeros exceeds 2^31", B, cap);
    if (cap == 0) cap = 1;
    sb->sparse = 1;
    sb->B = B;
    gsgdi_csr_batch *c = &sb->csr;
    c->cap = cap;
    gsgd_status st;
#define ALLOC(p, bytes) GSGD_CHECK_GOTO(st, gsgdi_mem_alloc(ctx, (bytes), (void **)&(p)), fail)
    ALLOC(c->ptr, (B + 1) * sizeof(int32_t));
    ALLOC(c->col, cap * sizeof(int32_t));
    ALLOC(c->val, cap * sizeof(float));
    ALLOC(c->row, cap * sizeof(int32_t));
    ALLOC(sb->yb, B * sizeof(float));
    for (int l = 0; l < m->n_layers; l++) {
        ALLOC(sb->act[l], B * m->layers[l].out * sizeof(float));
        ALLOC(sb->dact[l], B * m->layers[l].out * sizeof(float));
    }
    ALLOC(sb->acc, 2 * sizeof(double));
    if (training) {
        ALLOC(c->feat, cap * sizeof(int32_t));
        ALLOC(c->n_feat, sizeof(int32_t));
        ALLOC(c->fptr, (cap + 1) * sizeof(int32_t));
        ALLOC(c->order, cap * sizeof(int32_t));
        c->scratch_bytes = be->csr_compact_scratch(ctx, m->n_features, cap);
        if (c->scratch_bytes) {
            ALLOC(c->scratch, c->scratch_bytes);
            GSGD_CHECK_GOTO(st, be->zero(ctx, c->scratch, c->scratch_bytes), fail);
        }
        GSGD_CHECK_GOTO(st, be->zero(ctx, c->n_feat, sizeof(int32_t)), fail);
        sb->gW_rows = grad_rows(m, cap);
        ALLOC(sb->gW, sb->gW_rows * m->layers[0].out * sizeof(float));
    }
#undef ALLOC
    return be->zero(ctx, sb->acc, 2 * sizeof(double));
fail:
    gsgdi_step_buffers_free_csr(m, sb);
    return st;
}

void gsgdi_step_buffers_free_csr(gsgd_model *m, gsgdi_step_buffers *sb) {
    gsgd_context *ctx = m->ctx;
    gsgdi_csr_batch *c = &sb->csr;
    const size_t B = sb->B, cap = c->cap;
    gsgdi_mem_free(ctx, c->ptr, (B + 1) * sizeof(int32_t));
    gsgdi_mem_free(ctx, c->col, cap * sizeof(int32_t));
    gsgdi_mem_free(ctx, c->val, cap * sizeof(float));
    gsgdi_mem_free(ctx, c->row, cap * sizeof(int32_t));
    gsgdi_mem_free(ctx, c->feat, cap * sizeof(int32_t));
    gsgdi_mem_free(ctx, c->n_feat, sizeof(int32_t));
    gsgdi_mem_free(ctx, c->fptr, (cap + 1) * sizeof(int32_t));
    gsgdi_mem_free(ctx, c->order, cap * sizeof(int32_t));
    gsgdi_mem_free(ctx, c->scratch, c->scratch_bytes);
    gsgdi_mem_free(ctx, sb->gW, sb->gW_rows * m->layers[0].out * sizeof(float));
    gsgdi_mem_free(ctx, sb->yb, B * sizeof(float));
    for (int l = 0; l < m->n_layers; l++) {
        gsgdi_mem_free(ctx, sb->act[l], B * m->layers[l].out * sizeof(float));
        gsgdi_mem_free(ctx, sb->dact[l], B * m->layers[l].out * sizeof(float));
    }
    gsgdi_mem_free(ctx, sb->acc, 2 * sizeof(double));
    memset(sb, 0, sizeof *sb);
}

void gsgdi_step_buffers_free(gsgd_model *m, gsgdi_step_buffers *sb) {
    if (sb->sparse)
        gsgdi_step_buffers_free_csr(m, sb);
    else
        gsgdi_step_buffers_free_dense(m, sb);
}

gsgd_status gsgdi_step_buffers_alloc_for(gsgd_model *m, const gsgd_dataset *ds, size_t B,
                                         int training, gsgdi_step_buffers *sb) {
    if (!ds->sparse) return gsgdi_step_buffers_alloc(m, B, sb);
    return gsgdi_step_buffers_alloc_csr(m, B, gsgdi_dataset_batch_nnz(ds, B), training, sb);
}

size_t gsgdi_model_chunk_rows(const gsgd_dataset *ds, const gsgdi_step_buffers *sb, size_t start) {
    size_t B = ds->n - start < sb->B ? ds->n - start : sb->B;
    if (!ds->sparse) return B;
    const int64_t *p = ds->host_indptr;
    while (B > 0 && (size_t)(p[start + B] - p[start]) > sb->csr.cap) B /= 2;
    return B;
}

gsgd_status gsgdi_model_check_sparse(const gsgd_model *m, const gsgd_dataset *ds) {
    GSGD_RETURN_ERROR_IF(ds->sparse && m->mean && m->centered, m->ctx, GSGD_STATUS_UNSUPPORTED,
                         "model '%s': its standardiser centres the features (fitted on dense "
                         "data), which would make sparse rows dense; fit it on the sparse data "
                         "(scaling only) or train without --standardize",
                         m->spec);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_model_csr_forward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                    gsgd_precision prec) {
    const gsgdi_layer *L = &m->layers[0];
    sb->masked[0] = 0; /* csr_matmul's ReLU keeps no mask: relu_backward reads act[0] */
    GSGD_FORWARD_IF_ERROR(m->ctx->be->csr_matmul(m->ctx, &sb->csr, B, m->params + L->w_off, L->out,
                                                 m->params + L->b_off, m->n_layers > 1,
                                                 sb->act[0]));
    return gsgdi_model_forward_layers(m, sb, B, 1, prec);
}

gsgd_status gsgdi_model_csr_backward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                     float grad_scale, gsgd_precision prec, float *grads) {
    const gsgdi_backend *be = m->ctx->be;
    const int last = m->n_layers - 1;
    const gsgdi_layer *L = &m->layers[0];
    GSGD_FORWARD_IF_ERROR(be->loss(m->ctx, m->loss, sb->act[last], sb->yb, B, m->n_outputs,
                                   m->n_classes > 0, grad_scale, sb->dact[last], sb->acc));
    if (last > 0) GSGD_FORWARD_IF_ERROR(gsgdi_model_backward_layers(m, sb, B, prec, grads, 1));
    GSGD_FORWARD_IF_ERROR(be->csr_weight_grad(m->ctx, &sb->csr, sb->dact[0], L->out, sb->gW));
    return be->col_sum(m->ctx, sb->dact[0], B, L->out, grads + L->b_off);
}

gsgd_status gsgdi_model_gather_forward(gsgd_model *m, gsgdi_step_buffers *sb,
                                       const gsgd_dataset *ds, const uint32_t *perm, size_t start,
                                       size_t B) {
    gsgd_context *ctx = m->ctx;
    if (!ds->sparse) {
        GSGD_FORWARD_IF_ERROR(ctx->be->gather(ctx, ds->X, ds->xt, ds->y, ds->d, perm, start, B,
                                              m->mean, m->inv_std, sb->Xb, sb->yb));
        return gsgdi_model_forward(m, sb, B, GSGD_PRECISION_FP32);
    }
    GSGD_RETURN_ERROR_IF(!sb->sparse, ctx, GSGD_STATUS_INTERNAL,
                         "sparse data on the buffers of dense rows");
    GSGD_FORWARD_IF_ERROR(gsgdi_model_check_sparse(m, ds));
    GSGD_FORWARD_IF_ERROR(
        ctx->be->csr_gather(ctx, &ds->csr, ds->y, perm, start, B, m->inv_std, &sb->csr, sb->yb));
    return gsgdi_model_csr_forward(m, sb, B, GSGD_PRECISION_FP32);
}
