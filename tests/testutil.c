/* mknod, S_IFCHR and the other file types are XSI. */
#define _XOPEN_SOURCE 700
#include "testutil.h"

#include <criterion/criterion.h>
#include <stdarg.h>

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

char *mkdtemp(char *);

static char tmp_dir[512];
static pid_t tmp_dir_owner;

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw) {
    (void)st, (void)type, (void)ftw;
    remove(path);
    return 0;
}

/* Every test process made its own directory, and tens of thousands were left
 * in /tmp by the suite. Only the process that made it removes it: a forked
 * child that exits must not take its parent's files. A test that crashes
 * keeps its directory, for a look at what it wrote. */
static void remove_tmpdir(void) {
    if (tmp_dir[0] && getpid() == tmp_dir_owner)
        nftw(tmp_dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
}

const char *tu_tmpdir(void) {
    if (!tmp_dir[0]) {
        const char *base = getenv("TMPDIR");
        snprintf(tmp_dir, sizeof tmp_dir, "%s/gsgd-test-XXXXXX", base && *base ? base : "/tmp");
        if (!mkdtemp(tmp_dir)) {
            perror("mkdtemp");
            abort();
        }
        tmp_dir_owner = getpid();
        atexit(remove_tmpdir);
    }
    return tmp_dir;
}

const char *tu_path(const char *name) {
    static char ring[16][768];
    static int next;
    char *p = ring[next++ % 16];
    snprintf(p, sizeof ring[0], "%s/%s", tu_tmpdir(), name);
    return p;
}

int tu_write_file(const char *path, const void *data, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    size_t w = len ? fwrite(data, 1, len, f) : 0;
    return (fclose(f) == 0 && w == len) ? 0 : -1;
}

size_t tu_idx_header(uint8_t *buf, uint8_t type, int ndims, const uint32_t *dims) {
    size_t k = 0;
    buf[k++] = 0;
    buf[k++] = 0;
    buf[k++] = type;
    buf[k++] = (uint8_t)ndims;
    for (int i = 0; i < ndims; i++)
        for (int shift = 24; shift >= 0; shift -= 8) buf[k++] = (uint8_t)(dims[i] >> shift);
    return k;
}

int tu_write_idx(const char *path, uint8_t type, int ndims, const uint32_t *dims,
                 const void *payload, size_t len) {
    uint8_t header[4 + 4 * 255];
    const size_t h = tu_idx_header(header, type, ndims, dims);
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    const int ok = fwrite(header, 1, h, f) == h && (!len || fwrite(payload, 1, len, f) == len);
    return fclose(f) == 0 && ok ? 0 : -1;
}

int tu_write_text(const char *path, const char *text) {
    return tu_write_file(path, text, strlen(text));
}

int tu_write_gzip(const char *path, const void *data, size_t len) {
    gzFile g = gzopen(path, "wb");
    if (!g) return -1;
    int w = len ? gzwrite(g, data, (unsigned)len) : 0;
    return (gzclose(g) == Z_OK && (size_t)w == len) ? 0 : -1;
}

unsigned char *tu_npy(const char *descr, int fortran, const char *shape, const void *data,
                      size_t len, size_t *n) {
    char dict[256];
    int h = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': %s, 'shape': %s, }",
                     descr, fortran ? "True" : "False", shape);
    /* numpy pads the header with blanks and a newline to a multiple of 64. */
    size_t total = 10 + (size_t)h + 1;
    size_t padded = (total + 63) / 64 * 64;
    unsigned char *b = malloc(padded + len + 1);
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    const size_t hlen = padded - 10;
    b[8] = (unsigned char)(hlen & 0xFF);
    b[9] = (unsigned char)(hlen >> 8);
    memcpy(b + 10, dict, (size_t)h);
    memset(b + 10 + h, ' ', hlen - (size_t)h - 1);
    b[padded - 1] = '\n';
    if (len) memcpy(b + padded, data, len);
    *n = padded + len;
    return b;
}

static void put16(FILE *f, unsigned v) {
    fputc((int)(v & 0xFF), f);
    fputc((int)(v >> 8 & 0xFF), f);
}
static void put32(FILE *f, unsigned long v) {
    put16(f, (unsigned)(v & 0xFFFF));
    put16(f, (unsigned)(v >> 16 & 0xFFFF));
}

int tu_write_zip(const char *path, int count, const char *const *names,
                 const unsigned char *const *data, const size_t *lens, int compress) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    unsigned long offsets[16], crcs[16], csizes[16];
    unsigned char *packed[16];
    for (int k = 0; k < count && k < 16; k++) {
        crcs[k] = crc32(0L, data[k], (uInt)lens[k]);
        if (compress) {
            z_stream zs;
            memset(&zs, 0, sizeof zs);
            deflateInit2(&zs, Z_DEFAULT_COMPRESSION, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY);
            const uLong cap = deflateBound(&zs, (uLong)lens[k]);
            packed[k] = malloc(cap);
            zs.next_in = (unsigned char *)(uintptr_t)data[k];
            zs.avail_in = (uInt)lens[k];
            zs.next_out = packed[k];
            zs.avail_out = (uInt)cap;
            deflate(&zs, Z_FINISH);
            csizes[k] = zs.total_out;
            deflateEnd(&zs);
        } else {
            packed[k] = malloc(lens[k] + 1);
            memcpy(packed[k], data[k], lens[k]);
            csizes[k] = lens[k];
        }
        offsets[k] = (unsigned long)ftell(f);
        put32(f, 0x04034b50);
        put16(f, 20);
        put16(f, 0);
        put16(f, compress ? 8 : 0);
        put16(f, 0);
        put16(f, 0x21);
        put32(f, crcs[k]);
        put32(f, csizes[k]);
        put32(f, lens[k]);
        put16(f, (unsigned)strlen(names[k]));
        put16(f, 0);
        fwrite(names[k], 1, strlen(names[k]), f);
        fwrite(packed[k], 1, csizes[k], f);
    }
    const unsigned long cd = (unsigned long)ftell(f);
    for (int k = 0; k < count && k < 16; k++) {
        put32(f, 0x02014b50);
        put16(f, 20);
        put16(f, 20);
        put16(f, 0);
        put16(f, compress ? 8 : 0);
        put16(f, 0);
        put16(f, 0x21);
        put32(f, crcs[k]);
        put32(f, csizes[k]);
        put32(f, lens[k]);
        put16(f, (unsigned)strlen(names[k]));
        put16(f, 0);
        put16(f, 0);
        put16(f, 0);
        put16(f, 0);
        put32(f, 0);
        put32(f, offsets[k]);
        fwrite(names[k], 1, strlen(names[k]), f);
        free(packed[k]);
    }
    const unsigned long cd_size = (unsigned long)ftell(f) - cd;
    put32(f, 0x06054b50);
    put16(f, 0);
    put16(f, 0);
    put16(f, (unsigned)count);
    put16(f, (unsigned)count);
    put32(f, cd_size);
    put32(f, cd);
    put16(f, 0);
    return fclose(f) == 0 ? 0 : -1;
}

int tu_run(const char *cmd, char *out, size_t size) {
    char full[4096];
    snprintf(full, sizeof full, "%s 2>&1", cmd);
    FILE *p = popen(full, "r");
    if (!p) return -1;
    size_t n = 0;
    if (out && size) {
        n = fread(out, 1, size - 1, p);
        out[n] = '\0';
    }
    char sink[4096];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_exists(const char *path) {
    struct stat sb;
    return stat(path, &sb) == 0;
}

const char *tu_device_node(void) {
    if (geteuid() != 0) return "/dev/full";
    const char *node = tu_path("device-node");
    if (tu_file_type(node) == S_IFCHR) return node;
    /* The same device as /dev/full (1, 7). */
    return mknod(node, S_IFCHR | 0600, makedev(1, 7)) == 0 ? node : NULL;
}

unsigned tu_file_type(const char *path) {
    struct stat sb;
    return lstat(path, &sb) == 0 ? (unsigned)(sb.st_mode & S_IFMT) : 0u;
}

int tu_count_entries(const char *dir, const char *part) {
    DIR *d = opendir(dir);
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0 &&
             strstr(e->d_name, part) != NULL;
    if (d) closedir(d);
    return n;
}

int tu_gsgd_full_disk(char *out, size_t size, const char *dir, const char *args) {
    char cmd[4096];
    mkdir(dir, 0700);
    /* unshare -r maps the user to root in a new user namespace, where -m's
     * mount namespace lets it mount a tmpfs that vanishes with it; dd fills
     * it, so gsgd's first write meets ENOSPC. The marker line tells a run
     * from a failure to set one up. */
    snprintf(cmd, sizeof cmd,
             "unshare -rm sh -c 'mount -t tmpfs -o size=32k tmpfs \"%s\" && cd \"%s\" || exit "
             "99; echo old >keep && dd if=/dev/zero of=fill bs=4096 >/dev/null 2>&1; \"%s\" %s; "
             "rc=$?; echo \"-- keep: $(cat keep)\"; echo \"-- dir:\"; ls -A; exit $rc'",
             dir, dir, GSGD_CLI_PATH, args);
    int rc = tu_run(cmd, out, size);
    return out && strstr(out, "-- dir:") ? rc : -2;
}

double tu_softmax_sgd_order_bound(int G, int T, double lr, int d) {
    const double u = 0x1p-24, gamma = G * u / (1 - G * u), L = (d + 1) / 2.0;
    return 2.0 * 2.0 * gamma * (pow(1.0 + lr * L, T) - 1.0) / L;
}

int tu_gsgd(char *out, size_t size, const char *fmt, ...) {
    char args[2048], cmd[3072];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(cmd, sizeof cmd, "'%s' %s", GSGD_CLI_PATH, args);
    return tu_run(cmd, out, size);
}

int tu_count_lines(const char *s) {
    int n = 0;
    for (; *s; s++) n += *s == '\n';
    return n;
}

char *tu_read_text(const char *path) {
    static char buf[65536];
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* ---- a JSON checker: objects, arrays, strings, numbers, null ------------ */

static const char *json_value(const char *p);

static const char *json_ws(const char *p) {
    while (*p && strchr(" \t\r\n", *p)) p++;
    return p;
}

static const char *json_string(const char *p) {
    if (*p++ != '"') return NULL;
    for (; *p && *p != '"'; p++) {
        if ((unsigned char)*p < 0x20) return NULL;
        if (*p == '\\' && !*++p) return NULL;
    }
    return *p == '"' ? p + 1 : NULL;
}

/* Members (object) or elements (array) up to the closing bracket. */
static const char *json_sequence(const char *p, char close, int keyed) {
    p = json_ws(p + 1);
    if (*p == close) return p + 1;
    for (;;) {
        if (keyed) {
            if (!(p = json_string(p))) return NULL;
            p = json_ws(p);
            if (*p++ != ':') return NULL;
        }
        if (!(p = json_value(json_ws(p)))) return NULL;
        p = json_ws(p);
        if (*p == close) return p + 1;
        if (*p++ != ',') return NULL;
        p = json_ws(p);
    }
}

static const char *json_value(const char *p) {
    if (*p == '{') return json_sequence(p, '}', 1);
    if (*p == '[') return json_sequence(p, ']', 0);
    if (*p == '"') return json_string(p);
    if (strncmp(p, "null", 4) == 0) return p + 4;
    if (*p != '-' && !isdigit((unsigned char)*p)) return NULL;
    char *end;
    strtod(p, &end);
    return end > p ? end : NULL;
}

double tu_json_number(const char *json, const char *key) {
    char pat[128];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(json, pat);
    cr_assert_not_null(p, "key %s missing in %s", key, json);
    char *end;
    double v = strtod(p + strlen(pat), &end);
    cr_assert(end > p + strlen(pat), "key %s is not a number in %s", key, json);
    return v;
}

int tu_json_valid(const char *s) {
    const char *p = json_ws(s);
    return *p == '{' && (p = json_value(p)) && *json_ws(p) == '\0';
}

void tu_fixture_start(tu_fixture *f, const char *data, const char *spec, uint64_t seed) {
    memset(f, 0, sizeof *f);
    cr_assert_eq(gsgd_context_create(&f->ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load(f->ctx, data, &f->train, &f->test), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(f->ctx));
    size_t d;
    int k;
    gsgd_dataset_shape(f->train, NULL, &d, &k);
    cr_assert_eq(gsgd_model_create(f->ctx, spec, d, k, seed, &f->model), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(f->ctx));
    cr_assert_eq(gsgd_options_create(&f->opts), GSGD_STATUS_OK);
}

void tu_fixture_finish(tu_fixture *f) {
    gsgd_trainer_free(f->tr);
    gsgd_options_free(f->opts);
    gsgd_model_free(f->model);
    gsgd_dataset_free(f->train);
    gsgd_dataset_free(f->test);
    size_t in_use;
    gsgd_context_memory(f->ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "every backend buffer was released");
    gsgd_context_free(f->ctx);
}

unsigned char *tu_read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    *n = (size_t)ftell(f);
    rewind(f);
    unsigned char *b = malloc(*n ? *n : 1);
    cr_assert(b && fread(b, 1, *n, f) == *n);
    fclose(f);
    return b;
}

/* splitmix64: the tables' random numbers, the same on every platform. */
static uint64_t mix_next(uint64_t *s) {
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

/* About N(0, 1): the sum of 12 uniforms less 6. */
static double mix_normal(uint64_t *s) {
    double sum = 0;
    for (int i = 0; i < 12; i++) sum += (double)(mix_next(s) >> 11) * 0x1p-53;
    return sum - 6.0;
}

/* The delimiter before every field of a line but its first. */
static void field_sep(FILE *f, int *first, char delim) {
    if (!*first) fputc(delim, f);
    *first = 0;
}

int tu_write_table(const char *path, size_t n, int d, int k, const char *const *names, int col,
                   const char *target_name, int header, char delim, uint64_t seed) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    int first = 1;
    for (int j = 0; header && j <= d; j++) {
        if (j == col) field_sep(f, &first, delim), fputs(target_name, f);
        if (j < d) field_sep(f, &first, delim), fprintf(f, "f%d", j);
    }
    if (header) fputc('\n', f);
    uint64_t s = seed;
    double *x = malloc((size_t)d * sizeof *x);
    for (size_t i = 0; i < n && x; i++) {
        const int c = k > 0 ? (int)(mix_next(&s) % (uint64_t)k) : 0;
        /* Classes: a centre 2.5 out on feature c % d; features of growing
         * scale, which --standardize evens out. */
        for (int j = 0; j < d; j++)
            x[j] = (mix_normal(&s) + (k > 0 && j == c % d ? 2.5 : 0.0)) * (1.0 + j);
        const double y = 3.0 * x[0] - (d > 1 ? 2.0 * x[1] : 0.0) + (d > 2 ? x[2] / 6.0 : 0.0) +
                         10.0 + 0.1 * mix_normal(&s);
        first = 1;
        for (int j = 0; j <= d; j++) {
            if (j == col && k > 0) field_sep(f, &first, delim), fputs(names[c], f);
            if (j == col && k == 0) field_sep(f, &first, delim), fprintf(f, "%.9g", y);
            if (j < d) field_sep(f, &first, delim), fprintf(f, "%.9g", x[j]);
        }
        fputc('\n', f);
    }
    int failed = !x || ferror(f);
    free(x);
    return fclose(f) != 0 || failed ? -1 : 0;
}
