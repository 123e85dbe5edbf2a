/* Atomic output files (see outfile.h). */
#include "cli/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *dup_str(const char *s) {
    size_t n = strlen(s) + 1;
    char *p = malloc(n);
    if (p) memcpy(p, s, n);
    return p;
}

static void release(cli_outfile *o) {
    free(o->path);
    free(o->tmp);
    o->path = o->tmp = NULL;
    o->f = NULL;
}

int cli_outfile_open(cli_outfile *o, const char *path) {
    o->f = NULL;
    o->path = dup_str(path);
    /* The pid keeps two runs writing the same path from sharing a
     * temporary file. */
    size_t len = strlen(path) + 32;
    o->tmp = malloc(len);
    if (!o->path || !o->tmp) {
        release(o);
        errno = ENOMEM;
        return -1;
    }
    snprintf(o->tmp, len, "%s.tmp.%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        int e = errno;
        release(o);
        errno = e;
        return -1;
    }
    return 0;
}

/* fsync of the directory makes the rename itself survive a crash. Failure
 * is ignored: some file systems refuse fsync on directories. */
static void sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
        snprintf(dir, sizeof dir, ".");
    } else {
        size_t len = (size_t)(slash - path);
        if (len == 0) len = 1; /* "/file" lives in "/" */
        if (len >= sizeof dir) return;
        memcpy(dir, path, len);
        dir[len] = '\0';
    }
    int fd = open(dir, O_RDONLY);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
}

int cli_outfile_commit(cli_outfile *o) {
    int failed = 0, e = 0;
    if (ferror(o->f)) { /* an earlier fprintf failed; errno is long gone */
        failed = 1;
        e = EIO;
    } else if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0) {
        failed = 1;
        e = errno;
    }
    if (fclose(o->f) != 0 && !failed) {
        failed = 1;
        e = errno;
    }
    o->f = NULL;
    if (!failed && rename(o->tmp, o->path) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(o->tmp);
        release(o);
        errno = e ? e : EIO;
        return -1;
    }
    sync_dir(o->path);
    release(o);
    return 0;
}

void cli_outfile_abort(cli_outfile *o) {
    if (o->f) {
        fclose(o->f);
        unlink(o->tmp);
    }
    release(o);
}
