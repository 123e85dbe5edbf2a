/*
 * Every option of the `gsgd` program, defined once: its name, its value,
 * the gsgd_param it sets (if any), how its value is parsed and its help.
 * Each row belongs to a group; a command (cli_command) is a list of groups
 * taken whole plus a few rows of its own, so one parser (cmdline.h), one
 * applier (optset.h) and one help generator (usage.h) serve every command.
 *
 * Adding an option is one row of CLI_OPTION_TABLE; it reaches every
 * command that composes its group. Defaults and ranges in the help come
 * from gsgd_param_bounds for the rows that set a parameter, so the help
 * never disagrees with the library.
 */
#ifndef GSGD_CLI_OPTTABLE_H
#define GSGD_CLI_OPTTABLE_H

#include "gsgd.h"

/* The help's sections, in the order it prints them. */
typedef enum {
    CLI_G_DATA,     /* what is read */
    CLI_G_MODEL,    /* what is trained */
    CLI_G_OPTIM,    /* the update rule and its regularisation: the step */
    CLI_G_SCHEDULE, /* the learning rate over steps and batch sizes */
    CLI_G_MEMORY,   /* the batch and the memory it may take */
    CLI_G_RUN,      /* device, seed, length and stopping of a run */
    CLI_G_MEASURE,  /* what gsgd bench measures */
    CLI_G_OUTPUT,   /* what is written */
    CLI_G_COUNT
} cli_group;

/* How a value is parsed and applied. The kinds from CLI_NUM to CLI_SIZE
 * set the row's parameter (optset.h); the others are read by the command. */
typedef enum {
    CLI_FLAG,      /* no value */
    CLI_TEXT,      /* a spec, a path or a list the command reads */
    CLI_COUNT,     /* an integer in the row's [lo, hi], default dflt */
    CLI_NUM,       /* a real number in the parameter's bounds */
    CLI_INT,       /* an integer in the parameter's bounds */
    CLI_EPOCHS,    /* auto | N: EPOCHS (auto = 0) */
    CLI_CHOICE,    /* one of the row's choices: the parameter takes its index */
    CLI_BATCH,     /* auto | fastest | N: BATCH and BATCH_POLICY */
    CLI_MAX_BATCH, /* N | none */
    CLI_MEM_LIMIT, /* bytes with a unit (MEM_LIMIT) or P% (MEM_FRACTION) */
    CLI_SIZE       /* bytes with a unit */
} cli_kind;

typedef struct {
    const char *name; /* "--lr" */
    const char *meta; /* "X" as in "--lr X"; NULL for a flag */
    cli_group group;
    cli_kind kind;
    gsgd_param param;           /* what it sets (kinds from CLI_NUM on) */
    const char *const *choices; /* CLI_CHOICE: names indexed by value */
    int n_choices;
    double lo, hi, dflt;   /* CLI_COUNT: its range and default */
    const char *dflt_text; /* the default in words, where a number would not say it */
    const char *bare;      /* the value of "--name" given alone (the meta then optional) */
    const char *help;      /* one sentence or so; the help wraps it */
} cli_optrow;

/* The rows: X(ID, GROUP, KIND, "--name", "META", designated fields...).
 * Rows of a group stay together: the help lists them in this order.
 * CLI_CHOICES_(names) gives a CLI_CHOICE row its names (opttable.c, where
 * the table is built, knows their count). */
#define CLI_OPTION_TABLE(X)                                                                        \
    X(DATA, DATA, TEXT, "--data", "SPEC",                                                          \
      .help = "the dataset: a file (CSV, TSV, svmlight, .npy, .npz, IDX; the format detected), - " \
              "(CSV or svmlight on standard input), or a SPEC below")                              \
    X(TEST, DATA, TEXT, "--test", "SPEC",                                                          \
      .help = "test data (its training part), in place of the test part of --data; loaded with "   \
              "--data's options and labels")                                                       \
    X(TEST_FRACTION, DATA, TEXT, "--test-fraction", "F",                                           \
      .help = "hold out this share of --data's rows as the test set (seeded by --seed, "           \
              "stratified by class) when it has no test part and no --test is given")              \
    X(LABEL, DATA, TEXT, "--label", "NAME|INDEX|none",                                             \
      .dflt_text = "a column named label, target, class or y, else the first",                     \
      .help = "CSV: the target column, by header name or index (0 the first, -1 the last); none: " \
              "features only")                                                                     \
    X(IGNORE, DATA, TEXT, "--ignore", "NAMES",                                                     \
      .help = "CSV: columns that are neither features nor the target (an ID, a date): header "     \
              "names or indices, comma-separated; give them to predict and eval too")              \
    X(LABELS_FILE, DATA, TEXT, "--labels", "F",                                                    \
      .help = ".npy features, IDX images: the file of their targets (.npy or IDX labels)")         \
    X(FORMAT, DATA, TEXT, "--format", "NAME", .dflt_text = "auto",                                 \
      .help = "auto | csv | svmlight | npy | npz | idx: the format of --data and --test (auto: "   \
              "from the content, then the extension)")                                             \
    X(DELIMITER, DATA, TEXT, "--delimiter", "C", .dflt_text = "auto",                              \
      .help = "CSV: auto | , | tab | ; | space (runs of blanks) | another mark")                   \
    X(DECIMAL, DATA, TEXT, "--decimal", ".|,", .dflt_text = ".",                                   \
      .help = "CSV: the decimal mark; ',' reads 1,5 as 1.5 (files of locales that write it so, "   \
              "often ;-separated)")                                                                \
    X(HEADER, DATA, TEXT, "--header", "auto|yes|no", .dflt_text = "auto",                          \
      .help = "CSV: whether the first row names the columns (auto: text where the second row has " \
              "numbers)")                                                                          \
    X(MODEL, MODEL, TEXT, "--model", "MODEL",                                                      \
      .help = "softmax | logistic | linear | hinge | mlp:H1,H2,...")                               \
    X(STANDARDIZE, MODEL, CHOICE, "--standardize", "[auto|on|off]", .param = GSGD_STANDARDIZE,     \
      CLI_CHOICES_(CLI_STANDARDIZES), .bare = "on",                                                \
      .help = "scale features to zero mean, unit variance, decided on all the training data "      \
              "(the scaler is saved with the model; eval and predict apply it); auto: when the "   \
              "columns' root mean squares s_j differ, max(s_max, 1) / min(s_median, 1) > 10, "     \
              "never for sparse data; on (also bare --standardize): always (sparse: scaled, not "  \
              "centred); off: never")                                                              \
    X(MODEL_FILE, MODEL, TEXT, "--model-file", "F",                                                \
      .help = "model or checkpoint written by 'gsgd train --save F'")                              \
    X(OPTIM, OPTIM, CHOICE, "--optim", "NAME", .param = GSGD_OPTIMIZER, CLI_CHOICES_(CLI_OPTIMS),  \
      .help = "update rule")                                                                       \
    X(LR, OPTIM, NUM, "--lr", "X", .param = GSGD_LR,                                               \
      .help = "learning rate; 0 = the rule's: 0.1 sgd; 0.1*(1-momentum) momentum, nesterov; "      \
              "0.01*(1-momentum)/trust-coef lars; 1e-3 adam, adamw, lamb; 1e-2 adagrad, rmsprop")  \
    X(MOMENTUM, OPTIM, NUM, "--momentum", "X", .param = GSGD_MOMENTUM,                             \
      .help = "momentum (momentum, nesterov, rmsprop, lars); -1 = 0 for rmsprop, else 0.9")        \
    X(BETA1, OPTIM, NUM, "--beta1", "X", .param = GSGD_BETA1,                                      \
      .help = "first-moment decay (adam, adamw, lamb)")                                            \
    X(BETA2, OPTIM, NUM, "--beta2", "X", .param = GSGD_BETA2,                                      \
      .help = "second-moment decay (adam, adamw, lamb)")                                           \
    X(EPS, OPTIM, NUM, "--eps", "X", .param = GSGD_EPS,                                            \
      .help = "denominator term; -1 = 1e-10 adagrad, 1e-6 lamb, else 1e-8")                        \
    X(RMS_ALPHA, OPTIM, NUM, "--rms-alpha", "X", .param = GSGD_RMS_ALPHA,                          \
      .help = "rmsprop's smoothing constant")                                                      \
    X(TRUST_COEF, OPTIM, NUM, "--trust-coef", "X", .param = GSGD_TRUST_COEF,                       \
      .help = "lars's trust coefficient")                                                          \
    X(WEIGHT_DECAY, OPTIM, NUM, "--weight-decay", "X", .param = GSGD_WEIGHT_DECAY,                 \
      .help = "L2 strength on the weights (decoupled for adamw, lamb); -1 = 0.01 for adamw and "   \
              "lamb, else 0")                                                                      \
    X(L1, OPTIM, NUM, "--l1", "X", .param = GSGD_L1,                                               \
      .help = "elastic-net strength alpha: soft-threshold the weights by lr*alpha*ratio each "     \
              "step (exact zeros), plus L2 alpha*(1-ratio); 0 = off")                              \
    X(L1_RATIO, OPTIM, NUM, "--l1-ratio", "X", .param = GSGD_L1_RATIO,                             \
      .help = "the L1 share of --l1 (1 = pure L1)")                                                \
    X(CLIP_NORM, OPTIM, NUM, "--clip-norm", "X", .param = GSGD_CLIP_NORM,                          \
      .help = "scale the gradient to at most this global norm; 0 = off")                           \
    X(AVERAGE, OPTIM, INT, "--average", "N", .param = GSGD_AVERAGE,                                \
      .help = "averaged SGD from step N on (evaluation and --save use the average); 0 = off")      \
    X(ON_NAN, OPTIM, CHOICE, "--on-nan", "NAME", .param = GSGD_ON_NAN, CLI_CHOICES_(CLI_ON_NAN),   \
      .help = "on a NaN/Inf step, stop naming the step, or skip it and halve the learning rate")   \
    X(PRECISION, OPTIM, CHOICE, "--precision", "NAME", .param = GSGD_PRECISION,                    \
      CLI_CHOICES_(CLI_PRECISIONS),                                                                \
      .help = "the step's products: fp32; tf32 or bf16 round their inputs as tensor cores do "     \
              "(FP32 sums, weights and update; the CPU computes the same, slower)")                \
    X(SCHEDULE, SCHEDULE, CHOICE, "--schedule", "NAME", .param = GSGD_SCHEDULE,                    \
      CLI_CHOICES_(CLI_SCHEDULES),                                                                 \
      .help = "learning-rate schedule; cosine with --epochs N decays over the N epochs, with "     \
              "--epochs auto the rate holds until the loss stops improving, then decays to "       \
              "--lr-min over a --cooldown share of the epochs so far, and the run stops")          \
    X(LR_STEP, SCHEDULE, INT, "--lr-step", "N", .param = GSGD_LR_STEP,                             \
      .help = "step: multiply lr by --lr-gamma every N epochs")                                    \
    X(LR_GAMMA, SCHEDULE, NUM, "--lr-gamma", "X", .param = GSGD_LR_GAMMA,                          \
      .help = "step and exponential decay factor")                                                 \
    X(LR_MIN, SCHEDULE, NUM, "--lr-min", "X", .param = GSGD_LR_MIN,                                \
      .help = "cosine: the rate at the end of a cycle")                                            \
    X(COSINE_PERIOD, SCHEDULE, NUM, "--cosine-period", "E", .param = GSGD_COSINE_PERIOD,           \
      .help = "cosine: epochs of the first cycle; 0 = all epochs (no restart; with --epochs "      \
              "auto, the cooldown)")                                                               \
    X(COOLDOWN, SCHEDULE, NUM, "--cooldown", "F", .param = GSGD_COOLDOWN,                          \
      .help = "cosine under --epochs auto: the final decay lasts F x the epochs trained before "   \
              "it, at least one")                                                                  \
    X(COSINE_MULT, SCHEDULE, NUM, "--cosine-mult", "X", .param = GSGD_COSINE_MULT,                 \
      .help = "cosine: growth of each next cycle")                                                 \
    X(POWER_T, SCHEDULE, NUM, "--power-t", "X", .param = GSGD_POWER_T,                             \
      .help = "invscaling: lr / step^power_t")                                                     \
    X(WARMUP, SCHEDULE, NUM, "--warmup", "EPOCHS", .param = GSGD_WARMUP,                           \
      .help = "linear warmup of the rate, per step")                                               \
    X(LR_SCALING, SCHEDULE, CHOICE, "--lr-scaling", "NAME", .param = GSGD_LR_SCALING,              \
      CLI_CHOICES_(CLI_LR_SCALINGS), .help = "scale --lr from --lr-ref-batch to the batch used")   \
    X(LR_REF_BATCH, SCHEDULE, INT, "--lr-ref-batch", "N", .param = GSGD_LR_REF_BATCH,              \
      .help = "the batch --lr is given for")                                                       \
    X(BATCH, MEMORY, BATCH, "--batch", "auto|fastest|N", .param = GSGD_BATCH, .dflt_text = "auto", \
      .help = "auto: the largest that fits memory, up to --max-batch; fastest: the highest "       \
              "samples/s of powers of two up to that; N: that batch")                              \
    X(MAX_BATCH, MEMORY, MAX_BATCH, "--max-batch", "N|none", .param = GSGD_MAX_BATCH,              \
      .help = "cap on auto and fastest; 0 = the device's (cpu 64, cuda 1024); none = no cap")      \
    X(MIN_EPOCH_STEPS, MEMORY, INT, "--min-epoch-steps", "N", .param = GSGD_MIN_EPOCH_STEPS,       \
      .help = "auto and fastest take at most floor(rows / N) rows, so that an epoch has at least " \
              "N steps (small data: the stop and schedule act per epoch); 0 = no minimum")         \
    X(MEM_LIMIT, MEMORY, MEM_LIMIT, "--mem-limit", "SIZE|P%", .param = GSGD_MEM_LIMIT,             \
      .dflt_text = "all it has free",                                                              \
      .help = "memory gsgd may use, data included: bytes (512MiB, 2GB) or a percentage in (0%, "   \
              "100%] of the device's total")                                                       \
    X(MEM_HEADROOM, MEMORY, NUM, "--mem-headroom", "F", .param = GSGD_MEM_HEADROOM,                \
      .help = "fraction of that left free")                                                        \
    X(MEM_RESERVE, MEMORY, SIZE, "--mem-reserve", "SIZE", .param = GSGD_MEM_RESERVE,               \
      .dflt_text = "cpu 0, cuda 256MiB", .help = "bytes left free besides")                        \
    X(DEVICE, RUN, TEXT, "--device", "DEV", .dflt_text = "auto",                                   \
      .help = "auto | cpu | cuda | cuda:N")                                                        \
    X(EPOCHS, RUN, EPOCHS, "--epochs", "auto|N", .param = GSGD_EPOCHS, .dflt_text = "auto",        \
      .help = "N: exactly N passes over the training data; auto: until the loss (or the "          \
              "validation accuracy) stops improving by --tol for --n-iter-no-change epochs, not "  \
              "before --min-steps steps, at most --max-epochs; the summary says why it stopped")   \
    X(MAX_EPOCHS, RUN, INT, "--max-epochs", "N", .param = GSGD_MAX_EPOCHS,                         \
      .help = "--epochs auto: at most N epochs")                                                   \
    X(MIN_STEPS, RUN, INT, "--min-steps", "N", .param = GSGD_MIN_STEPS,                            \
      .help = "--epochs auto: no stop before N optimizer steps, so that small data gets enough "   \
              "updates")                                                                           \
    X(TARGET_ACC, RUN, NUM, "--target-acc", "A", .param = GSGD_TARGET_ACC,                         \
      .help = "test accuracy to reach (train stops there, bench trains to it at each batch "       \
              "size); 0 = none")                                                                   \
    X(VALIDATION_FRACTION, RUN, NUM, "--validation-fraction", "F",                                 \
      .param = GSGD_VALIDATION_FRACTION,                                                           \
      .help = "hold out this share of the training data and stop on its accuracy")                 \
    X(N_ITER_NO_CHANGE, RUN, INT, "--n-iter-no-change", "N", .param = GSGD_N_ITER_NO_CHANGE,       \
      .help = "epochs without improvement by --tol before stopping (adaptive: lr / 5)")            \
    X(TOL, RUN, NUM, "--tol", "X", .param = GSGD_TOL,                                              \
      .help = "improvement that counts; 0 = no early stop on the training loss; -1 = auto: 1e-3 "  \
              "under --epochs auto, else 0 (--epochs N runs all N)")                               \
    X(SEED, RUN, INT, "--seed", "S", .param = GSGD_SEED,                                           \
      .help = "seed of the initialisation and the shuffle")                                        \
    X(DISTRIBUTED, RUN, FLAG, "--distributed", NULL,                                               \
      .help = "data-parallel training over the ranks of mpirun, one allreduce per step (MPI on "   \
              "the CPU, NCCL on CUDA with one GPU per rank: cuda:LOCAL_RANK); --batch is per "     \
              "rank; global batch = batch x ranks")                                                \
    X(SHARD, RUN, FLAG, "--shard", NULL,                                                           \
      .help = "with --distributed: each rank trains on every ranks-th sample only, shuffled on "   \
              "its own")                                                                           \
    X(BATCHES, MEASURE, TEXT, "--batches", "LIST|sweep",                                           \
      .help = "batch sizes, e.g. 64,256,1024; sweep: powers of two from 32 up to the planner's "   \
              "B*")                                                                                \
    X(STEPS, MEASURE, COUNT, "--steps", "N", .lo = 1, .hi = 100000, .dflt = 30,                    \
      .help = "timed steps per batch size")                                                        \
    X(WARMUP_STEPS, MEASURE, COUNT, "--warmup-steps", "N", .lo = 0, .hi = 100000, .dflt = 3,       \
      .help = "untimed steps before them")                                                         \
    X(BENCH_EPOCHS, MEASURE, COUNT, "--epochs", "E", .lo = 1, .hi = 100000, .dflt = 20,            \
      .help = "at most E epochs per time-to-target run (--target-acc)")                            \
    X(NOISE_BATCHES, MEASURE, TEXT, "--noise-batches", "S,B",                                      \
      .dflt_text = "the smallest and largest of --batches",                                        \
      .help = "batch sizes of the noise scale")                                                    \
    X(NOISE_SAMPLES, MEASURE, COUNT, "--noise-samples", "K", .lo = 0, .hi = 1000000, .dflt = 50,   \
      .help = "gradients measured at each of the two; 0 = no noise scale")                         \
    X(NOISE_EPOCHS, MEASURE, COUNT, "--noise-epochs", "E", .lo = 0, .hi = 100000, .dflt = 1,       \
      .help = "epochs trained at the small batch before measuring")                                \
    X(SAVE, OUTPUT, TEXT, "--save", "F",                                                           \
      .help = "write a checkpoint of the run to F (only after success; 'gsgd eval --model-file "   \
              "F' reads its model)")                                                               \
    X(CHECKPOINT_EVERY, OUTPUT, COUNT, "--checkpoint-every", "N", .lo = 1, .hi = 1000000,          \
      .dflt_text = "never", .help = "also write --save's F every N epochs")                        \
    X(RESUME, OUTPUT, TEXT, "--resume", "F",                                                       \
      .help = "go on training from checkpoint F: its model, options and batch; --epochs E more "   \
              "(default: F's --epochs). With F's --data it goes on exactly, bit for bit; with "    \
              "other data of the same features and labels it goes on as scikit-learn's "           \
              "partial_fit (a fresh epoch over the new rows, not an exact resume)")                \
    X(NEW_DATA, OUTPUT, FLAG, "--new-data", NULL,                                                  \
      .help =                                                                                      \
          "with --resume: go on from F on other data (as scikit-learn's partial_fit), even of "    \
          "as many rows as F's run had; other data is taken this way anyway")                      \
    X(OUT, OUTPUT, TEXT, "--out", "F",                                                             \
      .help = "where the predictions go: F.npy (NumPy), another name (CSV), - (standard output)")  \
    X(PROBA, OUTPUT, FLAG, "--proba", NULL,                                                        \
      .help = "the probability of each class instead of the label, one column per class named by " \
              "its label (softmax, logistic, mlp)")                                                \
    X(REPORT, OUTPUT, FLAG, "--report", NULL,                                                      \
      .help = "classes: also each class's precision, recall, F1 and support, and the confusion "   \
              "matrix")                                                                            \
    X(SUMMARY, OUTPUT, TEXT, "--summary", "F.json",                                                \
      .help = "write the results as one JSON object; - is standard output")                        \
    X(LOG, OUTPUT, TEXT, "--log", "F.jsonl",                                                       \
      .help = "write one JSON line per epoch; - is standard output")                               \
    X(JSON, OUTPUT, TEXT, "--json", "F",                                                           \
      .help = "write every figure as one JSON object; - is standard output")                       \
    X(CSV, OUTPUT, TEXT, "--csv", "F",                                                             \
      .help = "every figure, one line per batch size; - is standard output")                       \
    X(PLOT, OUTPUT, TEXT, "--plot", "F.png",                                                       \
      .help = "samples/s and time to target against batch size, B* and B_simple marked (needs "    \
              "gnuplot: gnuplot-nox)")                                                             \
    X(QUIET, OUTPUT, FLAG, "--quiet", NULL,                                                        \
      .help = "no progress or informational lines on stderr (results and warnings stay)")          \
    X(VERBOSE, OUTPUT, FLAG, "--verbose", NULL,                                                    \
      .help = "also say why --device auto did not take a GPU")                                     \
    X(HELP, OUTPUT, FLAG, "--help", NULL, .help = "this text (also -h)")

#define CLI_OPTION_ID_(id, ...) CLI_O_##id,
/* One id per row: v[CLI_O_LR] is the value given for --lr, or NULL. */
typedef enum { CLI_OPTION_TABLE(CLI_OPTION_ID_) CLI_N_OPTS } cli_opt_id;
#undef CLI_OPTION_ID_

/* The rows, indexed by cli_opt_id. */
extern const cli_optrow CLI_OPTS[CLI_N_OPTS];

/* The names of the choices, indexed by the parameter's value. */
extern const char *const CLI_OPTIMS[];
extern const char *const CLI_SCHEDULES[];
extern const char *const CLI_ON_NAN[];
extern const char *const CLI_LR_SCALINGS[];
extern const char *const CLI_PRECISIONS[];
extern const char *const CLI_STANDARDIZES[];

/* A command: the groups it takes whole, its own rows (ending with -1),
 * the rows it cannot go without (ending with -1), defaults of its own
 * (filled in when the option is absent and shown by the help; ending with
 * {-1, NULL}) and its help's opening lines. */
typedef struct {
    int id;
    const char *value;
} cli_default;

typedef struct {
    const char *name;     /* "train" */
    const char *synopsis; /* "Usage: gsgd train ..." and what it does, ending in "\n" */
    unsigned groups;      /* 1u << cli_group of each group taken whole */
    const int *own;       /* row ids besides the groups, -1 last */
    const int *required;  /* row ids that must be given, -1 last */
    const cli_default *defaults;
} cli_command;

/* 1 when cmd accepts row id (--help is accepted everywhere). */
int cli_command_has(const cli_command *cmd, int id);
/* cmd's own default for row id, or NULL. */
const char *cli_command_default(const cli_command *cmd, int id);

/* The name of choice value v of row id ("cosine"), or "unknown". */
const char *cli_choice_name(int id, int v);

/* Command-line names of an optimizer ("sgd") and a schedule ("cosine");
 * "unknown" when invalid. */
const char *cli_optim_name(int optim);
const char *cli_schedule_name(int schedule);
const char *cli_lr_scaling_name(int scaling);

#endif
