/* Help texts (see usage.h). */
#include "cli/usage.h"

#include <math.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/train/distributed.h"
#include "cli/optimopts.h"

static const char *const DATA_SPECS =
    "Data SPEC:\n"
    "  fashion-mnist[:DIR][:storage=u8|f32]\n"
    "                                  IDX files (default /usr/share/datasets/fashion-mnist)\n"
    "  idx:IMAGES,LABELS[:storage=u8|f32]\n"
    "                                  an IDX image file and its labels (.gz allowed)\n"
    "  csv:PATH[:label=first|last][:header]\n"
    "  synth:N,D,K[:seed=S]            a learnable synthetic problem, split 80/20\n"
    "Sparse data (kept in CSR, never densified):\n"
    "  PATH.svm[.gz], PATH.svmlight, PATH.libsvm, or svmlight:PATH, each optionally\n"
    "      [:zero-based|one-based][:features=N]   svmlight/LIBSVM text\n"
    "  npz-csr:MATRIX.npz,LABELS       scipy.sparse.save_npz CSR + labels (.npy or text)\n"
    "  synth-sparse:N,D,K,NNZ[:seed=S] rows of ~NNZ power-law features, split 80/20\n"
    "storage: u8 (the default for ubyte images on cuda) keeps each pixel as one byte\n"
    "on the device, converted as batches are gathered: a quarter of the memory, the\n"
    "same training; f32 (the default on the cpu) keeps floats.\n";

static const char *const EXIT_CODES =
    "Exit status: 0 success, 1 runtime failure (divergence, device), 2 bad usage or\n"
    "bad input (options, data files, model files).\n";

void cli_usage_main(FILE *f) {
    fprintf(f,
            "gsgd %s - minibatch stochastic gradient descent\n"
            "\n"
            "Usage: gsgd <command> [options]\n"
            "\n"
            "Commands:\n"
            "  train    train a model on a dataset\n"
            "  eval     evaluate a saved model on a dataset\n"
            "  plan     memory table of a run and the largest batch that fits\n"
            "  bench    step time, samples/s and time to target across batch sizes\n"
            "  info     build configuration and available devices\n"
            "  help     this text; 'gsgd <command> --help' describes a command\n"
            "\n"
            "Options: --help, --version\n"
            "\n"
            "%s",
            gsgd_version_string(), EXIT_CODES);
}

/* One option line with the library's default and range for p. */
static void param_line(FILE *f, const char *opt, const char *what, gsgd_param p) {
    double lo = 0, hi = 0, dflt = 0;
    if (gsgd_param_bounds(p, &lo, &hi, &dflt) != GSGD_STATUS_OK) {
        fprintf(f, "  %-22s %s\n", opt, what);
        return;
    }
    char l[32], h[32], d[32];
    cli_fmt_num(lo, l, sizeof l);
    cli_fmt_num(hi, h, sizeof h);
    cli_fmt_num(dflt, d, sizeof d);
    char extra[128];
    if (isinf(hi) || hi >= 1e300)
        snprintf(extra, sizeof extra, "default %s, at least %s", d, l);
    else
        snprintf(extra, sizeof extra, "default %s, range [%s, %s]", d, l, h);
    /* Keep the help within 80 columns: long ranges go on their own line. */
    if (25 + strlen(what) + strlen(extra) + 3 <= 80)
        fprintf(f, "  %-22s %s (%s)\n", opt, what, extra);
    else
        fprintf(f, "  %-22s %s\n  %-22s (%s)\n", opt, what, "", extra);
}

void cli_usage_train(FILE *f) {
    fputs("Usage: gsgd train --data SPEC --model MODEL [options]\n"
          "       gsgd train --data SPEC --resume F [--epochs E] [options]\n"
          "\n"
          "Trains MODEL on the training part of SPEC and reports test accuracy on its\n"
          "test part (or on --test). SIGINT (Ctrl-C) or SIGTERM stops the run at the\n"
          "next check, saves a checkpoint to --save's F (else ./gsgd-interrupted.ckpt),\n"
          "says how to --resume it and exits with 128 + the signal (130 for SIGINT).\n"
          "\n"
          "  --data SPEC            training data (see Data SPEC below)\n"
          "  --test SPEC            test data (its training part); overrides SPEC's test part\n"
          "  --model MODEL          softmax | logistic | linear | hinge | mlp:H1,H2,...\n",
          f);
    cli_usage_optim_options(f);
    cli_usage_plan_options(f);
    param_line(f, "--epochs E", "passes over the training data", GSGD_EPOCHS);
    param_line(f, "--target-acc A", "stop at this test accuracy; 0 = never", GSGD_TARGET_ACC);
    param_line(f, "--seed S", "seed of the initialisation and the shuffle", GSGD_SEED);
    fprintf(f,
            "  --standardize          scale features to zero mean, unit variance (saved with\n"
            "                         the model); sparse data is scaled only, never centred\n"
            "Sparse data: the first layer's weights are updated only on the rows of the\n"
            "features a batch holds (lazy) by sgd (weight decay deferred, the same result\n"
            "as dense), adagrad without weight decay (the same as dense), adam and adamw\n"
            "(as PyTorch's SparseAdam: absent rows keep their weights and moments); every\n"
            "other rule, or --clip-norm, --l1, --average, --on-nan skip, updates every row\n"
            "(dense). With --lr unset, sgd/momentum on sparse data without hidden layers\n"
            "take lr = 30 / mean |x|^2.\n"
            "  --device DEV           auto | cpu | cuda | cuda:N (default auto)\n"
            "  --save F               write a checkpoint of the run to F (only after success;\n"
            "                         'gsgd eval --model-file F' reads its model)\n"
            "  --checkpoint-every N   also write --save's F every N epochs\n"
            "  --resume F             go on training from checkpoint F: its model, options\n"
            "                         and batch; --epochs E more (default: F's --epochs);\n"
            "                         give the same --data\n"
            "  --summary F.json       write the results as one JSON object\n"
            "  --log F.jsonl          write one JSON line per epoch\n"
            "  --quiet                no progress output (the result line is still printed)\n"
            "  --distributed          data-parallel training over the ranks of mpirun, one\n"
            "                         allreduce per step (MPI on the CPU, NCCL on CUDA with\n"
            "                         one GPU per rank: cuda:LOCAL_RANK); --batch is per\n"
            "                         rank; global batch = batch x ranks%s\n"
            "  --shard                with --distributed: each rank trains on every ranks-th\n"
            "                         sample only, shuffled on its own\n"
            "\n"
            "%s\n%s",
            cli_dist_available() ? "" : "\n                         (not in this build: no MPI)",
            DATA_SPECS, EXIT_CODES);
}

void cli_usage_eval(FILE *f) {
    fprintf(f,
            "Usage: gsgd eval --model-file F --data SPEC [options]\n"
            "\n"
            "Evaluates a model saved by 'gsgd train --save' on the test part of SPEC, or\n"
            "on its training part when SPEC has no test part.\n"
            "\n"
            "  --model-file F         model written by 'gsgd train --save F'\n"
            "  --data SPEC            data to evaluate on (see Data SPEC below)\n"
            "  --device DEV           auto | cpu | cuda | cuda:N (default auto)\n"
            "  --summary F.json       write test_accuracy, loss and n as one JSON object\n"
            "  --quiet                do not say which device auto chose\n"
            "\n"
            "%s\n%s",
            DATA_SPECS, EXIT_CODES);
}

void cli_usage_info(FILE *f) {
    fputs("Usage: gsgd info\n"
          "\n"
          "Prints the library version, the build configuration and the CPU backend, and\n"
          "whether a CUDA device can be used.\n",
          f);
}

void cli_usage_plan_options(FILE *f) {
    fprintf(f,
            "  %-22s auto: the largest that fits memory, up to --max-batch;\n"
            "  %-22s fastest: the highest samples/s of powers of two up to that;\n"
            "  %-22s N: that batch (default auto)\n",
            "--batch auto|fastest|N", "", "");
    fprintf(f, "  %-22s cap on auto and fastest; 0 = the device's (cpu 64, cuda 1024)\n",
            "--max-batch N|none");
    fprintf(f,
            "  %-22s memory gsgd may use, data included: bytes (512MiB, 2GB) or a\n"
            "  %-22s percentage of the device's total (default: all it has free)\n",
            "--mem-limit SIZE|P%", "");
    param_line(f, "--mem-headroom F", "fraction of that left free", GSGD_MEM_HEADROOM);
    fprintf(f, "  %-22s bytes left free besides (default cpu 0, cuda 256MiB)\n",
            "--mem-reserve SIZE");
    fprintf(f, "  %-22s scale --lr from --lr-ref-batch to the batch used (default none)\n",
            "--lr-scaling none|linear|sqrt");
    param_line(f, "--lr-ref-batch N", "the batch --lr is given for", GSGD_LR_REF_BATCH);
    param_line(f, "--warmup EPOCHS", "linear warmup of the rate, per step", GSGD_WARMUP);
}

void cli_usage_plan(FILE *f) {
    fputs("Usage: gsgd plan --data SPEC --model MODEL [options]\n"
          "\n"
          "Prints the memory a training run takes (each buffer, fixed or per sample), the\n"
          "budget, the batch --batch auto picks and why, and checks it by allocating every\n"
          "buffer and running one step and one evaluation batch. The model is not trained.\n"
          "\n"
          "  --data SPEC            training data (see Data SPEC below)\n"
          "  --model MODEL          softmax | logistic | linear | hinge | mlp:H1,H2,...\n"
          "  --optim NAME           sgd | momentum | nesterov (momentum keeps a buffer)\n"
          "  --standardize          count the standardiser, as train --standardize\n"
          "  --device DEV           auto | cpu | cuda | cuda:N (default auto)\n"
          "  --lr X                 learning rate to scale (see --lr-scaling)\n",
          f);
    cli_usage_plan_options(f);
    fprintf(f,
            "  --json F               write the plan as one JSON object (batch, budget_bytes,\n"
            "                         fixed_bytes, per_sample_bytes, predicted_bytes, items...)\n"
            "  --quiet                do not say which device auto chose\n"
            "\n"
            "%s\n%s",
            DATA_SPECS, EXIT_CODES);
}

void cli_usage_bench(FILE *f) {
    fputs("Usage: gsgd bench --data SPEC [--model MODEL] [options]\n"
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
          "backward GEMM rates against sgemm alone on the same shapes, the step against\n"
          "its bandwidth floor (bytes it must move / copy bandwidth; with the fused\n"
          "gradient, the rows read once) and against its roofline (the larger of that\n"
          "floor and its flops / the rate of a large square sgemm). Timed steps use\n"
          "learning rate 0, so the model stays as it is.\n"
          "Also estimates the gradient noise scale B_simple = tr(Sigma)/|G|^2 (McCandlish\n"
          "et al. 2018), the batch beyond which larger batches stop paying.\n"
          "\n"
          "  --data SPEC            training data (see Data SPEC below)\n"
          "  --model MODEL          softmax (default) | logistic | linear | hinge |\n"
          "                         mlp:H1,H2,...\n"
          "  --batches LIST|sweep   batch sizes, e.g. 64,256,1024; sweep: powers of two\n"
          "                         from 32 up to the planner's B* (default sweep)\n"
          "  --steps N              timed steps per batch size (default 30)\n"
          "  --warmup-steps N       untimed steps before them (default 3)\n"
          "  --target-acc A         also train to test accuracy A at each batch size and\n"
          "                         report epochs, steps and seconds (or 'not reached')\n"
          "  --epochs E             at most E epochs per time-to-target run (default 20)\n"
          "  --noise-batches S,B    batch sizes of the noise scale (default: the smallest\n"
          "                         and largest of --batches)\n"
          "  --noise-samples K      gradients measured at each of the two (default 50;\n"
          "                         0 = no noise scale)\n"
          "  --noise-epochs E       epochs trained at the small batch before measuring\n"
          "                         (default 1)\n"
          "  --optim NAME           sgd | momentum | nesterov\n"
          "  --lr X, --momentum X, --weight-decay X, --seed S   as for gsgd train\n"
          "  --lr-scaling none|linear|sqrt, --lr-ref-batch N, --warmup EPOCHS\n"
          "                         how the time-to-target runs scale lr with the batch\n"
          "  --max-batch N|none     cap on B* (default none: what fits in memory)\n"
          "  --mem-limit SIZE|P%    memory gsgd may use (as for gsgd plan)\n"
          "  --device DEV           auto | cpu | cuda | cuda:N (default auto)\n"
          "  --csv F                every figure, one line per batch size\n"
          "  --json F               every figure and the machine, as one JSON object\n"
          "  --plot F.png           samples/s and time to target against batch size, B*\n"
          "                         and B_simple marked (needs gnuplot: gnuplot-nox)\n"
          "  --quiet                no progress lines on stderr\n"
          "\n",
          f);
    fprintf(f, "%s\n%s", DATA_SPECS, EXIT_CODES);
}
