/*
 * Shared pieces of the `gsgd` command-line program. The program is a thin
 * client of the public API (gsgd.h): it parses options, calls the library
 * and turns statuses into messages and exit codes. It never reaches into
 * the library's internals, except `gsgd bench`, which must time the
 * step's phases apart (bench.h), and the output files, which take the
 * library's rule for paths (io/outpath.h) so that the two cannot differ.
 */
#ifndef GSGD_CLI_H
#define GSGD_CLI_H

#include <stdio.h>

#include "gsgd.h"

/* Exit codes, as documented in `gsgd --help`. */
enum { CLI_OK = 0, CLI_RUNTIME = 1, CLI_USAGE = 2 };

/* Prints "gsgd: <message>" as one line on stderr. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "gsgd: warning: <message>" as one line on stderr. */
void cli_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Exit code for a library status: bad input (caller errors that a user can
 * fix, and every data/IO status but WRITE_FAILED) gives CLI_USAGE, the
 * rest CLI_RUNTIME: a full disk while saving is a runtime failure. */
int cli_exit_code(gsgd_status s);

/* Reports a failed library call with the context's detailed message (or
 * the status text when the context has none) and returns its exit code. */
int cli_fail(const gsgd_context *ctx, gsgd_status s);

/* Parses a --device value (auto, cpu, cuda, cuda:N) and creates the context.
 * Unless quiet, says which device "auto" chose: on the CPU in plain words,
 * with the reason no GPU was taken when verbose. Returns CLI_OK or an exit
 * code after printing the reason. */
int cli_context_open(const char *device, int quiet, int verbose, gsgd_context **ctx);
/* A model of spec over train's shape, weights from seed, with train's
 * labels; a CLI exit code, the error said. */
int cli_model_for(gsgd_context *ctx, const char *spec, const gsgd_dataset *train, uint64_t seed,
                  gsgd_model **model);
/* What --standardize decided for a model. */
typedef struct {
    int scaled;     /* 1: the model standardises its input */
    double ratio;   /* the scale ratio auto compared; NaN when not measured */
    char note[160]; /* for the data line: "standardized (feature scales
                       differ by 822x; ...)", "not standardized (...)" */
} cli_scaling;

/* Applies opts' STANDARDIZE (--standardize) to model on all of train, once,
 * before anything cuts it (shards, a validation part), and says in *out
 * what it decided. A CLI exit code, the error said. */
int cli_standardize(gsgd_context *ctx, gsgd_model *model, const gsgd_dataset *train,
                    const gsgd_options *opts, cli_scaling *out);

/* Checks before a long run that opt's output path can be written later,
 * under the library's rule (io/outpath.h, outfile.h): a regular file, a
 * new path or a link to either, in a directory that exists and is
 * writable; a device, FIFO, socket or directory is refused. With
 * stdout_ok (text formats) "-" is standard output, which one option at
 * most may take; the results meant for standard output then go to stderr
 * (cli_results_stream). Creates nothing. Returns CLI_OK or CLI_USAGE after
 * naming the option and the path. */
int cli_check_output(const char *opt, const char *path, int stdout_ok);
/* cli_check_output for binary outputs: "-" is refused. */
int cli_check_writable(const char *opt, const char *path);
/* Where results for the reader go: stdout, or stderr once an output option
 * took standard output ("-") for its file. */
FILE *cli_results_stream(void);

/* Formats a bound or default for messages: integers in full ("2147483647"
 * rather than %g's "2.14748e+09"), other values with %g. Returns buf. */
const char *cli_fmt_num(double v, char *buf, unsigned size);

/* text with the library's parameter names that the program sets by a flag
 * ("max_batch") written as that flag ("--max-batch"), in buf (cut to
 * size). Returns buf. */
const char *cli_flag_words(const char *text, char *buf, size_t size);

/* Lower-case name of a device for output ("cpu", "cuda"). */
const char *cli_device_name(gsgd_device d);

/* Leaves only the library's warnings on stderr (cli_context_open shows its
 * informational lines too, unless quiet): for commands that create many
 * trainers of their own, such as bench. */
void cli_log_warnings_only(gsgd_context *ctx);

/* The subcommands; argv[0] is the subcommand's name. */
int cli_cmd_train(int argc, char **argv);
int cli_cmd_eval(int argc, char **argv);
int cli_cmd_info(int argc, char **argv);
int cli_cmd_plan(int argc, char **argv);
int cli_cmd_bench(int argc, char **argv);
int cli_cmd_predict(int argc, char **argv);

#endif
