/* Target columns: from what a reader found (numbers or texts) to what the
 * models train on, class indices through a sorted label map or real
 * values, with the checks that catch the wrong column. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"

/* The fix every message about a column that is not the target names. */
#define PICK_COLUMN "pick the label column with --label NAME|INDEX"
#define USE_REGRESSION "or train a regression model (--model linear) for a real-valued target"

void gsgdi_raw_targets_free(gsgdi_raw_targets *t) {
    if (!t) return;
    free(t->num);
    free(t->pool);
    free(t->off);
    free(t->line);
    memset(t, 0, sizeof *t);
}

gsgd_status gsgdi_raw_targets_push_text(gsgd_context *ctx, gsgdi_raw_targets *t, const char *s,
                                        size_t len, size_t line) {
    /* Rows and pool grow by doubling; off and line together with rows. */
    if ((t->n & (t->n - 1)) == 0) {
        const size_t cap = t->n ? 2 * t->n : 1;
        size_t *off = realloc(t->off, cap * sizeof *off);
        if (off) t->off = off;
        size_t *ln = off ? realloc(t->line, cap * sizeof *ln) : NULL;
        if (ln) t->line = ln;
        GSGD_RETURN_ERROR_IF(!off || !ln, ctx, GSGD_STATUS_OUT_OF_MEMORY,
                             "%s: out of memory for %zu labels", t->file, cap);
    }
    if (t->pool_len + len + 1 > t->pool_cap) {
        size_t cap = t->pool_cap ? t->pool_cap : 4096;
        while (cap < t->pool_len + len + 1) cap *= 2;
        char *pool = realloc(t->pool, cap);
        GSGD_RETURN_ERROR_IF(!pool, ctx, GSGD_STATUS_OUT_OF_MEMORY,
                             "%s: out of memory for the labels", t->file);
        t->pool = pool;
        t->pool_cap = cap;
    }
    t->off[t->n] = t->pool_len;
    t->line[t->n] = line;
    memcpy(t->pool + t->pool_len, s, len);
    t->pool[t->pool_len + len] = '\0';
    t->pool_len += len + 1;
    t->n++;
    return GSGD_STATUS_OK;
}

/* "wine.csv: line 7, column 1 ('cultivar')" or "y.npy: y[6]": where row i's
 * target is. */
static const char *where(const gsgdi_raw_targets *t, size_t i, char *buf, size_t size) {
    int at;
    if (t->line)
        at = snprintf(buf, size, "%s: line %zu", t->file, t->line[i]);
    else if (strcmp(t->name, "record") == 0) /* IDX: records counted from 0 */
        at = snprintf(buf, size, "%s: record %zu", t->file, i);
    else
        at = snprintf(buf, size, "%s: %s[%zu]", t->file, t->name[0] ? t->name : "y", i);
    if (t->column && at >= 0 && (size_t)at < size)
        at += snprintf(buf + at, size - (size_t)at, ", column %zu", t->column);
    if (t->column && t->name[0] && at >= 0 && (size_t)at < size)
        snprintf(buf + at, size - (size_t)at, " ('%s')", t->name);
    return buf;
}

/* "the column 1 ('cultivar') of wine.csv" for messages about a whole column. */
static const char *column_of(const gsgdi_raw_targets *t, char *buf, size_t size) {
    if (t->column && t->name[0])
        snprintf(buf, size, "%s: column %zu ('%s')", t->file, t->column, t->name);
    else if (t->column)
        snprintf(buf, size, "%s: column %zu", t->file, t->column);
    else
        snprintf(buf, size, "%s: %s", t->file, t->name[0] ? t->name : "targets");
    return buf;
}

static const char *text_of(const gsgdi_raw_targets *t, size_t i) { return t->pool + t->off[i]; }

/* Row i's value as a number: *missing for a missing one; 0 when it is text. */
static int number_of(const gsgdi_raw_targets *t, size_t i, double *v, int *missing) {
    *missing = 0;
    if (t->num) {
        *v = t->num[i];
        *missing = isnan(*v);
        return 1;
    }
    const char *s = text_of(t, i);
    if (gsgdi_is_missing(s, strlen(s)) && !gsgdi_parse_number(s, strlen(s), v)) {
        *missing = 1;
        return 1;
    }
    if (!gsgdi_parse_number(s, strlen(s), v)) return 0;
    *missing = isnan(*v);
    return 1;
}

static gsgd_status missing_error(gsgd_context *ctx, const gsgdi_raw_targets *t, size_t i) {
    char w[400];
    return GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                      "%s: missing target%s%s%s; gsgd does not impute: drop or fill the rows "
                      "without a target first, or " PICK_COLUMN " if this is not the target",
                      where(t, i, w, sizeof w), t->num ? "" : " '", t->num ? "" : text_of(t, i),
                      t->num ? "" : "'");
}

static gsgd_status finish_real(gsgd_context *ctx, const gsgdi_raw_targets *t, gsgdi_host_data *h) {
    char w[400];
    for (size_t i = 0; i < t->n; i++) {
        double v = 0;
        int missing;
        GSGD_RETURN_ERROR_IF(!number_of(t, i, &v, &missing), ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: target '%.60s' is not a number, and a regression target must "
                             "be: " PICK_COLUMN ", or train a classifier (--model softmax) for "
                             "class labels",
                             where(t, i, w, sizeof w), text_of(t, i));
        if (missing) return missing_error(ctx, t, i);
        GSGD_RETURN_ERROR_IF(!isfinite(v) || !isfinite((float)v), ctx, GSGD_STATUS_BAD_VALUE,
                             "%s: target %g is not a finite float", where(t, i, w, sizeof w), v);
        h->y[i] = (float)v;
        if (i == 0 || v < h->meta.target_min) h->meta.target_min = v;
        if (i == 0 || v > h->meta.target_max) h->meta.target_max = v;
    }
    h->n_classes = 0;
    return GSGD_STATUS_OK;
}

/* Row i's class in the reference map. */
static gsgd_status finish_ref(gsgd_context *ctx, const gsgdi_raw_targets *t,
                              const gsgdi_target_rules *r, gsgdi_host_data *h) {
    char w[400], classes[200];
    for (size_t i = 0; i < t->n; i++) {
        double v = 0;
        int missing, k;
        const int is_num = number_of(t, i, &v, &missing);
        if (missing) return missing_error(ctx, t, i);
        if (t->num || (r->ref->numeric && is_num))
            k = v == floor(v) && fabs(v) < 9.0e18 ? gsgdi_labels_find_value(r->ref, (int64_t)v)
                                                  : -1;
        else
            k = gsgdi_labels_find_text(r->ref, text_of(t, i));
        if (k >= 0) {
            h->y[i] = (float)k;
            continue;
        }
        gsgdi_labels_summary(r->ref, classes, sizeof classes);
        char label[80];
        if (t->num)
            snprintf(label, sizeof label, "%.17g", v);
        else
            snprintf(label, sizeof label, "'%.60s'", text_of(t, i));
        return GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                          "%s: label %s is not one of the %s: is it the same label column "
                          "(--label NAME|INDEX)?",
                          where(t, i, w, sizeof w), label, classes);
    }
    h->n_classes = r->ref_classes;
    GSGD_FORWARD_IF_ERROR(gsgdi_labels_copy(ctx, r->ref, &h->meta.labels));
    return GSGD_STATUS_OK;
}

static int cmp_i64(const void *a, const void *b) {
    const int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The class count of a new map: enough to be classes, few enough not to
 * be a feature. */
static gsgd_status check_count(gsgd_context *ctx, const gsgdi_raw_targets *t, size_t K) {
    char c[400];
    const size_t most = t->n / 2 > 1000 ? t->n / 2 : 1000;
    GSGD_RETURN_ERROR_IF(K < 2, ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: every row has the same label, and a classifier needs at least two "
                         "classes: is this the label column (--label NAME|INDEX)?",
                         column_of(t, c, sizeof c));
    GSGD_RETURN_ERROR_IF(K > most || K > GSGD_MAX_CLASSES, ctx, GSGD_STATUS_BAD_VALUE,
                         "%s: %zu distinct values in %zu rows do not look like class labels "
                         "(more than max(1000, rows/2)): " PICK_COLUMN ", " USE_REGRESSION,
                         column_of(t, c, sizeof c), K, t->n);
    return GSGD_STATUS_OK;
}

/* Integer labels: the sorted distinct values. */
static gsgd_status build_numeric(gsgd_context *ctx, const gsgdi_raw_targets *t,
                                 gsgdi_host_data *h) {
    char w[400];
    int64_t *v = malloc(t->n * sizeof *v), *u = malloc(t->n * sizeof *u);
    gsgd_status st = GSGD_STATUS_OK;
    if (!v || !u) st = GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", t->file);
    for (size_t i = 0; st == GSGD_STATUS_OK && i < t->n; i++) {
        double x = 0;
        int missing;
        number_of(t, i, &x, &missing);
        if (missing)
            st = missing_error(ctx, t, i);
        else if (x != floor(x) || fabs(x) >= 9.0e18)
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                            "%s: target %.10g is not a whole number, so this column does not hold "
                            "class labels: " PICK_COLUMN ", " USE_REGRESSION,
                            where(t, i, w, sizeof w), x);
        else
            v[i] = u[i] = (int64_t)x;
    }
    size_t K = 0;
    if (st == GSGD_STATUS_OK) {
        qsort(u, t->n, sizeof *u, cmp_i64);
        for (size_t i = 0; i < t->n; i++)
            if (i == 0 || u[i] != u[K - 1]) u[K++] = u[i];
        st = check_count(ctx, t, K);
    }
    if (st == GSGD_STATUS_OK) st = gsgdi_labels_from_values(ctx, u, (int)K, &h->meta.labels);
    for (size_t i = 0; st == GSGD_STATUS_OK && i < t->n; i++)
        h->y[i] = (float)gsgdi_labels_find_value(h->meta.labels, v[i]);
    if (st == GSGD_STATUS_OK) {
        h->n_classes = (int)K;
        h->meta.target_min = (double)u[0];
        h->meta.target_max = (double)u[K - 1];
    }
    free(v);
    free(u);
    return st;
}

/* Text labels: the sorted distinct texts. */
static gsgd_status build_text(gsgd_context *ctx, const gsgdi_raw_targets *t, gsgdi_host_data *h) {
    char w[400];
    const char **u = malloc(t->n * sizeof *u);
    GSGD_RETURN_ERROR_IF(!u, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", t->file);
    gsgd_status st = GSGD_STATUS_OK;
    for (size_t i = 0; st == GSGD_STATUS_OK && i < t->n; i++) {
        u[i] = text_of(t, i);
        if (gsgdi_is_missing(u[i], strlen(u[i])))
            st = missing_error(ctx, t, i);
        else if (strlen(u[i]) > GSGD_MAX_LABEL_TEXT)
            st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_VALUE,
                            "%s: a label of %zu characters is free text, not a class: " PICK_COLUMN,
                            where(t, i, w, sizeof w), strlen(u[i]));
    }
    size_t K = 0;
    if (st == GSGD_STATUS_OK) {
        qsort(u, t->n, sizeof *u, cmp_str);
        for (size_t i = 0; i < t->n; i++)
            if (i == 0 || strcmp(u[i], u[K - 1]) != 0) u[K++] = u[i];
        st = check_count(ctx, t, K);
    }
    if (st == GSGD_STATUS_OK) st = gsgdi_labels_from_texts(ctx, u, (int)K, &h->meta.labels);
    for (size_t i = 0; st == GSGD_STATUS_OK && i < t->n; i++)
        h->y[i] = (float)gsgdi_labels_find_text(h->meta.labels, text_of(t, i));
    if (st == GSGD_STATUS_OK) {
        h->n_classes = (int)K;
        h->meta.target_min = 0;
        h->meta.target_max = (double)K - 1;
    }
    free(u);
    return st;
}

/* A column of texts is numeric when every one of them is a number or
 * missing (then missing_error names it). */
static int all_numbers(const gsgdi_raw_targets *t) {
    if (t->num) return 1;
    for (size_t i = 0; i < t->n; i++) {
        double v;
        int missing;
        if (!number_of(t, i, &v, &missing)) return 0;
    }
    return 1;
}

static gsgd_status finish(gsgd_context *ctx, const gsgdi_raw_targets *t,
                          const gsgdi_target_rules *r, gsgdi_host_data *h) {
    void *p = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, (h->n ? h->n : 1) * sizeof(float), &p));
    h->y = p;
    memset(h->y, 0, h->n * sizeof(float));
    if (!t || t->n == 0) {
        h->meta.no_targets = 1;
        h->n_classes = r->has_ref ? r->ref_classes : 0;
        return r->has_ref ? gsgdi_labels_copy(ctx, r->ref, &h->meta.labels) : GSGD_STATUS_OK;
    }
    GSGD_RETURN_ERROR_IF(t->n != h->n, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: %zu targets for %zu rows of features", t->file, t->n, h->n);
    const int real = r->has_ref ? r->ref_classes == 0 : r->real;
    if (real) return finish_real(ctx, t, h);
    if (r->has_ref) return finish_ref(ctx, t, r, h);
    if (r->identity > 0) { /* class indices by construction (synth) */
        for (size_t i = 0; i < t->n; i++) h->y[i] = (float)t->num[i];
        h->n_classes = r->identity;
        h->meta.target_max = r->identity - 1;
        return gsgdi_labels_identity(ctx, r->identity, &h->meta.labels);
    }
    return all_numbers(t) ? build_numeric(ctx, t, h) : build_text(ctx, t, h);
}

gsgd_status gsgdi_targets_finish(gsgd_context *ctx, const gsgdi_raw_targets *t,
                                 const gsgdi_target_rules *r, gsgdi_host_data *h) {
    const gsgd_status st = finish(ctx, t, r, h);
    if (st == GSGD_STATUS_OK && t && t->column && t->name[0])
        snprintf(h->meta.target_name, sizeof h->meta.target_name, "%s", t->name);
    if (st != GSGD_STATUS_OK) { /* nothing half-made: no targets, no map */
        free(h->y);
        h->y = NULL;
        gsgdi_labels_free(h->meta.labels);
        h->meta.labels = NULL;
        h->n_classes = 0;
    }
    return st;
}
