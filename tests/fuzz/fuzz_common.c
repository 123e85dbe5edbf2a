/* Shared pieces of the libFuzzer harnesses (fuzz_common.h). */
#include "fuzz_common.h"

#include <dirent.h>
#include <math.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/loaders.h"

static char fuzz_dir_path[256];

/* Removes the files of the private directory, then the directory. */
static void fuzz_cleanup(void) {
    if (!fuzz_dir_path[0]) return;
    DIR *d = opendir(fuzz_dir_path);
    if (d) {
        struct dirent *e;
        char p[512];
        while ((e = readdir(d)) != NULL) {
            if (e->d_name[0] == '.') continue;
            snprintf(p, sizeof p, "%s/%s", fuzz_dir_path, e->d_name);
            if (unlink(p) != 0) { /* a directory of fixtures: one level */
                DIR *sub = opendir(p);
                struct dirent *f;
                char q[768];
                while (sub && (f = readdir(sub)) != NULL)
                    if (f->d_name[0] != '.') {
                        snprintf(q, sizeof q, "%s/%s", p, f->d_name);
                        unlink(q);
                    }
                if (sub) closedir(sub);
                rmdir(p);
            }
        }
        closedir(d);
    }
    rmdir(fuzz_dir_path);
}

/* The harness's private directory, created on first use. */
const char *fuzz_dir(void) {
    if (!fuzz_dir_path[0]) {
        struct stat sb;
        const char *base = stat("/dev/shm", &sb) == 0 && S_ISDIR(sb.st_mode) ? "/dev/shm" : "/tmp";
        snprintf(fuzz_dir_path, sizeof fuzz_dir_path, "%s/gsgd-fuzz.XXXXXX", base);
        if (!mkdtemp(fuzz_dir_path)) {
            perror("fuzz: mkdtemp");
            abort();
        }
        atexit(fuzz_cleanup);
    }
    return fuzz_dir_path;
}

/* The path of name in the private directory (a static buffer per slot). */
const char *fuzz_path(const char *name, int slot) {
    static char paths[4][512];
    snprintf(paths[slot], sizeof paths[slot], "%s/%s", fuzz_dir(), name);
    return paths[slot];
}

/* Writes size bytes to name in the private directory; returns its path. */
const char *fuzz_write(const char *name, int slot, const void *data, size_t size) {
    const char *p = fuzz_path(name, slot);
    FILE *f = fopen(p, "wb");
    if (!f || (size && fwrite(data, 1, size, f) != size) || fclose(f) != 0) {
        perror("fuzz: write");
        abort();
    }
    return p;
}

/* gzip-compresses [data, data + size) into a malloc'd buffer. */
unsigned char *fuzz_gzip(const unsigned char *data, size_t size, size_t *out_size) {
    z_stream z;
    memset(&z, 0, sizeof z);
    if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) abort();
    size_t cap = deflateBound(&z, (uLong)size) + 32;
    unsigned char *out = malloc(cap);
    if (!out) abort();
    z.next_in = (Bytef *)(uintptr_t)data;
    z.avail_in = (uInt)size;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    *out_size = z.total_out;
    deflateEnd(&z);
    return out;
}

/* The shared CPU context, quiet and memory-capped. */
gsgd_context *fuzz_context(void) {
    static gsgd_context *ctx;
    if (!ctx) {
        if (gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0) != GSGD_STATUS_OK) abort();
        gsgd_context_set_mem_limit(ctx, FUZZ_MEM_LIMIT);
    }
    return ctx;
}

/* Every status a reader may return is one of the documented values, and a
 * failure leaves a message naming what went wrong. */
void fuzz_check_failure(gsgd_context *ctx, gsgd_status st) {
    FUZZ_CHECK(strcmp(gsgd_status_name(st), "UNKNOWN") != 0);
    FUZZ_CHECK(st == GSGD_STATUS_OK || gsgd_last_error(ctx)[0] != '\0');
}

/* No gsgd memory outlives an input: what one input allocated and did not
 * free would accumulate until the cap refused everything. */
void fuzz_check_no_leak(gsgd_context *ctx) {
    size_t in_use = 1;
    gsgd_context_memory(ctx, &in_use, NULL);
    FUZZ_CHECK(in_use == 0);
}

/* The CRC32 that model files and checkpoints end with, put right, so that
 * mutations reach the checks behind it; byte 0 of the harness's input
 * says whether to (most inputs) or to leave the mutated CRC as it is. */
void fuzz_fix_crc(unsigned char *p, size_t len) {
    if (len < 4) return;
    uint32_t crc = (uint32_t)crc32_z(0L, p, len - 4);
    memcpy(p + len - 4, &crc, 4);
}

/* Row i's raw target names the label of class k. */
static int raw_names_class(const gsgdi_raw_targets *t, size_t i, const gsgdi_labels *l, int k) {
    if (t->num) {
        const double v = t->num[i];
        return v == floor(v) && fabs(v) < 9.0e18 && gsgdi_labels_find_value(l, (int64_t)v) == k;
    }
    return gsgdi_labels_find_text(l, t->pool + t->off[i]) == k;
}

void fuzz_check_host_data(gsgd_context *ctx, void *hp, void *tp, int real) {
    gsgdi_host_data *h = hp;
    gsgdi_raw_targets *t = tp;
    const gsgdi_target_rules rules = {.real = real};
    gsgd_status st = gsgdi_targets_finish(ctx, t->n ? t : NULL, &rules, h);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!h->y && !h->meta.labels && h->n_classes == 0); /* nothing half-made */
        gsgdi_raw_targets_free(t);
        gsgdi_host_data_free(h);
        return;
    }
    FUZZ_CHECK(h->n >= 1 && h->d >= 1 && h->y && !h->X + !h->X8 + !h->indptr == 2);
    if (h->X)
        for (size_t i = 0; i < h->n * h->d; i++) FUZZ_CHECK(isfinite(h->X[i]));
    if (h->indptr) { /* CSR: rows in order, columns in range, values finite (scipy's
                        files may hold a row's columns unsorted) */
        FUZZ_CHECK(h->indptr[0] == 0 && (size_t)h->indptr[h->n] == h->nnz);
        for (size_t i = 0; i < h->n; i++) {
            FUZZ_CHECK(h->indptr[i] <= h->indptr[i + 1]);
            for (int64_t k = h->indptr[i]; k < h->indptr[i + 1]; k++)
                FUZZ_CHECK(h->indices[k] >= 0 && (size_t)h->indices[k] < h->d &&
                           isfinite(h->values[k]));
        }
    }
    const gsgdi_labels *l = h->meta.labels;
    if (!t->n) {
        FUZZ_CHECK(h->meta.no_targets && h->n_classes == 0 && !l);
        for (size_t i = 0; i < h->n; i++) FUZZ_CHECK(h->y[i] == 0);
    } else if (real) {
        FUZZ_CHECK(h->n_classes == 0 && !l && h->meta.target_min <= h->meta.target_max);
        for (size_t i = 0; i < h->n; i++)
            FUZZ_CHECK(isfinite(h->y[i]) && h->y[i] >= (float)h->meta.target_min &&
                       h->y[i] <= (float)h->meta.target_max);
    } else {
        const int K = h->n_classes;
        FUZZ_CHECK(K >= 2 && K <= 65536 && l && l->n == K && t->n == h->n);
        for (int k = 1; k < K; k++)
            FUZZ_CHECK(l->numeric ? l->values[k - 1] < l->values[k]
                                  : strcmp(l->text[k - 1], l->text[k]) < 0);
        for (int k = 0; k < K; k++) FUZZ_CHECK(strlen(l->text[k]) <= GSGD_MAX_LABEL_TEXT);
        char *seen = calloc((size_t)K, 1);
        FUZZ_CHECK(seen != NULL);
        for (size_t i = 0; i < h->n; i++) {
            const float y = h->y[i];
            FUZZ_CHECK(y >= 0 && y < (float)K && y == floorf(y));
            seen[(int)y] = 1;
            FUZZ_CHECK(raw_names_class(t, i, l, (int)y));
        }
        for (int k = 0; k < K; k++) FUZZ_CHECK(seen[k]); /* a new map holds what was found */
        free(seen);
    }
    gsgdi_raw_targets_free(t);
    gsgd_dataset *ds = NULL;
    st = gsgdi_dataset_from_host_data(ctx, h, &ds);
    fuzz_check_failure(ctx, st);
    gsgd_dataset_free(ds);
    gsgdi_host_data_free(h);
    fuzz_check_no_leak(ctx);
}
