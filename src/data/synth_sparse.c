/* Sparse synthetic data, `synth-sparse:N,D,K,NNZ[:seed=S]`: rows like a
 * TF-IDF matrix of text, learnable by a linear model, of any width with
 * no files. Features are drawn from a power law (Zipf's law: the feature
 * of rank r about 1/r as often, as words), counted, weighted by a rarity
 * factor (an idf) and each row scaled to unit norm; a row holds about NNZ
 * distinct features (NNZ/2 to 3 NNZ/2). Labels come from a random linear
 * teacher whose weights are hashed from (seed, feature, class), so no
 * D x K table is ever held: argmax_k x . w_k for K >= 2, x . w + 0.1 N(0, 1)
 * for K = 1 (regression). The first floor(0.8 N) rows are the training
 * part. Deterministic for a seed. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "core/memory.h"
#include "core/rng.h"
#include "data/loaders.h"

/* A standard normal from two hashed uniforms (Box-Muller). */
static double hashed_normal(uint64_t key) {
    const uint64_t a = gsgdi_mix64(key), b = gsgdi_mix64(key ^ 0xda942042e4dd58b5ull);
    const double u1 = 1.0 - (double)(a >> 11) * (1.0 / 9007199254740992.0);
    const double u2 = (double)(b >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

static double teacher_w(uint64_t seed, size_t j, int k) {
    return hashed_normal(gsgdi_mix64(seed ^ 0x7465616368ull) ^ ((uint64_t)j << 16 | (uint64_t)k));
}

static int cmp_i32(const void *a, const void *b) {
    const int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* One row into cols/vals (at most cap entries), its length returned. */
static size_t make_row(gsgdi_rng *r, size_t D, size_t nnz, int32_t *cols, float *vals, size_t cap) {
    size_t len = (size_t)floor((double)nnz * (0.5 + gsgdi_rng_uniform(r)) + 0.5);
    if (len < 1) len = 1;
    if (len > cap) len = cap;
    const double logd = log((double)D + 1.0);
    for (size_t i = 0; i < len; i++) /* rank in [0, D): density ~ 1/(rank + 1) */
        cols[i] = (int32_t)(floor(exp(gsgdi_rng_uniform(r) * logd)) - 1.0);
    qsort(cols, len, sizeof *cols, cmp_i32);
    /* repeats become counts; value (1 + log count) x idf, then unit norm */
    size_t m = 0;
    double norm = 0.0;
    for (size_t i = 0; i < len;) {
        size_t c = 1;
        while (i + c < len && cols[i + c] == cols[i]) c++;
        const double idf = 1.0 + log(1.0 + (double)cols[i]);
        const double v = (1.0 + log((double)c)) * idf;
        cols[m] = cols[i];
        vals[m++] = (float)v;
        norm += v * v;
        i += c;
    }
    const double inv = 1.0 / sqrt(norm);
    for (size_t i = 0; i < m; i++) vals[i] = (float)(vals[i] * inv);
    return m;
}

static gsgd_status alloc_part(gsgd_context *ctx, size_t n, size_t cap, gsgdi_host_data *h) {
    memset(h, 0, sizeof *h);
    void *a = NULL, *b = NULL, *c = NULL, *d = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (n + 1) * sizeof(int64_t), &a), fail);
    h->indptr = a;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, cap * sizeof(int32_t), &b), fail);
    h->indices = b;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, cap * sizeof(float), &c), fail);
    h->values = c;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, n * sizeof(float), &d), fail);
    h->y = d;
    h->n = n;
    return GSGD_STATUS_OK;
fail:
    gsgdi_host_data_free(h);
    return st;
}

gsgd_status gsgdi_synth_sparse(gsgd_context *ctx, size_t n, size_t D, int k, size_t nnz,
                               uint64_t seed, gsgdi_host_data *train, gsgdi_host_data *test) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    GSGD_RETURN_ERROR_IF(n < 2 || D < 1 || D > INT32_MAX || k < 1 || k > GSGD_MAX_CLASSES ||
                             nnz < 1 || nnz > D,
                         ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "synth-sparse: N = %zu, D = %zu, K = %d, NNZ = %zu: need N >= 2, "
                         "1 <= D < 2^31, K in [1, 65536], 1 <= NNZ <= D",
                         n, D, k, nnz);
    const size_t row_cap = (3 * nnz + 1) / 2 + 1;
    size_t total;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(n, row_cap, &total) || (uint64_t)total > GSGD_MAX_ELEMENTS,
                         ctx, GSGD_STATUS_TOO_LARGE,
                         "synth-sparse: %zu rows of up to %zu nonzeros exceed 2^32", n, row_cap);
    /* Labelling costs a multiply-add per nonzero and class (the teacher's
     * scores), as synth's N x D x K: the same bound. */
    size_t work;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(total, (size_t)k, &work) ||
                             (uint64_t)work > GSGD_SYNTH_MAX_WORK,
                         ctx, GSGD_STATUS_TOO_LARGE,
                         "synth-sparse: %zu rows of up to %zu nonzeros x %d classes = %.3g "
                         "multiply-adds to label the samples, above the limit of 2^34 = %.3g (tens "
                         "of seconds); use fewer samples, nonzeros or classes",
                         n, row_cap, k, (double)total * (double)k, (double)GSGD_SYNTH_MAX_WORK);
    size_t n_train = (size_t)(0.8 * (double)n);
    if (n_train < 1) n_train = 1;
    if (n_train > n - 1) n_train = n - 1;
    gsgdi_host_data *parts[2] = {train, test};
    const size_t sizes[2] = {n_train, n - n_train};
    gsgd_status st = GSGD_STATUS_OK;
    for (int p = 0; p < 2 && st == GSGD_STATUS_OK; p++)
        st = alloc_part(ctx, sizes[p], sizes[p] * row_cap, parts[p]);
    double *score = NULL;
    if (st == GSGD_STATUS_OK)
        st = gsgdi_host_alloc(ctx, (size_t)k * sizeof(double), (void **)&score);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(train);
        gsgdi_host_data_free(test);
        return st;
    }
    gsgdi_rng r = {gsgdi_mix64(seed ^ 0x73706172736eull /* "sparsn" */)};
    for (int p = 0; p < 2; p++) {
        gsgdi_host_data *h = parts[p];
        h->d = D;
        h->n_classes = k >= 2 ? k : 0;
        h->indptr[0] = 0;
        for (size_t i = 0; i < h->n; i++) {
            int32_t *cols = h->indices + h->indptr[i];
            float *vals = h->values + h->indptr[i];
            const size_t m = make_row(&r, D, nnz, cols, vals, row_cap);
            h->indptr[i + 1] = h->indptr[i] + (int64_t)m;
            for (int c = 0; c < k; c++) score[c] = 0.0;
            for (size_t q = 0; q < m; q++)
                for (int c = 0; c < k; c++)
                    score[c] += (double)vals[q] * teacher_w(seed, (size_t)cols[q], c);
            int best = 0;
            for (int c = 1; c < k; c++)
                if (score[c] > score[best]) best = c;
            h->y[i] =
                k == 1 ? (float)(score[0] + 0.1 * hashed_normal(gsgdi_rng_next(&r))) : (float)best;
        }
        h->nnz = (size_t)h->indptr[h->n];
    }
    free(score);
    return GSGD_STATUS_OK;
}
