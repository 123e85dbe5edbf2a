/* Evaluation metrics against values worked out by hand from parameters set
 * by hand, and a regression trained on a CSV against least squares. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(metrics, .init = setup, .fini = teardown);

/* A model whose flat parameters are p (host memory on the CPU backend). */
static gsgd_model *model_with(const char *spec, size_t d, int k, const float *p, size_t n) {
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, spec, d, k, 0, &m), 0);
    float *params;
    size_t count;
    cr_assert_eq(gsgd_model_params(m, &params, &count, NULL), 0);
    cr_assert_eq(count, n);
    memcpy(params, p, n * sizeof *p);
    return m;
}

static double get(const gsgd_metrics *r, gsgd_metric w) {
    double v;
    cr_assert_eq(gsgd_metrics_get(r, w, &v), 0);
    return v;
}

/* Doubles computed two ways from the same float outputs: a few ulps. */
#define CLOSE(a, b) (fabs((a) - (b)) <= 1e-12 * fmax(1.0, fabs(b)))

Test(metrics, classification_by_hand) {
    /* Logits z = (x0, x1, 0.5): W = [[1,0,0],[0,1,0]], b = (0, 0, 0.5). */
    const float p[9] = {1, 0, 0, 0, 1, 0, 0, 0, 0.5f};
    gsgd_model *m = model_with("softmax", 2, 3, p, 9);
    const float X[10] = {2, 0, 0, 2, 0, 0, 2, 0, 0, 0}, y[5] = {0, 1, 2, 1, 0};
    /* predicted:        0     1     2     0     2 */
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 5, 2, 3, &ds), 0);
    gsgd_metrics *r;
    cr_assert_eq(gsgd_evaluate_metrics(m, ds, &r), 0, "%s", gsgd_last_error(ctx));
    cr_assert_eq(get(r, GSGD_METRIC_N), 5);
    cr_assert_eq(get(r, GSGD_METRIC_N_CLASSES), 3);
    cr_assert_eq(get(r, GSGD_METRIC_ACCURACY), 0.6);
    size_t cm[9];
    cr_assert_eq(gsgd_metrics_confusion(r, cm), 0);
    const size_t want[9] = {1, 0, 1, 1, 1, 0, 0, 0, 1};
    cr_assert_arr_eq(cm, want, sizeof want);
    /* class 0: 1 of 2 predicted right, 1 of 2 found; class 1: 1 of 1,
     * 1 of 2; class 2: 1 of 2, 1 of 1. */
    const double P[3] = {0.5, 1, 0.5}, R[3] = {0.5, 0.5, 1}, F[3] = {0.5, 2.0 / 3, 2.0 / 3};
    for (int k = 0; k < 3; k++) {
        double pr, rc, f1;
        size_t support;
        cr_assert_eq(gsgd_metrics_class(r, k, &pr, &rc, &f1, &support), 0);
        cr_assert(pr == P[k] && rc == R[k] && CLOSE(f1, F[k]), "class %d: %g %g %g", k, pr, rc, f1);
        cr_assert_eq(support, (size_t)(k == 2 ? 1 : 2));
    }
    cr_assert(CLOSE(get(r, GSGD_METRIC_MACRO_F1), (0.5 + 4.0 / 3) / 3));
    /* -ln softmax: z = (2, 0, .5) for rows 0 (y 0) and 3 (y 1), (0, 2, .5)
     * for row 1 (y 1), (0, 0, .5) for rows 2 (y 2) and 4 (y 0). */
    const double a = log(exp(2.0) + 1 + exp(0.5)), b = log(2 + exp(0.5));
    const double log_loss = ((a - 2) + (a - 2) + (b - 0.5) + a + b) / 5;
    cr_assert(CLOSE(get(r, GSGD_METRIC_LOG_LOSS), log_loss), "%.17g vs %.17g",
              get(r, GSGD_METRIC_LOG_LOSS), log_loss);
    /* The model's loss is the same cross-entropy, summed by the backend. */
    cr_assert(fabs(get(r, GSGD_METRIC_LOSS) - log_loss) < 1e-6);
    cr_assert(isnan(get(r, GSGD_METRIC_MSE)));
    gsgd_metrics_free(r);
    gsgd_dataset_free(ds);
    gsgd_model_free(m);
}

Test(metrics, logistic_log_loss_is_the_binary_one) {
    const float p[2] = {1, 0}; /* z = x */
    gsgd_model *m = model_with("logistic", 1, 2, p, 2);
    const float X[3] = {2, -1, 1}, y[3] = {1, 0, 0};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 3, 1, 2, &ds), 0);
    gsgd_metrics *r;
    cr_assert_eq(gsgd_evaluate_metrics(m, ds, &r), 0);
    cr_assert(CLOSE(get(r, GSGD_METRIC_ACCURACY), 2.0 / 3));
    const double want = (log1p(exp(-2.0)) + log1p(exp(-1.0)) + log1p(exp(1.0))) / 3;
    cr_assert(CLOSE(get(r, GSGD_METRIC_LOG_LOSS), want));
    gsgd_metrics_free(r);
    gsgd_dataset_free(ds);
    gsgd_model_free(m);
}

Test(metrics, hinge_gives_no_log_loss) {
    const float p[4] = {1, -1, 0, 0};
    gsgd_model *m = model_with("hinge", 1, 2, p, 4);
    const float X[2] = {1, -1}, y[2] = {0, 1};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 2, 1, 2, &ds), 0);
    gsgd_metrics *r;
    cr_assert_eq(gsgd_evaluate_metrics(m, ds, &r), 0);
    cr_assert_eq(get(r, GSGD_METRIC_ACCURACY), 1.0);
    cr_assert(isnan(get(r, GSGD_METRIC_LOG_LOSS)));
    gsgd_metrics_free(r);
    gsgd_dataset_free(ds);
    gsgd_model_free(m);
}

Test(metrics, regression_by_hand) {
    const float p[2] = {2, 1}; /* predictions 2x + 1: 1, 3, 5, 7 */
    gsgd_model *m = model_with("linear", 1, 0, p, 2);
    const float X[4] = {0, 1, 2, 3}, y[4] = {1, 4, 4, 8};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 4, 1, 0, &ds), 0);
    gsgd_metrics *r;
    cr_assert_eq(gsgd_evaluate_metrics(m, ds, &r), 0);
    /* errors 0, -1, 1, -1; mean y 4.25, SS_tot 24.75, SS_res 3 */
    cr_assert(CLOSE(get(r, GSGD_METRIC_MSE), 0.75));
    cr_assert(CLOSE(get(r, GSGD_METRIC_RMSE), sqrt(0.75)));
    cr_assert(CLOSE(get(r, GSGD_METRIC_MAE), 0.75));
    cr_assert(CLOSE(get(r, GSGD_METRIC_R2), 1 - 3 / 24.75));
    cr_assert(CLOSE(get(r, GSGD_METRIC_LOSS), 0.375), "LOSS is half the MSE: %g",
              get(r, GSGD_METRIC_LOSS));
    cr_assert(isnan(get(r, GSGD_METRIC_ACCURACY)));
    double f1;
    cr_assert_eq(gsgd_metrics_class(r, 0, NULL, NULL, &f1, NULL), GSGD_STATUS_INVALID_ARGUMENT);
    size_t cm[1];
    cr_assert_eq(gsgd_metrics_confusion(r, cm), GSGD_STATUS_INVALID_ARGUMENT);
    gsgd_metrics_free(r);
    gsgd_dataset_free(ds);
    gsgd_model_free(m);
}

Test(metrics, r2_of_constant_targets_follows_scikit_learn) {
    const float exact[2] = {0, 5}, off[2] = {0, 4};
    const float X[3] = {1, 2, 3}, y[3] = {5, 5, 5};
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, 3, 1, 0, &ds), 0);
    for (int k = 0; k < 2; k++) {
        gsgd_model *m = model_with("linear", 1, 0, k ? off : exact, 2);
        gsgd_metrics *r;
        cr_assert_eq(gsgd_evaluate_metrics(m, ds, &r), 0);
        cr_assert_eq(get(r, GSGD_METRIC_R2), k ? 0.0 : 1.0);
        gsgd_metrics_free(r);
        gsgd_model_free(m);
    }
    gsgd_dataset_free(ds);
}

/* Least squares with an intercept on the rows of tr, by the normal
 * equations in double (d + 1 unknowns, Gaussian elimination). */
static void least_squares(const float *X, const float *y, size_t n, size_t d, double *w) {
    const size_t m = d + 1;
    double A[8][9] = {{0}};
    for (size_t i = 0; i < n; i++) {
        double x[8];
        for (size_t j = 0; j < d; j++) x[j] = X[i * d + j];
        x[d] = 1;
        for (size_t a = 0; a < m; a++) {
            for (size_t b = 0; b < m; b++) A[a][b] += x[a] * x[b];
            A[a][m] += x[a] * y[i];
        }
    }
    for (size_t c = 0; c < m; c++)
        for (size_t r = c + 1; r < m; r++) {
            const double f = A[r][c] / A[c][c];
            for (size_t k = c; k <= m; k++) A[r][k] -= f * A[c][k];
        }
    for (size_t c = m; c-- > 0;) {
        double s = A[c][m];
        for (size_t k = c + 1; k < m; k++) s -= A[c][k] * w[k];
        w[c] = s / A[c][c];
    }
}

Test(metrics, a_regression_csv_trains_close_to_least_squares) {
    /* price = 3 a - 2 b + 0.5 c + 1 + noise, the target named mid-row. */
    char *text = malloc(64 * 1000), *p = text;
    p += sprintf(p, "a,b,price,c\n");
    unsigned s = 7;
    for (int i = 0; i < 800; i++) {
        double v[4];
        for (int k = 0; k < 4; k++) {
            s = s * 1103515245u + 12345u;
            v[k] = (double)(s >> 8) / 16777216.0 * 2 - 1;
        }
        const double price = 3 * v[0] - 2 * v[1] + 0.5 * v[2] + 1 + 0.1 * v[3];
        p += sprintf(p, "%.6f,%.6f,%.6f,%.6f\n", v[0], v[1], price, v[2]);
    }
    cr_assert_eq(tu_write_text(tu_path("house.csv"), text), 0);
    free(text);
    gsgd_data_options *o;
    gsgd_data_options_create(&o);
    gsgd_data_set_text(o, GSGD_DATA_LABEL, "price");
    gsgd_data_set(o, GSGD_DATA_TARGET, GSGD_TARGET_REAL);
    gsgd_data_set(o, GSGD_DATA_TEST_FRACTION, 0.25);
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load_ex(ctx, tu_path("house.csv"), o, &tr, &te), 0, "%s",
                 gsgd_last_error(ctx));
    gsgd_data_options_free(o);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "linear", 3, 0, 0, &m), 0);
    gsgd_options *opts;
    gsgd_options_create(&opts);
    gsgd_set(opts, GSGD_EPOCHS, 40);
    gsgd_set(opts, GSGD_BATCH, 16);
    gsgd_set(opts, GSGD_LR, 0.05);
    gsgd_trainer *t;
    gsgd_train_result res;
    cr_assert_eq(gsgd_trainer_create(m, tr, opts, &t), 0);
    cr_assert_eq(gsgd_train(t, NULL, NULL, NULL, &res), 0);
    gsgd_metrics *r;
    cr_assert_eq(gsgd_evaluate_metrics(m, te, &r), 0);
    /* The same figures for least squares on the same split. */
    float *X = malloc(tr->n * 3 * sizeof *X), *y = malloc(tr->n * sizeof *y);
    cr_assert_eq(gsgd_dataset_read(tr, 0, tr->n, X, y), 0);
    double w[4];
    least_squares(X, y, tr->n, 3, w);
    free(X), free(y);
    X = malloc(te->n * 3 * sizeof *X), y = malloc(te->n * sizeof *y);
    cr_assert_eq(gsgd_dataset_read(te, 0, te->n, X, y), 0);
    double sse = 0, sae = 0, mean = 0, sst = 0;
    for (size_t i = 0; i < te->n; i++) mean += y[i] / (double)te->n;
    for (size_t i = 0; i < te->n; i++) {
        const double e = w[0] * X[3 * i] + w[1] * X[3 * i + 1] + w[2] * X[3 * i + 2] + w[3] - y[i];
        sse += e * e, sae += fabs(e), sst += (y[i] - mean) * (y[i] - mean);
    }
    const double r2 = 1 - sse / sst, rmse = sqrt(sse / (double)te->n), mae = sae / (double)te->n;
    cr_log_info("test part: r2 %.5f (least squares %.5f), rmse %.4f (%.4f), mae %.4f (%.4f)",
                get(r, GSGD_METRIC_R2), r2, get(r, GSGD_METRIC_RMSE), rmse, get(r, GSGD_METRIC_MAE),
                mae);
    /* The noise has sd 0.058 against a target of sd 2.1: least squares
     * explains 99.9%; SGD at lr 0.05 ends within its own step noise of it. */
    cr_assert(fabs(get(r, GSGD_METRIC_R2) - r2) < 0.002);
    cr_assert(get(r, GSGD_METRIC_RMSE) < 1.2 * rmse);
    cr_assert(get(r, GSGD_METRIC_MAE) < 1.2 * mae);
    free(X), free(y);
    gsgd_metrics_free(r);
    gsgd_trainer_free(t);
    gsgd_options_free(opts);
    gsgd_model_free(m);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

Test(metrics, refuses_rows_without_targets_and_other_labels) {
    const float p[9] = {0};
    gsgd_model *m = model_with("softmax", 2, 3, p, 9);
    gsgd_data_options *o;
    gsgd_data_options_create(&o);
    gsgd_data_set_model(o, m);
    cr_assert_eq(tu_write_text(tu_path("x.csv"), "1,2\n"), 0);
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load_ex(ctx, tu_path("x.csv"), o, &ds, NULL), 0);
    gsgd_metrics *r = (gsgd_metrics *)1;
    cr_assert_eq(gsgd_evaluate_metrics(m, ds, &r), GSGD_STATUS_INVALID_ARGUMENT);
    cr_assert_null(r);
    gsgd_dataset_free(ds);
    gsgd_data_options_free(o);
    gsgd_model_free(m);
}
