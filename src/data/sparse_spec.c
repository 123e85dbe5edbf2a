/* The specs of sparse data in gsgd_dataset_load: synth-sparse, svmlight
 * (explicit, or a path ending in .svm, .svmlight or .libsvm, each maybe
 * .gz) and npz-csr. The plain-path detection is this branch's minimal
 * one; the data-in branch's format detection takes it over when both
 * land (it must then route svmlight to gsgdi_csr_host, sparse). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/loaders.h"

#define PATH_LEN 4096

static int starts_with(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

static int ends_with(const char *s, const char *suffix) {
    const size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* A path svmlight by its name. */
static int svmlight_name(const char *path) {
    static const char *ext[] = {".svm", ".svmlight", ".libsvm"};
    for (int i = 0; i < 3; i++) {
        char gz[32];
        snprintf(gz, sizeof gz, "%s.gz", ext[i]);
        if (ends_with(path, ext[i]) || ends_with(path, gz)) return 1;
    }
    return 0;
}

static int parse_size(const char *s, size_t *v) {
    if (*s < '0' || *s > '9') return 0;
    char *e;
    errno = 0;
    const unsigned long long x = strtoull(s, &e, 10);
    if (errno || *e) return 0;
    *v = (size_t)x;
    return 1;
}

/* Uploads the host parts (freeing them whatever happens); test may be
 * NULL or empty. */
static gsgd_status upload(gsgd_context *ctx, gsgdi_csr_host *tr, gsgdi_csr_host *te,
                          gsgd_dataset **train, gsgd_dataset **test) {
    gsgd_status st = gsgdi_dataset_from_csr_host(ctx, tr, train);
    if (st == GSGD_STATUS_OK && test && te && te->n) {
        /* both parts of one source say the same width and classes */
        if (te->d < tr->d) te->d = tr->d;
        st = gsgdi_dataset_from_csr_host(ctx, te, test);
        if (st != GSGD_STATUS_OK) {
            gsgd_dataset_free(*train);
            *train = NULL;
        }
    }
    gsgdi_csr_host_free(tr);
    if (te) gsgdi_csr_host_free(te);
    return st;
}

/* "PATH[:zero-based|one-based][:features=N]", options peeled off the end
 * (a path may hold ':'). */
static gsgd_status load_svmlight(gsgd_context *ctx, const char *spec, gsgdi_csr_host *h) {
    char path[PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(spec) >= sizeof path, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "svmlight: spec too long");
    strcpy(path, spec);
    int base = -1;
    size_t features = 0;
    char *colon;
    while ((colon = strrchr(path, ':')) != NULL) {
        const char *opt = colon + 1;
        if (strcmp(opt, "zero-based") == 0)
            base = 0;
        else if (strcmp(opt, "one-based") == 0)
            base = 1;
        else if (starts_with(opt, "features="))
            GSGD_RETURN_ERROR_IF(!parse_size(opt + 9, &features) || features == 0 ||
                                     features > INT32_MAX,
                                 ctx, GSGD_STATUS_INVALID_ARGUMENT,
                                 "svmlight: '%s': features= takes a count in [1, 2^31)", opt);
        else
            break;
        *colon = '\0';
    }
    GSGD_RETURN_ERROR_IF(!path[0], ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "svmlight: no file in spec (svmlight:PATH[:zero-based|one-based]"
                         "[:features=N])");
    return gsgdi_load_svmlight_csr(ctx, path, base, features, h);
}

/* "N,D,K,NNZ[:seed=S]" */
static gsgd_status load_synth(gsgd_context *ctx, const char *spec, gsgdi_csr_host *tr,
                              gsgdi_csr_host *te) {
    unsigned long long v[4], seed = 0;
    char tail[64] = "";
    const int got = sscanf(spec, "%llu,%llu,%llu,%llu%63s", &v[0], &v[1], &v[2], &v[3], tail);
    GSGD_RETURN_ERROR_IF(got < 4 || strchr(spec, '-'), ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "synth-sparse: '%s' is not N,D,K,NNZ (four non-negative integers, e.g. "
                         "synth-sparse:10000,100000,20,50)",
                         spec);
    if (got == 5) {
        char extra;
        GSGD_RETURN_ERROR_IF(sscanf(tail, ":seed=%llu%c", &seed, &extra) != 1, ctx,
                             GSGD_STATUS_INVALID_ARGUMENT,
                             "synth-sparse: option '%s' not understood (expected :seed=S)", tail);
    }
    GSGD_RETURN_ERROR_IF(v[2] > GSGD_MAX_CLASSES || v[1] > INT32_MAX, ctx,
                         GSGD_STATUS_INVALID_ARGUMENT,
                         "synth-sparse: K = %llu (at most %d) or D = %llu (below 2^31) too large",
                         v[2], GSGD_MAX_CLASSES, v[1]);
    return gsgdi_synth_sparse(ctx, (size_t)v[0], (size_t)v[1], (int)v[2], (size_t)v[3], seed, tr,
                              te);
}

/* "MATRIX.npz,LABELS" */
static gsgd_status load_npz(gsgd_context *ctx, const char *spec, gsgdi_csr_host *h) {
    const char *comma = strrchr(spec, ',');
    GSGD_RETURN_ERROR_IF(!comma || comma == spec || !comma[1], ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "npz-csr: '%s' is not MATRIX.npz,LABELS", spec);
    char path[PATH_LEN];
    const size_t len = (size_t)(comma - spec);
    GSGD_RETURN_ERROR_IF(len >= sizeof path, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "npz-csr: path too long");
    memcpy(path, spec, len);
    path[len] = '\0';
    return gsgdi_load_npz_csr(ctx, path, comma + 1, h);
}

gsgd_status gsgdi_load_sparse_spec(gsgd_context *ctx, const char *spec, gsgd_dataset **train,
                                   gsgd_dataset **test, int *handled) {
    gsgdi_csr_host tr = {0}, te = {0};
    gsgd_status st;
    *handled = 1;
    if (starts_with(spec, "synth-sparse:")) {
        st = load_synth(ctx, spec + 13, &tr, &te);
    } else if (starts_with(spec, "svmlight:")) {
        st = load_svmlight(ctx, spec + 9, &tr);
    } else if (starts_with(spec, "npz-csr:")) {
        st = load_npz(ctx, spec + 8, &tr);
    } else {
        /* a plain path, maybe with svmlight options after it */
        char path[PATH_LEN];
        snprintf(path, sizeof path, "%s", spec);
        char *colon;
        while ((colon = strrchr(path, ':')) != NULL &&
               (strcmp(colon, ":zero-based") == 0 || strcmp(colon, ":one-based") == 0 ||
                starts_with(colon, ":features=")))
            *colon = '\0';
        if (!svmlight_name(path)) {
            *handled = 0;
            return GSGD_STATUS_OK;
        }
        st = load_svmlight(ctx, spec, &tr);
    }
    if (st != GSGD_STATUS_OK) {
        gsgdi_csr_host_free(&tr);
        gsgdi_csr_host_free(&te);
        return st;
    }
    return upload(ctx, &tr, &te, train, test);
}
