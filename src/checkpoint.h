/* Checkpoint files, as far as the rest of the library needs them: model
 * loading reads the model part of a checkpoint. Never installed. */
#ifndef GSGD_CHECKPOINT_H
#define GSGD_CHECKPOINT_H

#include <stddef.h>

#include "internal.h"

/* Where a model's arrays lie in a file image (byte offsets; mean and
 * inv_std are 0 without a standardiser). */
typedef struct {
    size_t params, mean, inv_std;
} gsgd_model_offsets;

/* 1 when data starts with the checkpoint magic. */
int gsgd_is_checkpoint(const unsigned char *data, size_t len);

/* Checks a checkpoint image read from path (magic, version, CRC, sizes),
 * lays out m for its model (gsgd_model_layout, no allocation) and says
 * where the parameters evaluation should see lie: the average when the run
 * averaged, else the iterate. BAD_FORMAT naming path. */
gsgd_status gsgd_checkpoint_model_part(gsgd_context *ctx, const char *path,
                                       const unsigned char *data, size_t len, gsgd_model *m,
                                       gsgd_model_offsets *off);

#endif
