/* Dataset specs: the one string that names a dataset on the command line and
 * in gsgd_dataset_load ("fashion-mnist", "csv:data.csv:header", ...). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "data/loaders.h"
#include "core/error.h"

#define SPEC_FORMS                                                                                 \
    "fashion-mnist[:DIR][:storage=u8|f32], idx:IMAGES,LABELS[:storage=u8|f32], "                   \
    "csv:PATH[:label=first|last][:header][:target=real], synth:N,D,K[:seed=S], "                   \
    "synth-sparse:N,D,K,NNZ[:seed=S], svmlight:PATH[:zero-based|one-based][:features=N] (or a "    \
    "PATH ending in .svm, .svmlight, .libsvm, maybe .gz), npz-csr:MATRIX.npz,LABELS"
#define FMNIST_DEFAULT_DIR "/usr/share/datasets/fashion-mnist"
#define PATH_LEN 4096

static int starts_with(const char *s, const char *prefix) {
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Uploads the parts and frees the host copies whatever happens. */
static gsgd_status upload_parts(gsgd_context *ctx, gsgdi_host_data *tr, gsgdi_host_data *te,
                                gsgd_dataset **train, gsgd_dataset **test) {
    gsgd_status st = gsgdi_dataset_from_host_data(ctx, tr, train);
    gsgdi_host_data_free(tr);
    if (st == GSGD_STATUS_OK && (te->X || te->X8)) {
        st = gsgdi_dataset_from_host_data(ctx, te, test);
        if (st != GSGD_STATUS_OK) {
            gsgd_dataset_free(*train);
            *train = NULL;
        }
    }
    gsgdi_host_data_free(te);
    return st;
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
 * one, the device decides: bytes where memory is scarce and the gather is
 * bandwidth-bound (CUDA: AUTO), floats on the CPU, where RAM is plentiful
 * and the division per pixel costs (measured, Fashion-MNIST softmax at
 * batch 64 on 2 threads: 822k samples/s from bytes, 960k from floats). */
static gsgd_status peel_storage(gsgd_context *ctx, const char *what, char *spec,
                                gsgdi_storage *storage) {
    *storage = ctx && ctx->device == GSGD_DEVICE_CPU ? GSGD_STORAGE_F32 : GSGD_STORAGE_AUTO;
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

/* "fashion-mnist[:DIR][:storage=u8|f32]", spec is what follows the name. */
static gsgd_status load_fmnist(gsgd_context *ctx, const char *spec, gsgdi_host_data *tr,
                               gsgdi_host_data *te) {
    char dir[PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(spec) >= sizeof dir, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "fashion-mnist: spec too long");
    strcpy(dir, spec);
    gsgdi_storage storage;
    GSGD_FORWARD_IF_ERROR(peel_storage(ctx, "fashion-mnist", dir, &storage));
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
    GSGD_FORWARD_IF_ERROR(gsgdi_load_idx(ctx, paths[0], paths[1], storage, tr));
    gsgd_status st = gsgdi_load_idx(ctx, paths[2], paths[3], storage, te);
    if (st == GSGD_STATUS_OK && te->d != tr->d)
        st = GSGD_ERROR(ctx, GSGD_STATUS_SHAPE_MISMATCH,
                        "fashion-mnist: %s has %zu features per image but %s has %zu", paths[2],
                        te->d, paths[0], tr->d);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(tr);
        gsgdi_host_data_free(te);
        return st;
    }
    /* A test set may miss a class; both parts must agree on the count. */
    int k = tr->n_classes > te->n_classes ? tr->n_classes : te->n_classes;
    tr->n_classes = te->n_classes = k;
    return GSGD_STATUS_OK;
}

/* "csv:PATH[:label=first|last][:header][:target=real]": options are peeled
 * off the end, so a PATH containing ':' still works. */
static gsgd_status load_csv_spec(gsgd_context *ctx, const char *spec, gsgdi_host_data *tr) {
    char path[PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(spec) >= sizeof path, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "csv: spec too long");
    strcpy(path, spec);
    int label_last = 0, header = 0, regression = 0;
    char *colon;
    while ((colon = strrchr(path, ':')) != NULL) {
        const char *opt = colon + 1;
        if (strcmp(opt, "header") == 0)
            header = 1;
        else if (strcmp(opt, "label=first") == 0)
            label_last = 0;
        else if (strcmp(opt, "label=last") == 0)
            label_last = 1;
        else if (strcmp(opt, "target=real") == 0)
            regression = 1;
        else if (strcmp(opt, "target=class") == 0)
            regression = 0;
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
    return gsgdi_load_csv(ctx, path, label_last, header, regression, tr);
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

/* "synth:N,D,K[:seed=S]" */
static gsgd_status load_synth_spec(gsgd_context *ctx, const char *spec, gsgdi_host_data *tr,
                                   gsgdi_host_data *te) {
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
    return gsgdi_synth(ctx, (size_t)v[0], (size_t)v[1], (int)v[2], seed, tr, te);
}

/* "idx:IMAGES,LABELS[:storage=u8|f32]" */
static gsgd_status load_idx_spec(gsgd_context *ctx, const char *full, gsgdi_host_data *tr) {
    char spec[2 * PATH_LEN];
    GSGD_RETURN_ERROR_IF(strlen(full) >= sizeof spec, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "idx: spec too long");
    strcpy(spec, full);
    gsgdi_storage storage;
    GSGD_FORWARD_IF_ERROR(peel_storage(ctx, "idx", spec, &storage));
    const char *comma = strchr(spec, ',');
    GSGD_RETURN_ERROR_IF(!comma || comma == spec || !comma[1], ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "idx: '%s' is not IMAGES,LABELS", spec);
    char images[PATH_LEN];
    size_t len = (size_t)(comma - spec);
    GSGD_RETURN_ERROR_IF(len >= sizeof images, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "idx: image path too long");
    memcpy(images, spec, len);
    images[len] = '\0';
    return gsgdi_load_idx(ctx, images, comma + 1, storage, tr);
}

gsgd_status gsgd_dataset_load(gsgd_context *ctx, const char *spec, gsgd_dataset **train,
                              gsgd_dataset **test) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    if (train) *train = NULL;
    if (test) *test = NULL;
    GSGD_RETURN_ERROR_IF(!spec || !train, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "dataset_load: spec or train is NULL");
    int sparse = 0;
    gsgd_status st = gsgdi_load_sparse_spec(ctx, spec, train, test, &sparse);
    if (sparse) return st;
    gsgdi_host_data tr = {0}, te = {0};
    if (strcmp(spec, "fashion-mnist") == 0)
        st = load_fmnist(ctx, "", &tr, &te);
    else if (starts_with(spec, "fashion-mnist:"))
        st = load_fmnist(ctx, spec + 14, &tr, &te);
    else if (starts_with(spec, "idx:"))
        st = load_idx_spec(ctx, spec + 4, &tr);
    else if (starts_with(spec, "csv:"))
        st = load_csv_spec(ctx, spec + 4, &tr);
    else if (starts_with(spec, "synth:"))
        st = load_synth_spec(ctx, spec + 6, &tr, &te);
    else
        return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                          "dataset: unknown spec '%.200s'; valid forms: " SPEC_FORMS, spec);
    GSGD_FORWARD_IF_ERROR(st);
    /* A caller that passes no test pointer does not want the test part. */
    if (!test) gsgdi_host_data_free(&te);
    gsgd_dataset *dummy = NULL;
    return upload_parts(ctx, &tr, &te, train, test ? test : &dummy);
}
