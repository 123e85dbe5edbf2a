/* Label maps (labels.h): building, copying, looking up, and their bytes in
 * model files and checkpoints. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/error.h"
#include "data/labels.h"
#include "data/loaders.h"

/* One allocation for the struct, the pointers and (numeric) the values;
 * the pool separately, filled by the caller. */
static gsgd_status alloc_map(gsgd_context *ctx, int n, int numeric, size_t pool_bytes,
                             gsgdi_labels **out) {
    *out = NULL;
    gsgdi_labels *l = calloc(1, sizeof *l);
    if (l) {
        l->n = n;
        l->numeric = numeric;
        l->text = calloc((size_t)n + 1, sizeof *l->text);
        l->values = numeric ? calloc((size_t)n + 1, sizeof *l->values) : NULL;
        l->pool = malloc(pool_bytes ? pool_bytes : 1);
        l->pool_bytes = pool_bytes;
    }
    if (!l || !l->text || (numeric && !l->values) || !l->pool) {
        gsgdi_labels_free(l);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "labels: out of memory for %d labels", n);
    }
    *out = l;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_labels_from_values(gsgd_context *ctx, const int64_t *values, int n,
                                     gsgdi_labels **out) {
    /* 21 bytes hold any int64 in decimal with its sign and NUL. */
    GSGD_FORWARD_IF_ERROR(alloc_map(ctx, n, 1, (size_t)n * 21, out));
    gsgdi_labels *l = *out;
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        l->values[k] = values[k];
        l->text[k] = l->pool + at;
        at += (size_t)snprintf(l->text[k], 21, "%" PRId64, values[k]) + 1;
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_labels_identity(gsgd_context *ctx, int n, gsgdi_labels **out) {
    int64_t *v = malloc(((size_t)n + 1) * sizeof *v);
    GSGD_RETURN_ERROR_IF(!v, ctx, GSGD_STATUS_OUT_OF_MEMORY, "labels: out of memory");
    for (int k = 0; k < n; k++) v[k] = k;
    gsgd_status st = gsgdi_labels_from_values(ctx, v, n, out);
    free(v);
    return st;
}

gsgd_status gsgdi_labels_from_texts(gsgd_context *ctx, const char *const *texts, int n,
                                    gsgdi_labels **out) {
    size_t bytes = 0;
    for (int k = 0; k < n; k++) bytes += strlen(texts[k]) + 1;
    GSGD_FORWARD_IF_ERROR(alloc_map(ctx, n, 0, bytes, out));
    gsgdi_labels *l = *out;
    size_t at = 0;
    for (int k = 0; k < n; k++) {
        const size_t len = strlen(texts[k]) + 1;
        l->text[k] = l->pool + at;
        memcpy(l->text[k], texts[k], len);
        at += len;
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_labels_copy(gsgd_context *ctx, const gsgdi_labels *src, gsgdi_labels **out) {
    *out = NULL;
    if (!src) return GSGD_STATUS_OK;
    if (src->numeric) return gsgdi_labels_from_values(ctx, src->values, src->n, out);
    return gsgdi_labels_from_texts(ctx, (const char *const *)src->text, src->n, out);
}

void gsgdi_labels_free(gsgdi_labels *l) {
    if (!l) return;
    free(l->text);
    free(l->values);
    free(l->pool);
    free(l);
}

int gsgdi_labels_equal(const gsgdi_labels *a, const gsgdi_labels *b) {
    if (!a || !b) return a == b;
    if (a->n != b->n || a->numeric != b->numeric) return 0;
    for (int k = 0; k < a->n; k++)
        if (a->numeric ? a->values[k] != b->values[k] : strcmp(a->text[k], b->text[k]) != 0)
            return 0;
    return 1;
}

int gsgdi_labels_is_identity(const gsgdi_labels *l) {
    if (!l || !l->numeric) return 0;
    for (int k = 0; k < l->n; k++)
        if (l->values[k] != k) return 0;
    return 1;
}

static int find_text_exact(const gsgdi_labels *l, const char *s) {
    int lo = 0, hi = l->n - 1;
    while (lo <= hi) {
        const int mid = lo + (hi - lo) / 2, c = strcmp(l->text[mid], s);
        if (c == 0) return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int gsgdi_labels_find_value(const gsgdi_labels *l, int64_t v) {
    if (!l) return -1;
    if (!l->numeric) {
        char buf[24];
        snprintf(buf, sizeof buf, "%" PRId64, v);
        return find_text_exact(l, buf);
    }
    int lo = 0, hi = l->n - 1;
    while (lo <= hi) {
        const int mid = lo + (hi - lo) / 2;
        if (l->values[mid] == v) return mid;
        if (l->values[mid] < v)
            lo = mid + 1;
        else
            hi = mid - 1;
    }
    return -1;
}

int gsgdi_labels_find_text(const gsgdi_labels *l, const char *s) {
    if (!l) return -1;
    if (!l->numeric) return find_text_exact(l, s);
    /* A number as the readers read one (gsgdi_parse_number: strtod, so a
     * value that underflows is 0, as the map built from the same text
     * holds it; errno's ERANGE had made such a label unknown here). */
    double v;
    if (!gsgdi_parse_number(s, strlen(s), &v) || v != floor(v) || fabs(v) > 9.0e18) return -1;
    return gsgdi_labels_find_value(l, (int64_t)v);
}

void gsgdi_labels_summary(const gsgdi_labels *l, char *buf, size_t size) {
    if (!size) return;
    buf[0] = '\0';
    if (!l) return;
    size_t at = (size_t)snprintf(buf, size, "%d class%s (", l->n, l->n == 1 ? "" : "es");
    /* The first few and the last one: enough to see what the column holds. */
    const int head = l->n <= 6 ? l->n : 4;
    for (int k = 0; k < l->n && at < size; k++) {
        if (k == head && k < l->n - 1) {
            at += (size_t)snprintf(buf + at, size - at, ", ...");
            k = l->n - 1;
        }
        at += (size_t)snprintf(buf + at, size - at, "%s%.40s", k ? ", " : "", l->text[k]);
    }
    if (at < size) snprintf(buf + at, size - at, ")");
}

/* ---- bytes in files --------------------------------------------------------- */

size_t gsgdi_labels_image_bytes(const gsgdi_labels *l) {
    size_t b = 8;
    if (l->numeric) return b + 8 * (size_t)l->n;
    b += 8;
    for (int k = 0; k < l->n; k++) b += strlen(l->text[k]) + 1;
    return b;
}

void gsgdi_labels_image_write(const gsgdi_labels *l, unsigned char *out) {
    const uint32_t kind = l->numeric ? 1u : 2u, n = (uint32_t)l->n;
    memcpy(out, &kind, 4);
    memcpy(out + 4, &n, 4);
    out += 8;
    if (l->numeric) {
        memcpy(out, l->values, 8 * (size_t)l->n);
        return;
    }
    uint64_t bytes = 0;
    for (int k = 0; k < l->n; k++) bytes += strlen(l->text[k]) + 1;
    memcpy(out, &bytes, 8);
    out += 8;
    for (int k = 0; k < l->n; k++) {
        const size_t len = strlen(l->text[k]) + 1;
        memcpy(out, l->text[k], len);
        out += len;
    }
}

int gsgdi_labels_image_size(const unsigned char *p, size_t len, uint64_t *bytes) {
    uint32_t kind = 0, n = 0;
    if (len < 16) return 0;
    memcpy(&kind, p, 4);
    memcpy(&n, p + 4, 4);
    if ((kind != 1 && kind != 2) || n < 2 || n > 65536) return 0;
    if (kind == 1) {
        *bytes = 8 + 8 * (uint64_t)n;
        return 1;
    }
    uint64_t texts = 0;
    memcpy(&texts, p + 8, 8);
    if (texts < n || texts > UINT64_MAX - 16) return 0;
    *bytes = 16 + texts;
    return 1;
}

gsgd_status gsgdi_labels_image_read(gsgd_context *ctx, const char *what, const unsigned char *p,
                                    size_t len, size_t *used, gsgdi_labels **out) {
    *out = NULL;
    uint32_t kind = 0, n = 0;
    GSGD_RETURN_ERROR_IF(len < 8, ctx, GSGD_STATUS_BAD_FORMAT, "%s: truncated label map", what);
    memcpy(&kind, p, 4);
    memcpy(&n, p + 4, 4);
    GSGD_RETURN_ERROR_IF((kind != 1 && kind != 2) || n < 2 || n > 65536, ctx,
                         GSGD_STATUS_BAD_FORMAT, "%s: malformed label map (kind %u, %u labels)",
                         what, kind, n);
    if (kind == 1) {
        GSGD_RETURN_ERROR_IF(len - 8 < 8 * (size_t)n, ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: truncated label map", what);
        int64_t *v = malloc(8 * (size_t)n);
        GSGD_RETURN_ERROR_IF(!v, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
        memcpy(v, p + 8, 8 * (size_t)n);
        int sorted = 1;
        for (uint32_t k = 1; k < n; k++) sorted &= v[k - 1] < v[k];
        gsgd_status st = sorted ? gsgdi_labels_from_values(ctx, v, (int)n, out)
                                : GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                                             "%s: label map not in ascending order", what);
        free(v);
        *used = 8 + 8 * (size_t)n;
        return st;
    }
    uint64_t bytes = 0;
    GSGD_RETURN_ERROR_IF(len - 8 < 8, ctx, GSGD_STATUS_BAD_FORMAT, "%s: truncated label map", what);
    memcpy(&bytes, p + 8, 8);
    GSGD_RETURN_ERROR_IF(bytes > len - 16 || bytes < n, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: truncated label map", what);
    const char *s = (const char *)p + 16, *end = s + bytes;
    const char **texts = malloc((size_t)n * sizeof *texts);
    GSGD_RETURN_ERROR_IF(!texts, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", what);
    gsgd_status st = GSGD_STATUS_OK;
    for (uint32_t k = 0; k < n && st == GSGD_STATUS_OK; k++) {
        const char *nul = memchr(s, '\0', (size_t)(end - s));
        if (!nul || nul - s > GSGD_MAX_LABEL_TEXT || (k && strcmp(texts[k - 1], s) >= 0))
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "%s: malformed label map text", what);
        texts[k] = s;
        s = nul ? nul + 1 : end;
    }
    if (st == GSGD_STATUS_OK && s != end)
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT, "%s: malformed label map text", what);
    if (st == GSGD_STATUS_OK) st = gsgdi_labels_from_texts(ctx, texts, (int)n, out);
    free(texts);
    *used = 16 + (size_t)bytes;
    return st;
}
