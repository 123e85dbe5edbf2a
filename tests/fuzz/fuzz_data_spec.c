/*
 * Dataset specs and sources (src/data/spec.c, load.c, detect.c, through
 * gsgd_dataset_load). Input: the spec. The load runs in the harness's
 * fixture directory, so a relative path names a fixture: small CSV, TSV,
 * svmlight, .npy, .npz, IDX and gzip IDX files and a Fashion-MNIST-like
 * directory "fm"; a '@' in the spec stands for that directory's absolute
 * path. An input holding '/' is skipped, so the fuzzer reads those files
 * and no others, and standard input ("-") is /dev/null. Skipped too: the
 * default Fashion-MNIST directory (a real data set, seconds per input) and
 * synth and synth-sparse specs of more than 2^20 values of work (their cost is bounded by
 * the library, tested in test_data_synth, but far above what keeps the
 * fuzzer fast). What loads is checked: shapes, and a test part that fits
 * the training part.
 */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz_common.h"

/* An IDX image file of n ubyte images of 2x2 and its label file. */
static void write_idx(const char *images, const char *labels, int n, int gz) {
    unsigned char img[16 + 4 * 8], lab[8 + 8];
    const unsigned char ih[16] = {0, 0, 8, 3, 0, 0, 0, (unsigned char)n, 0, 0, 0, 2, 0, 0, 0, 2};
    const unsigned char lh[8] = {0, 0, 8, 1, 0, 0, 0, (unsigned char)n};
    memcpy(img, ih, 16);
    memcpy(lab, lh, 8);
    for (int i = 0; i < 4 * n; i++) img[16 + i] = (unsigned char)(i * 37);
    for (int i = 0; i < n; i++) lab[8 + i] = (unsigned char)(i % 3);
    const size_t in = 16 + 4 * (size_t)n, ln = 8 + (size_t)n;
    if (!gz) {
        fuzz_write(images, 0, img, in);
        fuzz_write(labels, 0, lab, ln);
        return;
    }
    size_t zn;
    unsigned char *z = fuzz_gzip(img, in, &zn);
    fuzz_write(images, 0, z, zn);
    free(z);
    z = fuzz_gzip(lab, ln, &zn);
    fuzz_write(labels, 0, z, zn);
    free(z);
}

/* Copies tests/data/name into the fixture directory. */
static void copy_fixture(const char *name) {
    char from[1024];
    snprintf(from, sizeof from, "%s/%s", FUZZ_DATA_DIR, name);
    FILE *f = fopen(from, "rb");
    if (!f) {
        perror(from);
        abort();
    }
    unsigned char buf[4096];
    const size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    fuzz_write(name, 0, buf, n);
}

static void make_fixtures(void) {
    const char *tsv = "label\ta\tb\ncat\t1\t2\ndog\t3\t4\ncat\t5\t6\n";
    fuzz_write("t.tsv", 0, tsv, strlen(tsv));
    const char *svm = "1 1:0.5 3:2\n-1 2:1\n1 1:1 2:1 # c\n";
    fuzz_write("s.svm", 0, svm, strlen(svm));
    copy_fixture("X_f4.npy");
    copy_fixture("y_pm1.npy");
    copy_fixture("labels379.npz");
    copy_fixture("strings_fortran.npz");
    const char *csv = "0,1.5,2\n1,0.5,-1\n2,3,4\n1,1,1\n";
    fuzz_write("a.csv", 0, csv, strlen(csv));
    const char *hdr = "y,a,b\n0,1,2\n1,2,3\n";
    fuzz_write("h.csv", 0, hdr, strlen(hdr));
    const char *reg = "0.5,1,2\n-1.25,2,3\n3,0,0\n";
    fuzz_write("r.csv", 0, reg, strlen(reg));
    write_idx("i.idx", "l.idx", 6, 0);
    write_idx("i.gz", "l.gz", 6, 1);
    if (mkdir(fuzz_path("fm", 0), 0700) != 0 && errno != EEXIST) abort();
    write_idx("fm/train-images-idx3-ubyte", "fm/train-labels-idx1-ubyte", 8, 0);
    write_idx("fm/t10k-images-idx3-ubyte.gz", "fm/t10k-labels-idx1-ubyte.gz", 3, 1);
}

/* The work of a synth spec, saturating; 0 when it does not parse:
 * N*D*(K+1) for "synth:N,D,K...", N*NNZ*(K+1) for "synth-sparse:N,D,K,NNZ..."
 * (its memory follows N*NNZ too). */
static uint64_t synth_work(const char *spec) {
    const int sparse = strncmp(spec, "synth-sparse:", 13) == 0;
    const char *s = spec + (sparse ? 13 : 6);
    uint64_t v[4], work = 1;
    for (int i = 0; i < 3 + sparse; i++) {
        char *end;
        errno = 0;
        v[i] = strtoull(s, &end, 10);
        if (end == s) return 0;
        if (errno) v[i] = UINT64_MAX;
        s = *end == ',' ? end + 1 : end;
    }
    v[2] += v[2] < UINT64_MAX;
    if (sparse) v[1] = v[3]; /* the width does not cost; the nonzeros do */
    for (int i = 0; i < 3; i++)
        if (__builtin_mul_overflow(work, v[i], &work)) return UINT64_MAX;
    return work;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    static int ready, home = -1;
    if (!ready) {
        make_fixtures();
        home = open(".", O_RDONLY | O_DIRECTORY);
        if (home < 0 || !freopen("/dev/null", "r", stdin)) abort(); /* "-" reads nothing */
        ready = 1;
    }
    if (size > 512 || memchr(data, '/', size) || memchr(data, '\0', size)) return 0;
    char spec[4096];
    const char *dir = fuzz_dir();
    size_t len = 0;
    for (size_t i = 0; i < size; i++) {
        if (data[i] == '@') {
            len += (size_t)snprintf(spec + len, sizeof spec - len, "%s/", dir);
        } else {
            spec[len++] = (char)data[i];
        }
        if (len >= sizeof spec - 300) return 0;
    }
    spec[len] = '\0';
    if (strncmp(spec, "fashion-mnist", 13) == 0) { /* the default directory: a real data set */
        /* "fashion-mnist::storage=f32" too: an empty DIR is the default */
        const char *rest = spec + 13;
        while (*rest == ':') rest++;
        if (!*rest || strncmp(rest, "storage=", 8) == 0) return 0;
    }
    if ((strncmp(spec, "synth:", 6) == 0 || strncmp(spec, "synth-sparse:", 13) == 0) &&
        synth_work(spec) > ((uint64_t)1 << 20))
        return 0;

    gsgd_context *ctx = fuzz_context();
    gsgd_dataset *train = NULL, *test = NULL;
    /* Relative paths name fixtures; libFuzzer's own paths are relative to
     * the directory it started in, so the harness returns there at once. */
    if (chdir(dir) != 0) abort();
    gsgd_status st = gsgd_dataset_load(ctx, spec, &train, &test);
    if (fchdir(home) != 0) abort();
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!train && !test);
    } else {
        size_t n = 0, d = 0, tn = 0, td = 0;
        int k = -1, tk = -1;
        FUZZ_CHECK(gsgd_dataset_shape(train, &n, &d, &k) == GSGD_STATUS_OK);
        FUZZ_CHECK(n >= 1 && d >= 1 && (k == 0 || k >= 2));
        if (test) {
            FUZZ_CHECK(gsgd_dataset_shape(test, &tn, &td, &tk) == GSGD_STATUS_OK);
            FUZZ_CHECK(tn >= 1 && td == d && tk == k);
        }
    }
    gsgd_dataset_free(train);
    gsgd_dataset_free(test);
    fuzz_check_no_leak(ctx);
    return 0;
}
