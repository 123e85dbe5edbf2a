/*
 * `gsgd train`'s checkpoints: the options --resume allows and takes from
 * the checkpoint, the checks on --checkpoint-every, and training under the
 * signal handlers and the checkpointing callback of ckpt.h.
 */
#include <stdlib.h>
#include <time.h>

#include "cli/args.h"
#include "cli/train/ckpt.h"
#include "cli/cli.h"
#include "cli/planopts.h"
#include "cli/train/train_resume.h"

/* Options that may go with --resume: they choose the data, the device,
 * the outputs and how long to go on, never the steps themselves. */
static int allowed_with_resume(int opt) {
    switch (opt) {
    case O_DATA:
    case O_TEST:
    case O_EPOCHS:
    case O_TARGET_ACC:
    case O_DEVICE:
    case O_SAVE:
    case O_RESUME:
    case O_CHECKPOINT_EVERY:
    case O_SUMMARY:
    case O_LOG:
    case O_QUIET:
    case O_MEM_LIMIT:
    case O_MEM_HEADROOM:
    case O_MEM_RESERVE:
    case O_HELP:
        return 1;
    default:
        return 0;
    }
}

int cli_train_resume_options(train_run *run) {
    const char **v = run->v;
    cli_optdef defs[O_COUNT + 1];
    cli_train_option_table(defs);
    for (int k = 0; k < O_COUNT; k++)
        if (v[k] && !allowed_with_resume(k)) {
            cli_error("%s cannot be given with --resume: the run goes on with the model, "
                      "optimizer, batch and seed of the checkpoint",
                      defs[k].name);
            return CLI_USAGE;
        }
    gsgd_status st = gsgd_options_create(&run->opts);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    st = gsgd_checkpoint_options(NULL, v[O_RESUME], run->opts, NULL, NULL);
    if (st != GSGD_STATUS_OK) {
        cli_error("--resume: %s", gsgd_last_error(NULL));
        return cli_exit_code(st);
    }
    /* A cosine cycle over all of EPOCHS keeps the saved run's length. */
    if (v[O_EPOCHS] && cli_train_param(run->opts, GSGD_SCHEDULE) == GSGD_SCHEDULE_COSINE &&
        cli_train_param(run->opts, GSGD_COSINE_PERIOD) == 0)
        (void)gsgd_set(run->opts, GSGD_COSINE_PERIOD, cli_train_param(run->opts, GSGD_EPOCHS));
    cli_plan_args plan = {.mem_limit = v[O_MEM_LIMIT],
                          .mem_headroom = v[O_MEM_HEADROOM],
                          .mem_reserve = v[O_MEM_RESERVE]};
    int rc = cli_plan_options(run->opts, &plan);
    if (rc == CLI_OK) rc = cli_train_set_params(run);
    return rc;
}

int cli_train_check_checkpoint_options(const train_run *run) {
    const char *const *v = run->v;
    if (v[O_DISTRIBUTED] && (v[O_RESUME] || v[O_CHECKPOINT_EVERY])) {
        cli_error("%s is not supported with --distributed",
                  v[O_RESUME] ? "--resume" : "--checkpoint-every");
        return CLI_USAGE;
    }
    if (!v[O_CHECKPOINT_EVERY]) return CLI_OK;
    uint64_t every = 0;
    int rc = cli_parse_u64("--checkpoint-every", v[O_CHECKPOINT_EVERY], &every);
    if (rc != CLI_OK) return rc;
    if (every == 0 || every > 1000000) {
        cli_error("--checkpoint-every: '%s' is not in [1, 1000000] epochs", v[O_CHECKPOINT_EVERY]);
        return CLI_USAGE;
    }
    if (!v[O_SAVE]) {
        cli_error("--checkpoint-every needs --save F, the checkpoint file to write");
        return CLI_USAGE;
    }
    return CLI_OK;
}

gsgd_status cli_train_with_checkpoints(train_run *run, int want) {
    run->ck = (cli_ckpt){
        .tr = run->tr, .ctx = run->ctx, .path = run->v[O_SAVE], .pr = want ? &run->pr : NULL};
    if (run->v[O_CHECKPOINT_EVERY]) run->ck.every = strtoul(run->v[O_CHECKPOINT_EVERY], NULL, 10);
    const int per_epoch = want || cli_train_param(run->opts, GSGD_TARGET_ACC) > 0;
    cli_stop_install();
    gsgd_status st =
        gsgd_train(run->tr, per_epoch ? run->test : NULL, cli_ckpt_cb, &run->ck, &run->rep.res);
    cli_stop_restore();
    if (st == GSGD_STATUS_OK && !per_epoch && run->test) {
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        gsgd_eval_result ev;
        st = gsgd_trainer_evaluate(run->tr, run->test, &ev);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        run->rep.res.test_accuracy = ev.accuracy;
        run->rep.res.test_loss = ev.loss;
        /* seconds covers the evaluation, as when gsgd_train does it */
        run->rep.res.seconds += (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (t1.tv_nsec - t0.tv_nsec);
    }
    return st;
}
