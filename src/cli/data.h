/*
 * The data of a command: --data and --test read with one set of loading
 * options (--label, --labels, --format, --delimiter, --header,
 * --test-fraction and --seed, one gsgd_data_options), against the model
 * when there is one (eval, predict, --resume) so that its features and
 * labels decide, else --test against --data (the same features, the same
 * label map); and the line per split said before the work starts.
 */
#ifndef GSGD_CLI_DATA_H
#define GSGD_CLI_DATA_H

#include <stdint.h>

#include "cli/cmdline.h"
#include "gsgd.h"

/* Builds *out from the data rows of v: seed for --test-fraction's split;
 * real: real-valued targets (--model linear); model: load as input of it
 * (NULL: the data decides). Returns CLI_OK, or CLI_USAGE after one line
 * naming the option and the value. */
int cli_data_options(const char *const *v, uint64_t seed, int real, const gsgd_model *model,
                     gsgd_data_options **out);

/* Loads v[--data] into s->train and its test part (the source's own, or
 * --test-fraction's) into s->test, then v[--test], whose training part
 * takes the place of s->test. Against s->model when it is set (its
 * features, labels and kind); else --model linear asks for real targets
 * and --test is read against s->train. seed: --test-fraction's. Returns
 * CLI_OK, or an exit code after the library's one-line message (file,
 * line, column and the fix). */
int cli_load_data(cli_session *s, uint64_t seed);

/* cli_load_data in parts, for a caller that reads --data itself (on a
 * thread, while the device opens: cli/train/startup.c): the checks of the
 * options against each other (CLI_OK, or CLI_USAGE after one line); the
 * loading options cli_load_data reads --data with (*out the caller's;
 * CLI_OK or an exit code, the error said); and, with --data in s->train and
 * s->test, --test in place of s->test as cli_load_data loads it. */
int cli_data_check(const char *const *v);
int cli_load_options(const cli_session *s, uint64_t seed, gsgd_data_options **out);
int cli_load_test_data(cli_session *s, uint64_t seed);

/* The seed of --test-fraction's split for a command without training
 * options: --seed when given, else the library's default. Returns CLI_OK
 * or CLI_USAGE after saying why --seed is not a seed. */
int cli_data_seed(const char *const *v, uint64_t *seed);

/* "gsgd: ROLE: wine.csv: CSV (comma-separated, header), 142 rows x 13
 * features, 3 classes (1, 2, 3), f32, 7.9 KiB" on stderr. */
void cli_describe_data(const char *role, const gsgd_dataset *ds);
/* The same with "; NOTE" after it (the standardisation decided), when
 * note is neither NULL nor empty. */
void cli_describe_data_note(const char *role, const gsgd_dataset *ds, const char *note);

#endif
