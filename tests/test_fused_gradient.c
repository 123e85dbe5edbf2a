/*
 * The CPU backend's fused one-layer gradient (linear_grad) against the
 * composed ops it replaces, for every loss, both storages, with and
 * without standardisation and a permutation, on batches smaller than,
 * equal to and spanning several of its tiles; and training through it
 * against training through the composed ops.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "fused_check.h"
#include "testutil.h"
#include "train/trainer.h"

static gsgd_context *cpu;

static void open_cpu(void) {
    cr_assert_eq(gsgd_context_create(&cpu, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
}

static void close_cpu(void) {
    gsgd_context_free(cpu);
    cpu = NULL;
}

TestSuite(fused_gradient, .init = open_cpu, .fini = close_cpu);

Test(fused_gradient, matches_the_composed_ops_for_the_smooth_losses) {
    static const struct {
        gsgdi_loss kind;
        size_t K;
    } losses[] = {{GSGD_LOSS_SOFTMAX_CE, 10},
                  {GSGD_LOSS_SOFTMAX_CE, 3},
                  {GSGD_LOSS_LOGISTIC, 1},
                  {GSGD_LOSS_SQUARED, 1},
                  {GSGD_LOSS_SQUARED, 4}};
    const size_t batches[] = {1, 37, 64, 1100}; /* tiles are 64 rows */
    uint64_t seed = 1;
    for (size_t l = 0; l < sizeof losses / sizeof losses[0]; l++)
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++)
            fc_check_variants(cpu, cpu, losses[l].kind, losses[l].K, 1300, 150, batches[bi], 33, 20,
                              &seed);
}

/* Under TF32 and BF16 the fused op rounds its two products' inputs as
 * the composed gemm ops do (the same rounded rows, weights and logit
 * gradients), so the two still differ by FP32 summation order alone:
 * fused_bound.h's bounds, which a product left unrounded on either side
 * would miss by 2^-11 (TF32) or 2^-8 (BF16) of its terms. */
Test(fused_gradient, rounds_its_products_as_the_composed_ops_in_tf32_and_bf16) {
    const gsgd_precision precs[] = {GSGD_PRECISION_TF32, GSGD_PRECISION_BF16};
    const size_t batches[] = {37, 64, 1100};
    uint64_t seed = 500;
    for (size_t p = 0; p < 2; p++)
        for (size_t bi = 0; bi < sizeof batches / sizeof batches[0]; bi++)
            for (int variant = 0; variant < 4; variant++) {
                fc_case c = {.kind = variant & 2 ? GSGD_LOSS_SQUARED : GSGD_LOSS_SOFTMAX_CE,
                             .n = 1300,
                             .d = 33,
                             .K = variant & 2 ? 4 : 10,
                             .start = 150,
                             .B = batches[bi],
                             .xt = variant & 1 ? GSGD_XTYPE_U8 : GSGD_XTYPE_F32,
                             .standardise = variant & 1,
                             .permute = 1,
                             .precision = precs[p],
                             .seed = seed++};
                fc_check(cpu, cpu, &c);
            }
}

Test(fused_gradient, is_exact_on_exact_data_for_every_loss) {
    static const struct {
        gsgdi_loss kind;
        size_t K;
    } losses[] = {{GSGD_LOSS_HINGE, 5}, {GSGD_LOSS_SQUARED, 1}, {GSGD_LOSS_SQUARED, 3}};
    for (size_t l = 0; l < sizeof losses / sizeof losses[0]; l++)
        for (int permute = 0; permute < 2; permute++) {
            fc_case c = {.kind = losses[l].kind,
                         .n = 3000,
                         .d = 24,
                         .K = losses[l].K,
                         .start = 100,
                         .B = 2048,
                         .xt = GSGD_XTYPE_F32,
                         .permute = permute,
                         .exact = 1,
                         .seed = 100 + l};
            fc_check(cpu, cpu, &c);
        }
}

/* Two epochs of a hinge model through each path on exact data: integer
 * features, weights on a 1/16 grid, batch 1024 (16 of the CPU's tiles)
 * and rate 1/8 (powers of
 * two), plain SGD. Every logit, margin, gradient and update is then exact
 * (the weights stay on a 2^-13 grid), so the two paths must give the same
 * parameters bitwise: any row, scale or accumulation error shows. */
#define TN 2048
#define TD 24
#define TK 5

static void train_two_epochs(const char *fused, float *start, float *params) {
    setenv("GSGD_FUSED_GRADIENT", fused, 1);
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    static float X[TN * TD], y[TN];
    gsgdi_rng r = {gsgdi_mix64(42)};
    for (size_t i = 0; i < TN * TD; i++) X[i] = (float)((int)(gsgdi_rng_next(&r) % 7) - 3);
    for (size_t i = 0; i < TN; i++) y[i] = (float)(gsgdi_rng_next(&r) % TK);
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_from_host(ctx, X, y, TN, TD, TK, &ds), GSGD_STATUS_OK);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "hinge", TD, TK, 7, &m), GSGD_STATUS_OK);
    float *p;
    size_t n;
    cr_assert_eq(gsgd_model_params(m, &p, &n, NULL), GSGD_STATUS_OK);
    for (size_t i = 0; i < n; i++) p[i] = (float)((int)(gsgdi_rng_next(&r) % 17) - 8) / 16.0f;
    memcpy(start, p, n * sizeof *p);
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_SGD);
    gsgd_set(o, GSGD_BATCH, 1024);
    gsgd_set(o, GSGD_LR, 0.125);
    gsgd_set(o, GSGD_LR_SCALING, GSGD_LR_SCALING_NONE);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(tr->fused != NULL, fused[0] == '1', "GSGD_FUSED_GRADIENT=%s not followed", fused);
    for (int e = 0; e < 2; e++)
        cr_assert_eq(gsgd_train_epoch(tr, NULL), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(n, TD * TK + TK);
    memcpy(params, p, n * sizeof *p);
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
    gsgd_context_free(ctx);
}

Test(fused_gradient, training_through_it_is_training_through_the_composed_ops) {
    float a0[TD * TK + TK], b0[TD * TK + TK], a[TD * TK + TK], b[TD * TK + TK];
    train_two_epochs("1", a0, a);
    train_two_epochs("0", b0, b);
    size_t moved = 0;
    for (size_t i = 0; i < TD * TK + TK; i++) {
        cr_assert_eq(a0[i], b0[i]);
        cr_assert_eq(a[i], b[i], "parameter %zu: fused %.9g, composed %.9g", i, a[i], b[i]);
        moved += a[i] != a0[i];
    }
    /* Training moved most weights: the agreement is not that of two
     * untouched models. */
    cr_assert_gt(moved, (TD * TK + TK) / 2, "only %zu parameters moved", moved);
}

/* Steps take the fused op from the backend's smallest batch (every batch on
 * the CPU), at every batch with GSGD_FUSED_GRADIENT=1, at none with 0 or
 * with hidden layers. */
Test(fused_gradient, is_taken_from_the_backends_smallest_batch_unless_the_environment_says) {
    tu_fixture f, h;
    tu_fixture_start(&f, "synth:300,8,3", "softmax", 1);
    tu_fixture_start(&h, "synth:300,8,3", "mlp:4", 1);
    const size_t min_batch = f.ctx->be->linear_grad_min_batch;
    unsetenv("GSGD_FUSED_GRADIENT");
    cr_expect_eq(gsgdi_model_fused_from(f.model, f.train), min_batch);
    cr_expect_gt(gsgdi_model_fused_bytes(f.model, f.train, min_batch), 0);
    cr_expect_eq(gsgdi_model_fused_from(h.model, h.train), 0, "hidden layers compose the ops");
    setenv("GSGD_FUSED_GRADIENT", "0", 1);
    cr_expect_eq(gsgdi_model_fused_from(f.model, f.train), 0);
    cr_expect_eq(gsgdi_model_fused_bytes(f.model, f.train, SIZE_MAX), 0);
    setenv("GSGD_FUSED_GRADIENT", "1", 1);
    cr_expect_eq(gsgdi_model_fused_from(f.model, f.train), 1);
    cr_expect_gt(gsgdi_model_fused_bytes(f.model, f.train, 1), 0);
    cr_expect_eq(gsgdi_model_fused_from(h.model, h.train), 0, "hidden layers compose the ops");
    tu_fixture_finish(&h);
    tu_fixture_finish(&f);
}
