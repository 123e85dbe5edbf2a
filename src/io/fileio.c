/* Whole-file binary I/O (see fileio.h). */
#include "io/fileio.h"
#include "io/outpath.h"
#include "core/error.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

int gsgdi_bytes_put(gsgdi_bytes *b, const void *p, size_t n) {
    if (n > b->cap - b->len) return -1;
    memcpy(b->buf + b->len, p, n);
    b->len += n;
    return 0;
}

void gsgdi_bytes_put_crc(gsgdi_bytes *b) {
    uint32_t crc = (uint32_t)crc32_z(0L, b->buf, b->len);
    gsgdi_bytes_put(b, &crc, 4);
}

int gsgdi_crc_ok(const unsigned char *data, size_t len) {
    if (len < 4) return 0;
    uint32_t stored;
    memcpy(&stored, data + len - 4, 4);
    return stored == (uint32_t)crc32_z(0L, data, len - 4);
}

/* Opens "<path>.tmp" and holds an exclusive flock on it. A waiter may wake
 * holding the lock of a file that the previous holder has meanwhile renamed
 * over path: it then checks that its descriptor is still the file named
 * tmp, and starts over if not. Returns the descriptor or -1 (errno set). */
static int open_locked_temp(const char *tmp) {
    for (;;) {
        int fd = open(tmp, O_WRONLY | O_CREAT | O_CLOEXEC, 0666);
        if (fd < 0) return -1;
        int rc;
        do rc = flock(fd, LOCK_EX);
        while (rc != 0 && errno == EINTR);
        /* A file system without locks still gets the atomic rename. */
        if (rc != 0 && errno != ENOLCK && errno != EOPNOTSUPP) {
            int e = errno;
            close(fd);
            errno = e;
            return -1;
        }
        struct stat held, named;
        if (fstat(fd, &held) == 0 && stat(tmp, &named) == 0 && held.st_dev == named.st_dev &&
            held.st_ino == named.st_ino)
            return fd;
        close(fd);
    }
}

static int write_all(int fd, const unsigned char *p, size_t len) {
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(fd, p + done, len - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        done += (size_t)w;
    }
    return 0;
}

/* The status of a failure (errno e) to write path: the caller's path
 * (IO, bad input) or the system at the time (WRITE_FAILED). */
static gsgd_status write_status(int e, int creating) {
    if (e == ENOMEM) return GSGD_STATUS_OUT_OF_MEMORY;
    return creating && gsgdi_output_path_fault(e) ? GSGD_STATUS_IO : GSGD_STATUS_WRITE_FAILED;
}

/* fsync of the directory makes the rename itself durable. Failure is
 * ignored: some file systems refuse fsync on directories. */
static void sync_dir(const char *target) {
    char *dir_copy = strdup(target);
    if (!dir_copy) return;
    int dfd = open(dirname(dir_copy), O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir_copy);
}

gsgd_status gsgdi_write_atomically(gsgd_context *ctx, const char *path, const void *data,
                                   size_t len) {
    char *target = NULL, why[96];
    mode_t mode = 0;
    int r = gsgdi_output_target(path, &target, &mode, why, sizeof why);
    GSGD_RETURN_ERROR_IF(r > 0, ctx, GSGD_STATUS_IO,
                         "save: %s is %s; gsgd writes a regular file or a new path", path, why);
    GSGD_RETURN_ERROR_IF(r < 0, ctx, write_status(errno, 1), "save: %s: %s", path, strerror(errno));
    /* A link is followed: its target is replaced, from its own directory. */
    const int linked = strcmp(target, path) != 0;
    const char *arrow = linked ? " -> " : "", *shown = linked ? target : "";
    const size_t tlen = strlen(target);
    char *tmp = malloc(tlen + 5);
    if (!tmp) {
        free(target);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "save: out of memory");
    }
    memcpy(tmp, target, tlen);
    memcpy(tmp + tlen, ".tmp", 5);
    gsgd_status st = GSGD_STATUS_OK;
    int fd = open_locked_temp(tmp);
    if (fd < 0) {
        st = GSGD_ERROR(ctx, write_status(errno, 1), "save: %s%s%s: cannot create %s: %s", path,
                        arrow, shown, tmp, strerror(errno));
        goto done;
    }
    /* The temporary may be a stale one of a killed save: truncate first.
     * A file replaced keeps its permissions. */
    int ok = ftruncate(fd, 0) == 0 && (!mode || fchmod(fd, mode) == 0) &&
             write_all(fd, data, len) == 0 && fsync(fd) == 0 && rename(tmp, target) == 0;
    if (!ok) {
        st = GSGD_ERROR(ctx, write_status(errno, 0),
                        "save: %s%s%s: writing failed: %s; the file is left as it was", path, arrow,
                        shown, strerror(errno));
        unlink(tmp); /* still under the lock: no other save is using it */
    }
    close(fd); /* after the rename: releases the lock to the next save */
    if (ok) sync_dir(target);
done:
    free(tmp);
    free(target);
    return st;
}

uint64_t gsgdi_size_mad(uint64_t a, uint64_t b, uint64_t c) {
    uint64_t ab, r;
    if (__builtin_mul_overflow(a, b, &ab) || __builtin_add_overflow(ab, c, &r)) return UINT64_MAX;
    return r;
}

int gsgdi_file_read_at(FILE *f, uint64_t off, void *buf, size_t n) {
    if (off > (uint64_t)INT64_MAX) return -1;
    size_t done = 0;
    while (done < n) {
        const ssize_t r = pread(fileno(f), (char *)buf + done, n - done, (off_t)(off + done));
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) return -1;
        done += (size_t)r;
    }
    return 0;
}

unsigned gsgdi_model_tail(const gsgd_model *m) {
    return (m->feature_names ? GSGDI_TAIL_NAMES : 0u) |
           (m->target_name[0] ? GSGDI_TAIL_TARGET : 0u) |
           (m->labels_given && m->labels ? GSGDI_TAIL_LABELS : 0u);
}

size_t gsgdi_model_tail_bytes(const gsgd_model *m, unsigned tail) {
    return ((tail & GSGDI_TAIL_NAMES) ? gsgdi_names_image_bytes(m->feature_names) : 0) +
           ((tail & GSGDI_TAIL_TARGET) ? GSGD_TARGET_NAME_LEN : 0) +
           ((tail & GSGDI_TAIL_LABELS) ? gsgdi_labels_image_bytes(m->labels) : 0);
}

void gsgdi_model_tail_put(gsgdi_bytes *b, const gsgd_model *m, unsigned tail) {
    if (tail & GSGDI_TAIL_NAMES) {
        gsgdi_names_image_write(m->feature_names, b->buf + b->len);
        b->len += gsgdi_names_image_bytes(m->feature_names);
    }
    if (tail & GSGDI_TAIL_TARGET) { /* NUL-padded: the file never holds stack garbage */
        char name[GSGD_TARGET_NAME_LEN] = {0};
        memcpy(name, m->target_name, strlen(m->target_name));
        gsgdi_bytes_put(b, name, sizeof name);
    }
    if (tail & GSGDI_TAIL_LABELS) {
        gsgdi_labels_image_write(m->labels, b->buf + b->len);
        b->len += gsgdi_labels_image_bytes(m->labels);
    }
}

gsgd_status gsgdi_file_names_end(gsgd_context *ctx, const char *path, FILE *f, uint64_t at,
                                 uint64_t *end) {
    uint64_t bytes = 0;
    GSGD_RETURN_ERROR_IF(gsgdi_file_read_at(f, at, &bytes, 8) != 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: no feature names at byte %llu, where its header puts them "
                         "(corrupt, or not a gsgd file)",
                         path, (unsigned long long)at);
    *end = gsgdi_size_mad(1, gsgdi_size_mad(1, at, 8), bytes);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_names_image_span(gsgd_context *ctx, const char *path, const unsigned char *p,
                                   size_t len, size_t n, size_t *bytes) {
    char what[300];
    snprintf(what, sizeof what, "load: %s", path);
    return gsgdi_names_image_check(ctx, what, p, len, n, bytes);
}

gsgd_status gsgdi_file_target_name(gsgd_context *ctx, const char *path, const unsigned char *p,
                                   char *name) {
    GSGD_RETURN_ERROR_IF(p[GSGD_TARGET_NAME_LEN - 1] != '\0' || p[0] == '\0', ctx,
                         GSGD_STATUS_BAD_FORMAT, "load: %s: malformed target column name", path);
    memcpy(name, p, GSGD_TARGET_NAME_LEN);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_file_label_map_end(gsgd_context *ctx, const char *path, FILE *f, uint64_t at,
                                     uint64_t *end) {
    unsigned char head[16];
    uint64_t bytes = 0;
    GSGD_RETURN_ERROR_IF(gsgdi_file_read_at(f, at, head, sizeof head) != 0 ||
                             !gsgdi_labels_image_size(head, sizeof head, &bytes),
                         ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: no label map at byte %llu, where its header puts one "
                         "(corrupt, or not a gsgd file)",
                         path, (unsigned long long)at);
    *end = gsgdi_size_mad(1, at, bytes);
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_read_whole_file(gsgd_context *ctx, const char *path, gsgdi_file_size_fn size_of,
                                  unsigned char **data, size_t *len) {
    *data = NULL;
    FILE *f = fopen(path, "rb");
    GSGD_RETURN_ERROR_IF(!f, ctx, GSGD_STATUS_IO, "load: %s: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fileno(f), &sb) != 0 || !S_ISREG(sb.st_mode)) {
        fclose(f);
        return GSGD_ERROR(ctx, GSGD_STATUS_IO, "load: %s: not a regular file", path);
    }
    const uint64_t size = (uint64_t)sb.st_size;
    if (size > GSGD_FILE_READ_UNCHECKED) {
        unsigned char head[GSGD_FILE_HEAD];
        const size_t n = fread(head, 1, sizeof head, f);
        uint64_t want = 0;
        gsgd_status st = n == sizeof head
                             ? size_of(ctx, path, f, head, n, &want)
                             : GSGD_ERROR(ctx, GSGD_STATUS_IO, "load: %s: short read", path);
        if (st == GSGD_STATUS_OK && want != size)
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                            "load: %s: %llu bytes, but its header describes a file of %llu "
                            "(corrupt, or not a gsgd file)",
                            path, (unsigned long long)size, (unsigned long long)want);
        if (st != GSGD_STATUS_OK || fseek(f, 0, SEEK_SET) != 0) {
            fclose(f);
            return st != GSGD_STATUS_OK
                       ? st
                       : GSGD_ERROR(ctx, GSGD_STATUS_IO, "load: %s: %s", path, strerror(errno));
        }
    }
    if (size > SIZE_MAX - 1) {
        fclose(f);
        return GSGD_ERROR(ctx, GSGD_STATUS_TOO_LARGE, "load: %s: %llu bytes do not fit in memory",
                          path, (unsigned long long)size);
    }
    *len = (size_t)size;
    *data = malloc(*len ? *len : 1);
    if (!*data) {
        fclose(f);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "load: %s: cannot allocate %zu bytes",
                          path, *len);
    }
    size_t got = fread(*data, 1, *len, f);
    fclose(f);
    if (got != *len) {
        free(*data);
        *data = NULL;
        return GSGD_ERROR(ctx, GSGD_STATUS_IO, "load: %s: short read", path);
    }
    return GSGD_STATUS_OK;
}
