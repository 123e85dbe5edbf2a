/* Feature names (names.h). */
#include "data/names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The list over a pool that is already filled (taken, freed on failure). */
static gsgd_status over_pool(gsgd_context *ctx, char *pool, size_t bytes, size_t n,
                             gsgdi_names **out) {
    gsgdi_names *l = calloc(1, sizeof *l);
    char **at = calloc(n ? n : 1, sizeof *at);
    if (!l || !at) {
        free(l);
        free(at);
        free(pool);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "names: out of memory");
    }
    char *s = pool;
    for (size_t k = 0; k < n; k++) {
        at[k] = s;
        s += strlen(s) + 1;
    }
    *l = (gsgdi_names){.n = n, .pool = pool, .bytes = bytes, .at = at, .distinct = 1};
    /* Distinct when no name matches another's place. */
    size_t *index = malloc((n ? n : 1) * sizeof *index);
    if (!index) {
        gsgdi_names_free(l);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "names: out of memory");
    }
    gsgd_status st = gsgdi_names_match(ctx, l, (const char *const *)at, n, index);
    for (size_t k = 0; st == GSGD_STATUS_OK && k < n; k++) l->distinct &= index[k] == k;
    free(index);
    if (st != GSGD_STATUS_OK) {
        gsgdi_names_free(l);
        return st;
    }
    *out = l;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_names_make(gsgd_context *ctx, const char *const *texts, size_t n,
                             gsgdi_names **out) {
    *out = NULL;
    size_t bytes = 0;
    for (size_t k = 0; k < n; k++) {
        const size_t len = strlen(texts[k]);
        if (len > GSGD_MAX_NAME_TEXT) return GSGD_STATUS_OK;
        bytes += len + 1;
    }
    char *pool = malloc(bytes ? bytes : 1);
    GSGD_RETURN_ERROR_IF(!pool, ctx, GSGD_STATUS_OUT_OF_MEMORY, "names: out of memory");
    char *s = pool;
    for (size_t k = 0; k < n; k++) {
        const size_t len = strlen(texts[k]) + 1;
        memcpy(s, texts[k], len);
        s += len;
    }
    return over_pool(ctx, pool, bytes, n, out);
}

gsgd_status gsgdi_names_copy(gsgd_context *ctx, const gsgdi_names *src, gsgdi_names **out) {
    *out = NULL;
    if (!src) return GSGD_STATUS_OK;
    return gsgdi_names_make(ctx, (const char *const *)src->at, src->n, out);
}

void gsgdi_names_free(gsgdi_names *names) {
    if (!names) return;
    free(names->pool);
    free(names->at);
    free(names);
}

void gsgdi_names_summary(const gsgdi_names *names, char *buf, size_t size) {
    if (!size) return;
    size_t at = (size_t)snprintf(buf, size, "%zu named (", names->n);
    /* The first few and the last one, as label maps are summarised. */
    const size_t head = names->n <= 6 ? names->n : 4;
    for (size_t k = 0; k < names->n && at < size; k++) {
        if (k == head && k + 1 < names->n) {
            at += (size_t)snprintf(buf + at, size - at, ", ...");
            k = names->n - 1;
        }
        at += (size_t)snprintf(buf + at, size - at, "%s%.40s", k ? ", " : "", names->at[k]);
    }
    if (at < size) snprintf(buf + at, size - at, ")");
}

/* Sorting indices by the names they point to (qsort has no context). */
typedef struct {
    const char *name;
    size_t index;
} entry;

static int by_name(const void *a, const void *b) {
    const entry *x = a, *y = b;
    const int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index);
}

gsgd_status gsgdi_names_match(gsgd_context *ctx, const gsgdi_names *ref, const char *const *have,
                              size_t n, size_t *index) {
    entry *r = malloc((ref->n ? ref->n : 1) * sizeof *r), *h = malloc((n ? n : 1) * sizeof *h);
    if (!r || !h) {
        free(r);
        free(h);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "names: out of memory");
    }
    for (size_t k = 0; k < ref->n; k++) r[k] = (entry){ref->at[k], k};
    for (size_t k = 0; k < n; k++) h[k] = (entry){have[k], k};
    qsort(r, ref->n, sizeof *r, by_name);
    qsort(h, n, sizeof *h, by_name);
    /* A merge of the two sorted lists: each name of have takes the first
     * of ref's equal ones. */
    size_t i = 0;
    for (size_t k = 0; k < n; k++) {
        while (i < ref->n && strcmp(r[i].name, h[k].name) < 0) i++;
        index[h[k].index] = i < ref->n && strcmp(r[i].name, h[k].name) == 0 ? r[i].index : SIZE_MAX;
    }
    free(r);
    free(h);
    return GSGD_STATUS_OK;
}

size_t gsgdi_names_image_bytes(const gsgdi_names *names) { return 8 + names->bytes; }

void gsgdi_names_image_write(const gsgdi_names *names, unsigned char *out) {
    const uint64_t bytes = names->bytes;
    memcpy(out, &bytes, 8);
    memcpy(out + 8, names->pool, names->bytes);
}

gsgd_status gsgdi_names_image_check(gsgd_context *ctx, const char *what, const unsigned char *p,
                                    size_t len, size_t n, size_t *used) {
    uint64_t bytes = 0;
    GSGD_RETURN_ERROR_IF(len < 8, ctx, GSGD_STATUS_BAD_FORMAT, "%s: truncated feature names", what);
    memcpy(&bytes, p, 8);
    GSGD_RETURN_ERROR_IF(bytes > len - 8 || bytes < n, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: truncated feature names", what);
    const char *s = (const char *)p + 8, *end = s + bytes;
    for (size_t k = 0; k < n; k++) {
        const char *nul = memchr(s, '\0', (size_t)(end - s));
        GSGD_RETURN_ERROR_IF(!nul || nul - s > GSGD_MAX_NAME_TEXT, ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: malformed feature names", what);
        s = nul + 1;
    }
    GSGD_RETURN_ERROR_IF(s != end, ctx, GSGD_STATUS_BAD_FORMAT, "%s: malformed feature names",
                         what);
    *used = 8 + (size_t)bytes;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_names_image_read(gsgd_context *ctx, const char *what, const unsigned char *p,
                                   size_t len, size_t n, size_t *used, gsgdi_names **out) {
    *out = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_names_image_check(ctx, what, p, len, n, used));
    const size_t bytes = *used - 8;
    char *pool = malloc(bytes ? bytes : 1);
    GSGD_RETURN_ERROR_IF(!pool, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    memcpy(pool, p + 8, bytes);
    return over_pool(ctx, pool, bytes, n, out);
}
