/*
 * Checkpoints (checkpoint.c) on the CPU backend: a run saved and resumed
 * takes exactly the steps of an uninterrupted one, bit for bit, also from
 * the middle of an epoch; corrupt, truncated, foreign and incompatible
 * files are refused naming the file; and a save killed at any moment never
 * leaves a half-written file behind.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "train/trainer.h"

#include "testutil.h"

/* 480 training samples of 6 features, 3 classes: at batch 32, 15 steps per
 * epoch, the last one full. */
#define DATA "synth:600,6,3:seed=4"
#define BATCH 32
#define STEPS_PER_EPOCH 15

static gsgd_context *ctx;
static gsgd_dataset *train, *test;

static void setup(void) {
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load(ctx, DATA, &train, &test), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
}

static void teardown(void) {
    gsgd_dataset_free(train);
    gsgd_dataset_free(test);
    size_t in_use;
    gsgd_context_memory(ctx, &in_use, NULL);
    cr_expect_eq(in_use, 0u, "every backend buffer was released");
    gsgd_context_free(ctx);
}

TestSuite(checkpoint, .init = setup, .fini = teardown);

/* A model and its trainer. */
typedef struct {
    gsgd_model *m;
    gsgd_trainer *tr;
} run;

/* Options of the runs compared: each exercises other saved state. */
typedef enum { CFG_MOMENTUM, CFG_ADAM, CFG_SGD_AVERAGE, CFG_BF16_MOMENTUM } config;

static gsgd_options *options_for(config c, int epochs) {
    gsgd_options *o;
    cr_assert_eq(gsgd_options_create(&o), GSGD_STATUS_OK);
    gsgd_set(o, GSGD_BATCH, BATCH);
    gsgd_set(o, GSGD_EPOCHS, epochs);
    gsgd_set(o, GSGD_SEED, 5);
    gsgd_set(o, GSGD_CHECK_EVERY, 4);
    switch (c) {
    case CFG_MOMENTUM: /* velocity; per-step rates through warmup */
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
        gsgd_set(o, GSGD_WARMUP, 1.5);
        /* The default before issue 17: 4 epochs straight equal 2 + 2 only
         * where the rate does not follow EPOCHS, as a cosine over all of
         * them would. */
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
        break;
    case CFG_BF16_MOMENTUM: /* the same with its products in BF16; a
                               constant rate, whatever the default */
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_MOMENTUM);
        gsgd_set(o, GSGD_WARMUP, 1.5);
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
        gsgd_set(o, GSGD_PRECISION, GSGD_PRECISION_BF16);
        break;
    case CFG_ADAM: /* two moments and the step count; a cosine per step */
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_ADAM);
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_COSINE);
        gsgd_set(o, GSGD_COSINE_PERIOD, 4);
        gsgd_set(o, GSGD_LR_MIN, 1e-4);
        break;
    case CFG_SGD_AVERAGE: /* the average; ADAPTIVE's factor and counters,
                             which a tolerance of 10 changes every epoch */
        gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_SGD);
        gsgd_set(o, GSGD_AVERAGE, 20);
        gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_ADAPTIVE);
        gsgd_set(o, GSGD_TOL, 10);
        gsgd_set(o, GSGD_N_ITER_NO_CHANGE, 1);
        break;
    }
    return o;
}

/* A model of seed model_seed, standardised, and its trainer. */
static run start(const gsgd_options *o, uint64_t model_seed, int standardise) {
    run r = {0};
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, model_seed, &r.m), GSGD_STATUS_OK);
    if (standardise) cr_assert_eq(gsgd_model_fit_standardizer(r.m, train), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(r.m, train, o, &r.tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    return r;
}

static void stop(run *r) {
    gsgd_trainer_free(r->tr);
    gsgd_model_free(r->m);
}

/* Trains with the options the trainer was created with. */
static gsgd_status train_run(run *r, gsgd_progress_fn fn, void *user) {
    gsgd_train_result res;
    return gsgd_train(r->tr, NULL, fn, user, &res);
}

/* Same parameters, average, optimizer state and counters, bit for bit. */
static void expect_same_state(const run *a, const run *b, const char *what) {
    const size_t n = a->m->n_params, bytes = n * sizeof(float);
    cr_assert_eq(b->m->n_params, n);
    cr_expect(memcmp(a->m->params, b->m->params, bytes) == 0, "%s: parameters differ", what);
    if (a->tr->average)
        cr_expect(memcmp(a->tr->average, b->tr->average, bytes) == 0, "%s: average differs", what);
    for (int k = 0; k < gsgdi_rule_state_count(&a->tr->rule); k++)
        cr_expect(memcmp(a->tr->state[k], b->tr->state[k], bytes) == 0,
                  "%s: optimizer state %d differs", what, k);
    cr_expect(memcmp(a->m->mean, b->m->mean, 6 * sizeof(float)) == 0, "%s: mean", what);
    cr_expect_eq(a->tr->steps, b->tr->steps, "%s", what);
    cr_expect_eq(a->tr->epoch, b->tr->epoch, "%s", what);
    cr_expect_eq(a->tr->avg_count, b->tr->avg_count, "%s", what);
    cr_expect(a->tr->lr_factor == b->tr->lr_factor, "%s: lr factor %g vs %g", what,
              a->tr->lr_factor, b->tr->lr_factor);
}

/* 4 epochs straight against 2, save, a fresh model of another seed (and no
 * standardiser) with a trainer from the checkpoint's options, resume, 2. */
static void check_exact_resume(config c, const char *name) {
    gsgd_options *o4 = options_for(c, 4);
    run straight = start(o4, 1, 1);
    cr_assert_eq(train_run(&straight, NULL, NULL), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));

    gsgd_options *o2 = options_for(c, 2);
    run first = start(o2, 1, 1);
    cr_assert_eq(train_run(&first, NULL, NULL), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    const char *path = tu_path(name);
    cr_assert_eq(gsgd_trainer_save(first.tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    stop(&first);

    gsgd_options *saved;
    gsgd_options_create(&saved);
    int done = -1;
    size_t step = 99;
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, saved, &done, &step), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_expect_eq(done, 2);
    cr_expect_eq(step, 0u);
    run second = start(saved, 77, 0);
    cr_assert_eq(gsgd_trainer_resume(second.tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(train_run(&second, NULL, NULL), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    expect_same_state(&straight, &second, name);

    stop(&second);
    stop(&straight);
    gsgd_options_free(saved);
    gsgd_options_free(o2);
    gsgd_options_free(o4);
}

Test(checkpoint, momentum_resumed_after_2_epochs_equals_4_straight) {
    check_exact_resume(CFG_MOMENTUM, "momentum.ckpt");
}

Test(checkpoint, adam_resumed_after_2_epochs_equals_4_straight) {
    check_exact_resume(CFG_ADAM, "adam.ckpt");
}

Test(checkpoint, averaged_adaptive_sgd_resumed_after_2_epochs_equals_4_straight) {
    check_exact_resume(CFG_SGD_AVERAGE, "average.ckpt");
}

/* Stops at epoch 2, step 8 (CHECK_EVERY 4), like a signal would. */
static int stop_mid_epoch_2(const gsgd_progress *p, void *user) {
    (void)user;
    return p->epoch == 2 && !p->epoch_done && p->step == 8;
}

Test(checkpoint, stop_mid_epoch_save_and_resume_equals_straight) {
    for (config c = CFG_MOMENTUM; c <= CFG_SGD_AVERAGE; c++) {
        gsgd_options *o4 = options_for(c, 4);
        run straight = start(o4, 1, 1);
        cr_assert_eq(train_run(&straight, NULL, NULL), GSGD_STATUS_OK);

        run first = start(o4, 1, 1);
        cr_assert_eq(train_run(&first, stop_mid_epoch_2, NULL), GSGD_STATUS_INTERRUPTED);
        cr_assert_eq(first.tr->epoch_step, 8u);
        const char *path = tu_path("mid.ckpt");
        cr_assert_eq(gsgd_trainer_save(first.tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
        stop(&first);

        int done;
        size_t step;
        cr_assert_eq(gsgd_checkpoint_options(ctx, path, NULL, &done, &step), GSGD_STATUS_OK);
        cr_expect(done == 1 && step == 8, "%d epochs and %zu steps", done, step);
        /* The rest of epoch 2 counts as one of the 3 epochs on top. */
        gsgd_options *o3 = options_for(c, 3);
        run second = start(o3, 77, 1);
        cr_assert_eq(gsgd_trainer_resume(second.tr, path), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(ctx));
        cr_assert_eq(train_run(&second, NULL, NULL), GSGD_STATUS_OK);
        char what[32];
        snprintf(what, sizeof what, "config %d", (int)c);
        expect_same_state(&straight, &second, what);
        stop(&second);
        stop(&straight);
        gsgd_options_free(o3);
        gsgd_options_free(o4);
    }
}

Test(checkpoint, model_load_reads_the_average_and_evaluates_as_the_trainer) {
    gsgd_options *o = options_for(CFG_SGD_AVERAGE, 2);
    run r = start(o, 1, 1);
    cr_assert_eq(train_run(&r, NULL, NULL), GSGD_STATUS_OK);
    const char *path = tu_path("eval.ckpt");
    cr_assert_eq(gsgd_trainer_save(r.tr, path), GSGD_STATUS_OK);
    gsgd_model *back;
    cr_assert_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    /* After gsgd_train the model holds the average: what evaluation sees. */
    cr_expect(memcmp(back->params, r.m->params, r.m->n_params * sizeof(float)) == 0);
    cr_expect(memcmp(back->inv_std, r.m->inv_std, 6 * sizeof(float)) == 0);
    gsgd_eval_result a, b;
    cr_assert_eq(gsgd_evaluate(r.m, test, &a), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_evaluate(back, test, &b), GSGD_STATUS_OK);
    cr_expect(a.loss == b.loss && a.accuracy == b.accuracy);
    gsgd_model_free(back);
    stop(&r);
    gsgd_options_free(o);
}

/* ---- bad files -------------------------------------------------------------- */

/* The three readers refuse the file as BAD_FORMAT, naming it and the
 * problem, and the trainer keeps its state. */
static void expect_rejected(run *r, const char *name, const unsigned char *bytes, size_t n,
                            const char *needle) {
    const char *path = tu_path(name);
    cr_assert_eq(tu_write_file(path, bytes, n), 0);
    const size_t pbytes = r->m->n_params * sizeof(float);
    float *before = malloc(pbytes);
    memcpy(before, r->m->params, pbytes);
    const size_t steps = r->tr->steps;

    cr_expect_eq(gsgd_trainer_resume(r->tr, path), GSGD_STATUS_BAD_FORMAT, "%s", name);
    const char *msg = gsgd_last_error(ctx);
    cr_expect(strstr(msg, path) && strstr(msg, needle), "%s: %s", name, msg);
    cr_expect(memcmp(before, r->m->params, pbytes) == 0 && r->tr->steps == steps,
              "%s: a refused file changed the trainer", name);
    gsgd_model *m = (gsgd_model *)1;
    cr_expect_eq(gsgd_model_load(ctx, path, &m), GSGD_STATUS_BAD_FORMAT, "%s", name);
    cr_expect_null(m);
    cr_expect(strstr(gsgd_last_error(ctx), path), "%s", gsgd_last_error(ctx));
    cr_expect_eq(gsgd_checkpoint_options(NULL, path, NULL, NULL, NULL), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(NULL), needle), "%s", gsgd_last_error(NULL));
    free(before);
}

Test(checkpoint, corrupt_truncated_foreign_and_other_version_files_are_refused) {
    gsgd_options *o = options_for(CFG_ADAM, 1);
    run r = start(o, 1, 1);
    cr_assert_eq(train_run(&r, NULL, NULL), GSGD_STATUS_OK);
    const char *path = tu_path("good.ckpt");
    cr_assert_eq(gsgd_trainer_save(r.tr, path), GSGD_STATUS_OK);
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    size_t in_use_before;
    gsgd_context_memory(ctx, &in_use_before, NULL);

    /* Cut in the header, in the options, in each payload part, before the CRC. */
    const size_t cuts[] = {0, 7, 100, 283, 299, 400, 700, n / 2, n - 5, n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        char name[32];
        snprintf(name, sizeof name, "cut%zu.ckpt", cuts[k]);
        expect_rejected(&r, name, b, cuts[k], cuts[k] < 300 ? "truncated" : "CRC");
    }
    b[n - 100] ^= 0x40; /* in the optimizer state */
    expect_rejected(&r, "flipped.ckpt", b, n, "CRC");
    b[n - 100] ^= 0x40;
    b[300] ^= 0x01; /* in the options */
    expect_rejected(&r, "flipped-option.ckpt", b, n, "CRC");
    b[300] ^= 0x01;
    unsigned char *v = malloc(n);
    memcpy(v, b, n);
    v[8] = 4; /* version 4, CRC left stale: the version is checked first */
    expect_rejected(&r, "version.ckpt", v, n, "version 4");
    memcpy(v, "GSGDCKQ", 8);
    expect_rejected(&r, "magic.ckpt", v, n, "bad magic");
    const char *model_file = tu_path("model.gsgd");
    cr_assert_eq(gsgd_model_save(r.m, model_file), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_trainer_resume(r.tr, model_file), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(ctx), "a model file, not a checkpoint"), "%s",
              gsgd_last_error(ctx));
    free(v);

    size_t in_use_after;
    gsgd_context_memory(ctx, &in_use_after, NULL);
    cr_expect_eq(in_use_after, in_use_before, "failed loads release everything");
    cr_expect_eq(gsgd_trainer_resume(r.tr, "/nonexistent/x.ckpt"), GSGD_STATUS_IO);
    cr_expect(strstr(gsgd_last_error(ctx), "/nonexistent/x.ckpt"));
    free(b);
    stop(&r);
    gsgd_options_free(o);
}

Test(checkpoint, a_bf16_run_resumed_after_2_epochs_equals_4_straight) {
    check_exact_resume(CFG_BF16_MOMENTUM, "bf16.ckpt");
}

/* The precision is among the saved options: the checkpoint gives it back,
 * and a trainer in another precision would take other steps, so it is
 * refused naming the option. */
Test(checkpoint, the_precision_is_saved_and_a_resume_in_another_is_refused) {
    gsgd_options *o = options_for(CFG_BF16_MOMENTUM, 1);
    run r = start(o, 1, 1);
    cr_assert_eq(train_run(&r, NULL, NULL), GSGD_STATUS_OK);
    const char *path = tu_path("precision.ckpt");
    cr_assert_eq(gsgd_trainer_save(r.tr, path), GSGD_STATUS_OK);
    gsgd_options *saved;
    gsgd_options_create(&saved);
    double p = -1;
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, saved, NULL, NULL), GSGD_STATUS_OK);
    gsgd_get(saved, GSGD_PRECISION, &p);
    cr_expect_eq(p, GSGD_PRECISION_BF16);
    /* The same options in FP32: only the precision differs. */
    gsgd_options *fp32 = options_for(CFG_BF16_MOMENTUM, 1);
    gsgd_set(fp32, GSGD_PRECISION, GSGD_PRECISION_FP32);
    run other = start(fp32, 1, 1);
    cr_expect_eq(gsgd_trainer_resume(other.tr, path), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(gsgd_last_error(ctx), "option precision is 2 in the checkpoint, 0"), "%s",
              gsgd_last_error(ctx));
    stop(&other);
    stop(&r);
    gsgd_options_free(fp32);
    gsgd_options_free(saved);
    gsgd_options_free(o);
}

Test(checkpoint, incompatible_trainer_is_refused_naming_what_differs) {
    gsgd_options *o = options_for(CFG_MOMENTUM, 1);
    run r = start(o, 1, 1);
    cr_assert_eq(train_run(&r, NULL, NULL), GSGD_STATUS_OK);
    const char *path = tu_path("compat.ckpt");
    cr_assert_eq(gsgd_trainer_save(r.tr, path), GSGD_STATUS_OK);

    gsgd_options *other = options_for(CFG_MOMENTUM, 1);
    gsgd_set(other, GSGD_LR, 0.5);
    run lr = start(other, 1, 1);
    cr_expect_eq(gsgd_trainer_resume(lr.tr, path), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(gsgd_last_error(ctx), "option lr") && strstr(gsgd_last_error(ctx), path), "%s",
              gsgd_last_error(ctx));
    cr_expect_eq(lr.tr->steps, 0u, "the trainer is unchanged");
    stop(&lr);

    gsgd_set(other, GSGD_LR, 0);
    gsgd_set(other, GSGD_BATCH, 16);
    run batch = start(other, 1, 1);
    cr_expect_eq(gsgd_trainer_resume(batch.tr, path), GSGD_STATUS_INVALID_ARGUMENT);
    cr_expect(strstr(gsgd_last_error(ctx), "batch is 32"), "%s", gsgd_last_error(ctx));
    stop(&batch);

    run wide = {0};
    cr_assert_eq(gsgd_model_create(ctx, "mlp:9", 6, 3, 1, &wide.m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(wide.m, train, o, &wide.tr), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_trainer_resume(wide.tr, path), GSGD_STATUS_SHAPE_MISMATCH);
    cr_expect(strstr(gsgd_last_error(ctx), "'mlp:8'"), "%s", gsgd_last_error(ctx));
    stop(&wide);

    /* Other data of the same shape but another size. */
    gsgd_dataset *small, *small_test;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:500,6,3:seed=4", &small, &small_test),
                 GSGD_STATUS_OK);
    run data = {0};
    cr_assert_eq(gsgd_model_create(ctx, "mlp:8", 6, 3, 1, &data.m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(data.m, small, o, &data.tr), GSGD_STATUS_OK);
    cr_expect_eq(gsgd_trainer_resume(data.tr, path), GSGD_STATUS_SHAPE_MISMATCH);
    cr_expect(strstr(gsgd_last_error(ctx), "480 samples"), "%s", gsgd_last_error(ctx));
    stop(&data);
    gsgd_dataset_free(small);
    gsgd_dataset_free(small_test);

    stop(&r);
    gsgd_options_free(other);
    gsgd_options_free(o);
}

/* ---- killed saves ----------------------------------------------------------- */

static void sleep_us(long us) {
    struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
    nanosleep(&ts, NULL);
}

/* A child saves a 0.8 MB checkpoint (about a millisecond per save) to one path over
 * and over; it is killed with SIGKILL at delays spread over several saves.
 * Whenever it dies, the path holds no file (killed before its first
 * rename) or a complete one that loads and passes its CRC. The stale
 * "<path>.tmp" a kill leaves is truncated and reused by the next save. */
Test(checkpoint, a_save_killed_at_any_moment_never_leaves_a_half_written_file) {
    gsgd_options *o = options_for(CFG_ADAM, 1);
    run r = {0};
    cr_assert_eq(gsgd_model_create(ctx, "mlp:256,256", 6, 3, 1, &r.m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(r.m, train, o, &r.tr), GSGD_STATUS_OK);
    const char *path = tu_path("killed.ckpt");
    char tmp[800];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int existed = 0, stale = 0;
    for (int i = 0; i < 20; i++) {
        fflush(NULL);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            for (;;)
                if (gsgd_trainer_save(r.tr, path) != GSGD_STATUS_OK) _exit(3);
        }
        sleep_us(300 + 1700L * i); /* 0.3 to 32.6 ms */
        kill(pid, SIGKILL);
        int status;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFSIGNALED(status), "the saving child failed: status %d", status);
        stale += tu_exists(tmp);
        if (!tu_exists(path)) continue;
        existed++;
        gsgd_model *m = NULL;
        cr_expect_eq(gsgd_model_load(ctx, path, &m), GSGD_STATUS_OK, "kill %d: %s", i,
                     gsgd_last_error(ctx));
        gsgd_model_free(m);
        cr_expect_eq(gsgd_checkpoint_options(ctx, path, NULL, NULL, NULL), GSGD_STATUS_OK,
                     "kill %d: %s", i, gsgd_last_error(ctx));
    }
    cr_expect_gt(existed, 10, "most kills came after a complete save");
    cr_log_info("%d of 20 kills left a stale temporary", stale);
    /* The next save goes through whatever the kills left. */
    cr_assert_eq(gsgd_trainer_save(r.tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_expect(!tu_exists(tmp), "the save renamed its temporary away");
    cr_expect_eq(gsgd_trainer_resume(r.tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    stop(&r);
    gsgd_options_free(o);
}

/* Checkpoints above 1 MiB are checked against their header before they are
 * read (fileio.c): a large checkpoint reads, a sparse 64 GiB file that
 * starts as one is refused at once. */
Test(checkpoint, a_large_file_is_checked_against_its_header_before_it_is_read) {
    gsgd_options *o = options_for(CFG_ADAM, 1);
    gsgd_model *m;
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_model_create(ctx, "mlp:2048,128", 6, 3, 1, &m), GSGD_STATUS_OK);
    /* A label map (version 2) after the arrays: its length is its own. */
    cr_assert_eq(gsgd_model_set_labels(m, train), GSGD_STATUS_OK);
    cr_assert(m->labels_given);
    cr_assert_eq(gsgd_trainer_create(m, train, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    const char *path = tu_path("big.ckpt");
    cr_assert_eq(gsgd_trainer_save(tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    size_t n;
    free(tu_read_file(path, &n));
    cr_assert_gt(n, (size_t)1 << 20, "the iterate and Adam's two moments");
    int epochs = -1;
    cr_expect_eq(gsgd_checkpoint_options(ctx, path, NULL, &epochs, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_expect_eq(gsgd_trainer_resume(tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(truncate(path, (off_t)64 << 30), 0);
    cr_expect_eq(gsgd_checkpoint_options(ctx, path, NULL, &epochs, NULL), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(ctx), "but its header describes"), "%s", gsgd_last_error(ctx));
    gsgd_model *back = (gsgd_model *)1;
    cr_expect_eq(gsgd_model_load(ctx, path, &back), GSGD_STATUS_BAD_FORMAT);
    cr_expect_null(back);
    remove(path); /* sparse, but 64 GiB to whatever copies the directory */
    gsgd_trainer_free(tr);
    gsgd_model_free(m);
    gsgd_options_free(o);
}

/* ---- label maps, files of version 1, resuming on new data ------------------ */

/* A softmax model trained with batch 4 for epochs on ds, with ds's labels,
 * checkpointed to path; freed after. */
static void checkpoint_of(gsgd_dataset *ds, int epochs, const char *path) {
    size_t d;
    int k;
    gsgd_dataset_shape(ds, NULL, &d, &k);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", d, k, 3, &m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_set_labels(m, ds), GSGD_STATUS_OK);
    gsgd_options *o;
    gsgd_options_create(&o);
    gsgd_set(o, GSGD_BATCH, 4);
    gsgd_set(o, GSGD_EPOCHS, epochs);
    gsgd_set(o, GSGD_OPTIMIZER, GSGD_OPTIM_ADAM);
    /* The default before issue 17: a cosine would span these epochs, and
     * resuming on new data for other epochs would be refused. */
    gsgd_set(o, GSGD_SCHEDULE, GSGD_SCHEDULE_CONSTANT);
    gsgd_trainer *tr;
    gsgd_train_result res;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_train(tr, NULL, NULL, NULL, &res), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_save(tr, path), GSGD_STATUS_OK);
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
}

/* What gsgd train --resume does: the model and options of the checkpoint,
 * the data loaded against that model, a trainer on it. */
typedef struct {
    gsgd_model *m;
    gsgd_dataset *ds;
    gsgd_options *o;
    gsgd_trainer *tr;
} resumed;

static gsgd_status resume_on(const char *ckpt, const char *source, int new_data, resumed *r) {
    memset(r, 0, sizeof *r);
    cr_assert_eq(gsgd_model_load(ctx, ckpt, &r->m), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgd_data_options *d;
    gsgd_data_options_create(&d);
    cr_assert_eq(gsgd_data_set_model(d, r->m), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load_ex(ctx, source, d, &r->ds, NULL), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    gsgd_data_options_free(d);
    gsgd_options_create(&r->o);
    cr_assert_eq(gsgd_checkpoint_options(ctx, ckpt, r->o, NULL, NULL), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_trainer_create(r->m, r->ds, r->o, &r->tr), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    return new_data ? gsgd_trainer_resume_new_data(r->tr, ckpt) : gsgd_trainer_resume(r->tr, ckpt);
}

static void resumed_free(resumed *r) {
    gsgd_trainer_free(r->tr);
    gsgd_options_free(r->o);
    gsgd_dataset_free(r->ds);
    gsgd_model_free(r->m);
}

Test(checkpoint, label_maps_survive_save_load_and_resume) {
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/strings_fortran.npz", &ds, NULL), 0);
    const char *path = tu_path("labels.ckpt");
    checkpoint_of(ds, 1, path);
    resumed r;
    cr_assert_eq(resume_on(path, GSGD_TEST_DATA_DIR "/strings_fortran.npz", 0, &r), GSGD_STATUS_OK,
                 "%s", gsgd_last_error(ctx));
    cr_assert(gsgdi_labels_equal(r.m->labels, ds->meta.labels));
    cr_assert(r.m->labels_given);
    /* Saved again, the map is still there. */
    const char *again = tu_path("again.ckpt");
    cr_assert_eq(gsgd_trainer_save(r.tr, again), GSGD_STATUS_OK);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_load(ctx, again, &m), GSGD_STATUS_OK);
    const char *t;
    cr_assert_eq(gsgd_model_label(m, 0, &t), GSGD_STATUS_OK);
    cr_assert_str_eq(t, "setosa");
    gsgd_model_free(m);
    resumed_free(&r);
    gsgd_dataset_free(ds);
}

Test(checkpoint, resuming_on_data_whose_labels_map_elsewhere_is_refused) {
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/labels379.npz", &ds, NULL), 0);
    const char *path = tu_path("379.ckpt");
    checkpoint_of(ds, 1, path);
    /* Rows of labels 7 and 9 only, loaded on their own: classes 0 and 1. */
    cr_assert_eq(tu_write_text(tu_path("79.csv"), "7,1,2\n9,3,4\n7,5,6\n"), 0);
    gsgd_dataset *alone;
    cr_assert_eq(gsgd_dataset_load(ctx, tu_path("79.csv"), &alone, NULL), 0);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_load(ctx, path, &m), 0);
    gsgd_options *o;
    gsgd_options_create(&o);
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, o, NULL, NULL), 0);
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, alone, o, &tr), 0);
    cr_assert_eq(gsgd_trainer_resume_new_data(tr, path), GSGD_STATUS_SHAPE_MISMATCH);
    cr_assert(strstr(gsgd_last_error(ctx), "the checkpoint's labels are 3 classes (3, 7, 9), the "
                                           "training data's 2 classes (7, 9)"),
              "%s", gsgd_last_error(ctx));
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(alone);
    /* Loaded against the checkpoint's model, the same rows map right. */
    resumed r;
    cr_assert_eq(resume_on(path, tu_path("79.csv"), 1, &r), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    resumed_free(&r);
    gsgd_dataset_free(ds);
}

Test(checkpoint, a_label_map_that_does_not_fit_is_refused_by_every_reader) {
    /* gsgd_checkpoint_options took the options of a file whose map does not
     * fit its model while gsgd_model_load refused it (found by
     * fuzz_checkpoint; the input is a seed of corpus/fuzz_checkpoint). */
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/labels379.npz", &ds, NULL), 0);
    const char *path = tu_path("misfit.ckpt");
    checkpoint_of(ds, 1, path);
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    const size_t map = n - 4 - 8 - 3 * 8; /* kind 1, 3 labels: 3, 7, 9 */
    cr_assert_eq(b[map], 1);
    cr_assert_eq(b[map + 4], 3);
    b[map + 4] = 2; /* two labels: the third is left over, and 2 is not 3 classes */
    const uLong crc = crc32(0L, b, (uInt)(n - 4));
    memcpy(b + n - 4, &crc, 4);
    cr_assert_eq(tu_write_file(path, b, n), 0);
    free(b);
    gsgd_options *o;
    gsgd_options_create(&o);
    cr_expect_eq(gsgd_checkpoint_options(ctx, path, o, NULL, NULL), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(ctx), "the label map does not fit the model (3 classes)"),
              "%s", gsgd_last_error(ctx));
    gsgd_model *m = (gsgd_model *)1;
    cr_expect_eq(gsgd_model_load(ctx, path, &m), GSGD_STATUS_BAD_FORMAT);
    cr_expect_null(m);
    gsgd_model *fresh;
    cr_assert_eq(gsgd_model_create(ctx, "softmax", 2, 3, 1, &fresh), 0);
    cr_assert_eq(gsgd_model_set_labels(fresh, ds), 0);
    gsgd_trainer *tr;
    gsgd_set(o, GSGD_BATCH, 4);
    cr_assert_eq(gsgd_trainer_create(fresh, ds, o, &tr), 0);
    cr_expect_eq(gsgd_trainer_resume(tr, path), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(ctx), "label map"), "%s", gsgd_last_error(ctx));
    gsgd_trainer_free(tr);
    gsgd_model_free(fresh);
    gsgd_options_free(o);
    gsgd_dataset_free(ds);
}

Test(checkpoint, an_exact_resume_on_other_data_names_the_new_data_call) {
    gsgd_dataset *ds;
    cr_assert_eq(gsgd_dataset_load(ctx, GSGD_TEST_DATA_DIR "/labels379.npz", &ds, NULL), 0);
    const char *path = tu_path("exact.ckpt");
    checkpoint_of(ds, 1, path);
    cr_assert_eq(tu_write_text(tu_path("more.csv"), "7,1,2\n9,3,4\n3,5,6\n3,0,0\n9,1,1\n"), 0);
    resumed r;
    cr_assert_eq(resume_on(path, tu_path("more.csv"), 0, &r), GSGD_STATUS_SHAPE_MISMATCH);
    cr_assert(
        strstr(gsgd_last_error(ctx), "the checkpoint trained on 6 samples, the trainer has 5"),
        "%s", gsgd_last_error(ctx));
    cr_assert(strstr(gsgd_last_error(ctx), "gsgd_trainer_resume_new_data"));
    resumed_free(&r);
    gsgd_dataset_free(ds);
}

Test(checkpoint, resuming_on_new_data_goes_on_from_the_saved_state) {
    /* Like partial_fit: 2 epochs on one part of the data, then more epochs
     * on another part of other size, from the same optimizer state. */
    gsgd_dataset *a, *b, *unused;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:300,6,3:seed=4", &a, &unused), 0);
    gsgd_dataset_free(unused);
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:250,6,3:seed=8", &b, &unused), 0);
    gsgd_dataset_free(unused);
    const char *path = tu_path("part1.ckpt");
    checkpoint_of(a, 2, path);
    gsgd_model *saved;
    cr_assert_eq(gsgd_model_load(ctx, path, &saved), 0);
    int epochs = 0;
    gsgd_options *o;
    gsgd_options_create(&o);
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, o, &epochs, NULL), 0);
    cr_assert_eq(epochs, 2);
    /* The data as synth's spec gives it: the identity labels fit. */
    resumed r = {0};
    r.m = saved;
    r.ds = b;
    r.o = o;
    cr_assert_eq(gsgd_trainer_create(r.m, r.ds, r.o, &r.tr), 0);
    cr_assert_eq(gsgd_trainer_resume_new_data(r.tr, path), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    const size_t steps_before = r.tr->steps;
    cr_assert_eq(steps_before, 2 * 60, "300 x 0.8 rows at batch 4, two epochs");
    cr_assert_eq(r.tr->epoch, 2);
    float *p0 = malloc(saved->n_params * sizeof *p0);
    memcpy(p0, saved->params, saved->n_params * sizeof *p0);
    gsgd_set(r.o, GSGD_EPOCHS, 1);
    gsgd_trainer_free(r.tr);
    cr_assert_eq(gsgd_trainer_create(r.m, r.ds, r.o, &r.tr), 0);
    cr_assert_eq(gsgd_trainer_resume_new_data(r.tr, path), GSGD_STATUS_OK);
    gsgd_train_result res;
    cr_assert_eq(gsgd_train(r.tr, NULL, NULL, NULL, &res), GSGD_STATUS_OK);
    cr_assert_eq(r.tr->steps, steps_before + 50, "one epoch of 200 rows at batch 4 on top");
    cr_assert_eq(r.tr->epoch, 3);
    cr_assert(memcmp(p0, saved->params, saved->n_params * sizeof *p0) != 0, "it trained");
    free(p0);
    resumed_free(&r);
    gsgd_dataset_free(a);
}

Test(checkpoint, a_version_1_checkpoint_still_loads_and_resumes) {
    /* Written by the code before label maps (tests/data/README.md): softmax
     * on synth:40,3,3:seed=1, momentum, batch 8, one epoch. */
    const char *path = GSGD_TEST_DATA_DIR "/checkpoint_v1.ckpt";
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_eq(b[8], 1, "the fixture is a version 1 checkpoint");
    gsgd_model *m;
    cr_assert_eq(gsgd_model_load(ctx, path, &m), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert(gsgdi_labels_is_identity(m->labels));
    gsgd_options *o;
    gsgd_options_create(&o);
    int epochs = 0;
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, o, &epochs, NULL), GSGD_STATUS_OK);
    cr_assert_eq(epochs, 1);
    double batch, optim, precision = -1;
    gsgd_get(o, GSGD_BATCH, &batch);
    gsgd_get(o, GSGD_OPTIMIZER, &optim);
    cr_assert(batch == 8 && optim == GSGD_OPTIM_MOMENTUM);
    /* Options newer than the file keep their defaults: FP32 products. */
    gsgd_get(o, GSGD_PRECISION, &precision);
    cr_assert_eq(precision, GSGD_PRECISION_FP32);
    gsgd_dataset *tr, *te;
    cr_assert_eq(gsgd_dataset_load(ctx, "synth:40,3,3:seed=1", &tr, &te), 0);
    gsgd_trainer *t;
    cr_assert_eq(gsgd_trainer_create(m, tr, o, &t), 0);
    cr_assert_eq(gsgd_trainer_resume(t, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    /* The options and the model are 38 + 12 values: parameters after them. */
    const size_t params = 280 + 8 * 38;
    cr_assert(memcmp(m->params, b + params, m->n_params * sizeof(float)) == 0);
    cr_assert(
        memcmp(t->state[0], b + params + 4 * m->n_params + 8 * 3, m->n_params * sizeof(float)) == 0,
        "the velocity after the standardiser");
    cr_assert_eq(t->steps, 4);
    free(b);
    gsgd_trainer_free(t);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(tr);
    gsgd_dataset_free(te);
}

/* kinds.csv (tests/data) loaded with its target column "kind", last. */
static gsgd_dataset *load_kinds(void) {
    gsgd_data_options *o;
    gsgd_dataset *ds;
    gsgd_data_options_create(&o);
    cr_assert_eq(gsgd_data_set_text(o, GSGD_DATA_LABEL, "kind"), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_dataset_load_ex(ctx, GSGD_TEST_DATA_DIR "/kinds.csv", o, &ds, NULL),
                 GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    gsgd_data_options_free(o);
    return ds;
}

/* The offset of the 64-byte NUL-padded name in b (n bytes), or 0. */
static size_t name_at(const unsigned char *b, size_t n, const char *name) {
    unsigned char want[64] = {0};
    memcpy(want, name, strlen(name));
    for (size_t i = 0; i + 64 <= n; i++)
        if (memcmp(b + i, want, 64) == 0) return i;
    return 0;
}

Test(checkpoint, the_target_and_feature_names_survive_save_load_and_resume) {
    gsgd_dataset *ds = load_kinds();
    const char *path = tu_path("kinds.ckpt");
    checkpoint_of(ds, 1, path);
    /* Data loaded against the checkpoint's model finds "kind" by its
     * name: no label option (the loader's rule alone would take x1). */
    resumed r;
    cr_assert_eq(resume_on(path, GSGD_TEST_DATA_DIR "/kinds.csv", 0, &r), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    const char *t;
    cr_assert_eq(gsgd_dataset_target_name(r.ds, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "kind");
    cr_assert_eq(gsgd_model_target_name(r.m, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "kind");
    cr_assert_eq(gsgd_model_feature_name(r.m, 1, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "x2", "the features' names too");
    const char *again = tu_path("again.ckpt");
    cr_assert_eq(gsgd_trainer_save(r.tr, again), GSGD_STATUS_OK);
    resumed_free(&r);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_load(ctx, again, &m), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_model_target_name(m, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "kind");
    cr_assert_eq(gsgd_model_feature_name(m, 2, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "x3");
    gsgd_model_free(m);
    /* A name without its NUL, under a good CRC: every reader refuses it. */
    size_t n;
    unsigned char *b = tu_read_file(again, &n);
    cr_assert_eq(b[8], 3, "format version 3");
    const size_t at = name_at(b, n, "kind");
    cr_assert_gt(at, 0u, "the name is in the file");
    memset(b + at, 'k', 64);
    const uLong crc = crc32(0L, b, (uInt)(n - 4));
    memcpy(b + n - 4, &crc, 4);
    const char *bad = tu_path("unterminated.ckpt");
    cr_assert_eq(tu_write_file(bad, b, n), 0);
    cr_expect_eq(gsgd_model_load(ctx, bad, &m), GSGD_STATUS_BAD_FORMAT);
    cr_expect(strstr(gsgd_last_error(ctx), "malformed target column name"), "%s",
              gsgd_last_error(ctx));
    cr_expect_eq(gsgd_checkpoint_options(ctx, bad, NULL, NULL, NULL), GSGD_STATUS_BAD_FORMAT);
    free(b);
    gsgd_dataset_free(ds);
}

Test(checkpoint, a_version_2_checkpoint_still_loads_and_resumes) {
    /* Written by the code before the target's name (tests/data/README.md). */
    const char *path = GSGD_TEST_DATA_DIR "/checkpoint_v2.ckpt";
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    cr_assert_eq(b[8], 2, "the fixture is a version 2 checkpoint");
    free(b);
    gsgd_model *m;
    cr_assert_eq(gsgd_model_load(ctx, path, &m), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    const char *t;
    cr_assert_eq(gsgd_model_label(m, 2, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "cat");
    cr_assert_eq(gsgd_model_target_name(m, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "");
    gsgd_options *o;
    gsgd_options_create(&o);
    int epochs = 0;
    cr_assert_eq(gsgd_checkpoint_options(ctx, path, o, &epochs, NULL), GSGD_STATUS_OK);
    cr_expect_eq(epochs, 2);
    gsgd_dataset *ds = load_kinds();
    gsgd_trainer *tr;
    cr_assert_eq(gsgd_trainer_create(m, ds, o, &tr), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_trainer_resume(tr, path), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_model_label(m, 0, &t), GSGD_STATUS_OK);
    cr_expect_str_eq(t, "ant");
    gsgd_trainer_free(tr);
    gsgd_options_free(o);
    gsgd_model_free(m);
    gsgd_dataset_free(ds);
}
