/* Synthetic data from a random linear teacher: a problem a linear model can
 * learn to near-perfect accuracy, of any size, with no files. Used by tests,
 * benchmarks and `synth:N,D,K` specs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "core/rng.h"
#include "core/memory.h"
#include "core/error.h"

/* Standard normal draws by Box-Muller, caching the second value of each
 * pair so no randomness is wasted. */
typedef struct {
    gsgdi_rng rng;
    int has_spare;
    double spare;
} normal_gen;

static double normal(normal_gen *g) {
    if (g->has_spare) {
        g->has_spare = 0;
        return g->spare;
    }
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - gsgdi_rng_uniform(&g->rng);
    double u2 = gsgdi_rng_uniform(&g->rng);
    double r = sqrt(-2.0 * log(u1)), t = 6.283185307179586 * u2;
    g->spare = r * sin(t);
    g->has_spare = 1;
    return r * cos(t);
}

/* The teacher's verdict on one sample: the argmax of x W over k classes
 * (ties go to the lowest class), or the noisy linear target for k == 1. */
static float teach(const float *x, const double *W, size_t d, int k, normal_gen *g,
                   double *scores) {
    for (int c = 0; c < k; c++) scores[c] = 0;
    for (size_t j = 0; j < d; j++)
        for (int c = 0; c < k; c++) scores[c] += (double)x[j] * W[j * (size_t)k + (size_t)c];
    if (k == 1) return (float)(scores[0] + 0.1 * normal(g));
    int best = 0;
    for (int c = 1; c < k; c++)
        if (scores[c] > scores[best]) best = c;
    return (float)best;
}

static gsgd_status alloc_part(gsgd_context *ctx, size_t n, size_t d, int n_classes,
                              gsgdi_host_data *h) {
    void *X = NULL, *y = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, n * d * sizeof(float), &X));
    gsgd_status st = gsgdi_host_alloc(ctx, n * sizeof(float), &y);
    if (st != GSGD_STATUS_OK) {
        free(X);
        return st;
    }
    h->X = X;
    h->y = y;
    h->n = n;
    h->d = d;
    h->n_classes = n_classes;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_synth(gsgd_context *ctx, size_t n, size_t d, int k, uint64_t seed,
                        gsgdi_host_data *train, gsgdi_host_data *test) {
    /* ctx may be NULL (gsgd_host_data_read): errors go to the thread's. */
    GSGD_RETURN_ERROR_IF(!train || !test, ctx, GSGD_STATUS_INVALID_ARGUMENT, "synth: NULL output");
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    GSGD_RETURN_ERROR_IF(n < 2, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "synth: N = %zu, need at least 2 samples (one train, one test)", n);
    GSGD_RETURN_ERROR_IF(d < 1, ctx, GSGD_STATUS_INVALID_ARGUMENT, "synth: D = 0, need a feature");
    GSGD_RETURN_ERROR_IF(k < 1 || k > GSGD_MAX_CLASSES, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "synth: K = %d outside [1, %d] (1 = regression)", k, GSGD_MAX_CLASSES);
    size_t nd, dk;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(n, d, &nd) || (uint64_t)nd > GSGD_MAX_ELEMENTS ||
                             !gsgdi_mul_ok(d, (size_t)k, &dk) || (uint64_t)dk > GSGD_MAX_ELEMENTS,
                         ctx, GSGD_STATUS_TOO_LARGE,
                         "synth: N x D = %zu x %zu or D x K = %zu x %d exceeds 2^32 values", n, d,
                         d, k);
    /* Labelling costs N x D x K multiply-adds (the teacher's scores), which
     * the limits above let reach 2^48: days. */
    size_t ndk;
    GSGD_RETURN_ERROR_IF(!gsgdi_mul_ok(nd, (size_t)k, &ndk) || (uint64_t)ndk > GSGD_SYNTH_MAX_WORK,
                         ctx, GSGD_STATUS_TOO_LARGE,
                         "synth: N x D x K = %zu x %zu x %d = %.3g multiply-adds to label the "
                         "samples, above the limit of 2^34 = %.3g (tens of seconds); use fewer "
                         "samples, features or classes",
                         n, d, k, (double)n * (double)d * (double)k, (double)GSGD_SYNTH_MAX_WORK);

    size_t n_train = n * 4 / 5 >= 1 ? n * 4 / 5 : 1; /* n * 4 cannot overflow: n <= 2^32 */
    if (n_train > n - 1) n_train = n - 1;
    const int n_classes = k == 1 ? 0 : k;
    double *W = NULL, *scores = NULL;
    void *p = NULL;
    gsgd_status st;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, dk * sizeof(double), &p), fail);
    W = p;
    GSGD_CHECK_GOTO(st, gsgdi_host_alloc(ctx, (size_t)k * sizeof(double), &p), fail);
    scores = p;
    GSGD_CHECK_GOTO(st, alloc_part(ctx, n_train, d, n_classes, train), fail);
    GSGD_CHECK_GOTO(st, alloc_part(ctx, n - n_train, d, n_classes, test), fail);

    /* The seed is mixed so that nearby seeds (0, 1, 2...) give unrelated
     * streams. Teacher first, then the samples in order. */
    normal_gen g = {.rng = {gsgdi_mix64(seed ^ 0x73796e7468ull /* "synth" */)}};
    const double w_scale = 1.0 / sqrt((double)d); /* keeps x.w of unit variance */
    for (size_t i = 0; i < dk; i++) W[i] = normal(&g) * w_scale;
    for (size_t i = 0; i < n; i++) {
        gsgdi_host_data *h = i < n_train ? train : test;
        size_t r = i < n_train ? i : i - n_train;
        float *x = h->X + r * d;
        for (size_t j = 0; j < d; j++) x[j] = (float)normal(&g);
        h->y[r] = teach(x, W, d, k, &g, scores);
    }
    free(W);
    free(scores);
    return GSGD_STATUS_OK;
fail:
    free(W);
    free(scores);
    gsgdi_host_data_free(train);
    gsgdi_host_data_free(test);
    return st;
}
