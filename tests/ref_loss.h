/* The mean loss of a model over n_rows rows in double, written directly from
 * the definitions in backend.h, independent of the library's code path:
 * the reference of the finite-difference tests (test_model.c, dense rows;
 * test_sparse_model.c, the same rows through CSR). Rows of d features in X
 * (row-major), targets y, flat parameters p in the model's layout; d and
 * every layer's width at most 64. */
#ifndef GSGD_TESTS_REF_LOSS_H
#define GSGD_TESTS_REF_LOSS_H

#include <math.h>
#include <string.h>

#include "model/model.h"

static inline double tu_ref_loss(const gsgd_model *m, const double *p, const float *X,
                                 const float *y, int n_rows, size_t d) {
    double total = 0.0;
    for (int i = 0; i < n_rows; i++) {
        double a[64], z[64];
        size_t width = d;
        for (size_t j = 0; j < d; j++) a[j] = X[i * d + j];
        for (int l = 0; l < m->n_layers; l++) {
            const gsgdi_layer *L = &m->layers[l];
            for (size_t o = 0; o < L->out; o++) {
                double s = p[L->b_off + o];
                for (size_t k = 0; k < L->in; k++) s += a[k] * p[L->w_off + k * L->out + o];
                z[o] = (l < m->n_layers - 1 && s < 0.0) ? 0.0 : s;
            }
            width = L->out;
            memcpy(a, z, width * sizeof(double));
        }
        size_t K = width, t = (size_t)y[i];
        double loss = 0.0;
        switch (m->loss) {
        case GSGD_LOSS_SOFTMAX_CE: {
            double mx = a[0], s = 0.0;
            for (size_t k = 1; k < K; k++) mx = fmax(mx, a[k]);
            for (size_t k = 0; k < K; k++) s += exp(a[k] - mx);
            loss = log(s) + mx - a[t];
            break;
        }
        case GSGD_LOSS_LOGISTIC:
            loss = log1p(exp(a[0])) - y[i] * a[0];
            break;
        case GSGD_LOSS_SQUARED:
            for (size_t k = 0; k < K; k++) {
                double target = K == 1 ? y[i] : (k == t ? 1.0 : 0.0);
                loss += 0.5 * (a[k] - target) * (a[k] - target);
            }
            break;
        case GSGD_LOSS_HINGE:
            for (size_t k = 0; k < K; k++)
                if (k != t) loss += fmax(0.0, a[k] - a[t] + 1.0);
            break;
        }
        total += loss;
    }
    return total / n_rows;
}

#endif
