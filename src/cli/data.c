/* Loading options, loads and descriptions of a command's data (see data.h). */
#include "cli/data.h"

#include <stdio.h>
#include <string.h>

#include "cli/args.h"
#include "cli/cli.h"

/* --format's names, indexed by gsgd_data_format. */
static const char *const FORMATS[] = {
    [GSGD_FORMAT_AUTO] = "auto", [GSGD_FORMAT_CSV] = "csv", [GSGD_FORMAT_SVMLIGHT] = "svmlight",
    [GSGD_FORMAT_NPY] = "npy",   [GSGD_FORMAT_NPZ] = "npz", [GSGD_FORMAT_IDX] = "idx"};
#define N_FORMATS ((int)(sizeof FORMATS / sizeof FORMATS[0]))

/* One of names[0..n), or one line listing them. */
static int pick(const char *opt, const char *s, const char *const *names, int n, int *out) {
    for (int k = 0; k < n; k++)
        if (strcmp(s, names[k]) == 0) {
            *out = k;
            return CLI_OK;
        }
    char list[128];
    size_t used = 0;
    for (int k = 0; k < n && used < sizeof list; k++)
        used += (size_t)snprintf(list + used, sizeof list - used, "%s%s", k ? ", " : "", names[k]);
    const char *near = cli_nearest(s, strlen(s), names, n);
    cli_error("%s: '%s' is not one of %s%s%s%s", opt, s, list, near ? " (did you mean " : "",
              near ? near : "", near ? "?)" : "");
    return CLI_USAGE;
}

/* --delimiter: a name, or the one mark itself; 0 detects. */
static int delimiter_code(const char *s, double *code) {
    static const struct {
        const char *name;
        int code;
    } NAMES[] = {{"auto", 0},        {"comma", ','}, {"tab", '\t'}, {"\\t", '\t'},
                 {"semicolon", ';'}, {"space", ' '}, {"blank", ' '}};
    for (size_t k = 0; k < sizeof NAMES / sizeof NAMES[0]; k++)
        if (strcmp(s, NAMES[k].name) == 0) {
            *code = NAMES[k].code;
            return CLI_OK;
        }
    if (strlen(s) == 1 && (unsigned char)s[0] < 128) {
        *code = (unsigned char)s[0];
        return CLI_OK;
    }
    cli_error("--delimiter: '%s' is not auto, ',', tab, ';', space or a single mark", s);
    return CLI_USAGE;
}

/* Sets p to value (the option opt's text s); why is said when the
 * library finds the value out of range. */
static int set(gsgd_data_options *o, gsgd_data_param p, double value, const char *opt,
               const char *s, const char *why) {
    gsgd_status st = gsgd_data_set(o, p, value);
    if (st == GSGD_STATUS_OK) return CLI_OK;
    cli_error("%s: '%s' %s", opt, s, st == GSGD_STATUS_OUT_OF_RANGE ? why : gsgd_status_string(st));
    return cli_exit_code(st);
}

static int set_text(gsgd_data_options *o, gsgd_data_text p, const char *value, const char *opt) {
    gsgd_status st = gsgd_data_set_text(o, p, value);
    if (st == GSGD_STATUS_OK) return CLI_OK;
    cli_error("%s: %s", opt, gsgd_status_string(st));
    return cli_exit_code(st);
}

static int set_format(gsgd_data_options *o, const char *s) {
    int k = 0;
    int rc = pick("--format", s, FORMATS, N_FORMATS, &k);
    return rc == CLI_OK ? set(o, GSGD_DATA_FORMAT, k, "--format", s, "is out of range") : rc;
}

static int set_header(gsgd_data_options *o, const char *s) {
    static const char *const HEADERS[] = {"no", "yes", "auto"}; /* 0, 1, and -1 */
    int k = 0;
    int rc = pick("--header", s, HEADERS, 3, &k);
    return rc == CLI_OK
               ? set(o, GSGD_DATA_HEADER, k == 2 ? -1 : k, "--header", s, "is out of range")
               : rc;
}

static int set_delimiter(gsgd_data_options *o, const char *s) {
    double code = 0;
    int rc = delimiter_code(s, &code);
    return rc == CLI_OK ? set(o, GSGD_DATA_DELIMITER, code, "--delimiter", s,
                              "cannot separate numbers (a letter, digit, quote, '.', '-', '+' or "
                              "a control character); use ',', tab, ';' or space")
                        : rc;
}

static int set_decimal(gsgd_data_options *o, const char *s) {
    if (strcmp(s, ".") != 0 && strcmp(s, ",") != 0) {
        cli_error("--decimal: '%s' is not '.' or ','", s);
        return CLI_USAGE;
    }
    return set(o, GSGD_DATA_DECIMAL, s[0], "--decimal", s, "is out of range");
}

/* --test-fraction F, its split seeded by seed (--seed's). */
static int set_fraction(gsgd_data_options *o, const char *s, uint64_t seed) {
    double x = 0;
    int rc = cli_parse_double("--test-fraction", s, &x);
    if (rc != CLI_OK) return rc;
    if (!(x > 0 && x < 1)) {
        cli_error("--test-fraction: %s is not a share in (0, 1), e.g. 0.2", s);
        return CLI_USAGE;
    }
    char seed_text[32];
    snprintf(seed_text, sizeof seed_text, "%llu", (unsigned long long)seed);
    rc = set(o, GSGD_DATA_TEST_FRACTION, x, "--test-fraction", s, "is out of range");
    return rc == CLI_OK ? set(o, GSGD_DATA_SEED, (double)seed, "--seed", seed_text,
                              "is too large to seed --test-fraction's split")
                        : rc;
}

static int apply(gsgd_data_options *o, const char *const *v, uint64_t seed, int real) {
    int rc = CLI_OK;
    if (v[CLI_O_FORMAT]) rc = set_format(o, v[CLI_O_FORMAT]);
    if (rc == CLI_OK && v[CLI_O_HEADER]) rc = set_header(o, v[CLI_O_HEADER]);
    if (rc == CLI_OK && v[CLI_O_DELIMITER]) rc = set_delimiter(o, v[CLI_O_DELIMITER]);
    if (rc == CLI_OK && v[CLI_O_DECIMAL]) rc = set_decimal(o, v[CLI_O_DECIMAL]);
    if (rc == CLI_OK && v[CLI_O_TEST_FRACTION]) rc = set_fraction(o, v[CLI_O_TEST_FRACTION], seed);
    if (rc == CLI_OK && v[CLI_O_LABEL])
        rc = set_text(o, GSGD_DATA_LABEL, v[CLI_O_LABEL], "--label");
    if (rc == CLI_OK && v[CLI_O_IGNORE])
        rc = set_text(o, GSGD_DATA_IGNORE, v[CLI_O_IGNORE], "--ignore");
    if (rc == CLI_OK && v[CLI_O_LABELS_FILE])
        rc = set_text(o, GSGD_DATA_LABELS_FILE, v[CLI_O_LABELS_FILE], "--labels");
    if (rc == CLI_OK && real)
        rc = set(o, GSGD_DATA_TARGET, GSGD_TARGET_REAL, "--model", "linear", "is out of range");
    return rc;
}

int cli_data_options(const char *const *v, uint64_t seed, int real, const gsgd_model *model,
                     gsgd_data_options **out) {
    gsgd_status st = gsgd_data_options_create(out);
    if (st != GSGD_STATUS_OK) return cli_fail(NULL, st);
    int rc = apply(*out, v, seed, real);
    if (rc == CLI_OK && model && (st = gsgd_data_set_model(*out, model)) != GSGD_STATUS_OK)
        rc = cli_fail(NULL, st);
    if (rc != CLI_OK) {
        gsgd_data_options_free(*out);
        *out = NULL;
    }
    return rc;
}

int cli_data_seed(const char *const *v, uint64_t *seed) {
    double dflt = 0;
    (void)gsgd_param_bounds(GSGD_SEED, NULL, NULL, &dflt);
    *seed = (uint64_t)dflt;
    return v[CLI_O_SEED] ? cli_parse_u64("--seed", v[CLI_O_SEED], seed) : CLI_OK;
}

/* Loads source into *train (and *test) with o; both NULL on failure. */
static int load(gsgd_context *ctx, const char *source, const gsgd_data_options *o,
                gsgd_dataset **train, gsgd_dataset **test) {
    gsgd_status st = gsgd_dataset_load_ex(ctx, source, o, train, test);
    return st == GSGD_STATUS_OK ? CLI_OK : cli_fail(ctx, st);
}

/* Sparse --data and --test files (svmlight) are as wide as the larger
 * index of the two: the test file may reach past the training file's last
 * feature (gsgd_data_set_reference lets sparse rows do so), columns that
 * are zeros in the training set. */
static int widen(gsgd_dataset *train, const gsgd_dataset *test) {
    size_t d = 0, td = 0;
    int sparse = 0;
    gsgd_dataset_shape(train, NULL, &d, NULL);
    gsgd_dataset_shape(test, NULL, &td, NULL);
    gsgd_dataset_sparse(train, &sparse, NULL);
    if (td <= d || (sparse && gsgd_dataset_set_features(train, td) == GSGD_STATUS_OK))
        return CLI_OK;
    cli_error("--test has %zu features, --data %zu (stored dense: it cannot be widened)", td, d);
    return CLI_USAGE;
}

int cli_data_check(const char *const *v) {
    if (v[CLI_O_TEST] && v[CLI_O_TEST_FRACTION]) {
        cli_error("--test-fraction: give it or --test, not both (--test is the test set)");
        return CLI_USAGE;
    }
    if (v[CLI_O_TEST] && v[CLI_O_DATA] && strcmp(v[CLI_O_TEST], "-") == 0 &&
        strcmp(v[CLI_O_DATA], "-") == 0) {
        cli_error("--test: standard input is --data's already; give --test a file");
        return CLI_USAGE;
    }
    return CLI_OK;
}

int cli_load_options(const cli_session *s, uint64_t seed, gsgd_data_options **out) {
    const char *const *v = s->v;
    /* Without a model the data decides its targets, but for linear:
     * squared loss on real values is what --model linear asks for. */
    const int real = !s->model && v[CLI_O_MODEL] && strcmp(v[CLI_O_MODEL], "linear") == 0;
    return cli_data_options(v, seed, real, s->model, out);
}

/* --test's training part in place of s->test, read with o. */
static int load_test(cli_session *s, gsgd_data_options *o) {
    const char *const *v = s->v;
    int rc = CLI_OK;
    if (v[CLI_O_TEST]) {
        gsgd_dataset *t_train = NULL, *t_test = NULL;
        gsgd_status st = GSGD_STATUS_OK;
        /* --test as a test set of --data: its features, its label map. */
        if (!s->model) st = gsgd_data_set_reference(o, s->train);
        rc = st == GSGD_STATUS_OK ? load(s->ctx, v[CLI_O_TEST], o, &t_train, &t_test)
                                  : cli_fail(s->ctx, st);
        if (rc == CLI_OK) {
            gsgd_dataset_free(t_test);
            gsgd_dataset_free(s->test);
            s->test = t_train;
            rc = widen(s->train, s->test);
        }
    }
    return rc;
}

int cli_load_data(cli_session *s, uint64_t seed) {
    gsgd_data_options *o = NULL;
    int rc = cli_data_check(s->v);
    if (rc == CLI_OK) rc = cli_load_options(s, seed, &o);
    if (rc == CLI_OK) rc = load(s->ctx, s->v[CLI_O_DATA], o, &s->train, &s->test);
    if (rc == CLI_OK) rc = load_test(s, o);
    gsgd_data_options_free(o);
    return rc;
}

int cli_load_test_data(cli_session *s, uint64_t seed) {
    gsgd_data_options *o = NULL;
    int rc = cli_load_options(s, seed, &o);
    if (rc == CLI_OK) rc = load_test(s, o);
    gsgd_data_options_free(o);
    return rc;
}

void cli_describe_data_note(const char *role, const gsgd_dataset *ds, const char *note) {
    char buf[1024];
    if (ds && gsgd_dataset_describe(ds, buf, sizeof buf) == GSGD_STATUS_OK)
        fprintf(stderr, "gsgd: %s: %s%s%s\n", role, buf, note && *note ? "; " : "",
                note ? note : "");
}

void cli_describe_data(const char *role, const gsgd_dataset *ds) {
    cli_describe_data_note(role, ds, NULL);
}
