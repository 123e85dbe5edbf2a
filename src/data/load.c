/* Loading a file of any format (gsgdi_load_file): detect it, read it,
 * finish its targets, fill its meta. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"

/* What a host data's features borrowed from: the mapped file, or the
 * inflated member of an archive. */
typedef struct {
    gsgdi_input in;
    unsigned char *owned;
} keeper;

static void keeper_release(void *p) {
    keeper *k = p;
    if (!k) return;
    gsgdi_input_close(&k->in);
    free(k->owned);
    free(k);
}

/* Hands k to h when h's features lie in it, else frees it. */
static void keep_or_release(gsgdi_host_data *h, keeper *k, int borrowed) {
    if (!borrowed) {
        keeper_release(k);
        return;
    }
    h->x_borrowed = 1;
    h->release = keeper_release;
    h->keep = k;
}

static gsgd_status load_text(gsgd_context *ctx, const char *path, gsgd_data_format fmt,
                             const gsgdi_load_plan *p, gsgdi_input *in, gsgdi_host_data *h) {
    const char *what = strcmp(path, "-") == 0 ? "stdin" : path;
    gsgdi_raw_targets t;
    gsgd_status st = fmt == GSGD_FORMAT_CSV
                         ? gsgdi_csv_parse(ctx, what, in->data, in->len, &p->read, h, &t)
                         : gsgdi_svmlight_parse(ctx, what, in->data, in->len, &p->read, h, &t);
    if (st == GSGD_STATUS_OK) st = gsgdi_targets_finish(ctx, t.n ? &t : NULL, &p->rules, h);
    gsgdi_raw_targets_free(&t);
    return st;
}

/* svmlight from a file: a plain one parsed where it is mapped, a gzip one
 * streamed (never held whole); *gz says which. */
static gsgd_status load_svmlight(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                                 gsgdi_host_data *h, int *gz) {
    gsgdi_input in;
    gsgdi_stream s;
    GSGD_FORWARD_IF_ERROR(gsgdi_input_open_stream(ctx, path, &in, &s));
    gsgdi_raw_targets t;
    gsgd_status st = s.gz ? gsgdi_svmlight_stream(ctx, path, &s, &p->read, h, &t)
                          : gsgdi_svmlight_parse(ctx, path, in.data, in.len, &p->read, h, &t);
    *gz = s.gzip;
    gsgdi_stream_close(&s);
    gsgdi_input_close(&in);
    if (st == GSGD_STATUS_OK) st = gsgdi_targets_finish(ctx, t.n ? &t : NULL, &p->rules, h);
    gsgdi_raw_targets_free(&t);
    return st;
}

/* Labels as text, one a line (blank lines skipped): numbers or label texts. */
static gsgd_status text_labels(gsgd_context *ctx, const char *path, const gsgdi_input *in,
                               gsgdi_raw_targets *t) {
    memset(t, 0, sizeof *t);
    snprintf(t->file, sizeof t->file, "%s", path);
    const char *p = (const char *)in->data, *end = p + in->len;
    for (size_t line = 1; p < end; line++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
        const char *s = p;
        while (s < e && (*s == ' ' || *s == '\t')) s++;
        while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r')) e--;
        if (e > s)
            GSGD_FORWARD_IF_ERROR(gsgdi_raw_targets_push_text(ctx, t, s, (size_t)(e - s), line));
        p = nl ? nl + 1 : end;
    }
    return GSGD_STATUS_OK;
}

/* The targets of a separate file (GSGD_DATA_LABELS_FILE for .npy features
 * and scipy's CSR .npz): a 1-D .npy, or text with one label a line. */
static gsgd_status labels_file(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                               gsgdi_host_data *h) {
    if (!path) return gsgdi_targets_finish(ctx, NULL, &p->rules, h);
    gsgdi_input in;
    GSGD_FORWARD_IF_ERROR(gsgdi_input_open(ctx, path, &in));
    gsgdi_npy a;
    gsgdi_raw_targets t = {0};
    gsgd_status st;
    if (in.len >= 6 && memcmp(in.data, "\x93NUMPY", 6) == 0) {
        st = gsgdi_npy_parse(ctx, path, in.data, in.len, &a);
        if (st == GSGD_STATUS_OK) st = gsgdi_npy_targets(ctx, path, &a, &t);
    } else {
        st = text_labels(ctx, path, &in, &t);
    }
    if (st == GSGD_STATUS_OK) st = gsgdi_targets_finish(ctx, &t, &p->rules, h);
    gsgdi_raw_targets_free(&t);
    gsgdi_input_close(&in);
    return st;
}

static gsgd_status load_npy(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                            gsgdi_host_data *h) {
    keeper *k = calloc(1, sizeof *k);
    GSGD_RETURN_ERROR_IF(!k, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    gsgd_status st = gsgdi_input_open(ctx, path, &k->in);
    gsgdi_npy a;
    int borrowed = 0;
    if (st == GSGD_STATUS_OK) st = gsgdi_npy_parse(ctx, path, k->in.data, k->in.len, &a);
    if (st == GSGD_STATUS_OK)
        st = gsgdi_npy_features(ctx, path, &a, &h->X, &h->n, &h->d, &borrowed);
    if (st != GSGD_STATUS_OK) {
        keeper_release(k);
        return st;
    }
    keep_or_release(h, k, borrowed);
    return labels_file(ctx, p->labels_file, p, h);
}

/* The member called name or alt as an array; *found 0 when neither is. */
static gsgd_status npz_array(gsgd_context *ctx, const char *path, const gsgdi_input *in,
                             const char *name, const char *alt, gsgdi_npy *a, unsigned char **owned,
                             char *what, size_t what_size, int *found) {
    const unsigned char *data = NULL;
    size_t size = 0;
    *found = 0;
    const char *names[2] = {name, alt};
    for (int k = 0; k < 2 && !data; k++) {
        GSGD_FORWARD_IF_ERROR(
            gsgdi_zip_member(ctx, path, in->data, in->len, names[k], &data, &size, owned));
        snprintf(what, what_size, "%s:%s", path, names[k]);
    }
    if (!data) return GSGD_STATUS_OK;
    *found = 1;
    return gsgdi_npy_parse(ctx, what, data, size, a);
}

static gsgd_status load_npz(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                            gsgdi_host_data *h) {
    keeper *k = calloc(1, sizeof *k);
    GSGD_RETURN_ERROR_IF(!k, ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: out of memory", path);
    char what[300], members[200];
    gsgdi_npy a;
    int found = 0, borrowed = 0;
    gsgd_status st = gsgdi_input_open(ctx, path, &k->in);
    if (st == GSGD_STATUS_OK && gsgdi_npz_is_scipy_sparse(k->in.data, k->in.len)) {
        /* A scipy.sparse matrix: its rows as CSR, targets from a labels file. */
        st = gsgdi_npz_csr(ctx, path, k->in.data, k->in.len, h);
        keeper_release(k);
        if (st == GSGD_STATUS_OK) st = labels_file(ctx, p->labels_file, p, h);
        if (st == GSGD_STATUS_OK)
            snprintf(h->meta.detail, sizeof h->meta.detail, "scipy CSR, %.3g%% nonzero",
                     100.0 * (double)h->nnz / ((double)h->n * (double)h->d));
        return st;
    }
    if (st == GSGD_STATUS_OK)
        st = npz_array(ctx, path, &k->in, "X.npy", "x.npy", &a, &k->owned, what, sizeof what,
                       &found);
    if (st == GSGD_STATUS_OK && !found) {
        gsgdi_zip_list(k->in.data, k->in.len, members, sizeof members);
        st = GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                        "%s: no array X in the archive (it holds %s); save the features as X "
                        "and the targets as y: numpy.savez(path, X=X, y=y)",
                        path, members[0] ? members : "nothing");
    }
    if (st == GSGD_STATUS_OK)
        st = gsgdi_npy_features(ctx, what, &a, &h->X, &h->n, &h->d, &borrowed);
    if (st != GSGD_STATUS_OK) {
        keeper_release(k);
        return st;
    }
    /* The targets, from the same archive (none: rows for predict). */
    unsigned char *owned_y = NULL;
    gsgdi_raw_targets t = {0};
    st = npz_array(ctx, path, &k->in, "y.npy", "Y.npy", &a, &owned_y, what, sizeof what, &found);
    if (st == GSGD_STATUS_OK && found) st = gsgdi_npy_targets(ctx, what, &a, &t);
    if (st == GSGD_STATUS_OK) st = gsgdi_targets_finish(ctx, found ? &t : NULL, &p->rules, h);
    gsgdi_raw_targets_free(&t);
    free(owned_y);
    keep_or_release(h, k, borrowed);
    return st;
}

static gsgd_status load_idx(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                            gsgdi_host_data *h) {
    gsgdi_raw_targets t;
    GSGD_FORWARD_IF_ERROR(gsgdi_load_idx(ctx, path, p->labels_file, p->storage, h, &t));
    gsgd_status st = gsgdi_targets_finish(ctx, t.n ? &t : NULL, &p->rules, h);
    gsgdi_raw_targets_free(&t);
    return st;
}

gsgd_status gsgdi_load_file(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                            gsgdi_host_data *h) {
    memset(h, 0, sizeof *h);
    const int is_stdin = strcmp(path, "-") == 0;
    gsgd_data_format fmt = p->format;
    gsgdi_input in = {0};
    int gz = 0;
    gsgd_status st = GSGD_STATUS_OK;
    if (is_stdin) {
        if (fmt != GSGD_FORMAT_AUTO && fmt != GSGD_FORMAT_CSV && fmt != GSGD_FORMAT_SVMLIGHT)
            return gsgdi_stdin_refused(ctx, fmt);
        GSGD_FORWARD_IF_ERROR(gsgdi_input_open_text(
            ctx, path, fmt == GSGD_FORMAT_AUTO ? "CSV or svmlight" : gsgdi_format_name(fmt), &in));
        if (fmt == GSGD_FORMAT_AUTO)
            fmt = gsgdi_detect_format(NULL, in.data, in.len < 4096 ? in.len : 4096);
        if (fmt != GSGD_FORMAT_CSV && fmt != GSGD_FORMAT_SVMLIGHT) {
            gsgdi_input_close(&in);
            return gsgdi_stdin_refused(ctx, fmt);
        }
    } else if (fmt == GSGD_FORMAT_AUTO) {
        unsigned char head[4096];
        size_t got = 0;
        GSGD_FORWARD_IF_ERROR(gsgdi_input_peek(ctx, path, head, sizeof head, &got, &gz));
        GSGD_RETURN_ERROR_IF(got == 0, ctx, GSGD_STATUS_BAD_FORMAT, "%s: empty file", path);
        fmt = gsgdi_detect_format(path, head, got);
    }
    switch (fmt) {
    case GSGD_FORMAT_SVMLIGHT:
    case GSGD_FORMAT_CSV:
        if (fmt == GSGD_FORMAT_SVMLIGHT && !is_stdin) { /* standard input was read whole */
            st = load_svmlight(ctx, path, p, h, &gz);
            break;
        }
        if (!is_stdin) st = gsgdi_input_open_text(ctx, path, gsgdi_format_name(fmt), &in);
        if (st == GSGD_STATUS_OK) st = load_text(ctx, path, fmt, p, &in, h);
        gz = in.gz;
        gsgdi_input_close(&in);
        break;
    case GSGD_FORMAT_NPY:
        st = load_npy(ctx, path, p, h);
        break;
    case GSGD_FORMAT_NPZ:
        st = load_npz(ctx, path, p, h);
        break;
    case GSGD_FORMAT_IDX:
        st = load_idx(ctx, path, p, h);
        break;
    case GSGD_FORMAT_AUTO:
        st = GSGD_ERROR(ctx, GSGD_STATUS_INTERNAL, "%s: format not detected", path);
        break;
    }
    /* The storage asked for (storage=csr|f32), or CSR rows by density. */
    if (st == GSGD_STATUS_OK) st = gsgdi_host_store(ctx, is_stdin ? "stdin" : path, p->read.csr, h);
    /* CSR rows narrower than the reference take its width as they are;
     * wider ones only where a training set can be widened. */
    if (st == GSGD_STATUS_OK && h->indptr && p->read.n_features > h->d) h->d = p->read.n_features;
    if (st == GSGD_STATUS_OK && p->read.n_features && h->d != p->read.n_features &&
        !(h->indptr && p->read.wider_ok && h->d > p->read.n_features))
        st = GSGD_ERROR(ctx, GSGD_STATUS_SHAPE_MISMATCH,
                        "%s: %zu features per row, but the model takes %zu", path, h->d,
                        p->read.n_features);
    if (st != GSGD_STATUS_OK) {
        gsgdi_host_data_free(h);
        return st;
    }
    snprintf(h->meta.source, sizeof h->meta.source, "%s", is_stdin ? "stdin" : path);
    snprintf(h->meta.format, sizeof h->meta.format, "%s", gsgdi_format_name(fmt));
    if (gz) {
        const size_t at = strlen(h->meta.detail);
        snprintf(h->meta.detail + at, sizeof h->meta.detail - at, "%sgzip", at ? ", " : "");
    }
    return GSGD_STATUS_OK;
}
