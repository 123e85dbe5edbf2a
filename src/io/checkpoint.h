/* Checkpoint files, as far as the rest of the library needs them: model
 * loading reads the model part of a checkpoint, and resuming
 * (checkpoint_resume.c) the parsed image checkpoint.c reads. Never
 * installed. */
#ifndef GSGD_CHECKPOINT_H
#define GSGD_CHECKPOINT_H

#include <stddef.h>
#include <stdio.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "model/model.h"

/* Where a model's arrays lie in a file image (byte offsets; mean and
 * inv_std are 0 without a standardiser). */
typedef struct {
    size_t params, mean, inv_std;
    size_t labels, labels_len; /* the label map's image, 0 when none */
    size_t target;             /* the target column's name (GSGD_TARGET_NAME_LEN
                                  bytes, NUL-padded), 0 when none */
    size_t names, names_len;   /* the feature names' image, 0 when none */
} gsgdi_model_offsets;

/* Sets m's label map from the image at off->labels of data (the default
 * map of class indices when there is none), checking that it fits the
 * model: BAD_FORMAT naming path. */
gsgd_status gsgdi_model_labels_from_image(gsgd_context *ctx, const char *path,
                                          const unsigned char *data, const gsgdi_model_offsets *off,
                                          gsgd_model *m);

/* 1 when data starts with the checkpoint magic. */
int gsgdi_is_checkpoint(const unsigned char *data, size_t len);

/* The size of the checkpoint f (path) whose first n >= GSGD_FILE_HEAD
 * bytes are head, from its fields and its label map's header (a
 * gsgdi_file_size_fn, fileio.h); BAD_FORMAT naming path when head is no
 * checkpoint's. */
gsgd_status gsgdi_checkpoint_file_size(gsgd_context *ctx, const char *path, FILE *f,
                                       const unsigned char *head, size_t n, uint64_t *size);

/* Checks a checkpoint image read from path (magic, version, CRC, sizes),
 * lays out m for its model (gsgdi_model_layout, no allocation) and says
 * where the parameters evaluation should see lie: the average when the run
 * averaged, else the iterate. BAD_FORMAT naming path. */
gsgd_status gsgdi_checkpoint_model_part(gsgd_context *ctx, const char *path,
                                        const unsigned char *data, size_t len, gsgd_model *m,
                                        gsgdi_model_offsets *off);

/* ---- the image, shared by checkpoint.c and checkpoint_resume.c --------- */

/* A checkpoint's fixed header as read or written (layout: checkpoint.c). */
typedef struct {
    char magic[8];
    uint32_t version, bom;
    char spec[GSGD_SPEC_LEN];
    uint64_t n_features;
    int32_t n_classes;
    uint32_t flags;
    uint64_t n_params;
    int32_t optim;
    uint32_t n_state;
    uint64_t batch, n_train;
    int32_t n_replicas, shard, epoch, no_improve;
    uint64_t epoch_step, steps, avg_count;
    double lr_factor, best, lr_now;
    uint32_t bad_seen;
    float guard_lr_factor;
    uint32_t guard_bad_steps, n_options;
    uint64_t guard_first_bad;
    int32_t cooldown_from, cooldown_epochs, cooldown_capped; /* version 2 on; 0 before */
    uint32_t reserved;
    double v[GSGD_N_PARAMS];
} gsgdi_ckpt_header;

/* Payload offsets of a parsed image. */
typedef struct {
    size_t params, mean, inv_std, average, state[2];
    size_t labels, labels_len; /* the label map's image (version 2), 0 when none */
    size_t target;             /* the target column's name (version 3), 0 when none */
    size_t names, names_len;   /* the feature names' image (version 3), 0 when none */
} gsgdi_ckpt_layout;

/* Reads and parses path; *data is the image (freed by the caller), NULL
 * on failure. */
gsgd_status gsgdi_checkpoint_read(gsgd_context *ctx, const char *path, unsigned char **data,
                                  gsgdi_ckpt_header *h, gsgdi_ckpt_layout *lay, gsgd_model *m);

#endif
