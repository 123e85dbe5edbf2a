/*
 * CPU backend: the numerical reference for every other backend.
 * GEMMs through CBLAS (OpenBLAS; cpu_gemm.c, with the reduced precisions),
 * the rest as plain loops, parallel with OpenMP where the loop is long
 * enough to pay for it. Reductions accumulate
 * in double so the reference is more accurate than the kernels it checks.
 * The update and the norms it takes are in cpu_update.c, the backend's
 * lifetime, memory size, description and clock in cpu_context.c.
 */
#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/cpu.h"
#include "core/rng.h"
#include "core/error.h"

static gsgd_status cpu_alloc(gsgd_context *ctx, size_t bytes, void **p) {
    /* 64-byte alignment: whole cache lines, and 16-byte vector loads. */
    size_t rounded = (bytes + 63) / 64 * 64;
    *p = aligned_alloc(64, rounded);
    GSGD_RETURN_ERROR_IF(!*p, ctx, GSGD_STATUS_OUT_OF_MEMORY, "cpu: allocation of %zu bytes failed",
                         bytes);
    return GSGD_STATUS_OK;
}

static void cpu_release(gsgd_context *ctx, void *p) {
    (void)ctx;
    free(p);
}

static gsgd_status cpu_copy(gsgd_context *ctx, void *dst, const void *src, size_t bytes) {
    (void)ctx;
    if (bytes) memcpy(dst, src, bytes);
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_zero(gsgd_context *ctx, void *p, size_t bytes) {
    (void)ctx;
    if (bytes) memset(p, 0, bytes);
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_sync(gsgd_context *ctx) {
    (void)ctx;
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_bias_act(gsgd_context *ctx, float *Y, const float *b, size_t rows,
                                size_t cols, int relu) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (rows * cols >= GSGD_CPU_PAR_MIN)
    for (size_t r = 0; r < rows; r++) {
        float *y = Y + r * cols;
        for (size_t c = 0; c < cols; c++) {
            float v = y[c] + b[c];
            y[c] = (relu && v < 0.0f) ? 0.0f : v;
        }
    }
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_relu_backward(gsgd_context *ctx, float *dY, const float *A, size_t n) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (n >= GSGD_CPU_PAR_MIN)
    for (size_t i = 0; i < n; i++)
        if (!(A[i] > 0.0f)) dY[i] = 0.0f;
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_col_sum(gsgd_context *ctx, const float *dY, size_t rows, size_t cols,
                               float *db) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (rows * cols >= GSGD_CPU_PAR_MIN)
    for (size_t c = 0; c < cols; c++) {
        double s = 0.0;
        for (size_t r = 0; r < rows; r++) s += dY[r * cols + c];
        db[c] = (float)s;
    }
    return GSGD_STATUS_OK;
}

/* One row of the gather, standardised when mean is not NULL. The byte
 * conversion and the subtract-then-multiply are the kernels' expressions
 * (kernels/gather.cu), so results are bitwise the same on every backend
 * and for either storage of the same features. */
static void gather_row_f32(const float *src, size_t d, const float *mean, const float *inv_std,
                           float *dst) {
    if (mean) {
        for (size_t j = 0; j < d; j++) dst[j] = (src[j] - mean[j]) * inv_std[j];
    } else {
        memcpy(dst, src, d * sizeof *dst);
    }
}

static void gather_row_u8(const uint8_t *src, size_t d, const float *mean, const float *inv_std,
                          float *dst) {
    if (mean) {
        for (size_t j = 0; j < d; j++) dst[j] = (GSGD_U8_FEATURE(src[j]) - mean[j]) * inv_std[j];
    } else {
        for (size_t j = 0; j < d; j++) dst[j] = GSGD_U8_FEATURE(src[j]);
    }
}

static gsgd_status cpu_gather(gsgd_context *ctx, const void *X, gsgdi_xtype xt, const float *y,
                              size_t d, const uint32_t *perm, size_t start, size_t B,
                              const float *mean, const float *inv_std, float *Xb, float *yb) {
    (void)ctx;
#pragma omp parallel for schedule(static) if (B * d >= GSGD_CPU_PAR_MIN)
    for (size_t i = 0; i < B; i++) {
        size_t row = perm ? perm[start + i] : start + i;
        float *dst = Xb + i * d;
        if (xt == GSGD_XTYPE_U8)
            gather_row_u8((const uint8_t *)X + row * d, d, mean, inv_std, dst);
        else
            gather_row_f32((const float *)X + row * d, d, mean, inv_std, dst);
        yb[i] = y[row];
    }
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_copy_2d(gsgd_context *ctx, void *dst, size_t dpitch, const void *src,
                               size_t spitch, size_t width, size_t height) {
    (void)ctx;
    for (size_t r = 0; r < height; r++)
        memcpy((uint8_t *)dst + r * dpitch, (const uint8_t *)src + r * spitch, width);
    return GSGD_STATUS_OK;
}

static size_t argmax(const float *z, size_t K) {
    size_t best = 0;
    for (size_t k = 1; k < K; k++)
        if (z[k] > z[best]) best = k;
    return best;
}

/* Loss of one row; writes its gradient (unscaled) into dz when not NULL and
 * returns the loss. */
static double row_loss(gsgdi_loss kind, const float *z, float yv, size_t K, float *dz) {
    size_t label = (size_t)yv;
    switch (kind) {
    case GSGD_LOSS_SOFTMAX_CE: {
        float m = z[argmax(z, K)];
        double s = 0.0;
        for (size_t k = 0; k < K; k++) s += exp((double)(z[k] - m));
        if (dz)
            for (size_t k = 0; k < K; k++)
                dz[k] = (float)(exp((double)(z[k] - m)) / s) - (k == label ? 1.0f : 0.0f);
        return log(s) + m - z[label];
    }
    case GSGD_LOSS_LOGISTIC: {
        double zz = z[0], t = yv;
        if (dz) dz[0] = (float)(1.0 / (1.0 + exp(-zz)) - t);
        return fmax(zz, 0.0) - t * zz + log1p(exp(-fabs(zz)));
    }
    case GSGD_LOSS_SQUARED: {
        double l = 0.0;
        for (size_t k = 0; k < K; k++) {
            double t = K == 1 ? yv : (k == label ? 1.0 : 0.0);
            double r = z[k] - t;
            if (dz) dz[k] = (float)r;
            l += 0.5 * r * r;
        }
        return l;
    }
    case GSGD_LOSS_HINGE: {
        double l = 0.0;
        float violations = 0.0f;
        for (size_t k = 0; k < K; k++) {
            if (k == label) continue;
            double margin = (double)z[k] - z[label] + 1.0;
            int active = margin > 0.0;
            if (active) l += margin;
            violations += (float)active;
            if (dz) dz[k] = (float)active;
        }
        if (dz) dz[label] = -violations;
        return l;
    }
    }
    return NAN;
}

static int row_correct(gsgdi_loss kind, const float *z, float yv, size_t K) {
    if (kind == GSGD_LOSS_LOGISTIC) return (z[0] > 0.0f) == (yv > 0.5f);
    return argmax(z, K) == (size_t)yv;
}

static gsgd_status cpu_loss(gsgd_context *ctx, gsgdi_loss kind, const float *Z, const float *y,
                            size_t B, size_t K, int classify, float grad_scale, float *dZ,
                            double *acc) {
    (void)ctx;
    double loss = 0.0, correct = 0.0;
#pragma omp parallel for schedule(static) reduction(+ : loss, correct) if (B * K >= GSGD_CPU_PAR_MIN)
    for (size_t i = 0; i < B; i++) {
        float *dz = dZ ? dZ + i * K : NULL;
        loss += row_loss(kind, Z + i * K, y[i], K, dz);
        if (dz)
            for (size_t k = 0; k < K; k++) dz[k] *= grad_scale;
        if (classify) correct += row_correct(kind, Z + i * K, y[i], K);
    }
    acc[0] += loss;
    acc[1] += correct;
    return GSGD_STATUS_OK;
}

/* The fused one-layer gradient, tile by tile: each tile of FUSED_ROWS rows
 * is gathered, multiplied, scored and multiplied back while it is in the
 * cache, so the batch never goes through memory as one matrix. With
 * several tiles, each thread takes a static share of them into its own
 * partial dW and db (the composed ops run single-threaded inside), summed
 * in thread order: the result depends only on the thread count, and a
 * step opens one parallel region instead of one per op. Measured on 2
 * threads, Fashion-MNIST softmax, gsgd bench samples/s composed -> fused:
 * batch 128 0.46M -> 0.79M, 256 0.59M -> 1.16M, 2048 0.84M -> 1.8M, 60000
 * 0.73M -> 2.1M; 32 and 64 (one tile, the same ops) 0.8-1.0M either way.
 * Tiles of 64 rows beat 32, 128 and 256 from batch 64 up. */
#define FUSED_ROWS 64

/* Floats of one thread's share of the scratch: the tile's rows, targets,
 * logits and their gradients and a bias sum, then its partial dW and db and
 * two doubles (as four floats) for its loss and correct count. */
static size_t fused_tile_floats(size_t d, size_t K) { return FUSED_ROWS * (d + 1 + 2 * K) + K; }
static size_t fused_slot_floats(size_t d, size_t K) {
    return fused_tile_floats(d, K) + d * K + K + 4;
}

static size_t cpu_linear_grad_scratch(gsgd_context *ctx, const void *X, gsgdi_xtype xt, size_t d,
                                      size_t K) {
    (void)ctx, (void)X, (void)xt;
    return (size_t)gsgdi_cpu_threads() * fused_slot_floats(d, K) * sizeof(float);
}

/* Tiles [t0, t1) with the tile buffers at slot: their dW and db written
 * into dW and db (overwritten), their loss and correct count added to
 * acc. */
static gsgd_status fused_tiles(gsgd_context *ctx, const gsgdi_linear_grad_args *a, float *slot,
                               size_t t0, size_t t1, float *dW, float *db, double *acc) {
    const size_t d = a->d, K = a->K;
    float *Xt = slot, *yt = Xt + FUSED_ROWS * d, *Zt = yt + FUSED_ROWS, *dZt = Zt + FUSED_ROWS * K,
          *db_tile = dZt + FUSED_ROWS * K;
    if (t0 == t1) {
        memset(dW, 0, d * K * sizeof *dW);
        memset(db, 0, K * sizeof *db);
    }
    for (size_t tile = t0; tile < t1; tile++) {
        const size_t lo = tile * FUSED_ROWS, t = a->B - lo < FUSED_ROWS ? a->B - lo : FUSED_ROWS;
        const int first = tile == t0;
        GSGD_FORWARD_IF_ERROR(cpu_gather(ctx, a->X, a->xt, a->y, d, a->perm, a->start + lo, t,
                                         a->mean, a->inv_std, Xt, yt));
        GSGD_FORWARD_IF_ERROR(
            gsgdi_cpu_gemm(ctx, a->precision, 0, 0, t, K, d, 1.0f, Xt, d, a->W, K, 0.0f, Zt, K));
        GSGD_FORWARD_IF_ERROR(cpu_bias_act(ctx, Zt, a->b, t, K, 0));
        GSGD_FORWARD_IF_ERROR(
            cpu_loss(ctx, a->kind, Zt, yt, t, K, a->classify, a->grad_scale, dZt, acc));
        GSGD_FORWARD_IF_ERROR(gsgdi_cpu_gemm(ctx, a->precision, 1, 0, d, K, t, 1.0f, Xt, d, dZt, K,
                                             first ? 0.0f : 1.0f, dW, K));
        GSGD_FORWARD_IF_ERROR(cpu_col_sum(ctx, dZt, t, K, first ? db : db_tile));
        if (!first)
            for (size_t k = 0; k < K; k++) db[k] += db_tile[k];
    }
    return GSGD_STATUS_OK;
}

static gsgd_status cpu_linear_grad(gsgd_context *ctx, const gsgdi_linear_grad_args *a) {
    const size_t d = a->d, K = a->K, slot = fused_slot_floats(d, K);
    const size_t tiles = (a->B + FUSED_ROWS - 1) / FUSED_ROWS;
    GSGD_RETURN_ERROR_IF(a->scratch_bytes < slot * sizeof(float), ctx, GSGD_STATUS_INTERNAL,
                         "fused gradient: %zu bytes of scratch, needs %zu", a->scratch_bytes,
                         slot * sizeof(float));
    size_t nt = a->scratch_bytes / (slot * sizeof(float));
    if (nt > (size_t)gsgdi_cpu_threads()) nt = (size_t)gsgdi_cpu_threads();
    if (nt > tiles) nt = tiles;
    float *base = a->scratch;
    if (nt <= 1) {
        /* One share: straight into the outputs, and no region of one
         * thread, inside which OpenBLAS would start its own threads beside
         * the idle OpenMP workers (measured: 30x slower at batch 256 with
         * OMP_WAIT_POLICY=active); the ops parallelise themselves, as
         * composed. */
        return fused_tiles(ctx, a, base, 0, tiles, a->dW, a->db, a->acc);
    }
    const size_t part = fused_tile_floats(d, K); /* a share's dW, db, then loss pair */
    int ok = 1;
#pragma omp parallel for schedule(static, 1) num_threads((int)nt) reduction(&& : ok)
    for (size_t t = 0; t < nt; t++) {
        float *s = base + t * slot;
        double acc[2] = {0.0, 0.0};
        ok = fused_tiles(ctx, a, s, tiles * t / nt, tiles * (t + 1) / nt, s + part,
                         s + part + d * K, acc) == GSGD_STATUS_OK;
        memcpy(s + part + d * K + K, acc, sizeof acc);
    }
    GSGD_RETURN_ERROR_IF(!ok, ctx, GSGD_STATUS_INTERNAL, "fused gradient failed in a worker");
    /* The shares in thread order. */
    for (size_t i = 0; i < d * K + K; i++) {
        double sum = 0.0;
        for (size_t t = 0; t < nt; t++) sum += base[t * slot + part + i];
        if (i < d * K)
            a->dW[i] = (float)sum;
        else
            a->db[i - d * K] = (float)sum;
    }
    for (size_t t = 0; t < nt; t++) {
        double acc[2];
        memcpy(acc, base + t * slot + part + d * K + K, sizeof acc);
        a->acc[0] += acc[0];
        a->acc[1] += acc[1];
    }
    return GSGD_STATUS_OK;
}

/* The stable argsort of the keys (as kernels/permutation.cu's radix sort):
 * four counting passes of 8 bits each, least significant first, over
 * indices that start in increasing order, so equal keys keep their index
 * order. The same permutation as the qsort of (key << 32 | index) it
 * replaced (tests/test_backend_cpu.c checks it), in O(n): the qsort had
 * taken 5% of a sparse CPU epoch (perf, a text set; now 0.7%). */
static gsgd_status cpu_permutation(gsgd_context *ctx, uint64_t seed, uint64_t epoch, size_t n,
                                   uint32_t *perm, void *scratch) {
    GSGD_RETURN_ERROR_IF(n > UINT32_MAX, ctx, GSGD_STATUS_TOO_LARGE,
                         "permutation: %zu samples exceed 2^32", n);
    uint32_t *key = scratch, *other = key + n;
    for (size_t i = 0; i < n; i++) {
        key[i] = gsgdi_perm_key(seed, epoch, i);
        perm[i] = (uint32_t)i;
    }
    uint32_t *from = perm, *to = other;
    for (unsigned shift = 0; shift < 32; shift += 8) {
        size_t count[257] = {0};
        for (size_t i = 0; i < n; i++) count[((key[from[i]] >> shift) & 0xffu) + 1]++;
        for (size_t b = 0; b < 256; b++) count[b + 1] += count[b];
        for (size_t i = 0; i < n; i++) to[count[(key[from[i]] >> shift) & 0xffu]++] = from[i];
        uint32_t *t = from;
        from = to;
        to = t;
    }
    /* An even number of passes: the result is back in perm. */
    return GSGD_STATUS_OK;
}

static size_t cpu_perm_scratch_bytes(size_t n) { return n * sizeof(uint64_t); }

static const gsgdi_backend cpu_backend = {
    .name = "cpu",
    .open = gsgdi_cpu_open,
    .close = gsgdi_cpu_close,
    .set_stream = gsgdi_cpu_set_stream,
    .describe = gsgdi_cpu_describe,
    .machine = gsgdi_cpu_machine,
    .timer_clock = "monotonic clock",
    .timer_create = gsgdi_cpu_timer_create,
    .timer_mark = gsgdi_cpu_timer_mark,
    .timer_seconds = gsgdi_cpu_timer_seconds,
    .timer_free = gsgdi_cpu_timer_free,
    /* Throughput stops growing at about 64 rows (measured on Fashion-MNIST
     * softmax: 0.91M samples/s at 64, 0.76M at 1024, one thread) while
     * larger batches train worse per epoch (test accuracy after 20 epochs
     * 0.845 at 64, 0.824 at 1024), so larger buys nothing here. */
    .default_max_batch = 64,
    .mem_reserve = 0,
    .alloc_granularity = 64, /* cpu_alloc's 64-byte lines */
    .library_workspace = 0,
    .alloc = cpu_alloc,
    .release = cpu_release,
    .upload = cpu_copy,
    .download = cpu_copy,
    .copy = cpu_copy,
    .zero = cpu_zero,
    .sync = cpu_sync,
    .mem_info = gsgdi_cpu_mem_info,
    .gemm = gsgdi_cpu_gemm,
    .bias_act = cpu_bias_act,
    .relu_backward = cpu_relu_backward,
    .col_sum = cpu_col_sum,
    .gather = cpu_gather,
    .copy_2d = cpu_copy_2d,
    .loss = cpu_loss,
    .permutation = cpu_permutation,
    .perm_scratch_bytes = cpu_perm_scratch_bytes,
    .update = gsgdi_cpu_update,
    .sumsq = gsgdi_cpu_sumsq,
    .csr_gather = gsgdi_cpu_csr_gather,
    .csr_compact_scratch = gsgdi_cpu_csr_compact_scratch,
    .csr_compact = gsgdi_cpu_csr_compact,
    .csr_matmul = gsgdi_cpu_csr_matmul,
    .csr_weight_grad = gsgdi_cpu_csr_weight_grad,
    .csr_scatter = gsgdi_cpu_csr_scatter,
    .csr_catch_up = gsgdi_cpu_csr_catch_up,
    .csr_flush = gsgdi_cpu_csr_flush,
    .update_rows = gsgdi_cpu_update_rows,
    .linear_grad_scratch = cpu_linear_grad_scratch,
    .linear_grad = cpu_linear_grad,
    .linear_grad_min_batch = 1, /* measured faster, or alike, from batch 32 */
};

const gsgdi_backend *gsgdi_backend_cpu(void) { return &cpu_backend; }
