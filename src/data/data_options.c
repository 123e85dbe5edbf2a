/* Loading options (gsgd_data_options): the enum-keyed numeric options with
 * their bounds, the text options, the reference a file must fit, and the
 * load plan a reader and the target rules take from them. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"

static const struct {
    double lo, hi, dflt;
    int integer;
} BOUNDS[GSGD_DATA_N_PARAMS] = {
    [GSGD_DATA_FORMAT] = {0, GSGD_FORMAT_IDX, GSGD_FORMAT_AUTO, 1},
    [GSGD_DATA_TARGET] = {0, GSGD_TARGET_REAL, GSGD_TARGET_CLASSES, 1},
    [GSGD_DATA_HEADER] = {-1, 1, -1, 1},
    [GSGD_DATA_DELIMITER] = {0, 126, 0, 1},
    [GSGD_DATA_ZERO_BASED] = {-1, 1, -1, 1},
    [GSGD_DATA_TEST_FRACTION] = {0, 0.999, 0, 0},
    [GSGD_DATA_SEED] = {0, 9007199254740992.0, 0, 1},
    [GSGD_DATA_STORAGE] = {0, GSGD_STORAGE_CSR, GSGD_STORAGE_AUTO, 1},
    [GSGD_DATA_DECIMAL] = {',', '.', '.', 1},
};

gsgd_status gsgd_data_param_bounds(gsgd_data_param p, double *lo, double *hi, double *dflt) {
    if ((int)p < 0 || (int)p >= GSGD_DATA_N_PARAMS) return GSGD_STATUS_INVALID_ARGUMENT;
    if (lo) *lo = BOUNDS[p].lo;
    if (hi) *hi = BOUNDS[p].hi;
    if (dflt) *dflt = BOUNDS[p].dflt;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_data_options_create(gsgd_data_options **out) {
    if (!out) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_data_options *o = calloc(1, sizeof *o);
    *out = o;
    if (!o) return GSGD_STATUS_OUT_OF_MEMORY;
    for (int k = 0; k < GSGD_DATA_N_PARAMS; k++) o->v[k] = BOUNDS[k].dflt;
    return GSGD_STATUS_OK;
}

void gsgd_data_options_free(gsgd_data_options *o) {
    if (!o) return;
    free(o->label);
    free(o->labels_file);
    free(o->ignore);
    gsgdi_labels_free(o->ref_labels);
    gsgdi_names_free(o->ref_names);
    free(o);
}

gsgd_status gsgd_data_set(gsgd_data_options *o, gsgd_data_param p, double value) {
    if (!o || (int)p < 0 || (int)p >= GSGD_DATA_N_PARAMS) return GSGD_STATUS_INVALID_ARGUMENT;
    if (!(value >= BOUNDS[p].lo && value <= BOUNDS[p].hi) ||
        (BOUNDS[p].integer && value != floor(value)))
        return GSGD_STATUS_OUT_OF_RANGE;
    /* A delimiter is a mark, not a letter, digit, quote or line end. */
    if (p == GSGD_DATA_DELIMITER && value != 0 && value != '\t' &&
        (value < 32 || value == '"' || value == '.' || value == '-' || value == '+' ||
         (value >= '0' && value <= '9') || (value >= 'A' && value <= 'Z') ||
         (value >= 'a' && value <= 'z')))
        return GSGD_STATUS_OUT_OF_RANGE;
    if (p == GSGD_DATA_DECIMAL && value != '.' && value != ',') return GSGD_STATUS_OUT_OF_RANGE;
    o->v[p] = value;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_data_get(const gsgd_data_options *o, gsgd_data_param p, double *value) {
    if (!o || !value || (int)p < 0 || (int)p >= GSGD_DATA_N_PARAMS)
        return GSGD_STATUS_INVALID_ARGUMENT;
    *value = o->v[p];
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_data_set_text(gsgd_data_options *o, gsgd_data_text p, const char *value) {
    if (!o || (p != GSGD_DATA_LABEL && p != GSGD_DATA_LABELS_FILE && p != GSGD_DATA_IGNORE))
        return GSGD_STATUS_INVALID_ARGUMENT;
    char *copy = NULL;
    if (value) {
        copy = malloc(strlen(value) + 1);
        if (!copy) return GSGD_STATUS_OUT_OF_MEMORY;
        strcpy(copy, value);
    }
    char **slot = p == GSGD_DATA_LABEL    ? &o->label
                  : p == GSGD_DATA_IGNORE ? &o->ignore
                                          : &o->labels_file;
    free(*slot);
    *slot = copy;
    return GSGD_STATUS_OK;
}

/* Replaces the reference; shared by gsgd_data_set_reference and (model
 * layer) gsgd_data_set_model. */
gsgd_status gsgdi_data_set_ref(gsgd_data_options *o, gsgd_context *ctx, const char *what,
                               size_t n_features, int n_classes, const gsgdi_labels *labels,
                               const char *target, const gsgdi_names *names) {
    gsgdi_labels *copy = NULL;
    gsgdi_names *names_copy = NULL;
    if (labels) GSGD_FORWARD_IF_ERROR(gsgdi_labels_copy(ctx, labels, &copy));
    if (names && what) {
        gsgd_status st = gsgdi_names_copy(ctx, names, &names_copy);
        if (st != GSGD_STATUS_OK) {
            gsgdi_labels_free(copy);
            return st;
        }
    }
    gsgdi_labels_free(o->ref_labels);
    o->ref_labels = copy;
    gsgdi_names_free(o->ref_names);
    o->ref_names = names_copy;
    o->has_ref = what != NULL;
    o->ref_features = n_features;
    o->ref_classes = n_classes;
    snprintf(o->ref_what, sizeof o->ref_what, "%s", what ? what : "");
    snprintf(o->ref_target, sizeof o->ref_target, "%s", what && target ? target : "");
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_data_set_reference(gsgd_data_options *o, const gsgd_dataset *train) {
    if (!o) return GSGD_STATUS_INVALID_ARGUMENT;
    if (!train) return gsgdi_data_set_ref(o, NULL, NULL, 0, 0, NULL, NULL, NULL);
    gsgdi_labels *identity = NULL;
    /* A classification set without a map (it always has one) would take
     * its class indices. */
    if (train->n_classes > 0 && !train->meta.labels)
        GSGD_FORWARD_IF_ERROR(gsgdi_labels_identity(train->ctx, train->n_classes, &identity));
    gsgd_status st = gsgdi_data_set_ref(o, train->ctx, "the training set", train->d,
                                        train->n_classes, identity ? identity : train->meta.labels,
                                        train->meta.target_name, train->meta.feature_names);
    gsgdi_labels_free(identity);
    return st;
}

int gsgdi_storage_csr(gsgdi_storage s) {
    return s == GSGD_STORAGE_CSR ? 1 : s == GSGD_STORAGE_F32 ? 0 : -1;
}

void gsgdi_load_plan_from(gsgd_context *ctx, const gsgd_data_options *o, gsgdi_load_plan *p) {
    memset(p, 0, sizeof *p);
    p->read.header = -1;
    p->read.zero_based = -1;
    p->read.csr = -1;
    if (o) {
        p->format = (gsgd_data_format)o->v[GSGD_DATA_FORMAT];
        p->read.header = (int)o->v[GSGD_DATA_HEADER];
        p->read.delimiter = (int)o->v[GSGD_DATA_DELIMITER];
        p->read.decimal = (int)o->v[GSGD_DATA_DECIMAL];
        p->read.label = o->label;
        p->read.ignore = o->ignore;
        p->read.ref_target = o->has_ref && o->ref_target[0] ? o->ref_target : NULL;
        p->read.ref_names = o->has_ref ? o->ref_names : NULL;
        p->read.ref_what = o->has_ref ? o->ref_what : NULL;
        p->read.zero_based = (int)o->v[GSGD_DATA_ZERO_BASED];
        p->read.n_features = o->has_ref ? o->ref_features : 0;
        /* A training set, unlike a model, can still be widened. */
        p->read.wider_ok = o->has_ref && strcmp(o->ref_what, "the training set") == 0;
        p->rules.real = o->v[GSGD_DATA_TARGET] == GSGD_TARGET_REAL;
        p->rules.has_ref = o->has_ref;
        p->rules.ref_classes = o->ref_classes;
        p->rules.ref = o->ref_labels;
        p->storage = (gsgdi_storage)o->v[GSGD_DATA_STORAGE];
        p->read.csr = gsgdi_storage_csr(p->storage);
        p->labels_file = o->labels_file;
    }
    /* Floats on the CPU, where RAM is plentiful and the division per pixel
     * costs (measured, Fashion-MNIST softmax at batch 64 on 2 threads:
     * 822k samples/s from bytes, 960k from floats). */
    if (p->storage == GSGD_STORAGE_AUTO && ctx && ctx->device == GSGD_DEVICE_CPU)
        p->storage = GSGD_STORAGE_F32;
}
