/*
 * Checkpoints: the whole state of a trainer, so that a run saved, stopped
 * and resumed takes exactly the steps an uninterrupted run takes. This
 * file writes and parses the format; checkpoint_resume.c checks that a
 * trainer fits a checkpoint and restores it.
 *
 * There is no random-number state to save: the shuffle of epoch e is a pure
 * function of (SEED, e) (the backend's permutation), the validation split a
 * function of SEED, and no update rule draws random numbers. SEED is among
 * the options and the epoch (and the step within it) among the counters.
 *
 * Layout: native little-endian like model files (model_io.c), whose first
 * 168 bytes it shares but for the magic.
 *
 *   offset  size  field
 *   0       8     magic "GSGDCKP\0"
 *   8       4     format version: 3 (the target and feature columns' names);
 *                 version 2 (issues 15 and 17: the cooldown fields, the new
 *                 options, the label map) and version 1, with none of them,
 *                 still load
 *   12      4     byte-order mark 0x01020304
 *   16      128   model spec, NUL-padded
 *   144     8     n_features
 *   152     4     n_classes
 *   156     4     flags (bit 0: standardiser, bit 1: average, bit 2: label
 *                 map, version 2; bits 3 and 4: target name and feature names,
 *                 version 3)
 *   160     8     n_params
 *   168     4     optimizer (a gsgd_optim; also among the options)
 *   172     4     optimizer state buffers (gsgdi_rule_state_count: 0-2)
 *   176     8     batch B
 *   184     8     training samples (after VALIDATION_FRACTION's split)
 *   192     4     replicas        196  4  shard
 *   200     4     epochs done     204  4  epochs without improvement
 *   208     8     steps done of the epoch in progress (after a stop mid-epoch)
 *   216     8     steps done      224  8  iterates averaged
 *   232     8     ADAPTIVE's lr factor (double)
 *   240     8     best monitored value (double, NaN = none yet)
 *   248     8     rate of the latest step (double)
 *   256     4     bad steps already reported
 *   260     4     guard: lr factor (float)   264  4  guard: bad steps
 *   268     4     K, the number of options that follow (GSGD_N_PARAMS)
 *   272     8     guard: first bad step
 *   280     4     EPOCHS 0's cooldown: first epoch (0-based)   (version 2 on)
 *   284     4     its epochs (0: none yet)   288  4  1: placed to end at MAX_EPOCHS
 *   292     4     reserved (0)
 *   296     8*K   the options, gsgd_param order (double); version 1 had no
 *                 cooldown fields and the options at 280. Options a file
 *                 lacks (K < GSGD_N_PARAMS, an older build's) take the
 *                 values that train as that build did (legacy_value)
 *   then    4*n   parameters: the iterate
 *           8*d   mean then inv_std, when flag bit 0
 *           4*n   the average, when flag bit 1
 *           4*n   each optimizer state buffer
 *           8+b   the feature names (data/names.h's image), when flag bit 4
 *           64    the target column's name, NUL-padded, when flag bit 3
 *           ...   the label map (data/labels.h's image), when flag bit 2
 *   end-4   4     CRC32 (zlib) of every byte before it
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/checkpoint.h"
#include "io/fileio.h"
#include "train/trainer.h"
#include "core/memory.h"
#include "core/error.h"

#define CKPT_MAGIC "GSGDCKP"
#define CKPT_VERSION 3u
#define FIXED_BYTES_V1 280
#define FIXED_BYTES 296

static size_t fixed_bytes(uint32_t version) { return version >= 2 ? FIXED_BYTES : FIXED_BYTES_V1; }

/* One walk over the fixed fields serves both writing and reading, so the
 * two cannot disagree on the order. */
typedef void (*field_fn)(void *io, void *field, size_t size);

static void visit_fixed(gsgdi_ckpt_header *h, field_fn f, void *io) {
    f(io, h->magic, 8);
    f(io, &h->version, 4);
    f(io, &h->bom, 4);
    f(io, h->spec, GSGD_SPEC_LEN);
    f(io, &h->n_features, 8);
    f(io, &h->n_classes, 4);
    f(io, &h->flags, 4);
    f(io, &h->n_params, 8);
    f(io, &h->optim, 4);
    f(io, &h->n_state, 4);
    f(io, &h->batch, 8);
    f(io, &h->n_train, 8);
    f(io, &h->n_replicas, 4);
    f(io, &h->shard, 4);
    f(io, &h->epoch, 4);
    f(io, &h->no_improve, 4);
    f(io, &h->epoch_step, 8);
    f(io, &h->steps, 8);
    f(io, &h->avg_count, 8);
    f(io, &h->lr_factor, 8);
    f(io, &h->best, 8);
    f(io, &h->lr_now, 8);
    f(io, &h->bad_seen, 4);
    f(io, &h->guard_lr_factor, 4);
    f(io, &h->guard_bad_steps, 4);
    f(io, &h->n_options, 4);
    f(io, &h->guard_first_bad, 8);
    if (h->version < 2) return;
    f(io, &h->cooldown_from, 4);
    f(io, &h->cooldown_epochs, 4);
    f(io, &h->cooldown_capped, 4);
    f(io, &h->reserved, 4);
}

/* The value of an option that a checkpoint of an older build lacks, such
 * that the run continues as that build trained it: the parameters of issue
 * 17 (MAX_EPOCHS and after) did not exist, so no standardiser was fitted
 * and no planned batch was capped by steps per epoch; the others only act
 * under EPOCHS 0, which older builds did not have. */
static double legacy_value(gsgd_param p) {
    if (p == GSGD_STANDARDIZE) return GSGD_STANDARDIZE_OFF;
    if (p == GSGD_MIN_EPOCH_STEPS) return 0.0;
    double dflt = 0.0;
    gsgd_param_bounds(p, NULL, NULL, &dflt);
    return dflt;
}

static void put_field(void *io, void *field, size_t size) { gsgdi_bytes_put(io, field, size); }

typedef struct {
    const unsigned char *p;
    size_t off;
} reader;

static void get_field(void *io, void *field, size_t size) {
    reader *r = io;
    memcpy(field, r->p + r->off, size);
    r->off += size;
}

int gsgdi_is_checkpoint(const unsigned char *data, size_t len) {
    return len >= 8 && memcmp(data, CKPT_MAGIC, 8) == 0;
}

gsgd_status gsgdi_checkpoint_file_size(gsgd_context *ctx, const char *path, FILE *f,
                                       const unsigned char *head, size_t n, uint64_t *size) {
    GSGD_RETURN_ERROR_IF(n < FIXED_BYTES || !gsgdi_is_checkpoint(head, n), ctx,
                         GSGD_STATUS_BAD_FORMAT, "load: %s: not a gsgd checkpoint (bad magic)",
                         path);
    gsgdi_ckpt_header h;
    reader r = {head, 0};
    visit_fixed(&h, get_field, &r);
    GSGD_RETURN_ERROR_IF(h.flags > 31u || h.n_state > 2u || h.n_options > GSGD_N_PARAMS, ctx,
                         GSGD_STATUS_BAD_FORMAT, "load: %s: malformed checkpoint header", path);
    /* The arrays of the layout comment above, in units of 4 bytes. */
    const uint64_t arrays = 1 + ((h.flags & 2u) ? 1 : 0) + h.n_state;
    uint64_t words = gsgdi_size_mad(h.n_params, arrays, 0);
    if (h.flags & 1u) words = gsgdi_size_mad(h.n_features, 2, words);
    uint64_t end = gsgdi_size_mad(words, 4, FIXED_BYTES + 8 * (uint64_t)h.n_options);
    if ((h.flags & 16u) && end != UINT64_MAX)
        GSGD_FORWARD_IF_ERROR(gsgdi_file_names_end(ctx, path, f, end, &end));
    if (h.flags & 8u) end = gsgdi_size_mad(1, end, GSGD_TARGET_NAME_LEN);
    /* The label map (version 2) says its own length. */
    if ((h.flags & 4u) && end != UINT64_MAX)
        GSGD_FORWARD_IF_ERROR(gsgdi_file_label_map_end(ctx, path, f, end, &end));
    *size = gsgdi_size_mad(1, end, 4);
    return GSGD_STATUS_OK;
}

/* ---- saving ---------------------------------------------------------------- */

/* The iterate and the average, wherever use_average has put them. */
static const float *iterate_of(const gsgd_trainer *tr) {
    return tr->avg_swapped ? tr->average : tr->m->params;
}
static const float *average_of(const gsgd_trainer *tr) {
    return tr->avg_swapped ? tr->m->params : tr->average;
}

static gsgd_status fill_header(const gsgd_trainer *tr, gsgdi_ckpt_header *h) {
    const gsgd_model *m = tr->m;
    gsgd_context *ctx = tr->ctx;
    gsgdi_guard g;
    GSGD_FORWARD_IF_ERROR(ctx->be->download(ctx, &g, tr->guard, sizeof g));
    memset(h, 0, sizeof *h); /* NUL-padded spec: the file never holds stack garbage */
    memcpy(h->magic, CKPT_MAGIC, 8);
    h->version = CKPT_VERSION;
    h->bom = GSGD_FILE_BOM;
    memcpy(h->spec, m->spec, strlen(m->spec));
    h->n_features = m->n_features;
    h->n_classes = m->n_classes;
    const int has_avg = tr->average && tr->avg_count > 0;
    const unsigned tail = gsgdi_model_tail(m);
    h->flags = (m->mean ? 1u : 0u) | (has_avg ? 2u : 0u) | ((tail & GSGDI_TAIL_LABELS) ? 4u : 0u) |
               ((tail & GSGDI_TAIL_TARGET) ? 8u : 0u) | ((tail & GSGDI_TAIL_NAMES) ? 16u : 0u);
    h->n_params = m->n_params;
    h->optim = (int32_t)tr->opts.v[GSGD_OPTIMIZER];
    h->n_state = (uint32_t)gsgdi_rule_state_count(&tr->rule);
    h->batch = tr->B;
    h->n_train = tr->train->n;
    h->n_replicas = tr->n_replicas;
    h->shard = tr->shard;
    h->epoch = tr->epoch;
    h->no_improve = tr->no_improve;
    h->epoch_step = tr->epoch_step;
    h->steps = tr->steps;
    h->avg_count = tr->avg_count;
    h->lr_factor = tr->lr_factor;
    h->best = tr->best;
    h->lr_now = tr->lr_now;
    h->bad_seen = tr->bad_seen;
    h->guard_lr_factor = g.lr_factor;
    h->guard_bad_steps = g.bad_steps;
    h->n_options = GSGD_N_PARAMS;
    h->guard_first_bad = g.first_bad;
    h->cooldown_from = tr->cooldown.from;
    h->cooldown_epochs = tr->cooldown.epochs;
    h->cooldown_capped = tr->cooldown.capped;
    memcpy(h->v, tr->opts.v, sizeof h->v);
    return GSGD_STATUS_OK;
}

/* Appends bytes of backend memory src to b. */
static gsgd_status put_device(gsgd_context *ctx, gsgdi_bytes *b, const void *src, size_t bytes) {
    GSGD_FORWARD_IF_ERROR(ctx->be->download(ctx, b->buf + b->len, src, bytes));
    b->len += bytes;
    return GSGD_STATUS_OK;
}

gsgd_status gsgd_trainer_save(const gsgd_trainer *tr, const char *path) {
    if (!tr) return GSGD_STATUS_INVALID_ARGUMENT;
    gsgd_context *ctx = tr->ctx;
    const gsgd_model *m = tr->m;
    GSGD_RETURN_ERROR_IF(!path || !*path, ctx, GSGD_STATUS_INVALID_ARGUMENT, "save: empty path");
    /* A lazy run's pending decay applied first: the checkpoint holds the
     * true weights and no lazy state (a resumed run starts with none). */
    GSGD_FORWARD_IF_ERROR(
        gsgdi_trainer_flush((gsgd_trainer *)tr)); /* the same weights, caught up */
    gsgdi_ckpt_header h;
    GSGD_FORWARD_IF_ERROR(fill_header(tr, &h));
    const size_t pbytes = m->n_params * sizeof(float), dbytes = m->n_features * sizeof(float);
    const int has_std = h.flags & 1u, has_avg = (h.flags & 2u) != 0;
    const unsigned tail = gsgdi_model_tail(m);
    gsgdi_bytes b = {0};
    b.cap = FIXED_BYTES + sizeof h.v + pbytes * (1 + (size_t)has_avg + h.n_state) +
            (has_std ? 2 * dbytes : 0) + gsgdi_model_tail_bytes(m, tail) + 4;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, b.cap, (void **)&b.buf));
    visit_fixed(&h, put_field, &b);
    gsgdi_bytes_put(&b, h.v, sizeof h.v);
    gsgd_status st;
    GSGD_CHECK_GOTO(st, put_device(ctx, &b, iterate_of(tr), pbytes), done);
    if (has_std) {
        GSGD_CHECK_GOTO(st, put_device(ctx, &b, m->mean, dbytes), done);
        GSGD_CHECK_GOTO(st, put_device(ctx, &b, m->inv_std, dbytes), done);
    }
    if (has_avg) GSGD_CHECK_GOTO(st, put_device(ctx, &b, average_of(tr), pbytes), done);
    for (uint32_t k = 0; k < h.n_state; k++)
        GSGD_CHECK_GOTO(st, put_device(ctx, &b, tr->state[k], pbytes), done);
    gsgdi_model_tail_put(&b, m, tail);
    gsgdi_bytes_put_crc(&b);
    st = b.len == b.cap ? gsgdi_write_atomically(ctx, path, b.buf, b.len)
                        : GSGD_ERROR(ctx, GSGD_STATUS_INTERNAL,
                                     "save: %s: image is %zu bytes, "
                                     "expected %zu",
                                     path, b.len, b.cap);
done:
    free(b.buf);
    return st;
}

/* ---- reading --------------------------------------------------------------- */

/* Checks an image and fills h, the layout and m's layout (no allocation). */
static gsgd_status parse(gsgd_context *ctx, const char *path, const unsigned char *p, size_t len,
                         gsgdi_ckpt_header *h, gsgdi_ckpt_layout *lay, gsgd_model *m) {
    size_t min = FIXED_BYTES_V1 + 4;
    GSGD_RETURN_ERROR_IF(len < min, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: truncated (%zu bytes, a checkpoint header needs %zu)", path,
                         len, min);
    GSGD_RETURN_ERROR_IF(memcmp(p, "GSGDMDL", 8) == 0, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: a model file, not a checkpoint: it holds no optimizer state "
                         "to resume from",
                         path);
    GSGD_RETURN_ERROR_IF(!gsgdi_is_checkpoint(p, len), ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: not a gsgd checkpoint (bad magic)", path);
    memset(h, 0, sizeof *h);
    memcpy(&h->version, p + 8, 4);
    GSGD_RETURN_ERROR_IF(h->version < 1 || h->version > CKPT_VERSION, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: checkpoint format version %u, this build reads versions 1 to "
                         "%u",
                         path, h->version, CKPT_VERSION);
    const size_t fixed = fixed_bytes(h->version);
    min = fixed + 4;
    GSGD_RETURN_ERROR_IF(len < min, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: truncated (%zu bytes, a checkpoint header needs %zu)", path,
                         len, min);
    reader r = {p, 0};
    visit_fixed(h, get_field, &r);
    GSGD_RETURN_ERROR_IF(h->bom != GSGD_FILE_BOM, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: written on a host of another byte order", path);
    GSGD_RETURN_ERROR_IF(!gsgdi_crc_ok(p, len), ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: CRC mismatch (file corrupt or truncated)", path);
    /* Past the CRC the file is as written; these guard against a file
     * crafted to pass it. */
    GSGD_RETURN_ERROR_IF(
        h->spec[GSGD_SPEC_LEN - 1] != '\0' ||
            h->flags > (h->version == 1   ? 3u
                        : h->version == 2 ? 7u
                                          : 31u) ||
            h->n_state > 2u || h->n_options == 0 || h->n_options > GSGD_N_PARAMS || h->batch == 0 ||
            h->n_replicas < 1 || (h->shard != 0 && h->shard != 1) || h->epoch < 0 ||
            h->cooldown_from < 0 || h->cooldown_epochs < 0 ||
            (h->cooldown_capped != 0 && h->cooldown_capped != 1) ||
            len < fixed + 8 * (size_t)h->n_options + 4,
        ctx, GSGD_STATUS_BAD_FORMAT, "load: %s: malformed checkpoint header", path);
    /* A checkpoint of an older build with fewer options: the newer ones
     * train as that build did. */
    for (int k = 0; k < GSGD_N_PARAMS; k++) h->v[k] = legacy_value((gsgd_param)k);
    memcpy(h->v, p + fixed, 8 * (size_t)h->n_options);
    gsgd_status st = gsgdi_model_layout(ctx, h->spec, (size_t)h->n_features, h->n_classes, m);
    GSGD_RETURN_ERROR_IF(st != GSGD_STATUS_OK, ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: invalid model header (spec '%s', %llu features, %d classes)",
                         path, h->spec, (unsigned long long)h->n_features, (int)h->n_classes);
    const size_t pbytes = m->n_params * 4, dbytes = m->n_features * 4;
    size_t off = fixed + 8 * (size_t)h->n_options;
    lay->params = off;
    off += pbytes;
    lay->mean = lay->inv_std = lay->average = lay->state[0] = lay->state[1] = 0;
    if (h->flags & 1u) {
        lay->mean = off;
        lay->inv_std = off + dbytes;
        off += 2 * dbytes;
    }
    if (h->flags & 2u) {
        lay->average = off;
        off += pbytes;
    }
    for (uint32_t k = 0; k < h->n_state; k++) {
        lay->state[k] = off;
        off += pbytes;
    }
    lay->names = lay->names_len = 0;
    if (h->flags & 16u) { /* its length is in its image, read whole here */
        GSGD_RETURN_ERROR_IF(len < off + 4, ctx, GSGD_STATUS_BAD_FORMAT,
                             "load: %s: size %zu does not match the checkpoint's model "
                             "(expected at least %zu)",
                             path, len, off + 4);
        GSGD_FORWARD_IF_ERROR(gsgdi_names_image_span(ctx, path, p + off, len - 4 - off,
                                                     m->n_features, &lay->names_len));
        lay->names = off;
        off += lay->names_len;
    }
    lay->target = 0;
    if (h->flags & 8u) {
        lay->target = off;
        off += GSGD_TARGET_NAME_LEN;
    }
    /* The label map's length is in its own header: it must end at the CRC. */
    const int has_labels = (h->flags & 4u) != 0;
    GSGD_RETURN_ERROR_IF(h->n_params != m->n_params ||
                             (has_labels ? len < off + 4 : len != off + 4),
                         ctx, GSGD_STATUS_BAD_FORMAT,
                         "load: %s: size %zu does not match the checkpoint's model (expected %zu)",
                         path, len, off + 4);
    lay->labels = has_labels ? off : 0;
    lay->labels_len = has_labels ? len - 4 - off : 0;
    /* The names and the label map must fit the model for every reader:
     * gsgd_checkpoint_options took options from a file gsgd_model_load
     * refused (found by fuzz_checkpoint). The feature names were read
     * above. */
    if (lay->target)
        GSGD_FORWARD_IF_ERROR(gsgdi_file_target_name(ctx, path, p + lay->target, m->target_name));
    if (has_labels) {
        char what[300];
        snprintf(what, sizeof what, "load: %s", path);
        gsgdi_labels *l = NULL;
        size_t used = 0;
        GSGD_FORWARD_IF_ERROR(
            gsgdi_labels_image_read(ctx, what, p + off, len - 4 - off, &used, &l));
        const int fits = used == len - 4 - off && m->n_classes != 0 && l->n == m->n_classes;
        gsgdi_labels_free(l);
        GSGD_RETURN_ERROR_IF(!fits, ctx, GSGD_STATUS_BAD_FORMAT,
                             "load: %s: the label map does not fit the model (%d classes)", path,
                             m->n_classes);
    }
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_checkpoint_model_part(gsgd_context *ctx, const char *path,
                                        const unsigned char *data, size_t len, gsgd_model *m,
                                        gsgdi_model_offsets *off) {
    gsgdi_ckpt_header h;
    gsgdi_ckpt_layout lay;
    GSGD_FORWARD_IF_ERROR(parse(ctx, path, data, len, &h, &lay, m));
    off->params = lay.average ? lay.average : lay.params;
    off->mean = lay.mean;
    off->inv_std = lay.inv_std;
    off->labels = lay.labels;
    off->labels_len = lay.labels_len;
    off->target = lay.target;
    off->names = lay.names;
    off->names_len = lay.names_len;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_checkpoint_read(gsgd_context *ctx, const char *path, unsigned char **data,
                                  gsgdi_ckpt_header *h, gsgdi_ckpt_layout *lay, gsgd_model *m) {
    size_t len = 0;
    GSGD_FORWARD_IF_ERROR(gsgdi_read_whole_file(ctx, path, gsgdi_checkpoint_file_size, data, &len));
    gsgd_status st = parse(ctx, path, *data, len, h, lay, m);
    if (st != GSGD_STATUS_OK) {
        free(*data);
        *data = NULL;
    }
    return st;
}

gsgd_status gsgd_checkpoint_options(gsgd_context *ctx, const char *path, gsgd_options *opts,
                                    int *epochs_done, size_t *epoch_step) {
    GSGD_RETURN_ERROR_IF(!path, ctx, GSGD_STATUS_INVALID_ARGUMENT, "checkpoint: NULL path");
    unsigned char *data = NULL;
    gsgdi_ckpt_header h;
    gsgdi_ckpt_layout lay;
    gsgd_model m = {0};
    GSGD_FORWARD_IF_ERROR(gsgdi_checkpoint_read(ctx, path, &data, &h, &lay, &m));
    free(data);
    if (opts) {
        gsgd_options o;
        for (int k = 0; k < GSGD_N_PARAMS; k++) {
            gsgd_status st = gsgd_set(&o, (gsgd_param)k, h.v[k]);
            GSGD_RETURN_ERROR_IF(st != GSGD_STATUS_OK, ctx, GSGD_STATUS_BAD_FORMAT,
                                 "load: %s: option %s = %g is out of range", path,
                                 gsgd_param_name((gsgd_param)k), h.v[k]);
        }
        GSGD_RETURN_ERROR_IF(gsgd_set(&o, GSGD_BATCH, (double)h.batch) != GSGD_STATUS_OK, ctx,
                             GSGD_STATUS_BAD_FORMAT, "load: %s: batch %llu is out of range", path,
                             (unsigned long long)h.batch);
        *opts = o;
    }
    if (epochs_done) *epochs_done = h.epoch;
    if (epoch_step) *epoch_step = (size_t)h.epoch_step;
    return GSGD_STATUS_OK;
}
