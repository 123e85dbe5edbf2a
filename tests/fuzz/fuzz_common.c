/* Shared pieces of the libFuzzer harnesses (fuzz_common.h). */
#include "fuzz_common.h"

#include <dirent.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

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
