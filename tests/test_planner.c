/*
 * The planner's pure rules (planner.c), with no device: the memory model
 * against bytes counted by hand for every model type, the budget, the
 * choice of B against made-up budgets, and the bisection against brute
 * force.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include <string.h>

#include "plan/planner.h"
#include "core/memory.h"

#define F 4 /* sizeof(float) */

/* A model layout (nothing allocated) and the inputs of a CPU run on n
 * samples: permutation scratch is n uint64 keys there. */
static gsgd_model layout(const char *spec, size_t d, int k) {
    gsgd_model m;
    cr_assert_eq(gsgdi_model_layout(NULL, spec, d, k, &m), GSGD_STATUS_OK, "%s", spec);
    return m;
}

static gsgdi_mem_model model_for(const gsgd_model *m, size_t n, gsgd_optim optim) {
    gsgdi_mem_inputs in = {.m = m,
                           .n_train = n,
                           .optim = optim,
                           .n_state = optim == GSGD_OPTIM_SGD    ? 0
                                      : optim == GSGD_OPTIM_ADAM ? 2
                                                                 : 1,
                           .model_resident = 1,
                           .data_resident = 1,
                           .perm_scratch_bytes = n * 8};
    gsgdi_mem_model mm;
    gsgdi_mem_model_build(&in, &mm);
    return mm;
}

/* Bytes every run holds besides the parameters' copies: dataset X and y,
 * loss accumulators (2 doubles), the NaN guard, one learning rate,
 * permutation (uint32) and its scratch (uint64). */
static size_t common_fixed(size_t n, size_t d) {
    return n * d * F + n * F + 16 + sizeof(gsgdi_guard) + F + n * 4 + n * 8;
}

static void expect_model(const char *spec, size_t d, int k, size_t n_params,
                         size_t per_sample_floats) {
    const size_t n = 1000;
    gsgd_model m = layout(spec, d, k);
    cr_assert_eq(m.n_params, n_params, "%s: %zu parameters", spec, m.n_params);
    /* SGD: parameters and gradients. */
    gsgdi_mem_model sgd = model_for(&m, n, GSGD_OPTIM_SGD);
    cr_expect_eq(sgd.per_sample, per_sample_floats * F, "%s: per sample %zu", spec, sgd.per_sample);
    cr_expect_eq(sgd.fixed, 2 * n_params * F + common_fixed(n, d), "%s: fixed %zu", spec,
                 sgd.fixed);
    /* Momentum adds one buffer the size of the parameters. */
    gsgdi_mem_model mom = model_for(&m, n, GSGD_OPTIM_MOMENTUM);
    cr_expect_eq(mom.fixed, sgd.fixed + n_params * F, "%s: momentum", spec);
    cr_expect_eq(mom.per_sample, sgd.per_sample);
    cr_expect_eq(mom.n_buffers, sgd.n_buffers + 1);
    /* Adam keeps two: first and second moments. */
    gsgdi_mem_model adam = model_for(&m, n, GSGD_OPTIM_ADAM);
    cr_expect_eq(adam.fixed, sgd.fixed + 2 * n_params * F, "%s: adam", spec);
    /* The per-sample part is what the step buffers take per row; their
     * fixed part is the loss accumulators. */
    cr_expect_eq(gsgdi_step_buffers_bytes(&m, 7), 7 * sgd.per_sample + 16, "%s", spec);
    /* The sums are the sums of the items. */
    size_t fixed = 0, per = 0;
    for (int i = 0; i < sgd.n_items; i++)
        *(sgd.items[i].per_sample ? &per : &fixed) += sgd.items[i].bytes;
    cr_expect_eq(fixed, sgd.fixed);
    cr_expect_eq(per, sgd.per_sample);
}

/* Features kept off the device -- the caller's own arrays, or pinned host
 * memory when they did not fit -- are listed at 0 bytes; the caller's
 * targets too, while a host-mapped set keeps its targets on the device. */
Test(planner, features_off_the_device_take_no_device_bytes) {
    const size_t n = 1000, d = 784;
    gsgd_model m = layout("softmax", d, 10);
    gsgdi_mem_inputs in = {.m = &m,
                           .n_train = n,
                           .optim = GSGD_OPTIM_SGD,
                           .model_resident = 1,
                           .data_resident = 1,
                           .perm_scratch_bytes = n * 8};
    gsgdi_mem_model on, mapped, borrowed;
    gsgdi_mem_model_build(&in, &on);
    in.x_host_mapped = 1;
    gsgdi_mem_model_build(&in, &mapped);
    in.x_host_mapped = 0;
    in.data_borrowed = 1;
    gsgdi_mem_model_build(&in, &borrowed);
    cr_expect_eq(on.fixed - mapped.fixed, n * d * F);
    cr_expect_eq(on.fixed - borrowed.fixed, n * d * F + n * F);
    cr_expect_eq(mapped.per_sample, on.per_sample);
    int found = 0;
    for (int i = 0; i < mapped.n_items; i++)
        found |= strcmp(mapped.items[i].name, "training X (1000 x 784, pinned host)") == 0 &&
                 mapped.items[i].bytes == 0;
    cr_expect(found, "the pinned X is listed, at 0 bytes");
}

/* Per sample: d inputs, 1 target, and every layer's output and gradient. */
Test(planner, softmax_bytes_match_the_hand_count) {
    expect_model("softmax", 784, 10, 784 * 10 + 10, 784 + 1 + 2 * 10);
}

Test(planner, logistic_bytes_match_the_hand_count) {
    expect_model("logistic", 5, 2, 5 + 1, 5 + 1 + 2 * 1);
}

Test(planner, linear_regression_and_classifier_bytes_match_the_hand_count) {
    expect_model("linear", 3, 0, 3 + 1, 3 + 1 + 2 * 1);
    expect_model("linear", 3, 4, 3 * 4 + 4, 3 + 1 + 2 * 4);
}

Test(planner, hinge_bytes_match_the_hand_count) {
    expect_model("hinge", 4, 3, 4 * 3 + 3, 4 + 1 + 2 * 3);
}

Test(planner, mlp_bytes_match_the_hand_count) {
    /* 6 -> 8 -> 4 -> 3: weights 48 + 32 + 12, biases 8 + 4 + 3. */
    expect_model("mlp:8,4", 6, 3, 48 + 32 + 12 + 15, 6 + 1 + 2 * (8 + 4 + 3));
}

Test(planner, warmup_other_memory_and_workspace_are_fixed_items) {
    gsgd_model m = layout("softmax", 10, 3);
    const size_t n = 500;
    gsgdi_mem_model base = model_for(&m, n, GSGD_OPTIM_SGD);
    gsgdi_mem_inputs in = {.m = &m,
                           .n_train = n,
                           .optim = GSGD_OPTIM_SGD,
                           .lr_table = 1,
                           .model_resident = 1,
                           .data_resident = 0,
                           .other_in_use = 12345,
                           .perm_scratch_bytes = n * 8,
                           .workspace_bytes = 1 << 20};
    gsgdi_mem_model mm;
    gsgdi_mem_model_build(&in, &mm);
    /* One rate per possible step (n) instead of one rate. */
    cr_expect_eq(mm.fixed, base.fixed + (n - 1) * F + 12345 + (1 << 20));
    /* The dataset is now the trainer's to allocate (not resident); the
     * workspace and the memory already in use are never gsgdi_mem_alloc'd
     * by the trainer. */
    cr_expect_eq(mm.n_buffers, base.n_buffers + 2);
    int resident = 0;
    for (int i = 0; i < mm.n_items; i++) resident += mm.items[i].resident;
    cr_expect_eq(resident, 2, "parameters and other memory in use");
}

/* ---- budget ---------------------------------------------------------- */

Test(planner, budget_adds_back_what_gsgd_holds_to_free_memory) {
    gsgdi_budget_inputs in = {.free_bytes = 1000000, .total_bytes = 4000000, .in_use = 200000};
    gsgdi_budget b;
    gsgdi_budget_compute(&in, &b);
    cr_expect_eq(b.cap, 1200000);
    cr_expect_str_eq(b.cap_source, "free memory");
    cr_expect_eq(b.budget, 1200000, "no headroom asked for");
}

Test(planner, budget_takes_the_smallest_cap_then_headroom) {
    gsgdi_budget_inputs in = {.free_bytes = 1000000,
                              .total_bytes = 4000000,
                              .ctx_limit = 900000,
                              .opt_limit = 800000,
                              .opt_fraction = 0.25, /* 1000000 */
                              .margin = 0.05,
                              .reserve = 1000,
                              .rounding = 63 * 10};
    gsgdi_budget b;
    gsgdi_budget_compute(&in, &b);
    cr_expect_eq(b.cap, 800000);
    cr_expect_str_eq(b.cap_source, "memory limit");
    cr_expect_eq(b.headroom, 40000 + 1000 + 630);
    cr_expect_eq(b.budget, 800000 - 41630);
    in.opt_fraction = 0.1; /* 400000 */
    gsgdi_budget_compute(&in, &b);
    cr_expect_eq(b.cap, 400000);
    in.reserve = 10000000; /* more than the cap: nothing left, not a wrap */
    gsgdi_budget_compute(&in, &b);
    cr_expect_eq(b.budget, 0);
}

/* ---- choice of B ------------------------------------------------------- */

Test(planner, round_keeps_small_batches_and_multiples_of_32) {
    const size_t in[] = {1, 31, 32, 33, 63, 64, 65, 1000, 1024};
    const size_t out[] = {1, 31, 32, 32, 32, 64, 64, 992, 1024};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        cr_expect_eq(gsgdi_plan_round(in[i]), out[i], "round(%zu)", in[i]);
}

Test(planner, batch_is_largest_that_fits_rounded_to_32) {
    size_t B, fit;
    gsgdi_plan_why why;
    /* Room for exactly 1000 rows (and 50 bytes to spare). */
    cr_assert_eq(
        gsgdi_plan_choose(NULL, 1000, 100, 1000 + 100 * 1000 + 50, 1000000, 0, &B, &fit, &why),
        GSGD_STATUS_OK);
    cr_expect_eq(fit, 1000);
    cr_expect_eq(B, 992);
    cr_expect_eq(why, GSGD_WHY_MEMORY);
    cr_expect_leq(1000 + B * 100, 1000 + 100 * 1000 + 50);
    /* One byte short of 1000 rows: 999 fit, still 992. Below 32 rows: as is. */
    cr_assert_eq(gsgdi_plan_choose(NULL, 0, 100, 100 * 1000 - 1, 1000000, 0, &B, &fit, &why), 0);
    cr_expect_eq(fit, 999);
    cr_assert_eq(gsgdi_plan_choose(NULL, 0, 100, 100 * 31 + 99, 1000000, 0, &B, &fit, &why), 0);
    cr_expect_eq(B, 31);
}

Test(planner, budget_below_fixed_part_is_a_clear_error) {
    gsgd_context *ctx;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    size_t B = 7, fit = 7;
    gsgdi_plan_why why;
    gsgd_status st = gsgdi_plan_choose(ctx, 3 << 20, 1024, 2 << 20, 1000, 0, &B, &fit, &why);
    cr_expect_eq(st, GSGD_STATUS_DEVICE_OUT_OF_MEMORY);
    const char *msg = gsgd_last_error(ctx);
    cr_expect(strstr(msg, "model does not fit: needs 3.00 MiB (3146752 bytes: 3145728 fixed + "
                          "1024 for one batch row), has 2.00 MiB (2097152 bytes"),
              "%s", msg);
    /* The fixed part fits but not one row beside it: the same error. */
    st = gsgdi_plan_choose(ctx, 1000, 1024, 1000 + 1023, 1000, 0, &B, &fit, &why);
    cr_expect_eq(st, GSGD_STATUS_DEVICE_OUT_OF_MEMORY);
    cr_expect(strstr(gsgd_last_error(ctx), "needs 1.98 KiB (2024 bytes"), "%s",
              gsgd_last_error(ctx));
    /* Exactly one row: B = 1. */
    cr_assert_eq(gsgdi_plan_choose(ctx, 1000, 1024, 1000 + 1024, 1000, 0, &B, &fit, &why), 0);
    cr_expect_eq(B, 1);
    gsgd_context_free(ctx);
}

Test(planner, batch_larger_than_the_training_set_is_the_training_set) {
    size_t B, fit;
    gsgdi_plan_why why;
    cr_assert_eq(gsgdi_plan_choose(NULL, 0, 100, 100 * 5000, 1000, 0, &B, &fit, &why), 0);
    cr_expect_eq(fit, 5000);
    cr_expect_eq(B, 1000, "all samples, not rounded down to 992");
    cr_expect_eq(why, GSGD_WHY_N_TRAIN);
}

Test(planner, max_batch_caps_the_choice_as_given) {
    size_t B, fit;
    gsgdi_plan_why why;
    cr_assert_eq(gsgdi_plan_choose(NULL, 0, 100, 100 * 5000, 100000, 100, &B, &fit, &why), 0);
    cr_expect_eq(B, 100);
    cr_expect_eq(why, GSGD_WHY_MAX_BATCH);
    cr_assert_eq(gsgdi_plan_choose(NULL, 0, 100, 100 * 70, 100000, 100, &B, &fit, &why), 0);
    cr_expect_eq(B, 64, "a cap above the memory bound changes nothing");
    cr_expect_eq(why, GSGD_WHY_MEMORY);
}

Test(planner, small_data_keeps_min_epoch_steps_steps_per_epoch) {
    /* iris's 105 training rows at the CPU's batch 64 take 2 steps an epoch;
     * min_epoch_steps 16 allows floor(105 / 16) = 6 rows: 18 steps. */
    size_t B = 64;
    gsgdi_plan_why why = GSGD_WHY_MAX_BATCH;
    gsgdi_plan_min_steps(105, 16, &B, &why);
    cr_expect_eq(B, 6);
    cr_expect_eq(why, GSGD_WHY_MIN_STEPS);
    /* Above 32 rows the cap is rounded down to a multiple of 32, which only
     * adds steps: 1000 / 16 = 62 -> 32, 32 steps. */
    B = 1000;
    why = GSGD_WHY_N_TRAIN;
    gsgdi_plan_min_steps(1000, 16, &B, &why);
    cr_expect_eq(B, 32);
    /* Every n and minimum: at least the minimum of steps, or one row a step. */
    for (size_t n = 1; n <= 300; n++)
        for (size_t k = 1; k <= 40; k++) {
            B = 64;
            why = GSGD_WHY_MAX_BATCH;
            gsgdi_plan_min_steps(n, k, &B, &why);
            const size_t steps = (n + B - 1) / B;
            cr_assert(B >= 1 && (steps >= k || B == 1), "n %zu, min %zu: batch %zu, %zu steps", n,
                      k, B, steps);
        }
    /* Data large enough, or the minimum off: unchanged. */
    B = 64;
    why = GSGD_WHY_MAX_BATCH;
    gsgdi_plan_min_steps(60000, 16, &B, &why);
    cr_expect(B == 64 && why == GSGD_WHY_MAX_BATCH);
    gsgdi_plan_min_steps(105, 0, &B, &why);
    cr_expect(B == 64 && why == GSGD_WHY_MAX_BATCH);
}

Test(planner, tiny_per_sample_sizes_do_not_overflow) {
    size_t B, fit;
    gsgdi_plan_why why;
    /* 4 bytes a row and an enormous budget: the bound exceeds any real n. */
    cr_assert_eq(gsgdi_plan_choose(NULL, 1 << 20, 4, SIZE_MAX / 2, UINT32_MAX, 0, &B, &fit, &why),
                 0);
    cr_expect_eq(fit, (SIZE_MAX / 2 - (1 << 20)) / 4);
    cr_expect_eq(B, UINT32_MAX);
    /* 4 bytes a row, a budget of 4 GiB + 100 bytes past the fixed part. */
    cr_assert_eq(
        gsgdi_plan_choose(NULL, 64, 4, 64 + ((size_t)1 << 32) + 100, SIZE_MAX, 0, &B, &fit, &why),
        0);
    cr_expect_eq(fit, ((size_t)1 << 30) + 25);
    cr_expect_eq(B, (size_t)1 << 30);
    /* The fixed part near SIZE_MAX saturates instead of wrapping to "fits". */
    cr_expect_eq(gsgdi_plan_choose(NULL, SIZE_MAX - 2, 4, SIZE_MAX - 1, 10, 0, &B, &fit, &why),
                 GSGD_STATUS_DEVICE_OUT_OF_MEMORY);
}

/* ---- bisection ----------------------------------------------------------- */

typedef struct {
    size_t threshold; /* largest batch that "allocates" */
    int calls;
    int other_error_at; /* nonzero: return INTERNAL on this call */
} fake_device;

static gsgd_status fake_try(size_t B, void *user) {
    fake_device *f = user;
    if (++f->calls == f->other_error_at) return GSGD_STATUS_INTERNAL;
    return B <= f->threshold ? GSGD_STATUS_OK : GSGD_STATUS_DEVICE_OUT_OF_MEMORY;
}

/* The largest batch of the planner's grid (1..32, multiples of 32) that
 * is < hi_fail and <= threshold, found by trying every one. */
static size_t brute_force(size_t threshold, size_t hi_fail) {
    size_t best = 0;
    for (size_t B = 1; B < hi_fail; B = B < 32 ? B + 1 : B + 32)
        if (B <= threshold) best = B;
    return best;
}

Test(planner, bisection_finds_what_brute_force_finds) {
    const size_t his[] = {1, 2, 31, 32, 33, 64, 100, 1000, 4096, 60000};
    for (size_t h = 0; h < sizeof his / sizeof his[0]; h++) {
        for (size_t t = 0; t < his[h] + 40; t = t < 70 ? t + 1 : t * 3 / 2 + 7) {
            fake_device f = {.threshold = t};
            size_t best = 99;
            int tries;
            gsgd_status st = gsgdi_plan_bisect(NULL, 0, his[h], fake_try, &f, &best, &tries);
            size_t expect = brute_force(t, his[h]);
            if (expect == 0) {
                cr_expect_eq(st, GSGD_STATUS_DEVICE_OUT_OF_MEMORY, "hi %zu t %zu", his[h], t);
                continue;
            }
            cr_expect_eq(st, GSGD_STATUS_OK, "hi %zu t %zu", his[h], t);
            cr_expect_eq(best, expect, "hi %zu threshold %zu: %zu", his[h], t, best);
            /* log2 of the grid size (about 1900 batches below 60000) + 1. */
            cr_expect_leq(tries, 12, "hi %zu t %zu: %d tries", his[h], t, tries);
        }
    }
}

Test(planner, bisection_starts_from_a_known_success) {
    fake_device f = {.threshold = 500};
    size_t best;
    int tries;
    cr_assert_eq(gsgdi_plan_bisect(NULL, 480, 512, fake_try, &f, &best, &tries), GSGD_STATUS_OK);
    cr_expect_eq(best, 480);
    cr_expect_eq(tries, 0, "nothing on the grid between 480 and 512");
}

Test(planner, bisection_stops_at_an_error_other_than_memory) {
    fake_device f = {.threshold = 500, .other_error_at = 2};
    size_t best;
    int tries;
    cr_expect_eq(gsgdi_plan_bisect(NULL, 0, 4096, fake_try, &f, &best, &tries),
                 GSGD_STATUS_INTERNAL);
    cr_expect_eq(tries, 2);
}
