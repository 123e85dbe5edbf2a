/* Dataset specs: the one string that names a dataset on the command line and
 * in gsgd_dataset_load ("fashion-mnist", "csv:data.csv:header", ...). A spec's
 * prefix and options win over the loading options and over detection. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/loaders.h"
#include "core/error.h"

#define SPEC_FORMS                                                                                 \
    "fashion-mnist[:DIR][:storage=u8|f32], idx:IMAGES,LABELS[:storage=u8|f32], "                   \
    "csv:PATH[:label=first|last][:header][:target=real], tsv:PATH, "                               \
    "svmlight:PATH[:zero-based|one-based][:features=N][:storage=csr|f32], npy:X[,Y], "             \
    "npz:PATH[,LABELS][:storage=csr|f32], synth:N,D,K[:seed=S], "                                  \
    "synth-sparse:N,D,K,NNZ[:seed=S], or the path of a CSV, TSV, svmlight, .npy, .npz or IDX file"
#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define PATH_LEN 4096

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Finds DIR/NAME.gz or DIR/NAME (Debian ships the .gz files). */
static gsgd_status fmnist_file(gsgd_context *ctx, const char *dir, const char *name, char *out) {
    struct stat sb;
    snprintf(out, PATH_LEN, "%s/%s.gz", dir, name);
    if (stat(out, &sb) == 0) return GSGD_STATUS_OK;
    snprintf(out, PATH_LEN, "%s/%s", dir, name);
    if (stat(out, &sb) == 0) return GSGD_STATUS_OK;
    return GSGD_ERROR(ctx, GSGD_STATUS_IO,
                      "fashion-mnist: %s/%s(.gz) not found; install the data with "
                      "`apt-get install dataset-fashion-mnist` or give its directory as "
                      "fashion-mnist:DIR",
                      dir, name);
}

/* Peels a trailing "storage=u8|f32" (after a ':' or as the whole of spec)
 * off spec in place, so that a path containing ':' still works. Without
 * one, *storage keeps the plan's (the device decides: bytes where memory is
 * scarce and the gather is bandwidth-bound, floats on the CPU). */
static gsgd_status peel_storage(gsgd_context *ctx, const char *what, char *spec,
                                gsgdi_storage *storage) {
    char *colon = strrchr(spec, ':'), *opt = colon ? colon + 1 : spec;
    if (!starts_with(opt, "storage=")) return GSGD_STATUS_OK;
    const char *v = opt + strlen("storage=");
    if (strcmp(v, "u8") == 0)
        *storage = GSGD_STORAGE_U8;
    else if (strcmp(v, "f32") == 0)
        *storage = GSGD_STORAGE_F32;
    else
        return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                          "%s: storage '%s' not understood (u8: images as bytes, a quarter of "
                          "the memory; f32: as floats)",
                          what, v);
    *(colon ? colon : spec) = '\0';
    return GSGD_STATUS_OK;
}

/* Finishes the targets of a part read by a spec's own reader. */
static gsgd_status finish(gsgd_context *ctx, gsgdi_raw_targets *t, const gsgdi_target_rules *r,
                          gsgdi_host_data *h) {
    gsgd_status st = gsgdi_targets_finish(ctx, t && t->n ? t : NULL, r, h);
    gsgdi_raw_targets_free(t);
    if (st != GSGD_STATUS_OK) gsgdi_host_data_free(h);
    return st;
}

/* "fashion-mnist[:DIR][:storage=u8|f32]", spec is what follows the name.
 * The test part's labels go through the training part's map. */
static gsgd_status load_fmnist(gsgd_context *ctx, const char *spec, gsgdi_load_plan *plan,
                               gsgdi_host_data *tr, gsgdi_host_data *te) {
    char dir[PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(spec) >= sizeof dir, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "fashion-mnist: spec too long");
    strcpy(dir, spec);
    GSGD_FORWARD_IF_ERROR(peel_storage(ctx, "fashion-mnist", dir, &plan->storage));
    if (!dir[0]) strcpy(dir, FMNIST_DEFAULT_DIR);
    struct stat sb;
    const char *why = stat(dir, &sb) != 0    ? strerror(errno)
                      : !S_ISDIR(sb.st_mode) ? "not a directory"
                                             : NULL;
    GSGD_RETURN_ERROR_IF(why, ctx, GSGD_STATUS_IO,
                         "fashion-mnist: directory %s: %s; install the data with `apt-get install "
                         "dataset-fashion-mnist` or give its directory as fashion-mnist:DIR",
                         dir, why);
    static const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
                                   "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
    char paths[4][PATH_LEN];
    for (int i = 0; i < 4; i++) GSGD_FORWARD_IF_ERROR(fmnist_file(ctx, dir, names[i], paths[i]));
    gsgdi_raw_targets t;
    GSGD_FORWARD_IF_ERROR(gsgdi_load_idx(ctx, paths[0], paths[1], plan->storage, tr, &t));
    GSGD_FORWARD_IF_ERROR(finish(ctx, &t, &plan->rules, tr));
    gsgd_status st = gsgdi_load_idx(ctx, paths[2], paths[3], plan->storage, te, &t);
    gsgdi_target_rules test_rules = plan->rules;
    if (!test_rules.has_ref)
        test_rules = (gsgdi_target_rules){
            .has_ref = 1, .ref_classes = tr->n_classes, .ref = tr->meta.labels};
    if (st == GSGD_STATUS_OK) st = finish(ctx, &t, &test_rules, te);
    if (st == GSGD_STATUS_OK && te->d != tr->d)
        st = GSGD_ERROR(ctx, GSGD_STATUS_SHAPE_MISMATCH,
                        "fashion-mnist: %s has %zu features per image but %s has %zu", paths[2],
                        te->d, paths[0], tr->d);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(tr);
        gsgdi_host_data_free(te);
        return st;
    }
    snprintf(te->meta.part, sizeof te->meta.part, "test part");
    for (int k = 0; k < 2; k++) {
        gsgdi_data_meta *m = k ? &te->meta : &tr->meta;
        snprintf(m->source, sizeof m->source, "fashion-mnist");
        snprintf(m->format, sizeof m->format, "IDX");
    }
    return GSGD_STATUS_OK;
}

/* "csv:PATH[:label=first|last][:header][:target=real]": options are peeled
 * off the end, so a PATH containing ':' still works. */
static gsgd_status load_csv_spec(gsgd_context *ctx, const char *spec, gsgdi_load_plan *plan,
                                 gsgdi_host_data *tr) {
    char path[PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(spec) >= sizeof path, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "csv: spec too long");
    strcpy(path, spec);
    char *colon;
    while ((colon = strrchr(path, ':')) != NULL) {
        const char *opt = colon + 1;
        if (strcmp(opt, "header") == 0)
            plan->read.header = 1;
        else if (strcmp(opt, "label=first") == 0)
            plan->read.label = "0";
        else if (strcmp(opt, "label=last") == 0)
            plan->read.label = "-1";
        else if (strcmp(opt, "target=real") == 0)
            plan->rules.real = 1;
        else if (strcmp(opt, "target=class") == 0)
            plan->rules.real = 0;
        else if (starts_with(opt, "storage="))
            return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                              "csv: option '%s': storage= applies to IDX images only; csv "
                              "features are stored as float",
                              opt);
        else if (starts_with(opt, "label=") || starts_with(opt, "target="))
            return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                              "csv: option '%s' not understood (label=first|last, "
                              "target=class|real, header)",
                              opt);
        else
            break;
        *colon = '\0';
    }
    GSGD_RETURN_ERROR_IF(
        !path[0], ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "csv: no file in spec (csv:PATH[:label=first|last][:header][:target=real])");
    return gsgdi_load_file(ctx, path, plan, tr);
}

/* Parses a decimal unsigned number that must fill [s, end). */
static int parse_u64(const char *s, const char *end, uint64_t *v) {
    if (s == end || *s < '0' || *s > '9') return 0;
    errno = 0;
    char *stop;
    unsigned long long x = strtoull(s, &stop, 10);
    if (errno || stop != end) return 0;
    *v = x;
    return 1;
}

/* The targets synth drew (class indices, or real values) through the
 * rules: an identity map, or the reference's. */
static gsgd_status synth_targets(gsgd_context *ctx, const char *name, const char *spec, int k,
                                 const gsgdi_target_rules *rules, gsgdi_host_data *h) {
    gsgdi_raw_targets t = {.n = h->n};
    snprintf(t.file, sizeof t.file, "%s", name);
    t.num = malloc(h->n * sizeof *t.num);
    float *y = h->y;
    if (!t.num) {
        gsgdi_host_data_free(h);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", name);
    }
    for (size_t i = 0; i < h->n; i++) t.num[i] = y[i];
    free(y);
    h->y = NULL;
    gsgdi_target_rules r = *rules;
    r.real = k == 1;
    r.identity = k == 1 ? 0 : k;
    GSGD_FORWARD_IF_ERROR(finish(ctx, &t, &r, h));
    snprintf(h->meta.source, sizeof h->meta.source, "%s:%s", name, spec);
    snprintf(h->meta.format, sizeof h->meta.format, "%s", name);
    snprintf(h->meta.detail, sizeof h->meta.detail, "random teacher");
    return GSGD_STATUS_OK;
}

/* "synth:N,D,K[:seed=S]" */
static gsgd_status load_synth_spec(gsgd_context *ctx, const char *spec, const gsgdi_load_plan *plan,
                                   gsgdi_host_data *tr, gsgdi_host_data *te) {
    uint64_t v[3], seed = 0;
    const char *s = spec, *opts = strchr(spec, ':');
    const char *stop = opts ? opts : spec + strlen(spec);
    for (int i = 0; i < 3; i++) {
        const char *end = i < 2 ? memchr(s, ',', (size_t)(stop - s)) : stop;
        GSGD_RETURN_ERROR_IF(!end || !parse_u64(s, end, &v[i]), ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "synth: '%s' is not N,D,K (three non-negative integers, e.g. "
                             "synth:10000,20,3)",
                             spec);
        s = end + 1;
    }
    if (opts) {
        GSGD_RETURN_ERROR_IF(!starts_with(opts, ":seed=") ||
                                 !parse_u64(opts + 6, opts + strlen(opts), &seed),
                             ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "synth: option '%s' not understood (expected :seed=S)", opts + 1);
    }
    /* N and D are range-checked by gsgdi_synth; K must fit an int first. */
    GSGD_RETURN_ERROR_IF(v[2] > GSGD_MAX_CLASSES, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "synth: K = %llu outside [1, %d] (1 = regression)",
                         (unsigned long long)v[2], GSGD_MAX_CLASSES);
    GSGD_FORWARD_IF_ERROR(gsgdi_synth(ctx, (size_t)v[0], (size_t)v[1], (int)v[2], seed, tr, te));
    gsgd_status st = synth_targets(ctx, "synth", spec, (int)v[2], &plan->rules, tr);
    if (st == GSGD_STATUS_OK) st = synth_targets(ctx, "synth", spec, (int)v[2], &plan->rules, te);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(tr);
        gsgdi_host_data_free(te);
        return st;
    }
    snprintf(te->meta.part, sizeof te->meta.part, "test part, 20%%");
    snprintf(tr->meta.part, sizeof tr->meta.part, "train part, 80%%");
    return GSGD_STATUS_OK;
}

/* "synth-sparse:N,D,K,NNZ[:seed=S]": the sparse kin of synth, its targets
 * through the same rules. */
static gsgd_status load_synth_sparse_spec(gsgd_context *ctx, const char *spec,
                                          const gsgdi_load_plan *plan, gsgdi_host_data *tr,
                                          gsgdi_host_data *te) {
    uint64_t v[4], seed = 0;
    const char *s = spec, *opts = strchr(spec, ':');
    const char *stop = opts ? opts : spec + strlen(spec);
    for (int i = 0; i < 4; i++) {
        const char *end = i < 3 ? memchr(s, ',', (size_t)(stop - s)) : stop;
        GSGD_RETURN_ERROR_IF(!end || !parse_u64(s, end, &v[i]), ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "synth-sparse: '%s' is not N,D,K,NNZ (four non-negative integers, "
                             "e.g. synth-sparse:10000,100000,20,50)",
                             spec);
        s = end + 1;
    }
    if (opts)
        GSGD_RETURN_ERROR_IF(
            !starts_with(opts, ":seed=") || !parse_u64(opts + 6, opts + strlen(opts), &seed), ctx,
            GSGD_STATUS_INVALID_ARGUMENT,
            "synth-sparse: option '%s' not understood (expected :seed=S)", opts + 1);
    GSGD_RETURN_ERROR_IF(v[2] > GSGD_MAX_CLASSES || v[1] > INT32_MAX, ctx,
                         GSGD_STATUS_INVALID_ARGUMENT,
                         "synth-sparse: K = %llu (at most %d) or D = %llu (below 2^31) too large",
                         (unsigned long long)v[2], GSGD_MAX_CLASSES, (unsigned long long)v[1]);
    GSGD_FORWARD_IF_ERROR(
        gsgdi_synth_sparse(ctx, (size_t)v[0], (size_t)v[1], (int)v[2], (size_t)v[3], seed, tr, te));
    const int k = (int)v[2];
    gsgd_status st = synth_targets(ctx, "synth-sparse", spec, k, &plan->rules, tr);
    if (st == GSGD_STATUS_OK) st = synth_targets(ctx, "synth-sparse", spec, k, &plan->rules, te);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(tr);
        gsgdi_host_data_free(te);
        return st;
    }
    snprintf(tr->meta.detail, sizeof tr->meta.detail, "power-law features, random teacher");
    snprintf(te->meta.detail, sizeof te->meta.detail, "power-law features, random teacher");
    snprintf(te->meta.part, sizeof te->meta.part, "test part, 20%%");
    snprintf(tr->meta.part, sizeof tr->meta.part, "train part, 80%%");
    return GSGD_STATUS_OK;
}

/* "PATH,SECOND[:storage=...]" into path and second (second may be absent
 * when optional). */
static gsgd_status two_paths(gsgd_context *ctx, const char *what, const char *spec, char *path,
                             char *second, int optional) {
    const char *comma = strchr(spec, ',');
    GSGD_RETURN_ERROR_IF((!comma && !optional) || comma == spec || (comma && !comma[1]), ctx,
                         GSGD_STATUS_INVALID_ARGUMENT, "%s: '%s' is not %s", what, spec,
                         optional ? "X[,Y]" : "IMAGES,LABELS");
    const size_t len = comma ? (size_t)(comma - spec) : strlen(spec);
    GSGD_RETURN_ERROR_IF(len >= PATH_LEN || (comma && strlen(comma + 1) >= PATH_LEN) || !len, ctx,
                         GSGD_STATUS_INVALID_ARGUMENT, "%s: path too long or empty", what);
    memcpy(path, spec, len);
    path[len] = '\0';
    second[0] = '\0';
    if (comma) strcpy(second, comma + 1);
    return GSGD_STATUS_OK;
}

/* "idx:IMAGES,LABELS[:storage=u8|f32]" */
static gsgd_status load_idx_spec(gsgd_context *ctx, const char *full, gsgdi_load_plan *plan,
                                 gsgdi_host_data *tr) {
    char spec[2 * PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(full) >= sizeof spec, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "idx: spec too long");
    strcpy(spec, full);
    GSGD_FORWARD_IF_ERROR(peel_storage(ctx, "idx", spec, &plan->storage));
    char images[PATH_LEN], labels[PATH_LEN];
    GSGD_FORWARD_IF_ERROR(two_paths(ctx, "idx", spec, images, labels, 0));
    plan->format = GSGD_FORMAT_IDX;
    plan->labels_file = labels;
    return gsgdi_load_file(ctx, images, plan, tr);
}

/* "npy:X[,Y]": features, and targets from a second .npy. */
static gsgd_status load_npy_spec(gsgd_context *ctx, const char *spec, gsgdi_load_plan *plan,
                                 gsgdi_host_data *tr) {
    char x[PATH_LEN], y[PATH_LEN];
    GSGD_FORWARD_IF_ERROR(two_paths(ctx, "npy", spec, x, y, 1));
    plan->format = GSGD_FORMAT_NPY;
    if (y[0]) plan->labels_file = y;
    return gsgdi_load_file(ctx, x, plan, tr);
}

/* Peels a trailing ":storage=csr|f32" off spec (svmlight, npz). */
static gsgd_status peel_sparse_storage(gsgd_context *ctx, const char *what, char *spec,
                                       gsgdi_load_plan *plan) {
    char *colon = strrchr(spec, ':');
    if (!colon || !starts_with(colon + 1, "storage=")) return GSGD_STATUS_OK;
    const char *v = colon + 1 + strlen("storage=");
    if (strcmp(v, "csr") == 0)
        plan->read.csr = 1;
    else if (strcmp(v, "f32") == 0)
        plan->read.csr = 0;
    else
        return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                          "%s: storage '%s' not understood (csr: rows kept sparse; f32: dense "
                          "floats; default: sparse below %g%% nonzero values)",
                          what, v, 100.0 * GSGD_DENSE_FROM);
    *colon = '\0';
    return GSGD_STATUS_OK;
}

/* "svmlight:PATH[:zero-based|one-based][:features=N][:storage=csr|f32]",
 * options peeled off the end (a path may hold ':'). */
static gsgd_status load_svmlight_spec(gsgd_context *ctx, const char *prefix, const char *spec,
                                      gsgdi_load_plan *plan, gsgdi_host_data *tr) {
    char path[PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(spec) >= sizeof path, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s spec too long", prefix);
    strcpy(path, spec);
    for (;;) {
        GSGD_FORWARD_IF_ERROR(peel_sparse_storage(ctx, prefix, path, plan));
        char *colon = strrchr(path, ':');
        if (!colon) break;
        const char *opt = colon + 1;
        uint64_t n = 0;
        if (strcmp(opt, "zero-based") == 0)
            plan->read.zero_based = 1;
        else if (strcmp(opt, "one-based") == 0)
            plan->read.zero_based = 0;
        else if (starts_with(opt, "features="))
            GSGD_RETURN_ERROR_IF(!parse_u64(opt + 9, opt + strlen(opt), &n) || n == 0 ||
                                     n > INT32_MAX,
                                 ctx, GSGD_STATUS_INVALID_ARGUMENT,
                                 "%s '%s': features= takes a count in [1, 2^31)", prefix, opt);
        else
            break;
        if (n) {
            plan->read.n_features = (size_t)n;
            plan->read.n_features_from = "the spec's (features=N)";
        }
        *colon = '\0';
    }
    GSGD_RETURN_ERROR_IF(!path[0], ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "%s no file in spec (svmlight:PATH[:zero-based|one-based]"
                         "[:features=N][:storage=csr|f32])",
                         prefix);
    return gsgdi_load_file(ctx, path, plan, tr);
}

/* "npz:PATH[,LABELS][:storage=csr|f32]": arrays X and y, or a matrix of
 * scipy.sparse.save_npz with its targets from LABELS (.npy or text). */
static gsgd_status load_npz_spec(gsgd_context *ctx, const char *full, gsgdi_load_plan *plan,
                                 gsgdi_host_data *tr) {
    char spec[2 * PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(full) >= sizeof spec, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "npz: spec too long");
    strcpy(spec, full);
    GSGD_FORWARD_IF_ERROR(peel_sparse_storage(ctx, "npz:", spec, plan));
    char x[PATH_LEN], y[PATH_LEN];
    GSGD_FORWARD_IF_ERROR(two_paths(ctx, "npz", spec, x, y, 1));
    plan->format = GSGD_FORMAT_NPZ;
    if (y[0]) plan->labels_file = y;
    return gsgdi_load_file(ctx, x, plan, tr);
}

/* A source that is no spec and no file: a misspelt spec more likely than
 * a missing file when it has neither a '/' nor a '.'. */
static int looks_like_spec(const char *source) {
    struct stat sb;
    return stat(source, &sb) != 0 && !strchr(source, '/') && !strchr(source, '.') &&
           strcmp(source, "-") != 0;
}

gsgd_status gsgdi_load_spec(gsgd_context *ctx, const char *source, const gsgd_data_options *o,
                            gsgdi_host_data *train, gsgdi_host_data *test, int *handled) {
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    gsgdi_load_plan plan;
    gsgdi_load_plan_from(ctx, o, &plan);
    *handled = 1;
    if (strcmp(source, "fashion-mnist") == 0) return load_fmnist(ctx, "", &plan, train, test);
    if (starts_with(source, "fashion-mnist:"))
        return load_fmnist(ctx, source + 14, &plan, train, test);
    if (starts_with(source, "idx:")) return load_idx_spec(ctx, source + 4, &plan, train);
    if (starts_with(source, "synth:")) return load_synth_spec(ctx, source + 6, &plan, train, test);
    if (starts_with(source, "synth-sparse:"))
        return load_synth_sparse_spec(ctx, source + 13, &plan, train, test);
    if (starts_with(source, "npy:")) return load_npy_spec(ctx, source + 4, &plan, train);
    if (starts_with(source, "npz:")) return load_npz_spec(ctx, source + 4, &plan, train);
    static const char *const svm[3] = {"svmlight:", "libsvm:", "svm:"};
    for (int k = 0; k < 3; k++)
        if (starts_with(source, svm[k])) {
            plan.format = GSGD_FORMAT_SVMLIGHT;
            return load_svmlight_spec(ctx, svm[k], source + strlen(svm[k]), &plan, train);
        }
    static const struct {
        const char *prefix;
        gsgd_data_format format;
        int delimiter;
    } files[] = {{"csv:", GSGD_FORMAT_CSV, -1}, {"tsv:", GSGD_FORMAT_CSV, '\t'}};
    for (size_t k = 0; k < sizeof files / sizeof files[0]; k++) {
        if (!starts_with(source, files[k].prefix)) continue;
        plan.format = files[k].format;
        if (files[k].delimiter >= 0) plan.read.delimiter = files[k].delimiter;
        const char *rest = source + strlen(files[k].prefix);
        if (files[k].format == GSGD_FORMAT_CSV) return load_csv_spec(ctx, rest, &plan, train);
        GSGD_RETURN_ERROR_IF(!*rest, ctx, GSGD_STATUS_INVALID_ARGUMENT, "%s: no file in spec",
                             files[k].prefix);
        return gsgdi_load_file(ctx, rest, &plan, train);
    }
    *handled = 0;
    GSGD_RETURN_ERROR_IF(looks_like_spec(source), ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "dataset: '%.200s' is neither a file nor a spec; valid forms: " SPEC_FORMS,
                         source);
    return GSGD_STATUS_OK;
}
