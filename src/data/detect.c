/* Format detection: binary magic first, then the extension, then what the
 * text looks like; and what an .npz holds (arrays X and y, or a matrix of
 * scipy.sparse.save_npz). */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "data/loaders.h"

const char *gsgdi_format_name(gsgd_data_format f) {
    switch (f) {
    case GSGD_FORMAT_CSV:
        return "CSV";
    case GSGD_FORMAT_SVMLIGHT:
        return "svmlight";
    case GSGD_FORMAT_NPY:
        return "npy";
    case GSGD_FORMAT_NPZ:
        return "npz";
    case GSGD_FORMAT_IDX:
        return "IDX";
    case GSGD_FORMAT_AUTO:
        break;
    }
    return "auto";
}

/* path ends with suffix, ignoring case. */
static int ends_with(const char *path, size_t len, const char *suffix) {
    const size_t n = strlen(suffix);
    return len >= n && strncasecmp(path + len - n, suffix, n) == 0;
}

/* The format the name says, or AUTO. ".gz" is looked through. */
static gsgd_data_format by_extension(const char *path) {
    size_t len = strlen(path);
    if (ends_with(path, len, ".gz")) len -= 3;
    static const struct {
        const char *ext;
        gsgd_data_format f;
    } table[] = {{".csv", GSGD_FORMAT_CSV},           {".tsv", GSGD_FORMAT_CSV},
                 {".tab", GSGD_FORMAT_CSV},           {".svm", GSGD_FORMAT_SVMLIGHT},
                 {".svmlight", GSGD_FORMAT_SVMLIGHT}, {".libsvm", GSGD_FORMAT_SVMLIGHT},
                 {".npy", GSGD_FORMAT_NPY},           {".npz", GSGD_FORMAT_NPZ},
                 {".idx", GSGD_FORMAT_IDX},           {"-ubyte", GSGD_FORMAT_IDX}};
    for (size_t k = 0; k < sizeof table / sizeof table[0]; k++)
        if (ends_with(path, len, table[k].ext)) return table[k].f;
    return GSGD_FORMAT_AUTO;
}

/* [s, e) is "[+-]digits[.digits][e..]"-ish: what strtod would take. */
static int looks_number(const char *s, const char *e) {
    double v;
    return e > s && gsgdi_parse_number(s, (size_t)(e - s), &v);
}

/* The first line that is neither blank nor a # comment is "label
 * index:value ...": a number, then at least one "integer:number" (or
 * qid:integer) token, and nothing else. */
static int looks_svmlight(const unsigned char *head, size_t len) {
    const char *p = (const char *)head, *end = p + len;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        const char *le = nl ? nl : end;
        const char *q = p;
        while (q < le && isspace((unsigned char)*q)) q++;
        if (q == le || *q == '#') {
            if (!nl) return 0;
            p = nl + 1;
            continue;
        }
        const char *hash = memchr(q, '#', (size_t)(le - q));
        if (hash) le = hash;
        int tokens = 0, pairs = 0;
        while (q < le) {
            const char *t = q;
            while (q < le && !isspace((unsigned char)*q)) q++;
            if (tokens == 0) {
                if (!looks_number(t, q)) return 0;
            } else {
                const char *colon = memchr(t, ':', (size_t)(q - t));
                if (!colon || !looks_number(colon + 1, q)) return 0;
                for (const char *c = t; c < colon; c++)
                    if (!isdigit((unsigned char)*c) && !(colon - t == 3 && !strncmp(t, "qid", 3)))
                        return 0;
                pairs++;
            }
            tokens++;
            while (q < le && isspace((unsigned char)*q)) q++;
        }
        /* A line cut by the end of the peeked bytes may end in a half
         * token; one whole pair is enough. */
        return pairs > 0;
    }
    return 0;
}

gsgd_data_format gsgdi_detect_format(const char *path, const unsigned char *head, size_t len) {
    if (len >= 6 && memcmp(head, "\x93NUMPY", 6) == 0) return GSGD_FORMAT_NPY;
    if (len >= 4 && (memcmp(head, "PK\x03\x04", 4) == 0 || memcmp(head, "PK\x05\x06", 4) == 0))
        return GSGD_FORMAT_NPZ;
    /* IDX: 0, 0, a type (0x08-0x0E), 1 to 4 dimensions; no text starts so. */
    if (len >= 4 && head[0] == 0 && head[1] == 0 && head[2] >= 0x08 && head[2] <= 0x0E &&
        head[3] >= 1 && head[3] <= 4)
        return GSGD_FORMAT_IDX;
    const gsgd_data_format ext = path ? by_extension(path) : GSGD_FORMAT_AUTO;
    /* A binary extension on a text file (or the reverse) is the file's
     * mistake: the reader says what it found. */
    if (ext != GSGD_FORMAT_AUTO) return ext;
    return looks_svmlight(head, len) ? GSGD_FORMAT_SVMLIGHT : GSGD_FORMAT_CSV;
}

int gsgdi_npz_is_scipy_sparse(const void *zip, size_t len) {
    char names[1024];
    gsgdi_zip_list(zip, len, names, sizeof names);
    static const char *const need[5] = {"format.npy", "shape.npy", "data.npy", "indices.npy",
                                        "indptr.npy"};
    for (int k = 0; k < 5; k++) {
        const size_t m = strlen(need[k]);
        int found = 0;
        for (const char *p = names; !found && (p = strstr(p, need[k])) != NULL; p += m)
            found = (p == names || p[-1] == ' ') && (p[m] == ',' || p[m] == '\0');
        if (!found) return 0;
    }
    return 1;
}
