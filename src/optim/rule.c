/* Update rules from options: automatic values resolved, the rule's
 * scalars and the flat buffer's segments (host side is scalar only: the
 * update itself is the backend's one fused pass over the flat buffer). */
#include <math.h>
#include "optim/rule.h"

#include "model/model.h"

void gsgdi_resolve_options(const gsgd_options *in, gsgd_options *out) {
    *out = *in;
    double *v = out->v;
    const gsgd_optim k = (gsgd_optim)v[GSGD_OPTIMIZER];
    if (v[GSGD_MOMENTUM] < 0.0) v[GSGD_MOMENTUM] = k == GSGD_OPTIM_RMSPROP ? 0.0 : 0.9;
    if (v[GSGD_WEIGHT_DECAY] < 0.0)
        v[GSGD_WEIGHT_DECAY] = k == GSGD_OPTIM_ADAMW || k == GSGD_OPTIM_LAMB ? 0.01 : 0.0;
    if (v[GSGD_EPS] < 0.0)
        v[GSGD_EPS] = k == GSGD_OPTIM_ADAGRAD ? 1e-10 : k == GSGD_OPTIM_LAMB ? 1e-6 : 1e-8;
    if (v[GSGD_LR] <= 0.0) {
        switch (k) {
        case GSGD_OPTIM_SGD:
            v[GSGD_LR] = 0.1;
            break;
        case GSGD_OPTIM_MOMENTUM:
        case GSGD_OPTIM_NESTEROV:
            v[GSGD_LR] = 0.1 * (1.0 - v[GSGD_MOMENTUM]);
            break;
        case GSGD_OPTIM_LARS:
            /* Each layer then moves by about 1% of its norm per step: the
             * trust ratio scales the step to eta |w| / |g|, and momentum
             * sums 1 / (1 - mu) of them. On Fashion-MNIST mlp:256,128
             * (3 epochs, batch 64) lr 0.1 reached 0.787, this 1.0 0.832,
             * and 10 diverged. */
            v[GSGD_LR] = 0.01 * (1.0 - v[GSGD_MOMENTUM]) / v[GSGD_TRUST_COEF];
            break;
        case GSGD_OPTIM_ADAM:
        case GSGD_OPTIM_ADAMW:
        case GSGD_OPTIM_LAMB:
            v[GSGD_LR] = 1e-3;
            break;
        case GSGD_OPTIM_ADAGRAD:
        case GSGD_OPTIM_RMSPROP:
            v[GSGD_LR] = 1e-2;
            break;
        }
    }
}

gsgdi_update_rule gsgdi_rule_from_options(const gsgd_options *opts, const gsgd_model *m, size_t n) {
    gsgd_options o;
    gsgdi_resolve_options(opts, &o);
    const double alpha = o.v[GSGD_L1], ratio = o.v[GSGD_L1_RATIO];
    gsgdi_update_rule r = {
        .kind = (gsgd_optim)o.v[GSGD_OPTIMIZER],
        .momentum = (float)o.v[GSGD_MOMENTUM],
        .weight_decay = (float)(o.v[GSGD_WEIGHT_DECAY] + alpha * (1.0 - ratio)),
        .beta1 = (float)o.v[GSGD_BETA1],
        .beta2 = (float)o.v[GSGD_BETA2],
        .eps = (float)o.v[GSGD_EPS],
        .alpha = (float)o.v[GSGD_RMS_ALPHA],
        .trust_coef = (float)o.v[GSGD_TRUST_COEF],
        .clip_norm = (float)o.v[GSGD_CLIP_NORM],
        .l1 = (float)(alpha * ratio),
        .skip_nonfinite = (gsgd_on_nan)o.v[GSGD_ON_NAN] == GSGD_ON_NAN_SKIP,
        .n_decay = m ? m->n_decay : n,
    };
    if (m) { /* every weight matrix, then every bias vector */
        for (int l = 0; l < m->n_layers; l++) {
            r.seg[l] = m->layers[l].w_off;
            r.seg[m->n_layers + l] = m->layers[l].b_off;
        }
        r.n_segments = 2 * m->n_layers;
        r.seg[r.n_segments] = m->n_params;
    } else {
        r.n_segments = 1;
        r.seg[1] = n;
    }
    return r;
}

double gsgdi_base_lr(const gsgd_options *o) {
    gsgd_options r;
    gsgdi_resolve_options(o, &r);
    return r.v[GSGD_LR];
}

void gsgdi_sparse_auto_lr(gsgd_options *o, double mean_sq_norm, size_t batch) {
    if (o->v[GSGD_LR] > 0.0 || !(mean_sq_norm > 0.0)) return;
    gsgd_options r;
    gsgdi_resolve_options(o, &r);
    const gsgd_optim k = (gsgd_optim)r.v[GSGD_OPTIMIZER];
    if (k != GSGD_OPTIM_SGD && k != GSGD_OPTIM_MOMENTUM && k != GSGD_OPTIM_NESTEROV) return;
    const double small = fmin(1.0, (double)batch / GSGD_SPARSE_LR_REF_BATCH);
    double lr = small * GSGD_SPARSE_LR_NORM / mean_sq_norm;
    if (k != GSGD_OPTIM_SGD) lr *= 1.0 - r.v[GSGD_MOMENTUM];
    o->v[GSGD_LR] = fmin(fmax(lr, 0.1 * small), 100.0);
}
