/*
 * The CUDA backend's dense layers through cuBLASLt with fused epilogues
 * (backend.h's dense_forward, dense_backward_data, dense_backward_weights):
 * the bias and ReLU ride on the forward product, the ReLU's derivative and
 * the bias gradient on the backward ones, so the separate bias_act,
 * relu_backward and col_sum kernels (and their passes over the batch's
 * activations) go where cuBLASLt takes the shape. Their CPU reference is
 * the composed ops; tests/test_backend_cuda.c compares the two.
 *
 * Row-major matrices read as column-major are their transposes, so, with
 * rows the batch, a layer of `in` inputs and `out` outputs (W in x out):
 *   forward   Y^T (out x rows) = W^T X^T:   m out, n rows, k in;
 *             epilogue BIAS, RELU_BIAS or RELU_AUX_BIAS (the mask, one bit
 *             per element, columns of ceil(out / 128) x 128 bits)
 *   dX        dX^T (in x rows) = W dY^T:     m in, n rows, k out, A = W^T
 *             stored (transposed); epilogue DRELU_BGRAD with the previous
 *             layer's mask: dX masked, its row sums (bias length m) the
 *             previous layer's db
 *   dW        dW^T (out x in) = dY^T X:      m out, n in, k rows, B = X^T
 *             stored (transposed); epilogue BGRADA: db = dY's sums over k
 * A product cuBLASLt has no algorithm for (its heuristic returns none for
 * the shape, alignment, precision or epilogue) is declined (*taken = 0)
 * and the model composes it as before. Plans (descriptors, layouts and
 * the heuristic's algorithm) are cached per shape, precision and pointer
 * alignment: the algorithm must suit the addresses of every call.
 * GSGD_EPILOGUES=0 in the environment declines them all (the bench
 * compares the two paths).
 */
#include <stdlib.h>
#include <string.h>

#include "backend/cuda.h"
#include "core/error.h"

typedef enum { LT_FORWARD, LT_DX, LT_DW } lt_kind;

/* What a plan is for: everything its algorithm depends on. */
typedef struct {
    int kind, prec, epilogue;
    size_t rows, in, out;
    unsigned align; /* the least alignment of the call's pointers, bytes */
} lt_key;

struct gsgdi_lt_plan {
    lt_key key;
    int used;
    int ok; /* an algorithm was found; 0: declined */
    cublasLtMatmulDesc_t desc;
    cublasLtMatrixLayout_t a, b, d;
    cublasLtMatmulAlgo_t algo;
};

#define LT_PLANS 64

/* The ReLU mask's leading dimension for m rows (bits): cuBLASLt asks for
 * a multiple of 128. */
static size_t mask_ld(size_t m) { return (m + 127) / 128 * 128; }

size_t gsgdi_cuda_relu_mask_row_bytes(size_t cols) { return mask_ld(cols) / 8; }

/* The largest power of two dividing every address, at most 256. */
static unsigned alignment(const void *const *p, int n) {
    uintptr_t bits = 256;
    for (int i = 0; i < n; i++)
        if (p[i]) bits |= (uintptr_t)p[i];
    return (unsigned)(bits & (~bits + 1));
}

static void plan_free(gsgdi_lt_plan *p) {
    if (p->desc) cublasLtMatmulDescDestroy(p->desc);
    if (p->a) cublasLtMatrixLayoutDestroy(p->a);
    if (p->b) cublasLtMatrixLayoutDestroy(p->b);
    if (p->d) cublasLtMatrixLayoutDestroy(p->d);
    memset(p, 0, sizeof *p);
}

gsgd_status gsgdi_cuda_lt_open(gsgd_context *ctx, gsgdi_cuda_state *s) {
    GSGD_CUBLAS_CHECK(ctx, cublasLtCreate(&s->lt));
    s->lt_plans = calloc(LT_PLANS, sizeof *s->lt_plans);
    GSGD_RETURN_ERROR_IF(!s->lt_plans, ctx, GSGD_STATUS_OUT_OF_MEMORY, "cuda: out of memory");
    s->epilogues = gsgdi_env_switch("GSGD_EPILOGUES", 1);
    return GSGD_STATUS_OK;
}

void gsgdi_cuda_lt_close(gsgdi_cuda_state *s) {
    if (s->lt_plans)
        for (int i = 0; i < LT_PLANS; i++) plan_free(&s->lt_plans[i]);
    free(s->lt_plans);
    s->lt_plans = NULL;
    if (s->lt) cublasLtDestroy(s->lt);
    s->lt = NULL;
}

#define SET_DESC(ctx, desc, attr, value)                                                           \
    GSGD_CUBLAS_CHECK(ctx, cublasLtMatmulDescSetAttribute(desc, attr, &(value), sizeof(value)))

/* The descriptor, layouts and the heuristic's algorithm for key; bias and
 * aux are the call's (their alignment counts). p->ok = 0 when cuBLASLt has
 * no algorithm for it. */
static gsgd_status plan_make(gsgd_context *ctx, gsgdi_cuda_state *s, const lt_key *k,
                             const void *bias, const void *aux, gsgdi_lt_plan *p) {
    p->key = *k;
    p->used = 1;
    const size_t rows = k->rows, in = k->in, out = k->out;
    const size_t m = k->kind == LT_DX ? in : out; /* D's rows: the bias's and mask's length */
    const cublasOperation_t ta = k->kind == LT_DX ? CUBLAS_OP_T : CUBLAS_OP_N,
                            tb = k->kind == LT_DW ? CUBLAS_OP_T : CUBLAS_OP_N;
    GSGD_CUBLAS_CHECK(
        ctx, cublasLtMatmulDescCreate(&p->desc, gsgdi_cuda_compute_type((gsgd_precision)k->prec),
                                      CUDA_R_32F));
    SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_TRANSA, ta);
    SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_TRANSB, tb);
    const uint32_t epi = (uint32_t)k->epilogue;
    SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE, epi);
    SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
    if (aux) {
        const int64_t ld = (int64_t)mask_ld(m);
        SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, aux);
        SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_LD, ld);
    }
    /* The stored matrices, column-major: W^T is out x in (ld out), X^T in
     * x rows (ld in), dY^T out x rows (ld out). */
    switch (k->kind) {
    case LT_FORWARD: /* A = W^T, B = X^T, D = Y^T */
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->a, CUDA_R_32F, out, in, (int64_t)out));
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->b, CUDA_R_32F, in, rows, (int64_t)in));
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->d, CUDA_R_32F, out, rows, (int64_t)out));
        break;
    case LT_DX: /* A = (W^T)^T, B = dY^T, D = dX^T */
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->a, CUDA_R_32F, out, in, (int64_t)out));
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->b, CUDA_R_32F, out, rows, (int64_t)out));
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->d, CUDA_R_32F, in, rows, (int64_t)in));
        break;
    default: /* LT_DW: A = dY^T, B = (X^T)^T, D = dW^T */
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->a, CUDA_R_32F, out, rows, (int64_t)out));
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->b, CUDA_R_32F, in, rows, (int64_t)in));
        GSGD_CUBLAS_CHECK(ctx,
                          cublasLtMatrixLayoutCreate(&p->d, CUDA_R_32F, out, in, (int64_t)out));
        break;
    }
    cublasLtMatmulPreference_t pref = NULL;
    GSGD_CUBLAS_CHECK(ctx, cublasLtMatmulPreferenceCreate(&pref));
    const uint64_t ws = GSGD_CUDA_BLAS_WORKSPACE;
    const uint32_t al = k->align;
    cublasStatus_t st = cublasLtMatmulPreferenceSetAttribute(
        pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &ws, sizeof ws);
    const cublasLtMatmulPreferenceAttributes_t aligns[] = {
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
        CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES};
    for (int i = 0; i < 4 && st == CUBLAS_STATUS_SUCCESS; i++)
        st = cublasLtMatmulPreferenceSetAttribute(pref, aligns[i], &al, sizeof al);
    cublasLtMatmulHeuristicResult_t r;
    int found = 0;
    if (st == CUBLAS_STATUS_SUCCESS)
        st = cublasLtMatmulAlgoGetHeuristic(s->lt, p->desc, p->a, p->b, p->d, p->d, pref, 1, &r,
                                            &found);
    cublasLtMatmulPreferenceDestroy(pref);
    /* NOT_SUPPORTED (or no result) is an answer: compose instead. */
    p->ok = st == CUBLAS_STATUS_SUCCESS && found > 0 && r.state == CUBLAS_STATUS_SUCCESS;
    if (p->ok) p->algo = r.algo;
    return GSGD_STATUS_OK;
}

/* The plan of key, made at its first use; least recently made replaced. */
static gsgd_status plan_for(gsgd_context *ctx, gsgdi_cuda_state *s, const lt_key *k,
                            const void *bias, const void *aux, gsgdi_lt_plan **out) {
    for (int i = 0; i < LT_PLANS; i++)
        if (s->lt_plans[i].used && memcmp(&s->lt_plans[i].key, k, sizeof *k) == 0) {
            *out = &s->lt_plans[i];
            return GSGD_STATUS_OK;
        }
    gsgdi_lt_plan *p = &s->lt_plans[s->lt_next++ % LT_PLANS];
    plan_free(p);
    gsgd_status st = plan_make(ctx, s, k, bias, aux, p);
    if (st != GSGD_STATUS_OK) {
        plan_free(p);
        return st;
    }
    *out = p;
    return GSGD_STATUS_OK;
}

/* A key with its padding zeroed: keys are compared with memcmp. */
static lt_key make_key(lt_kind kind, gsgd_precision prec, int epilogue, size_t rows, size_t in,
                       size_t out) {
    lt_key k;
    memset(&k, 0, sizeof k);
    k.kind = (int)kind;
    k.prec = (int)prec;
    k.epilogue = epilogue;
    k.rows = rows;
    k.in = in;
    k.out = out;
    return k;
}

/* One product D = op(A) op(B) with key's epilogue, bias and aux; *taken 0
 * where there is no plan. */
static gsgd_status lt_run(gsgd_context *ctx, lt_key *k, const float *A, const float *B, float *D,
                          const void *bias, const void *aux, int *taken) {
    gsgdi_cuda_state *s = gsgdi_cuda_state_of(ctx);
    *taken = 0;
    if (!s->epilogues || !s->lt || k->rows == 0 || k->in == 0 || k->out == 0 ||
        k->rows > INT32_MAX || k->in > INT32_MAX || k->out > INT32_MAX)
        return GSGD_STATUS_OK;
    const void *ptrs[] = {A, B, D, bias, aux};
    k->align = alignment(ptrs, 5);
    gsgdi_lt_plan *p;
    GSGD_FORWARD_IF_ERROR(plan_for(ctx, s, k, bias, aux, &p));
    if (!p->ok) return GSGD_STATUS_OK;
    SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_BIAS_POINTER, bias);
    if (aux) SET_DESC(ctx, p->desc, CUBLASLT_MATMUL_DESC_EPILOGUE_AUX_POINTER, aux);
    const float alpha = 1.0f, beta = 0.0f;
    GSGD_CUBLAS_CHECK(ctx, cublasLtMatmul(s->lt, p->desc, &alpha, A, p->a, B, p->b, &beta, D, p->d,
                                          D, p->d, &p->algo, s->blas_workspace,
                                          GSGD_CUDA_BLAS_WORKSPACE, (cudaStream_t)ctx->stream));
    *taken = 1;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_cuda_dense_forward(gsgd_context *ctx, gsgd_precision prec, size_t rows, size_t in,
                                     size_t out, const float *X, const float *W, const float *b,
                                     int relu, float *Y, void *mask, int *taken) {
    const int epi = !relu  ? CUBLASLT_EPILOGUE_BIAS
                    : mask ? CUBLASLT_EPILOGUE_RELU_AUX_BIAS
                           : CUBLASLT_EPILOGUE_RELU_BIAS;
    lt_key k = make_key(LT_FORWARD, prec, epi, rows, in, out);
    return lt_run(ctx, &k, W, X, Y, b, relu ? mask : NULL, taken);
}

gsgd_status gsgdi_cuda_dense_backward_data(gsgd_context *ctx, gsgd_precision prec, size_t rows,
                                           size_t in, size_t out, const float *dY, const float *W,
                                           const void *mask, float *dX, float *db, int *taken) {
    lt_key k = make_key(LT_DX, prec, CUBLASLT_EPILOGUE_DRELU_BGRAD, rows, in, out);
    return lt_run(ctx, &k, W, dY, dX, db, mask, taken);
}

gsgd_status gsgdi_cuda_dense_backward_weights(gsgd_context *ctx, gsgd_precision prec, size_t rows,
                                              size_t in, size_t out, const float *X,
                                              const float *dY, float *dW, float *db, int *taken) {
    lt_key k = make_key(LT_DW, prec, CUBLASLT_EPILOGUE_BGRADA, rows, in, out);
    return lt_run(ctx, &k, dY, X, dW, db, NULL, taken);
}
