/* A source's bytes for the readers: a plain file is mapped (read in place,
 * never copied whole), a gzip-compressed one or standard input is read
 * into memory, growing with what arrives up to GSGD_MAX_INPUT_BYTES, or,
 * for a reader that takes its input in pieces (svmlight), streamed. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "data/loaders.h"

#define READ_CHUNK ((size_t)1 << 20)

static const char *display(const char *path) { return strcmp(path, "-") == 0 ? "stdin" : path; }

gsgd_status gsgdi_stdin_refused(gsgd_context *ctx, gsgd_data_format f) {
    return GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                      "stdin: %s data cannot be read from standard input (CSV and svmlight "
                      "can); give its path",
                      gsgdi_format_name(f));
}

gsgd_status gsgdi_text_no_nul(gsgd_context *ctx, const char *what, const char *kind, const void *p,
                              size_t len, size_t lines_before) {
    const unsigned char *s = p, *nul = memchr(s, '\0', len);
    if (!nul) return GSGD_STATUS_OK;
    /* Lines end as the CSV reader ends them: \n, \r\n or \r. */
    size_t line = lines_before + 1, start = 0;
    for (size_t i = 0; s + i < nul; i++)
        if (s[i] == '\n' || (s[i] == '\r' && s[i + 1] != '\n')) { /* s[i + 1]: at most the NUL */
            line++;
            start = i + 1;
        }
    return GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                      "%s: line %zu, column %zu: a NUL byte; the file is binary or UTF-16, not %s "
                      "text",
                      what, line, (size_t)(nul - s) - start + 1, kind);
}

/* What a text stream must be, checked chunk by chunk as it is read. */
typedef struct {
    const char *kind;  /* NULL: not text, nothing checked */
    size_t line_start; /* offset just past the last line end seen */
} text_watch;

/* Checks the bytes [from, len) just read of buf under w. */
static gsgd_status watch_text(gsgd_context *ctx, const char *path, text_watch *w,
                              const unsigned char *buf, size_t from, size_t len) {
    if (!w->kind) return GSGD_STATUS_OK;
    if (from == 0 && strcmp(path, "-") == 0) {
        const gsgd_data_format f = gsgdi_detect_format(NULL, buf, len < 4096 ? len : 4096);
        if (f != GSGD_FORMAT_CSV && f != GSGD_FORMAT_SVMLIGHT) return gsgdi_stdin_refused(ctx, f);
    }
    if (memchr(buf + from, '\0', len - from))
        return gsgdi_text_no_nul(ctx, display(path), w->kind, buf, len, 0);
    for (size_t i = len; i > from; i--)
        if (buf[i - 1] == '\n' || buf[i - 1] == '\r') {
            w->line_start = i;
            break;
        }
    /* A chunk is far shorter than a line may be: only a line that has
     * gone on over many chunks can be too long. */
    GSGD_RETURN_ERROR_IF(len - w->line_start > GSGD_MAX_LINE_BYTES, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: a line longer than %zu MiB (a binary file, or no line breaks?); %s "
                         "rows are lines",
                         display(path), GSGD_MAX_LINE_BYTES >> 20, w->kind);
    return GSGD_STATUS_OK;
}

/* The status of a failed gzread: IO for the system's error, BAD_FORMAT for
 * corrupt gzip data. */
static gsgd_status read_error(gsgd_context *ctx, const char *path, gzFile gz) {
    int zerr = 0;
    const char *msg = gzerror(gz, &zerr);
    const char *sep = strncmp(msg, "<fd:", 4) == 0 ? strstr(msg, ": ") : NULL;
    if (sep) msg = sep + 2;
    return zerr == Z_ERRNO ? GSGD_ERROR(ctx, GSGD_STATUS_IO, "%s: read failed: %s", display(path),
                                        strerror(errno))
                           : GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "%s: corrupt gzip data: %s",
                                        display(path), msg);
}

/* Reads everything gz gives (plain bytes pass through zlib unchanged). */
static gsgd_status read_all(gsgd_context *ctx, const char *path, gzFile gz, text_watch *w,
                            gsgdi_input *in) {
    size_t cap = 0, len = 0;
    unsigned char *buf = NULL;
    gsgd_status st = GSGD_STATUS_OK;
    for (;;) {
        if (cap - len < READ_CHUNK) {
            GSGD_CHECK_GOTO(st,
                            (uint64_t)cap >= GSGD_MAX_INPUT_BYTES
                                ? GSGD_ERROR(ctx, GSGD_STATUS_TOO_LARGE,
                                             "%s: more than 2^36 bytes of input; split the file",
                                             display(path))
                                : GSGD_STATUS_OK,
                            fail);
            const size_t ncap = cap ? 2 * cap : 4 * READ_CHUNK;
            unsigned char *nb = realloc(buf, ncap);
            if (!nb) {
                st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY,
                                "%s: cannot allocate %zu bytes for the input", display(path), ncap);
                goto fail;
            }
            buf = nb;
            cap = ncap;
        }
        const int r = gzread(gz, buf + len, (unsigned)READ_CHUNK);
        if (r < 0) {
            st = read_error(ctx, path, gz);
            goto fail;
        }
        if (r == 0) break;
        GSGD_CHECK_GOTO(st, watch_text(ctx, path, w, buf, len, len + (size_t)r), fail);
        len += (size_t)r;
    }
    in->owned = buf;
    in->data = buf ? buf : (const unsigned char *)"";
    in->len = len;
    return GSGD_STATUS_OK;
fail:
    free(buf);
    return st;
}

/* Reads an open descriptor through zlib (which closes it). */
static gsgd_status read_fd(gsgd_context *ctx, const char *path, int fd, text_watch *w,
                           gsgdi_input *in) {
    gzFile gz = gzdopen(fd, "rb");
    if (!gz) {
        close(fd);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: gzdopen failed", display(path));
    }
    gzbuffer(gz, 1u << 17);
    gsgd_status st = read_all(ctx, path, gz, w, in);
    in->gz = gzdirect(gz) == 0;
    gzclose(gz);
    return st;
}

/* Maps path into in when it is a plain regular file (*fd -1), else leaves
 * *fd open for reading through zlib (gzip, tiny, a pipe, standard input). */
static gsgd_status map_or_fd(gsgd_context *ctx, const char *path, gsgdi_input *in, int *fd_out) {
    memset(in, 0, sizeof *in);
    *fd_out = -1;
    if (strcmp(path, "-") == 0) {
        const int fd = dup(STDIN_FILENO);
        GSGD_RETURN_ERROR_IF(fd < 0, ctx, GSGD_STATUS_IO, "stdin: cannot read: %s",
                             strerror(errno));
        *fd_out = fd;
        return GSGD_STATUS_OK;
    }
    const int fd = open(path, O_RDONLY);
    GSGD_RETURN_ERROR_IF(fd < 0, ctx, GSGD_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        return GSGD_ERROR(ctx, GSGD_STATUS_IO, "%s: is a directory, not a data file", path);
    }
    unsigned char magic[2] = {0, 0};
    const int regular = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode);
    if (regular && sb.st_size >= 2 && pread(fd, magic, 2, 0) == 2 &&
        !(magic[0] == 0x1f && magic[1] == 0x8b)) {
        /* Plain: read in place. */
        void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            close(fd);
            in->map = map;
            in->map_len = (size_t)sb.st_size;
            in->data = map;
            in->len = (size_t)sb.st_size;
            return GSGD_STATUS_OK;
        }
    }
    *fd_out = fd; /* gzip, tiny, or not mappable (a pipe) */
    return GSGD_STATUS_OK;
}

static gsgd_status open_input(gsgd_context *ctx, const char *path, text_watch *w, gsgdi_input *in) {
    int fd;
    GSGD_FORWARD_IF_ERROR(map_or_fd(ctx, path, in, &fd));
    return fd < 0 ? GSGD_STATUS_OK : read_fd(ctx, path, fd, w, in);
}

gsgd_status gsgdi_input_open(gsgd_context *ctx, const char *path, gsgdi_input *in) {
    text_watch w = {NULL, 0};
    return open_input(ctx, path, &w, in);
}

gsgd_status gsgdi_input_open_text(gsgd_context *ctx, const char *path, const char *kind,
                                  gsgdi_input *in) {
    text_watch w = {kind, 0};
    return open_input(ctx, path, &w, in);
}

gsgd_status gsgdi_input_open_stream(gsgd_context *ctx, const char *path, gsgdi_input *in,
                                    gsgdi_stream *s) {
    memset(s, 0, sizeof *s);
    int fd;
    GSGD_FORWARD_IF_ERROR(map_or_fd(ctx, path, in, &fd));
    if (fd < 0) return GSGD_STATUS_OK;
    s->gz = gzdopen(fd, "rb");
    if (!s->gz) {
        close(fd);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: gzdopen failed", display(path));
    }
    gzbuffer(s->gz, 1u << 20); /* inflation in large steps: 20% faster than 128 KiB here */
    s->path = path;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_stream_read(gsgd_context *ctx, gsgdi_stream *s, void *buf, size_t cap,
                              size_t *got) {
    *got = 0;
    while (cap > 0) { /* gzread takes an unsigned count */
        const unsigned want = cap > READ_CHUNK * 64 ? (unsigned)(READ_CHUNK * 64) : (unsigned)cap;
        const int r = gzread(s->gz, (unsigned char *)buf + *got, want);
        if (r < 0) return read_error(ctx, s->path, s->gz);
        s->gzip |= gzdirect(s->gz) == 0;
        if (r == 0) break;
        *got += (size_t)r;
        cap -= (size_t)r;
    }
    return GSGD_STATUS_OK;
}

void gsgdi_stream_close(gsgdi_stream *s) {
    if (s && s->gz) gzclose(s->gz);
    if (s) memset(s, 0, sizeof *s);
}

void gsgdi_input_close(gsgdi_input *in) {
    if (!in) return;
    if (in->map) munmap(in->map, in->map_len);
    free(in->owned);
    memset(in, 0, sizeof *in);
}

void gsgdi_input_release(void *in) {
    gsgdi_input_close(in);
    free(in);
}

gsgd_status gsgdi_input_peek(gsgd_context *ctx, const char *path, unsigned char *buf, size_t size,
                             size_t *got, int *gz) {
    *got = 0;
    *gz = 0;
    const int fd = open(path, O_RDONLY);
    GSGD_RETURN_ERROR_IF(fd < 0, ctx, GSGD_STATUS_IO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    if (fstat(fd, &sb) == 0 && S_ISDIR(sb.st_mode)) {
        close(fd);
        return GSGD_ERROR(ctx, GSGD_STATUS_IO, "%s: is a directory, not a data file", path);
    }
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: gzdopen failed", path);
    }
    const int r = gzread(f, buf, (unsigned)size);
    *gz = gzdirect(f) == 0;
    gzclose(f);
    /* A corrupt .gz is reported by the reader that reads it all. */
    *got = r > 0 ? (size_t)r : 0;
    return GSGD_STATUS_OK;
}
