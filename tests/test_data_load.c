/* Loading your own data (gsgd_dataset_load_ex): every format by its path,
 * detection, standard input, the options, a test part split off, data
 * loaded against a training set or a model, and errors that leave nothing
 * behind. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;
static gsgd_data_options *opts;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0);
    cr_assert_eq(gsgd_data_options_create(&opts), 0);
}
static void teardown(void) {
    gsgd_data_options_free(opts);
    gsgd_context_free(ctx);
}

TestSuite(load, .init = setup, .fini = teardown);

#define WINE                                                                                       \
    "alcohol,cultivar,hue\n"                                                                       \
    "14.2,barolo,1.04\n13.2,barbera,1.05\n12.1,nebbiolo,0.9\n13.9,barolo,1.1\n"                    \
    "12.5,barbera,0.8\n12.0,nebbiolo,0.95\n"

/* Loads source with opts, expecting success; *test may be NULL. */
static gsgd_dataset *load(const char *source, gsgd_dataset **test) {
    gsgd_dataset *tr = NULL;
    cr_assert_eq(gsgd_dataset_load_ex(ctx, source, opts, &tr, test), GSGD_STATUS_OK, "%s: %s",
                 source, gsgd_last_error(ctx));
    return tr;
}

/* A load that must fail with st and a one-line message holding detail,
 * leave both outputs NULL and allocate nothing that stays. */
static void expect_failure(const char *source, gsgd_status st, const char *detail) {
    size_t before;
    gsgd_context_memory(ctx, &before, NULL);
    gsgd_dataset *tr = (gsgd_dataset *)1, *te = (gsgd_dataset *)1;
    cr_assert_eq(gsgd_dataset_load_ex(ctx, source, opts, &tr, &te), st, "%s: %s (%s)", source,
                 gsgd_status_name(st), gsgd_last_error(ctx));
    cr_assert_null(tr);
    cr_assert_null(te);
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
    cr_assert_null(strchr(msg, '\n'), "one line: %s", msg);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_assert_eq(in_use, before, "nothing left allocated");
}

static void expect_shape(const gsgd_dataset *ds, size_t n, size_t d, int k) {
    size_t n2, d2;
    int k2;
    cr_assert_eq(gsgd_dataset_shape(ds, &n2, &d2, &k2), 0);
    cr_assert_eq(n2, n, "n = %zu", n2);
    cr_assert_eq(d2, d, "d = %zu", d2);
    cr_assert_eq(k2, k, "classes = %d", k2);
}

static const char *label(const gsgd_dataset *ds, int k) {
    const char *t = NULL;
    cr_assert_eq(gsgd_dataset_label(ds, k, &t), 0);
    return t;
}

static float *targets(const gsgd_dataset *ds) {
    float *y = malloc(ds->n * sizeof *y);
    cr_assert_eq(gsgd_dataset_read(ds, 0, ds->n, NULL, y), 0);
    return y;
}

Test(load, a_csv_with_a_header_and_string_labels_by_column_name) {
    cr_assert_eq(tu_write_text(tu_path("wine.csv"), WINE), 0);
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABEL, "cultivar"), 0);
    gsgd_dataset *te = NULL, *tr = load(tu_path("wine.csv"), &te);
    cr_assert_null(te);
    expect_shape(tr, 6, 2, 3);
    cr_assert_str_eq(label(tr, 0), "barbera");
    cr_assert_str_eq(label(tr, 2), "nebbiolo");
    float *y = targets(tr);
    cr_assert_eq(y[0], 1.0f); /* barolo */
    free(y);
    gsgd_dataset_free(tr);
}

Test(load, a_test_file_maps_its_labels_through_the_training_sets) {
    cr_assert_eq(tu_write_text(tu_path("wine.csv"), WINE), 0);
    cr_assert_eq(tu_write_text(tu_path("wine_test.csv"),
                               "alcohol,cultivar,hue\n13,nebbiolo,1\n12,nebbiolo,0.7\n"),
                 0);
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABEL, "cultivar"), 0);
    gsgd_dataset *tr = load(tu_path("wine.csv"), NULL);
    cr_assert_eq(gsgd_data_set_reference(opts, tr), 0);
    gsgd_dataset *te = load(tu_path("wine_test.csv"), NULL);
    expect_shape(te, 2, 2, 3); /* three classes, though it has one */
    float *y = targets(te);
    cr_assert_eq(y[0], 2.0f);
    free(y);
    cr_assert_eq(tu_write_text(tu_path("wine_bad.csv"), "alcohol,cultivar,hue\n13,merlot,1\n"), 0);
    expect_failure(tu_path("wine_bad.csv"), GSGD_STATUS_BAD_VALUE,
                   "line 2, column 2 ('cultivar'): label 'merlot' is not one of the 3 classes");
    gsgd_dataset_free(te);
    gsgd_dataset_free(tr);
}

Test(load, semicolons_gzip_and_tabs_by_extension_and_content) {
    const char *text = "y;a;b\n1;0.5;2\n0;1.5;3\n";
    cr_assert_eq(tu_write_gzip(tu_path("semi.csv.gz"), text, strlen(text)), 0);
    gsgd_dataset *tr = load(tu_path("semi.csv.gz"), NULL);
    expect_shape(tr, 2, 2, 2);
    char line[400];
    cr_assert_eq(gsgd_dataset_describe(tr, line, sizeof line), 0);
    cr_assert(strstr(line, "CSV (semicolon-separated, header, gzip)"), "%s", line);
    gsgd_dataset_free(tr);
    cr_assert_eq(tu_write_text(tu_path("t.tsv"), "1\t2\t3\n0\t4\t5\n"), 0);
    tr = load(tu_path("t.tsv"), NULL);
    expect_shape(tr, 2, 2, 2);
    gsgd_dataset_free(tr);
}

Test(load, svmlight_detected_from_its_text) {
    cr_assert_eq(tu_write_text(tu_path("a.txt"), "+1 1:0.5 3:1\n-1 2:1\n+1 3:2\n"), 0);
    gsgd_dataset *tr = load(tu_path("a.txt"), NULL);
    expect_shape(tr, 3, 3, 2);
    cr_assert_str_eq(label(tr, 0), "-1");
    cr_assert_str_eq(tr->meta.format, "svmlight");
    gsgd_dataset_free(tr);
}

Test(load, an_npz_with_labels_3_7_9_has_three_classes) {
    gsgd_dataset *tr = load(GSGD_TEST_DATA_DIR "/labels379.npz", NULL);
    expect_shape(tr, 6, 2, 3);
    cr_assert_str_eq(label(tr, 1), "7");
    float *y = targets(tr);
    const float want[6] = {0, 1, 2, 0, 1, 2};
    cr_assert_arr_eq(y, want, sizeof want);
    free(y);
    gsgd_dataset_free(tr);
    /* Deflated members, Fortran-order float64 features, str labels. */
    tr = load(GSGD_TEST_DATA_DIR "/strings_fortran.npz", NULL);
    expect_shape(tr, 6, 2, 3);
    cr_assert_str_eq(label(tr, 0), "setosa");
    float X[4];
    cr_assert_eq(gsgd_dataset_read(tr, 0, 2, X, NULL), 0);
    cr_assert_eq(X[2], 1.5f);
    cr_assert_eq(X[3], -2.0f);
    gsgd_dataset_free(tr);
}

Test(load, npy_features_with_a_labels_file_or_without) {
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABELS_FILE, GSGD_TEST_DATA_DIR "/y_pm1.npy"),
                 0);
    gsgd_dataset *tr = load(GSGD_TEST_DATA_DIR "/X_f4.npy", NULL);
    expect_shape(tr, 6, 2, 2);
    cr_assert_str_eq(label(tr, 1), "1");
    gsgd_dataset_free(tr);
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABELS_FILE, NULL), 0);
    tr = load(GSGD_TEST_DATA_DIR "/X_f4.npy", NULL);
    int has = 1;
    cr_assert_eq(gsgd_dataset_targets(tr, &has, NULL, NULL), 0);
    cr_assert_not(has);
    gsgd_dataset_free(tr);
    /* The spec form takes both. */
    tr = load("npy:" GSGD_TEST_DATA_DIR "/X_f4.npy," GSGD_TEST_DATA_DIR "/y_pm1.npy", NULL);
    expect_shape(tr, 6, 2, 2);
    gsgd_dataset_free(tr);
}

Test(load, idx_images_by_path_with_a_labels_file) {
    const uint8_t px[8] = {0, 255, 51, 102, 1, 2, 3, 4};
    cr_assert_eq(tu_write_idx(tu_path("img.idx"), 0x08, 3, (uint32_t[]){2, 2, 2}, px, 8), 0);
    cr_assert_eq(tu_write_idx(tu_path("lab.idx"), 0x08, 1, (uint32_t[]){2}, (uint8_t[]){9, 4}, 2),
                 0);
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABELS_FILE, tu_path("lab.idx")), 0);
    gsgd_dataset *tr = load(tu_path("img.idx"), NULL);
    expect_shape(tr, 2, 4, 2);
    cr_assert_str_eq(label(tr, 1), "9");
    gsgd_dataset_free(tr);
}

Test(load, reads_csv_from_standard_input) {
    const char *path = tu_path("stdin.csv");
    cr_assert_eq(tu_write_text(path, "label,x\n1,2\n0,3\n1,4\n"), 0);
    const int fd = open(path, O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    gsgd_dataset *tr = load("-", NULL);
    expect_shape(tr, 3, 1, 2);
    cr_assert_str_eq(tr->meta.source, "stdin");
    gsgd_dataset_free(tr);
}

Test(load, standard_input_refuses_binary_formats) {
    const int fd = open(GSGD_TEST_DATA_DIR "/labels379.npz", O_RDONLY);
    cr_assert(fd >= 0);
    cr_assert_eq(dup2(fd, STDIN_FILENO), STDIN_FILENO);
    close(fd);
    expect_failure("-", GSGD_STATUS_INVALID_ARGUMENT, "cannot be read from standard input");
}

Test(load, a_device_of_no_text_is_refused_at_once) {
    /* Was read to the 2^36-byte input limit (64 GiB of memory): a device
     * is read, not mapped. Named as a file and as a spec. */
    expect_failure("/dev/zero", GSGD_STATUS_BAD_FORMAT, "line 1, column 1: a NUL byte");
    expect_failure("csv:/dev/zero", GSGD_STATUS_BAD_FORMAT,
                   "/dev/zero: line 1, column 1: a NUL byte; the file is binary or UTF-16, not "
                   "CSV text");
    expect_failure("svmlight:/dev/zero", GSGD_STATUS_BAD_FORMAT, "not svmlight text");
}

Test(load, standard_input_given_a_binary_format_is_refused_before_it_is_read) {
    /* stdin stays unread: a pipe that never ends would not block. */
    cr_assert_eq(gsgd_data_set(opts, GSGD_DATA_FORMAT, GSGD_FORMAT_NPY), 0);
    expect_failure("-", GSGD_STATUS_INVALID_ARGUMENT,
                   "stdin: npy data cannot be read from standard input");
    cr_assert_eq(gsgd_data_set(opts, GSGD_DATA_FORMAT, GSGD_FORMAT_AUTO), 0);
}

Test(load, an_explicit_format_and_a_spec_prefix_win_over_detection) {
    /* svmlight text named .csv: read as svmlight only when told. */
    cr_assert_eq(tu_write_text(tu_path("s.csv"), "1 1:2\n0 2:3\n"), 0);
    cr_assert_eq(gsgd_data_set(opts, GSGD_DATA_FORMAT, GSGD_FORMAT_SVMLIGHT), 0);
    gsgd_dataset *tr = load(tu_path("s.csv"), NULL);
    expect_shape(tr, 2, 2, 2);
    gsgd_dataset_free(tr);
    cr_assert_eq(gsgd_data_set(opts, GSGD_DATA_FORMAT, GSGD_FORMAT_AUTO), 0);
    char spec[1000];
    snprintf(spec, sizeof spec, "svmlight:%s", tu_path("s.csv"));
    tr = load(spec, NULL);
    expect_shape(tr, 2, 2, 2);
    gsgd_dataset_free(tr);
}

Test(load, a_test_fraction_splits_off_a_stratified_test_part) {
    /* 30 rows of class a, 10 of b: a 25% test part holds 8 a and 2 b. */
    char text[4000], *p = text;
    p += sprintf(p, "label,x\n");
    for (int i = 0; i < 40; i++) p += sprintf(p, "%s,%d\n", i < 30 ? "a" : "b", i);
    cr_assert_eq(tu_write_text(tu_path("strat.csv"), text), 0);
    cr_assert_eq(gsgd_data_set(opts, GSGD_DATA_TEST_FRACTION, 0.25), 0);
    cr_assert_eq(gsgd_data_set(opts, GSGD_DATA_SEED, 3), 0);
    gsgd_dataset *te = NULL, *tr = load(tu_path("strat.csv"), &te);
    expect_shape(tr, 30, 1, 2);
    expect_shape(te, 10, 1, 2);
    float *y = targets(te);
    int b = 0;
    for (int i = 0; i < 10; i++) b += y[i] == 1.0f;
    cr_assert_eq(b, 2);
    free(y);
    char line[400];
    cr_assert_eq(gsgd_dataset_describe(te, line, sizeof line), 0);
    cr_assert(strstr(line, "(test part, 25%)"), "%s", line);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
    expect_failure("synth:100,3,2", GSGD_STATUS_INVALID_ARGUMENT, "has a test part of its own");
}

Test(load, rows_for_a_model_may_lack_the_target_column) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 3, 0, &m), 0);
    cr_assert_eq(gsgd_data_set_model(opts, m), 0);
    gsgd_model_free(m); /* the options keep what they need */
    cr_assert_eq(tu_write_text(tu_path("in.csv"), "0.5,1\n2,3\n"), 0);
    gsgd_dataset *tr = load(tu_path("in.csv"), NULL);
    expect_shape(tr, 2, 2, 3);
    int has = 1;
    gsgd_dataset_targets(tr, &has, NULL, NULL);
    cr_assert_not(has);
    gsgd_dataset_free(tr);
    cr_assert_eq(tu_write_text(tu_path("wide.csv"), "0.5,1,2,3\n"), 0);
    expect_failure(tu_path("wide.csv"), GSGD_STATUS_SHAPE_MISMATCH,
                   "but the model takes 2 features");
    cr_assert_eq(tu_write_text(tu_path("unknown.csv"), "7,1,2\n"), 0);
    expect_failure(tu_path("unknown.csv"), GSGD_STATUS_BAD_VALUE,
                   "label '7' is not one of the 3 classes (0, 1, 2)");
}

Test(load, errors_name_the_file_and_leave_nothing) {
    expect_failure(tu_path("missing.csv"), GSGD_STATUS_IO, "missing.csv: cannot open");
    cr_assert_eq(tu_write_text(tu_path("empty.csv"), ""), 0);
    expect_failure(tu_path("empty.csv"), GSGD_STATUS_BAD_FORMAT, "empty.csv: empty file");
    cr_assert_eq(tu_write_text(tu_path("hole.csv"), "a,b\n1,2\n0,\n"), 0);
    expect_failure(tu_path("hole.csv"), GSGD_STATUS_BAD_VALUE,
                   "hole.csv: line 3, column 2 ('b'): missing value");
    expect_failure("mnist", GSGD_STATUS_INVALID_ARGUMENT, "neither a file nor a spec");
    cr_assert_eq(tu_write_text(tu_path("x.npz"), "not a zip"), 0);
    expect_failure(tu_path("x.npz"), GSGD_STATUS_BAD_FORMAT, "not a zip archive");
    const char *names[1] = {"arr_0.npy"};
    size_t n;
    unsigned char *npy = tu_npy("<f4", 0, "(1, 1)", (float[]){1}, 4, &n);
    const unsigned char *data[1] = {npy};
    cr_assert_eq(tu_write_zip(tu_path("arr.npz"), 1, names, data, &n, 0), 0);
    free(npy);
    expect_failure(tu_path("arr.npz"), GSGD_STATUS_BAD_FORMAT,
                   "no array X in the archive (it holds arr_0.npy)");
}

/* ---- read apart from a device, then uploaded ------------------------------- */

/* a and b hold the same rows, targets, storage and labels, bit for bit. */
static void expect_same_dataset(const gsgd_dataset *a, const gsgd_dataset *b, const char *what) {
    size_t n, d, n2, d2;
    int k, k2;
    gsgd_dataset_shape(a, &n, &d, &k);
    gsgd_dataset_shape(b, &n2, &d2, &k2);
    cr_assert(n == n2 && d == d2 && k == k2, "%s: shapes differ", what);
    cr_assert_eq(a->xt, b->xt, "%s: storage differs", what);
    float *xa = malloc(n * d * sizeof *xa), *xb = malloc(n * d * sizeof *xb);
    float *ya = malloc(n * sizeof *ya), *yb = malloc(n * sizeof *yb);
    cr_assert_eq(gsgd_dataset_read(a, 0, n, xa, ya), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_read(b, 0, n, xb, yb), GSGD_STATUS_OK);
    cr_expect(memcmp(xa, xb, n * d * sizeof *xa) == 0, "%s: features differ", what);
    cr_expect(memcmp(ya, yb, n * sizeof *ya) == 0, "%s: targets differ", what);
    for (int c = 0; c < k; c++) {
        const char *la, *lb;
        cr_assert_eq(gsgd_dataset_label(a, c, &la), GSGD_STATUS_OK);
        cr_assert_eq(gsgd_dataset_label(b, c, &lb), GSGD_STATUS_OK);
        cr_expect_str_eq(la, lb, "%s: label %d", what, c);
    }
    free(xa), free(xb), free(ya), free(yb);
}

/* gsgd_host_data_read then gsgd_dataset_upload gives what one
 * gsgd_dataset_load_ex gives: the IDX images read as bytes without a
 * device become the CPU's floats at the upload. */
Test(load, a_read_apart_then_uploaded_is_the_load_bit_for_bit) {
    cr_assert_eq(tu_write_text(tu_path("wine.csv"), WINE), 0);
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABEL, "cultivar"), 0);
    const char *sources[] = {"synth:300,5,3:seed=2", tu_path("wine.csv"), "fashion-mnist"};
    for (size_t s = 0; s < sizeof sources / sizeof sources[0]; s++) {
        const gsgd_data_options *o = s == 1 ? opts : NULL;
        if (s == 2 && access("/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", R_OK)) {
            cr_log_warn("Fashion-MNIST not installed: its IDX bytes not checked");
            continue;
        }
        gsgd_dataset *tr = NULL, *te = NULL, *tr2 = NULL, *te2 = NULL;
        cr_assert_eq(gsgd_dataset_load_ex(ctx, sources[s], o, &tr, &te), GSGD_STATUS_OK);
        gsgd_host_data *h = NULL;
        cr_assert_eq(gsgd_host_data_read(sources[s], o, &h), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(NULL));
        cr_assert_eq(gsgd_dataset_upload(ctx, h, &tr2, &te2), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(ctx));
        expect_same_dataset(tr, tr2, sources[s]);
        cr_assert_eq(!te, !te2, "%s: test part", sources[s]);
        if (te) expect_same_dataset(te, te2, sources[s]);
        if (s == 2) cr_expect_eq(tr2->xt, GSGD_XTYPE_F32, "floats on the CPU");
        /* The host data stays the caller's: a second upload is the same. */
        gsgd_dataset *tr3 = NULL;
        cr_assert_eq(gsgd_dataset_upload(ctx, h, &tr3, NULL), GSGD_STATUS_OK);
        expect_same_dataset(tr, tr3, sources[s]);
        gsgd_host_data_free(h);
        gsgd_dataset_free(tr), gsgd_dataset_free(te), gsgd_dataset_free(tr2);
        gsgd_dataset_free(te2), gsgd_dataset_free(tr3);
    }
}

typedef struct {
    const char *source;
    const gsgd_data_options *o;
    gsgd_host_data *h;
    gsgd_status st;
    char error[512];
} read_job;

static void *read_on_thread(void *arg) {
    read_job *j = arg;
    j->st = gsgd_host_data_read(j->source, j->o, &j->h);
    snprintf(j->error, sizeof j->error, "%s", gsgd_last_error(NULL));
    return NULL;
}

/* The read needs no context, so it runs beside the thread that opens one;
 * its failure is told in its own thread's gsgd_last_error(NULL). */
Test(load, a_read_runs_on_another_thread_and_says_why_it_failed_there) {
    cr_assert_eq(tu_write_text(tu_path("wine.csv"), WINE), 0);
    cr_assert_eq(gsgd_data_set_text(opts, GSGD_DATA_LABEL, "cultivar"), 0);
    read_job good = {.source = tu_path("wine.csv"), .o = opts};
    read_job bad = {.source = tu_path("absent.csv"), .o = opts};
    pthread_t t1, t2;
    cr_assert_eq(pthread_create(&t1, NULL, read_on_thread, &good), 0);
    cr_assert_eq(pthread_create(&t2, NULL, read_on_thread, &bad), 0);
    pthread_join(t1, NULL);
    pthread_join(t2, NULL);
    cr_assert_eq(good.st, GSGD_STATUS_OK, "%s", good.error);
    cr_assert_eq(bad.st, GSGD_STATUS_IO);
    cr_assert_null(bad.h);
    cr_expect(strstr(bad.error, "absent.csv"), "%s", bad.error);
    cr_expect_null(strstr(gsgd_last_error(NULL), "absent.csv"), "not this thread's: %s",
                   gsgd_last_error(NULL));
    gsgd_dataset *tr = NULL;
    cr_assert_eq(gsgd_dataset_upload(ctx, good.h, &tr, NULL), GSGD_STATUS_OK);
    expect_shape(tr, 6, 2, 3);
    gsgd_host_data_free(good.h);
    gsgd_dataset_free(tr);
    cr_expect_eq(gsgd_host_data_read(NULL, NULL, &good.h), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect_eq(gsgd_dataset_upload(ctx, NULL, &tr, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_host_data_free(NULL);
}
