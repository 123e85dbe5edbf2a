/* Atomic output files (see outfile.h). The rule for the path is the
 * library's (io/outpath.h), taken as it is so that the two writers cannot
 * drift apart. */
#include "cli/outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "io/outpath.h"

static void release(cli_outfile *o) {
    free(o->path);
    free(o->target);
    free(o->tmp);
    o->path = o->target = o->tmp = NULL;
    o->f = NULL;
}

/* "'link' -> 'target'" when a link was followed, else "'path'". */
static const char *shown(const cli_outfile *o, char *buf, size_t size) {
    if (o->target && strcmp(o->target, o->path) != 0)
        snprintf(buf, size, "'%s' -> '%s'", o->path, o->target);
    else
        snprintf(buf, size, "'%s'", o->path);
    return buf;
}

int cli_outfile_open(cli_outfile *o, const char *opt, const char *path) {
    memset(o, 0, sizeof *o);
    o->opt = opt;
    o->path = strdup(path);
    if (!o->path) {
        cli_error("%s: out of memory", opt);
        return CLI_RUNTIME;
    }
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        return CLI_OK;
    }
    char why[96];
    mode_t mode = 0;
    int r = gsgdi_output_target(path, &o->target, &mode, why, sizeof why);
    if (r != 0) {
        if (r > 0)
            cli_error("%s: '%s' is %s; outputs go to a regular file or a new path", opt, path, why);
        else
            cli_error("%s: cannot write '%s': %s", opt, path, strerror(errno));
        int rc = r > 0 || gsgdi_output_path_fault(errno) ? CLI_USAGE : CLI_RUNTIME;
        release(o);
        return rc;
    }
    /* The pid keeps two runs writing the same file from sharing a
     * temporary file. */
    size_t len = strlen(o->target) + 32;
    o->tmp = malloc(len);
    if (!o->tmp) {
        release(o);
        cli_error("%s: out of memory", opt);
        return CLI_RUNTIME;
    }
    snprintf(o->tmp, len, "%s.tmp.%ld", o->target, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) {
        int e = errno;
        char buf[8300];
        cli_error("%s: cannot create a file beside %s: %s", opt, shown(o, buf, sizeof buf),
                  strerror(e));
        release(o);
        return gsgdi_output_path_fault(e) ? CLI_USAGE : CLI_RUNTIME;
    }
    /* A file replaced keeps its permissions. */
    if (mode) (void)fchmod(fileno(o->f), mode);
    return CLI_OK;
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
    if (!o->tmp) { /* standard output: nothing to rename */
        int failed = ferror(o->f) || fflush(o->f) != 0;
        if (failed) cli_error("%s: writing to standard output failed", o->opt);
        release(o);
        return failed ? CLI_RUNTIME : CLI_OK;
    }
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
    if (!failed && rename(o->tmp, o->target) != 0) {
        failed = 1;
        e = errno;
    }
    if (failed) {
        unlink(o->tmp);
        char buf[8300];
        cli_error("%s: writing %s failed: %s; it is left as it was", o->opt,
                  shown(o, buf, sizeof buf), strerror(e ? e : EIO));
        release(o);
        return CLI_RUNTIME;
    }
    sync_dir(o->target);
    release(o);
    return CLI_OK;
}

void cli_outfile_abort(cli_outfile *o) {
    if (o->f && o->tmp) {
        fclose(o->f);
        unlink(o->tmp);
    }
    release(o);
}
