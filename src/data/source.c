/* The public loaders (gsgd_dataset_load_ex, gsgd_dataset_load): a spec
 * (spec.c) or a file (load.c), a test part split off, the parts uploaded. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"

/* Uploads the parts and frees the host copies whatever happens. */
static gsgd_status upload_parts(gsgd_context *ctx, gsgdi_host_data *tr, gsgdi_host_data *te,
                                gsgd_dataset **train, gsgd_dataset **test) {
    gsgd_status st = gsgdi_dataset_from_host_data(ctx, tr, train);
    gsgdi_host_data_free(tr);
    if (st == GSGD_STATUS_OK && test && gsgdi_host_data_has_rows(te)) {
        st = gsgdi_dataset_from_host_data(ctx, te, test);
        if (st != GSGD_STATUS_OK) {
            gsgd_dataset_free(*train);
            *train = NULL;
        }
    }
    gsgdi_host_data_free(te);
    return st;
}

gsgd_status gsgd_dataset_load_ex(gsgd_context *ctx, const char *source, const gsgd_data_options *o,
                                 gsgd_dataset **train, gsgd_dataset **test) {
    if (!ctx) return GSGD_STATUS_INVALID_ARGUMENT;
    if (train) *train = NULL;
    if (test) *test = NULL;
    GSGD_RETURN_ERROR_IF(!source || !train, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "dataset_load: source or train is NULL");
    int handled = 0;
    gsgdi_host_data tr = {0}, te = {0};
    gsgd_status st = gsgdi_load_spec(ctx, source, o, &tr, &te, &handled);
    if (st == GSGD_STATUS_OK && !handled) {
        gsgdi_load_plan plan;
        gsgdi_load_plan_from(ctx, o, &plan);
        st = gsgdi_load_file(ctx, source, &plan, &tr);
    }
    GSGD_FORWARD_IF_ERROR(st);
    const double fraction = o ? o->v[GSGD_DATA_TEST_FRACTION] : 0.0;
    if (fraction > 0.0) {
        if (gsgdi_host_data_has_rows(&te))
            st = GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                            "%s has a test part of its own; a test fraction splits sources that "
                            "have none",
                            source);
        else if (tr.meta.no_targets)
            st = GSGD_ERROR(ctx, GSGD_STATUS_INVALID_ARGUMENT,
                            "%s has no targets: there is nothing to test against", source);
        gsgdi_host_data a, b;
        if (st == GSGD_STATUS_OK)
            st = gsgdi_host_split(ctx, &tr, fraction, (uint64_t)o->v[GSGD_DATA_SEED], &a, &b);
        if (st != GSGD_STATUS_OK) {
            gsgdi_host_data_free(&tr);
            gsgdi_host_data_free(&te);
            return st;
        }
        gsgdi_host_data_free(&tr);
        tr = a;
        te = b;
    }
    return upload_parts(ctx, &tr, &te, train, test);
}

gsgd_status gsgd_dataset_load(gsgd_context *ctx, const char *spec, gsgd_dataset **train,
                              gsgd_dataset **test) {
    return gsgd_dataset_load_ex(ctx, spec, NULL, train, test);
}
