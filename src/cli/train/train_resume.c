/*
 * `gsgd train`'s checkpoints: the options --resume allows and takes from
 * the checkpoint, the checks on --checkpoint-every, and training under the
 * signal handlers and the checkpointing callback of ckpt.h.
 */
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/optset.h"
#include "cli/train/ckpt.h"
#include "cli/train/train_resume.h"

/* Options that may go with --resume: they choose the data, the device,
 * the outputs and how long to go on, never the steps themselves. */
static int allowed_with_resume(int opt) {
    switch (opt) {
    case CLI_O_DATA:
    case CLI_O_TEST:
    case CLI_O_TEST_FRACTION:
    case CLI_O_LABEL:
    case CLI_O_LABELS_FILE:
    case CLI_O_FORMAT:
    case CLI_O_DELIMITER:
    case CLI_O_HEADER:
    case CLI_O_NEW_DATA:
    case CLI_O_REPORT:
    case CLI_O_VERBOSE:
    case CLI_O_EPOCHS:
    case CLI_O_MAX_EPOCHS: /* how long --epochs auto may go on, as --epochs */
    case CLI_O_MIN_STEPS:
    case CLI_O_TARGET_ACC:
    case CLI_O_DEVICE:
    case CLI_O_SAVE:
    case CLI_O_RESUME:
    case CLI_O_CHECKPOINT_EVERY:
    case CLI_O_SUMMARY:
    case CLI_O_LOG:
    case CLI_O_QUIET:
    case CLI_O_MEM_LIMIT:
    case CLI_O_MEM_HEADROOM:
    case CLI_O_MEM_RESERVE:
    case CLI_O_HELP:
        return 1;
    default:
        return 0;
    }
}

int cli_train_resume_options(train_run *run) {
    const char **v = run->s.v;
    for (int k = 0; k < CLI_N_OPTS; k++)
        if (v[k] && !allowed_with_resume(k)) {
            cli_error("%s cannot be given with --resume: the run goes on with the model, "
                      "optimizer, batch and seed of the checkpoint",
                      CLI_OPTS[k].name);
            return CLI_USAGE;
        }
    gsgd_status st = gsgd_options_create(&run->s.opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    st = gsgd_checkpoint_options(NULL, v[CLI_O_RESUME], run->s.opts, NULL, NULL);
    if (st != GSGD_STATUS_OK) {
        cli_error("--resume: %s", gsgd_last_error(NULL));
        return cli_exit_code(st);
    }
    /* Without --epochs the saved run goes on as it was: N more epochs of
     * an --epochs N run, or an --epochs auto run (EPOCHS 0) until its own
     * stop, its plateau count and cooldown restored from the checkpoint. */
    const double saved_epochs = cli_get(run->s.opts, GSGD_EPOCHS);
    const int cosine_over_run = cli_get(run->s.opts, GSGD_SCHEDULE) == GSGD_SCHEDULE_COSINE &&
                                cli_get(run->s.opts, GSGD_COSINE_PERIOD) == 0;
    if (v[CLI_O_EPOCHS] && cosine_over_run && saved_epochs == 0 &&
        strcmp(v[CLI_O_EPOCHS], "auto") != 0) {
        /* Its rate decays when the loss stops improving, not over a span
         * of epochs that --epochs N could give. */
        cli_error("--epochs %s: '%s' is an --epochs auto run with the cosine schedule, whose "
                  "rate decays once the loss stops improving; resume it without --epochs (or "
                  "with --epochs auto), --max-epochs N to bound it",
                  v[CLI_O_EPOCHS], v[CLI_O_RESUME]);
        return CLI_USAGE;
    }
    /* A cosine cycle over all of EPOCHS keeps the saved run's length. */
    if (v[CLI_O_EPOCHS] && cosine_over_run)
        (void)gsgd_set(run->s.opts, GSGD_COSINE_PERIOD, saved_epochs);
    /* What may go with --resume: the memory limits, --epochs, --target-acc. */
    return cli_options_apply(run->s.opts, v);
}

int cli_train_check_checkpoint_options(const train_run *run) {
    const char *const *v = run->s.v;
    if (v[CLI_O_DISTRIBUTED] && (v[CLI_O_RESUME] || v[CLI_O_CHECKPOINT_EVERY])) {
        cli_error("%s is not supported with --distributed",
                  v[CLI_O_RESUME] ? "--resume" : "--checkpoint-every");
        return CLI_USAGE;
    }
    if (!v[CLI_O_CHECKPOINT_EVERY]) return CLI_OK;
    int every = 0;
    int rc = cli_count(v, CLI_O_CHECKPOINT_EVERY, &every);
    if (rc != CLI_OK) return rc;
    if (!v[CLI_O_SAVE]) {
        cli_error("--checkpoint-every needs --save F, the checkpoint file to write");
        return CLI_USAGE;
    }
    return CLI_OK;
}

gsgd_status cli_train_with_checkpoints(train_run *run, int want) {
    run->ck = (cli_ckpt){.tr = run->tr,
                         .ctx = run->s.ctx,
                         .path = run->s.v[CLI_O_SAVE],
                         .pr = want ? &run->pr : NULL,
                         .auto_epochs = cli_get(run->s.opts, GSGD_EPOCHS) == 0};
    int every = 0; /* checked by cli_train_check_checkpoint_options; 0 when absent */
    (void)cli_count(run->s.v, CLI_O_CHECKPOINT_EVERY, &every);
    run->ck.every = (unsigned long)every;
    const int per_epoch = want || cli_get(run->s.opts, GSGD_TARGET_ACC) > 0;
    cli_stop_install();
    gsgd_status st =
        gsgd_train(run->tr, per_epoch ? run->s.test : NULL, cli_ckpt_cb, &run->ck, &run->rep.res);
    cli_stop_restore();
    if (st == GSGD_STATUS_OK && !per_epoch && run->s.test) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        gsgd_eval_result ev;
        st = gsgd_trainer_evaluate(run->tr, run->s.test, &ev);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        run->rep.res.test_accuracy = ev.accuracy;
        run->rep.res.test_loss = ev.loss;
        /* seconds covers the evaluation, as when gsgd_train does it */
        run->rep.res.seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    }
    return st;
}
