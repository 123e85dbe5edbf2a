/*
 * Resuming from a checkpoint (format and parsing: checkpoint.c): checks
 * that a trainer can take the saved state, naming whatever differs, then
 * restores every buffer and counter so the run continues exactly.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "train/trainer.h"
#include "core/memory.h"
#include "core/error.h"

/* Options that decide nothing about the steps once the batch is known. */
static int free_option(gsgd_param p) {
    switch (p) {
    case GSGD_EPOCHS: /* how many more epochs: the caller's to choose */
    case GSGD_TARGET_ACC:
    case GSGD_CHECK_EVERY:
    case GSGD_BATCH: /* the batch itself is compared */
    case GSGD_BATCH_POLICY:
    case GSGD_MAX_BATCH:
    case GSGD_MEM_LIMIT:
    case GSGD_MEM_FRACTION:
    case GSGD_MEM_HEADROOM:
    case GSGD_MEM_RESERVE:
    case GSGD_MAX_EPOCHS: /* how long EPOCHS 0 may go on: the caller's, as EPOCHS */
    case GSGD_MIN_STEPS:
    case GSGD_STANDARDIZE:     /* the checkpoint's standardiser is restored */
    case GSGD_MIN_EPOCH_STEPS: /* planning: the batch is compared */
        return 1;
    default:
        return 0;
    }
}

/* A cosine schedule's first cycle: COSINE_PERIOD, or EPOCHS when 0. */
static double cosine_span(const double *v) {
    return v[GSGD_COSINE_PERIOD] > 0.0 ? v[GSGD_COSINE_PERIOD] : v[GSGD_EPOCHS];
}

/* Whether tr can take the checkpoint's state, naming what differs. With
 * new_data the training set may differ (rows, and so the batch clamped to
 * them) but not its label map. */
static gsgd_status check_compatible(const gsgd_trainer *tr, const char *path,
                                    const gsgdi_ckpt_header *h, const gsgd_model *saved,
                                    const gsgdi_labels *saved_labels, int new_data) {
    gsgd_context *ctx = tr->ctx;
    const gsgd_model *m = tr->m;
    GSGD_RETURN_ERROR_IF(strcmp(saved->spec, m->spec) != 0 || saved->n_features != m->n_features ||
                             saved->n_classes != m->n_classes,
                         ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "resume: %s: the checkpoint is of model '%s' with %zu features and %d "
                         "classes, the trainer's is '%s' with %zu and %d",
                         path, saved->spec, saved->n_features, saved->n_classes, m->spec,
                         m->n_features, m->n_classes);
    const gsgdi_labels *data_labels = tr->train->meta.labels;
    if (saved_labels && data_labels && !gsgdi_labels_equal(saved_labels, data_labels)) {
        char a[200], b[200];
        gsgdi_labels_summary(saved_labels, a, sizeof a);
        gsgdi_labels_summary(data_labels, b, sizeof b);
        return GSGD_ERROR(ctx, GSGD_STATUS_SHAPE_MISMATCH,
                          "resume: %s: the checkpoint's labels are %s, the training data's %s: "
                          "load the data against the checkpoint's model (gsgd_data_set_model) so "
                          "its labels map to the same classes",
                          path, a, b);
    }
    GSGD_RETURN_ERROR_IF(!new_data && h->n_train != tr->train->n, ctx, GSGD_STATUS_SHAPE_MISMATCH,
                         "resume: %s: the checkpoint trained on %llu samples, the trainer has %zu: "
                         "an exact resume needs the same data; to go on training on other data "
                         "use gsgd_trainer_resume_new_data (gsgd train --resume with new --data)",
                         path, (unsigned long long)h->n_train, tr->train->n);
    GSGD_RETURN_ERROR_IF(!new_data && h->batch != tr->B, ctx, GSGD_STATUS_INVALID_ARGUMENT,
                         "resume: %s: the checkpoint's batch is %llu, the trainer's %zu (create it "
                         "with BATCH = %llu)",
                         path, (unsigned long long)h->batch, tr->B, (unsigned long long)h->batch);
    GSGD_RETURN_ERROR_IF(h->n_replicas != tr->n_replicas || h->shard != tr->shard, ctx,
                         GSGD_STATUS_INVALID_ARGUMENT,
                         "resume: %s: the checkpoint ran as %d replicas (shard %d), the trainer as "
                         "%d (shard %d)",
                         path, h->n_replicas, h->shard, tr->n_replicas, tr->shard);
    const double *now = tr->opts.v;
    const int cosine = (gsgd_schedule)now[GSGD_SCHEDULE] == GSGD_SCHEDULE_COSINE &&
                       h->v[GSGD_SCHEDULE] == now[GSGD_SCHEDULE];
    for (int k = 0; k < GSGD_N_PARAMS; k++) {
        const gsgd_param p = (gsgd_param)k;
        if (free_option(p)) continue;
        if (p == GSGD_COSINE_PERIOD && cosine) {
            /* Epochs auto decays on its own plateau (gsgdi_cooldown), not
             * over a span of epochs; both runs must follow the same rule. */
            GSGD_RETURN_ERROR_IF(
                (cosine_span(h->v) == 0.0) != (cosine_span(now) == 0.0), ctx,
                GSGD_STATUS_INVALID_ARGUMENT,
                "resume: %s: the checkpoint's cosine schedule %s, the trainer's %s (set epochs "
                "to %s, or cosine_period, to continue it)",
                path,
                cosine_span(h->v) == 0.0 ? "decays when the loss stops improving (epochs auto)"
                                         : "spans a given number of epochs",
                cosine_span(now) == 0.0 ? "under epochs auto" : "spans a given number",
                cosine_span(h->v) == 0.0 ? "0 (auto)" : "the checkpoint's");
            GSGD_RETURN_ERROR_IF(cosine_span(h->v) != cosine_span(now), ctx,
                                 GSGD_STATUS_INVALID_ARGUMENT,
                                 "resume: %s: the cosine cycle spans %g epochs in the checkpoint, "
                                 "%g in the trainer (set cosine_period to %g to continue it)",
                                 path, cosine_span(h->v), cosine_span(now), cosine_span(h->v));
            continue;
        }
        GSGD_RETURN_ERROR_IF(h->v[k] != now[k], ctx, GSGD_STATUS_INVALID_ARGUMENT,
                             "resume: %s: option %s is %g in the checkpoint, %g in the trainer "
                             "(gsgd_checkpoint_options gives the checkpoint's)",
                             path, gsgd_param_name(p), h->v[k], now[k]);
    }
    /* Implied by equal options; checked because the buffers must match. */
    GSGD_RETURN_ERROR_IF(h->n_state != (uint32_t)gsgdi_rule_state_count(&tr->rule) ||
                             ((h->flags & 2u) && !tr->average),
                         ctx, GSGD_STATUS_INTERNAL,
                         "resume: %s: the checkpoint's optimizer state does not fit the trainer",
                         path);
    return GSGD_STATUS_OK;
}

/* Gives the model a standardiser when the checkpoint has one, and takes it
 * away when not. */
static gsgd_status match_standardiser(gsgd_model *m, int want) {
    const size_t dbytes = m->n_features * sizeof(float);
    if (!want) {
        gsgdi_mem_free(m->ctx, m->mean, dbytes);
        gsgdi_mem_free(m->ctx, m->inv_std, dbytes);
        m->mean = m->inv_std = NULL;
        return GSGD_STATUS_OK;
    }
    if (m->mean) return GSGD_STATUS_OK; /* mean and inv_std come and go together */
    float *mean = NULL, *inv_std = NULL;
    gsgd_status st = gsgdi_mem_alloc(m->ctx, dbytes, (void **)&mean);
    if (st == GSGD_STATUS_OK) st = gsgdi_mem_alloc(m->ctx, dbytes, (void **)&inv_std);
    if (st != GSGD_STATUS_OK) {
        gsgdi_mem_free(m->ctx, mean, dbytes);
        return st;
    }
    m->mean = mean;
    m->inv_std = inv_std;
    return GSGD_STATUS_OK;
}

static gsgd_status restore(gsgd_trainer *tr, const gsgdi_ckpt_header *h,
                           const gsgdi_ckpt_layout *lay, const unsigned char *data,
                           gsgdi_labels **labels, int new_data) {
    gsgd_context *ctx = tr->ctx;
    const gsgdi_backend *be = ctx->be;
    gsgd_model *m = tr->m;
    const size_t pbytes = m->n_params * sizeof(float), dbytes = m->n_features * sizeof(float);
    gsgdi_trainer_use_average(tr, 0); /* the iterate back in the model */
    GSGD_FORWARD_IF_ERROR(match_standardiser(m, (h->flags & 1u) != 0));
    GSGD_FORWARD_IF_ERROR(be->upload(ctx, m->params, data + lay->params, pbytes));
    if (m->mean) {
        GSGD_FORWARD_IF_ERROR(be->upload(ctx, m->mean, data + lay->mean, dbytes));
        GSGD_FORWARD_IF_ERROR(be->upload(ctx, m->inv_std, data + lay->inv_std, dbytes));
        m->centered = gsgdi_mean_centres(data + lay->mean, m->n_features);
    }
    if (lay->average)
        GSGD_FORWARD_IF_ERROR(be->upload(ctx, tr->average, data + lay->average, pbytes));
    for (uint32_t k = 0; k < h->n_state; k++)
        GSGD_FORWARD_IF_ERROR(be->upload(ctx, tr->state[k], data + lay->state[k], pbytes));
    const gsgdi_guard g = {.lr_factor = h->guard_lr_factor,
                           .bad_steps = h->guard_bad_steps,
                           .first_bad = h->guard_first_bad};
    GSGD_FORWARD_IF_ERROR(be->upload(ctx, tr->guard, &g, sizeof g));
    tr->epoch = h->epoch;
    tr->no_improve = h->no_improve;
    tr->cooldown = (gsgdi_cooldown){
        .from = h->cooldown_from, .epochs = h->cooldown_epochs, .capped = h->cooldown_capped};
    tr->epoch_step = (size_t)h->epoch_step;
    tr->steps = (size_t)h->steps;
    tr->checked_steps = tr->steps; /* a checkpoint is taken at a health check */
    tr->avg_count = lay->average ? (size_t)h->avg_count : 0;
    tr->lr_factor = h->lr_factor;
    tr->best = h->best;
    tr->lr_now = h->lr_now;
    tr->bad_seen = h->bad_seen;
    if (new_data) {
        /* A fresh epoch over the new rows; losses on other data do not
         * compare with the best one seen, so EPOCHS 0 looks for a new
         * plateau (and cooldown) on them. */
        tr->epoch_step = 0;
        tr->best = NAN;
        tr->no_improve = 0;
        tr->cooldown = (gsgdi_cooldown){0};
    }
    if (lay->target) /* and names its target column (checked by the parse) */
        memcpy(m->target_name, data + lay->target, GSGD_TARGET_NAME_LEN);
    if (lay->names) { /* and its features */
        gsgdi_names *names = NULL;
        size_t used = 0;
        GSGD_FORWARD_IF_ERROR(gsgdi_names_image_read(ctx, "resume", data + lay->names,
                                                     lay->names_len, m->n_features, &used, &names));
        gsgdi_names_free(m->feature_names);
        m->feature_names = names;
    }
    if (*labels) { /* the model speaks the checkpoint's labels */
        gsgdi_labels_free(m->labels);
        m->labels = *labels;
        m->labels_given = 1;
        *labels = NULL;
    }
    gsgdi_trainer_use_average(tr, 1); /* as gsgd_train leaves it */
    return GSGD_STATUS_OK;
}

static gsgd_status resume(gsgd_trainer *tr, const char *path, int new_data) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = tr->ctx;
    GSGD_RETURN_ERROR_IF(!path, ctx, GSGD_STATUS_INVALID_ARGUMENT, "resume: NULL path");
    unsigned char *data = NULL;
    gsgdi_ckpt_header h;
    gsgdi_ckpt_layout lay;
    gsgd_model saved = {0};
    GSGD_FORWARD_IF_ERROR(gsgdi_checkpoint_read(ctx, path, &data, &h, &lay, &saved));
    const gsgdi_model_offsets off = {.labels = lay.labels, .labels_len = lay.labels_len};
    gsgd_status st = gsgdi_model_labels_from_image(ctx, path, data, &off, &saved);
    gsgdi_labels *labels = saved.labels_given ? saved.labels : NULL;
    if (!labels) gsgdi_labels_free(saved.labels);
    saved.labels = NULL;
    if (st == GSGD_STATUS_OK) st = check_compatible(tr, path, &h, &saved, labels, new_data);
    if (st == GSGD_STATUS_OK) st = restore(tr, &h, &lay, data, &labels, new_data);
    gsgdi_labels_free(labels);
    free(data);
    return st;
}

gsgd_status gsgd_trainer_resume(gsgd_trainer *tr, const char *path) { return resume(tr, path, 0); }

gsgd_status gsgd_trainer_resume_new_data(gsgd_trainer *tr, const char *path) {
    return resume(tr, path, 1);
}
