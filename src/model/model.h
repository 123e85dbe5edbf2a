/* Models: a layout of layers over ONE flat parameter buffer, and the
 * forward and backward passes as compositions of backend ops (or the
 * backend's fused one-layer gradient). */
#ifndef GSGD_MODEL_MODEL_H
#define GSGD_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "data/labels.h"
#include "gsgd.h"

#define GSGD_MAX_LAYERS 16
#define GSGD_SPEC_LEN 128

typedef struct {
    size_t in, out;
    size_t w_off; /* offset of the in x out weight matrix in the flat buffer */
    size_t b_off; /* offset of the out biases */
} gsgdi_layer;

struct gsgd_model {
    gsgd_context *ctx;
    char spec[GSGD_SPEC_LEN];
    gsgdi_loss loss;
    int n_classes;
    size_t n_features, n_outputs;
    int n_layers;
    gsgdi_layer layers[GSGD_MAX_LAYERS];
    size_t n_params, n_decay; /* weights occupy [0, n_decay) */
    float *params;            /* backend memory */
    float *mean, *inv_std;    /* backend memory (n_features each) or NULL */
    gsgdi_labels *labels;     /* classes: original label of each class (owned);
                                 NULL for regression */
    int labels_given;         /* set from data (gsgd_model_set_labels, a file),
                                 not the default of the class indices */
};

/* Gives a classifier without a label map the default one (its class
 * indices). */
gsgd_status gsgdi_model_default_labels(gsgd_model *m);
/* What gsgd_predict writes for class k: the label's value when the map
 * holds integers, else k. */
float gsgdi_model_label_value(const gsgd_model *m, size_t k);
/* SHAPE_MISMATCH naming who when ds's label map is not the model's (only
 * checked once the model has labels from data). */
gsgd_status gsgdi_model_check_labels(const gsgd_model *m, const gsgd_dataset *ds, const char *who);

/* Parses spec and fills the layout (layers, sizes); allocates nothing. */
gsgd_status gsgdi_model_layout(gsgd_context *ctx, const char *spec, size_t n_features,
                               int n_classes, gsgd_model *m);
/* Fills host buffer p (n_params) with PyTorch nn.Linear's init from seed. */
void gsgdi_model_init_host(const gsgd_model *m, uint64_t seed, float *p);
/* Allocates the parameter buffer of a laid-out model. */
gsgd_status gsgdi_model_alloc(gsgd_model *m);

/* Buffers for forward/backward of up to B rows. */
typedef struct {
    size_t B;
    float *Xb, *yb;               /* B x d input, B targets */
    float *act[GSGD_MAX_LAYERS];  /* B x out_l: layer outputs (post-ReLU) */
    float *dact[GSGD_MAX_LAYERS]; /* B x out_l: gradients w.r.t. pre-activations */
    void *mask[GSGD_MAX_LAYERS];  /* hidden layers, on backends with fused epilogues
                                     (backend.h's dense_forward): the ReLU's bit
                                     mask, B x relu_mask_row_bytes(out_l); else NULL */
    int masked[GSGD_MAX_LAYERS];  /* the last forward wrote mask[l] */
    double *acc;                  /* [loss sum, correct count] */
} gsgdi_step_buffers;

/* Bytes of one batch row of hidden layer l's ReLU mask on m's backend (0:
 * none; the output layer has none, nor a layout without a context). */
size_t gsgdi_model_mask_row_bytes(const gsgd_model *m, int l);
/* Bytes of backend memory gsgdi_step_buffers_alloc takes for B rows. */
size_t gsgdi_step_buffers_bytes(const gsgd_model *m, size_t B);
gsgd_status gsgdi_step_buffers_alloc(gsgd_model *m, size_t B, gsgdi_step_buffers *sb);
void gsgdi_step_buffers_free(gsgd_model *m, gsgdi_step_buffers *sb);

/* Forward pass of rows already gathered in sb->Xb (B <= sb->B), its
 * products in precision prec (a training step's GSGD_PRECISION; FP32 for
 * evaluation and prediction); logits end in sb->act[n_layers-1]. */
gsgd_status gsgdi_model_forward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                gsgd_precision prec);
/* Loss + backward in FP32: writes the gradient of the mean loss over the
 * B rows into grads (flat, same layout as params); adds loss/correct to
 * sb->acc. */
gsgd_status gsgdi_model_backward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B, float *grads);
/* The same with the loss gradient scaled by grad_scale instead of 1/B (a
 * data-parallel replica scales by 1/(global batch) so that the sum over
 * replicas is the global mean, with no extra pass over the buffer) and
 * the products in precision prec. */
gsgd_status gsgdi_model_backward_scaled(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                        float grad_scale, gsgd_precision prec, float *grads);
/* Loss and accuracy counts only (evaluation). */
gsgd_status gsgdi_model_score(gsgd_model *m, gsgdi_step_buffers *sb, size_t B);

/* The smallest batch from which steps of m over ds take the fused gradient
 * (backend.h's linear_grad), or 0 when none do and steps compose gather,
 * forward and backward: a model with hidden layers, a backend that does not
 * fuse this shape, or GSGD_FUSED_GRADIENT=0. GSGD_FUSED_GRADIENT=1 makes
 * it 1; unset, it is the backend's linear_grad_min_batch. */
size_t gsgdi_model_fused_from(const gsgd_model *m, const gsgd_dataset *ds);
/* Bytes of scratch the fused gradient needs for steps of `batch` rows of m
 * over ds, or 0 when those steps compose the ops (gsgdi_model_fused_from). */
size_t gsgdi_model_fused_bytes(const gsgd_model *m, const gsgd_dataset *ds, size_t batch);
/* What gather, gsgdi_model_forward and gsgdi_model_backward_scaled compute
 * for rows perm[start, start + B) of ds, in one fused op (its products in
 * precision prec): the gradient into grads, loss and correct count added
 * to acc. scratch holds gsgdi_model_fused_bytes(m, ds, B) bytes
 * (scratch_bytes), which must be nonzero. */
gsgd_status gsgdi_model_fused_gradient(gsgd_model *m, const gsgd_dataset *ds, const uint32_t *perm,
                                       size_t start, size_t B, float grad_scale,
                                       gsgd_precision prec, float *grads, double *acc,
                                       void *scratch, size_t scratch_bytes);

/* The class index the outputs z of one row predict. */
size_t gsgdi_model_class_of(const gsgd_model *m, const float *z);

/* Evaluates with given buffers (reused by the trainer). */
gsgd_status gsgdi_evaluate_with(gsgd_model *m, gsgdi_step_buffers *sb, const gsgd_dataset *ds,
                                gsgd_eval_result *out);

#endif
