/* A model's labels: the map from its class indices to the labels the
 * training data had, which saved files keep and predictions give back; and
 * loading data against a model (gsgd_data_set_model). */
#include <stdio.h>
#include <string.h>

#include "core/context.h"
#include "core/error.h"
#include "data/loaders.h"
#include "model/model.h"

gsgd_status gsgdi_model_default_labels(gsgd_model *m) {
    if (m->n_classes == 0 || m->labels) return GSGD_STATUS_OK;
    m->labels_given = 0;
    return gsgdi_labels_identity(m->ctx, m->n_classes, &m->labels);
}

float gsgdi_model_label_value(const gsgd_model *m, size_t k) {
    return m->labels && m->labels->numeric ? (float)m->labels->values[k] : (float)k;
}

gsgd_status gsgdi_model_check_labels(const gsgd_model *m, const gsgd_dataset *ds, const char *who) {
    if (!m->labels_given || m->n_classes == 0 || !ds->meta.labels ||
        gsgdi_labels_equal(m->labels, ds->meta.labels))
        return GSGD_STATUS_OK;
    char a[200], b[200];
    gsgdi_labels_summary(m->labels, a, sizeof a);
    gsgdi_labels_summary(ds->meta.labels, b, sizeof b);
    return GSGD_ERROR(m->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                      "%s: the model's labels are %s, the data's %s: load the data against the "
                      "model (gsgd_data_set_model) so its labels map to the model's classes",
                      who, a, b);
}

gsgd_status gsgd_model_set_labels(gsgd_model *m, const gsgd_dataset *ds) {
    if (!m || !ds) return GSGD_STATUS_INVALID_ARGUMENT;
    GSGD_RETURN_ERROR_IF(ds->n_classes != m->n_classes, m->ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "model_set_labels: the model has %d classes, the data %d", m->n_classes,
                         ds->n_classes);
    snprintf(m->target_name, sizeof m->target_name, "%s", ds->meta.target_name);
    /* The features' names, when the data has one for each of the model's
     * features (a sparse set may have fewer columns: none). */
    gsgdi_names *names = NULL;
    if (ds->meta.feature_names && ds->meta.feature_names->n == m->n_features)
        GSGD_FORWARD_IF_ERROR(gsgdi_names_copy(m->ctx, ds->meta.feature_names, &names));
    gsgdi_names_free(m->feature_names);
    m->feature_names = names;
    if (m->n_classes == 0 || !ds->meta.labels) return GSGD_STATUS_OK;
    gsgdi_labels *copy = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_labels_copy(m->ctx, ds->meta.labels, &copy));
    gsgdi_labels_free(m->labels);
    m->labels = copy;
    m->labels_given = 1;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_model_target_name(const gsgd_model *m, const char **name) {
    if (!m || !name) return GSGD_STATUS_INVALID_ARGUMENT;
    *name = m->target_name;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_model_feature_name(const gsgd_model *m, size_t j, const char **name) {
    if (!m || !name) return GSGD_STATUS_INVALID_ARGUMENT;
    *name = NULL;
    GSGD_RETURN_ERROR_IF(j >= m->n_features, m->ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "model_feature_name: feature %zu out of range (the model has %zu)", j,
                         m->n_features);
    *name = m->feature_names ? m->feature_names->at[j] : "";
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_model_label(const gsgd_model *m, int k, const char **text) {
    if (!m || !text) return GSGD_STATUS_INVALID_ARGUMENT;
    *text = NULL;
    GSGD_RETURN_ERROR_IF(
        !m->labels || k < 0 || k >= m->labels->n, m->ctx, GSGD_STATUS_INVALID_ARGUMENT,
        "model_label: class %d out of range (the model has %d classes)", k, m->n_classes);
    *text = m->labels->text[k];
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_data_set_model(gsgd_data_options *o, const gsgd_model *m) {
    if (!o) return GSGD_STATUS_INVALID_ARGUMENT;
    if (!m) return gsgdi_data_set_ref(o, NULL, NULL, 0, 0, NULL, NULL, NULL);
    return gsgdi_data_set_ref(o, m->ctx, "the model", m->n_features, m->n_classes, m->labels,
                              m->target_name, m->feature_names);
}

gsgd_status gsgd_model_describe(const gsgd_model *m, char *buf, size_t size) {
    if (!m || !buf || !size) return GSGD_STATUS_INVALID_ARGUMENT;
    char labels[300] = "real-valued target";
    if (m->n_classes > 0) gsgdi_labels_summary(m->labels, labels, sizeof labels);
    char column[GSGD_TARGET_NAME_LEN + 16] = "", features[400] = "";
    if (m->target_name[0]) snprintf(column, sizeof column, ", column '%s'", m->target_name);
    if (m->feature_names) {
        char names[360];
        gsgdi_names_summary(m->feature_names, names, sizeof names);
        snprintf(features, sizeof features, "\nfeatures: %s", names);
    }
    snprintf(buf, size,
             "model %s: %zu features -> %zu output%s, %zu parameters (%d layer%s)\n"
             "labels: %s%s%s%s\n"
             "input: %s",
             m->spec, m->n_features, m->n_outputs, m->n_outputs == 1 ? "" : "s", m->n_params,
             m->n_layers, m->n_layers == 1 ? "" : "s", labels,
             m->n_classes > 0 && !m->labels_given ? " (the class indices: no labels from data)"
                                                  : "",
             column, features,
             m->mean ? "standardized (mean and standard deviation of the training data)"
                     : "as given (no standardizer)");
    return GSGD_STATUS_OK;
}
