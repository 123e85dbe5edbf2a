/* Models: a layout of layers over ONE flat parameter buffer, and the
 * forward and backward passes as compositions of backend ops (or the
 * backend's fused one-layer gradient). */
#ifndef GSGD_MODEL_MODEL_H
#define GSGD_MODEL_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "backend/backend.h"
#include "data/dataset.h"
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
    size_t n_params, n_decay;   /* weights occupy [0, n_decay) */
    float *params;              /* backend memory */
    float *mean, *inv_std;      /* backend memory (n_features each) or NULL */
    int centered;               /* mean has a nonzero entry: the standardiser
                                   centres, which sparse rows cannot take */
    gsgdi_labels *labels;       /* classes: original label of each class (owned);
                                   NULL for regression */
    int labels_given;           /* set from data (gsgd_model_set_labels, a file),
                                   not the default of the class indices */
    gsgdi_names *feature_names; /* the training data's feature names (owned), or
                                   NULL (gsgd_model_set_labels) */
    /* The training data's target column name (gsgd_model_set_labels), ""
     * when unknown. */
    char target_name[GSGD_TARGET_NAME_LEN];
};

/* Whether a standardiser's mean (d floats, host memory at any
 * alignment, as in a file) centres: has a nonzero entry. */
static inline int gsgdi_mean_centres(const void *mean, size_t d) {
    const unsigned char *p = (const unsigned char *)mean;
    for (size_t j = 0; j < d; j++) {
        float v;
        memcpy(&v, p + 4 * j, sizeof v);
        if (v != 0.0f) return 1;
    }
    return 0;
}

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
    /* Sparse input (Xb NULL): the batch's CSR rows, and for training
     * (gW not NULL) the compact gradient of the first layer's weights,
     * one row per distinct feature of the batch (backend/sparse.h). */
    int sparse;
    gsgdi_csr_batch csr;
    float *gW;
    size_t gW_rows;
} gsgdi_step_buffers;

/* Bytes of one batch row of hidden layer l's ReLU mask on m's backend (0:
 * none; the output layer has none, nor a layout without a context). */
size_t gsgdi_model_mask_row_bytes(const gsgd_model *m, int l);
/* Bytes of backend memory gsgdi_step_buffers_alloc takes for B rows. */
size_t gsgdi_step_buffers_bytes(const gsgd_model *m, size_t B);
gsgd_status gsgdi_step_buffers_alloc(gsgd_model *m, size_t B, gsgdi_step_buffers *sb);
void gsgdi_step_buffers_free(gsgd_model *m, gsgdi_step_buffers *sb);

/* Buffers for forward/backward of up to B sparse rows holding at most cap
 * nonzeros; with training, also the batch's grouping by feature and the
 * compact gradient (min(cap, d) rows). The planner counts the same buffers
 * (planner.c's sparse_batch_items). */
gsgd_status gsgdi_step_buffers_alloc_csr(gsgd_model *m, size_t B, size_t cap, int training,
                                         gsgdi_step_buffers *sb);
/* Buffers fit for ds (dense or sparse): B rows, and for a sparse ds room
 * for its densest B rows. */
gsgd_status gsgdi_step_buffers_alloc_for(gsgd_model *m, const gsgd_dataset *ds, size_t B,
                                         int training, gsgdi_step_buffers *sb);

/* The forward pass of a batch gathered into sb->csr (sparse.c): the first
 * layer as CSR x W in FP32, the rest dense in precision prec; logits in
 * sb->act[n_layers-1]. */
gsgd_status gsgdi_model_csr_forward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                    gsgd_precision prec);
/* Loss and backward over that batch, scaled by grad_scale: the first
 * layer's weight gradient compact into sb->gW (needs csr_compact, FP32),
 * every other gradient into grads (flat layout; products in prec). */
gsgd_status gsgdi_model_csr_backward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                     float grad_scale, gsgd_precision prec, float *grads);
/* Rows start + i (perm NULL) or perm[start + i], i < B, of a dataset into
 * the buffers (gather or csr_gather) and the forward pass in FP32 (that of
 * evaluation and prediction). */
gsgd_status gsgdi_model_gather_forward(gsgd_model *m, gsgdi_step_buffers *sb,
                                       const gsgd_dataset *ds, const uint32_t *perm, size_t start,
                                       size_t B);
/* Rows from start that one pass of sb takes: sb->B, fewer where sparse
 * rows would overflow its nonzeros (0 when one row alone would). */
size_t gsgdi_model_chunk_rows(const gsgd_dataset *ds, const gsgdi_step_buffers *sb, size_t start);
/* UNSUPPORTED when m's standardiser centres and ds is sparse. */
gsgd_status gsgdi_model_check_sparse(const gsgd_model *m, const gsgd_dataset *ds);
/* The dense layers' backward from layer `stop` up: with stop 0 the whole
 * backward of gsgdi_model_backward_scaled after the loss. */
gsgd_status gsgdi_model_backward_layers(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                        gsgd_precision prec, float *grads, int stop);

/* Forward pass of rows already gathered in sb->Xb (B <= sb->B), its
 * products in precision prec (a training step's GSGD_PRECISION; FP32 for
 * evaluation and prediction); logits end in sb->act[n_layers-1]. */
gsgd_status gsgdi_model_forward(gsgd_model *m, gsgdi_step_buffers *sb, size_t B,
                                gsgd_precision prec);
/* The forward pass from layer `first` (its input sb->act[first - 1], or
 * sb->Xb for 0). */
gsgd_status gsgdi_model_forward_layers(gsgd_model *m, gsgdi_step_buffers *sb, size_t B, int first,
                                       gsgd_precision prec);
/* Frees what gsgdi_step_buffers_alloc_csr allocated (sparse.c), and what
 * gsgdi_step_buffers_alloc did (model.c); gsgdi_step_buffers_free (sparse.c)
 * frees either. */
void gsgdi_step_buffers_free_csr(gsgd_model *m, gsgdi_step_buffers *sb);
void gsgdi_step_buffers_free_dense(gsgd_model *m, gsgdi_step_buffers *sb);
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
/* What gsgdi_model_forward_dataset hands over per chunk of rows [first,
 * first + B): the outputs z (host, B x n_outputs) and the rows' targets y
 * (host, B; NULL for rows without targets). */
typedef void (*gsgdi_outputs_fn)(const gsgd_model *m, const float *z, const float *y, size_t first,
                                 size_t B, void *user);
/* The model's forward pass over every row of ds (dense or sparse), a chunk
 * of buffers at a time (predict.c). INVALID_ARGUMENT (another context),
 * SHAPE_MISMATCH (features), UNSUPPORTED (a centring standardiser on
 * sparse rows), memory and device statuses. */
gsgd_status gsgdi_model_forward_dataset(gsgd_model *m, const gsgd_dataset *ds, gsgdi_outputs_fn fn,
                                        void *user);

/* STANDARDIZE = AUTO standardises when the columns' scales span more than
 * this factor (gsgdi_scale_ratio). Measured: bench/results/defaults_grid.md. */
#define GSGD_STANDARDIZE_AUTO_RATIO 10.0

/* How far the columns' scales reach from the unit scale the default rates
 * were measured at: with s_j = sqrt(mean_j^2 + var_j), the root mean
 * square of column j, over the columns that are not all zero,
 * r = max(s_max, 1) / min(s_median, 1). 1 for all-zero data; NaN when out
 * of host memory. */
double gsgdi_scale_ratio(const double *mean, const double *var, size_t d);

/* Evaluates with given buffers (reused by the trainer). */
gsgd_status gsgdi_evaluate_with(gsgd_model *m, gsgdi_step_buffers *sb, const gsgd_dataset *ds,
                                gsgd_eval_result *out);

#endif
