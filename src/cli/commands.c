/*
 * The subcommands as compositions of the option table's groups (see
 * opttable.h): what each accepts, its own defaults and the opening lines
 * of its help. Every command that trains, plans or times a step takes the
 * optimizer, schedule and memory groups whole, so an option that changes
 * the step or its memory means the same everywhere.
 */
#include <stddef.h>

#include "cli/cmdline.h"

#define G(g) (1u << CLI_G_##g)
/* What changes the step and the memory it takes. */
#define STEP_GROUPS (G(OPTIM) | G(SCHEDULE) | G(MEMORY))

const cli_command CLI_CMD_TRAIN = {
    .name = "train",
    .synopsis = "Usage: gsgd train --data SPEC --model MODEL [options]\n"
                "       gsgd train --data SPEC --resume F [--epochs E] [options]\n"
                "\n"
                "Trains MODEL on the training part of SPEC and reports test accuracy on its\n"
                "test part (or on --test). SIGINT (Ctrl-C) or SIGTERM stops the run at the\n"
                "next check, saves a checkpoint to --save's F (else ./gsgd-interrupted.ckpt),\n"
                "says how to --resume it and exits with 128 + the signal (130 for SIGINT).\n"
                "\n"
                "Before training it prints one line per split: source, format, rows x features,\n"
                "the classes (labels as the data has them) or the target's range, storage and\n"
                "memory. The result line and --summary give accuracy, log loss and macro F1\n"
                "for classes, r2, rmse, mae and mse for regression (--model linear reads real\n"
                "targets), measured on the test set after training; 'train loss' and the\n"
                "summary's test_loss are the loss trained on (cross-entropy, multiclass hinge,\n"
                "or half the squared error for linear). The line after it says why training\n"
                "stopped: converged (--epochs auto, the default), --max-epochs reached, the\n"
                "epochs asked run, or the target reached.\n"
                "\n"
                "--resume F with F's --data goes on exactly where F stopped, bit for bit. With\n"
                "other data (the same features and labels; --new-data to say so when the row\n"
                "count is the same) it goes on as scikit-learn's partial_fit: F's parameters,\n"
                "optimizer state and step count, a fresh epoch over the new rows, early\n"
                "stopping started over; not an exact resume.\n"
                "\n"
                "Sparse data: the first layer's weights are updated only on the rows of the\n"
                "features a batch holds (lazy) by sgd (weight decay deferred, the same result\n"
                "as dense), adagrad without weight decay (the same as dense), adam and adamw\n"
                "(as PyTorch's SparseAdam: absent rows keep their weights and moments); every\n"
                "other rule, or --clip-norm, --l1, --average, --on-nan skip, updates every row\n"
                "(dense). With --lr unset, sgd/momentum on sparse data without hidden layers\n"
                "take lr = 30 / mean |x|^2. --standardize on scales sparse data, never centres\n"
                "it; auto leaves sparse data as it is.\n",
    .groups = G(DATA) | STEP_GROUPS | G(RUN),
    .required = (const int[]){CLI_O_DATA, -1}, /* and --model or --resume */
    .own = (const int[]){CLI_O_MODEL, CLI_O_STANDARDIZE, CLI_O_SAVE, CLI_O_CHECKPOINT_EVERY,
                         CLI_O_RESUME, CLI_O_NEW_DATA, CLI_O_SUMMARY, CLI_O_LOG, CLI_O_REPORT,
                         CLI_O_QUIET, CLI_O_VERBOSE, -1},
};

const cli_command CLI_CMD_EVAL = {
    .name = "eval",
    .synopsis = "Usage: gsgd eval --model-file F --data SPEC [options]\n"
                "\n"
                "Evaluates a model saved by 'gsgd train --save' on the test part of SPEC (or\n"
                "on --test, or on the part --test-fraction and --seed hold out as train did),\n"
                "or on all of it when SPEC has no test part. The data is read as the model's\n"
                "input: its features, its labels. Prints accuracy, log loss and macro F1 for\n"
                "classes, r2, rmse, mae and mse for regression, and the loss trained on.\n",
    .groups = G(DATA),
    .required = (const int[]){CLI_O_MODEL_FILE, CLI_O_DATA, -1},
    .own = (const int[]){CLI_O_MODEL_FILE, CLI_O_SEED, CLI_O_DEVICE, CLI_O_REPORT, CLI_O_SUMMARY,
                         CLI_O_QUIET, CLI_O_VERBOSE, -1},
};

const cli_command CLI_CMD_PREDICT = {
    .name = "predict",
    .synopsis = "Usage: gsgd predict --model-file F --data PATH --out OUT [--proba]\n"
                "\n"
                "Writes the predictions of a model saved by 'gsgd train --save' for every row\n"
                "of PATH (its rows may have the label column or not): one row each, the label\n"
                "as the training data had it (classes) or the predicted value (regression);\n"
                "with --proba the probability of each class instead, one column per class\n"
                "(softmax, logistic, mlp). OUT.npy is NumPy's format (int64 or string labels,\n"
                "float32 values and probabilities), any other name CSV with a header line\n"
                "('prediction', or the labels), - CSV on standard output. Nothing is written\n"
                "when anything fails.\n",
    .required = (const int[]){CLI_O_MODEL_FILE, CLI_O_DATA, CLI_O_OUT, -1},
    .own = (const int[]){CLI_O_MODEL_FILE, CLI_O_DATA, CLI_O_LABEL, CLI_O_LABELS_FILE, CLI_O_IGNORE,
                         CLI_O_FORMAT, CLI_O_DELIMITER, CLI_O_DECIMAL, CLI_O_HEADER, CLI_O_OUT,
                         CLI_O_PROBA, CLI_O_DEVICE, CLI_O_QUIET, CLI_O_VERBOSE, -1},
};

const cli_command CLI_CMD_PLAN = {
    .name = "plan",
    .synopsis = "Usage: gsgd plan --data SPEC --model MODEL [options]\n"
                "\n"
                "Prints the memory a training run takes (each buffer, fixed or per sample), the\n"
                "budget, the batch --batch auto picks and why, and checks it by allocating every\n"
                "buffer and running one step and one evaluation batch. The model is not trained.\n"
                "The optimizer, schedule and memory options are gsgd train's: the optimizer's\n"
                "state, --average's copy, --clip-norm's scratch and a per-step schedule's rates\n"
                "are counted as train would hold them.\n",
    .groups = G(DATA) | STEP_GROUPS,
    .required = (const int[]){CLI_O_DATA, CLI_O_MODEL, -1},
    .own = (const int[]){CLI_O_MODEL, CLI_O_STANDARDIZE, CLI_O_SEED, CLI_O_DEVICE, CLI_O_JSON,
                         CLI_O_QUIET, CLI_O_VERBOSE, -1},
};

const cli_command CLI_CMD_BENCH = {
    .name = "bench",
    .synopsis = "Usage: gsgd bench --data SPEC [--model MODEL] [options]\n"
                "\n"
                "Times training steps at each batch size: step time (median and quartiles of\n"
                "--steps timed steps after --warmup-steps; CUDA events on a GPU, the monotonic\n"
                "clock on the CPU), samples/s, seconds per epoch and the share of gather,\n"
                "forward, backward (loss included) and update, or of the fused gradient and\n"
                "update where the model takes one (GSGD_FUSED_GRADIENT). On CUDA the timed steps\n"
                "are also replayed from one CUDA Graph, as training runs them (graph ms;\n"
                "GSGD_CUDA_GRAPHS=0 turns both off), and samples/s, seconds per epoch and the\n"
                "step's ratios are of that step; the phases are timed one by one, with events\n"
                "between them. Each figure is set against a yardstick measured in the same run:\n"
                "the update's GB/s against a device copy (memcpy on the CPU), the forward and\n"
                "backward GEMM rates against the GEMM alone on the same shapes in the step's\n"
                "--precision (step/gemm: those GEMMs' time over the step's), the step against\n"
                "its bandwidth floor (bytes it must move / copy bandwidth; with the fused\n"
                "gradient, the rows read once) and against its roofline (the larger of that\n"
                "floor and its flops / the rate of a large square GEMM in that precision).\n"
                "Timed steps use learning rate 0, so the model stays as it is.\n"
                "Also estimates the gradient noise scale B_simple = tr(Sigma)/|G|^2 (McCandlish\n"
                "et al. 2018), the batch beyond which larger batches stop paying.\n"
                "The optimizer, schedule and memory options are gsgd train's: the timed step\n"
                "is the update they describe, B* is planned with them, and the time-to-target\n"
                "and noise-scale runs train with them.\n",
    .groups = G(DATA) | STEP_GROUPS | G(MEASURE),
    .required = (const int[]){CLI_O_DATA, -1},
    .own = (const int[]){CLI_O_MODEL, CLI_O_STANDARDIZE, CLI_O_TARGET_ACC, CLI_O_SEED, CLI_O_DEVICE,
                         CLI_O_CSV, CLI_O_JSON, CLI_O_PLOT, CLI_O_QUIET, CLI_O_VERBOSE, -1},
    /* The curve goes up to what fits in memory, not to train's default cap. */
    .defaults = (const cli_default[]){{CLI_O_MODEL, "softmax"},
                                      {CLI_O_MAX_BATCH, "none"},
                                      {CLI_O_BATCHES, "sweep"},
                                      {-1, NULL}},
};

const cli_command CLI_CMD_INFO = {
    .name = "info",
    .synopsis = "Usage: gsgd info\n"
                "       gsgd info MODEL\n"
                "\n"
                "Prints the library version, the build configuration and the CPU backend, and\n"
                "whether a CUDA device can be used. With MODEL, a model file or checkpoint\n"
                "written by 'gsgd train --save', describes it instead: the model, its\n"
                "features, labels and standardiser, and for a checkpoint the options of its\n"
                "run and the epochs it trained.\n",
};

const cli_command *const CLI_COMMANDS[] = {
    &CLI_CMD_TRAIN, &CLI_CMD_EVAL, &CLI_CMD_PREDICT, &CLI_CMD_PLAN, &CLI_CMD_BENCH,
    &CLI_CMD_INFO,  NULL};
