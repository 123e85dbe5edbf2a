/* Output paths (see outpath.h). */
#include "io/outpath.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* As the kernel's limit on links followed in one lookup (MAXSYMLINKS). */
#define MAX_LINKS 40

static const char *kind_of(mode_t m) {
    if (S_ISDIR(m)) return "a directory";
    if (S_ISCHR(m)) return "a character device";
    if (S_ISBLK(m)) return "a block device";
    if (S_ISFIFO(m)) return "a FIFO";
    if (S_ISSOCK(m)) return "a socket";
    return "not a regular file";
}

/* The path link points to, relative links being relative to the
 * directory of from. malloc'd, or NULL with errno set. */
static char *follow(const char *from, size_t size_hint) {
    size_t cap = size_hint > 0 ? size_hint + 1 : 256;
    char *link = NULL;
    for (;;) {
        char *grown = realloc(link, cap);
        if (!grown) {
            free(link);
            errno = ENOMEM;
            return NULL;
        }
        link = grown;
        ssize_t n = readlink(from, link, cap);
        if (n < 0) {
            free(link);
            return NULL;
        }
        if ((size_t)n < cap) {
            link[n] = '\0';
            break;
        }
        cap *= 2; /* the link changed since lstat: try again */
    }
    const char *slash = strrchr(from, '/');
    if (link[0] == '/' || !slash) return link;
    const size_t dlen = (size_t)(slash - from) + 1, llen = strlen(link);
    char *joined = malloc(dlen + llen + 1);
    if (joined) {
        memcpy(joined, from, dlen);
        memcpy(joined + dlen, link, llen + 1);
    } else {
        errno = ENOMEM;
    }
    free(link);
    return joined;
}

int gsgdi_output_target(const char *path, char **target, mode_t *mode, char *why, size_t why_size) {
    *target = NULL;
    *mode = 0;
    if (!path[0] || path[strlen(path) - 1] == '/') {
        snprintf(why, why_size, "%s", !path[0] ? "an empty path" : "a directory name");
        return 1;
    }
    /* Where every link leads first: a link into /proc/self/fd names a
     * pipe or a terminal only to stat. */
    struct stat end;
    if (stat(path, &end) == 0 && !S_ISREG(end.st_mode)) {
        snprintf(why, why_size, "%s", kind_of(end.st_mode));
        return 1;
    }
    char *cur = strdup(path);
    if (!cur) return -1;
    for (int hops = 0; hops <= MAX_LINKS; hops++) {
        struct stat sb;
        if (lstat(cur, &sb) != 0) {
            if (errno != ENOENT) {
                int e = errno;
                free(cur);
                errno = e;
                return -1;
            }
            *target = cur; /* a new path (or where a dangling link leads) */
            return 0;
        }
        if (S_ISREG(sb.st_mode)) {
            *target = cur;
            *mode = sb.st_mode & 07777;
            return 0;
        }
        if (!S_ISLNK(sb.st_mode)) {
            snprintf(why, why_size, "%s", kind_of(sb.st_mode));
            free(cur);
            return 1;
        }
        char *next = follow(cur, (size_t)sb.st_size);
        int e = errno;
        free(cur);
        if (!next) {
            errno = e;
            return -1;
        }
        cur = next;
    }
    free(cur);
    snprintf(why, why_size, "more than %d symbolic links in a row", MAX_LINKS);
    return 1;
}

int gsgdi_output_path_fault(int e) {
    switch (e) {
    case EACCES:
    case EPERM:
    case ENOENT:
    case ENOTDIR:
    case EISDIR:
    case ELOOP:
    case ENAMETOOLONG:
    case EROFS:
    case ETXTBSY:
        return 1;
    default:
        return 0;
    }
}
