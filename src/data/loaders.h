/* Data loaders: files and generators that produce host data (gsgdi_host_data,
 * see dataset.h) before it is uploaded into a gsgd_dataset.
 *
 * One file per format, each usable alone (a fuzz harness calls a reader's
 * memory entry point): csv.c, svmlight.c, npy.c, npz.c (and npz_csr.c for
 * scipy's sparse matrices), idx.c, synth.c, synth_sparse.c; input.c reads
 * a source (mapped file, gzip, standard input, or a stream), detect.c
 * names its format, targets.c turns a target column into class indices or
 * real values, storage.c keeps rows sparse (CSR) or makes them dense,
 * load.c ties them to the options, spec.c parses the specs.
 *
 * Every loader validates what it reads and names the file, the line or
 * record, the column and the likely fix in gsgd_last_error. On failure the
 * outputs are left empty ({0}) and nothing is leaked; on success the
 * caller frees them (gsgdi_host_data_free, gsgdi_raw_targets_free). */
#ifndef GSGD_DATA_H
#define GSGD_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "backend/backend.h"
#include "core/context.h"
#include "core/error.h"
#include "core/memory.h"
#include "core/options.h"
#include "core/util.h"
#include "data/dataset.h"
#include "data/labels.h"

/* Largest class count any loader produces or gsgd_dataset_from_host accepts:
 * a softmax layer wider than this is a label-file mistake, not a dataset. */
#define GSGD_MAX_CLASSES 65536

/* Largest n x d any loader accepts: 2^32 floats (16 GiB). Larger headers are
 * GSGD_STATUS_TOO_LARGE before anything is allocated. */
#define GSGD_MAX_ELEMENTS ((uint64_t)1 << 32)

/* Largest input a text reader holds (a decompressed .gz or standard input
 * is read whole; a plain file is mapped): 2^32 values of 16 characters. */
#define GSGD_MAX_INPUT_BYTES ((uint64_t)1 << 36)

/* Most columns a CSV row may have (wider rows are not a table of features). */
#define GSGD_MAX_COLUMNS ((size_t)1 << 24)

/* Longest line of text read from a stream (standard input, a pipe, a .gz):
 * 4 million values of 16 characters, or GSGD_MAX_COLUMNS of "0,"; a longer
 * one is a binary file or no line breaks. */
#define GSGD_MAX_LINE_BYTES ((size_t)1 << 26)

/* The storage a loader should use (the spec's storage= option). */
typedef gsgd_storage gsgdi_storage;

/* ---- options ----------------------------------------------------------------- */

#define GSGD_DATA_N_PARAMS 9

struct gsgd_data_options {
    double v[GSGD_DATA_N_PARAMS];
    char *label;       /* GSGD_DATA_LABEL, or NULL */
    char *labels_file; /* GSGD_DATA_LABELS_FILE, or NULL */
    char *ignore;      /* GSGD_DATA_IGNORE, or NULL */
    /* The reference the data must fit (gsgd_data_set_model, _reference). */
    int has_ref;
    size_t ref_features;
    int ref_classes;          /* 0: real targets */
    gsgdi_labels *ref_labels; /* owned copy */
    char ref_what[24];        /* "the model", "the training set" */
    gsgdi_names *ref_names;   /* its feature names (owned copy), or NULL */
    /* The reference's target column name, "" when unknown. */
    char ref_target[GSGD_TARGET_NAME_LEN];
};

/* Sets o's reference (what NULL removes it): the shape and a copy of the
 * label map a file must fit, the name of the column that held its targets
 * (target: NULL or "" when unknown) and a copy of its features' names
 * (NULL: none) (data_options.c; the model layer's gsgd_data_set_model
 * calls it too). */
gsgd_status gsgdi_data_set_ref(gsgd_data_options *o, gsgd_context *ctx, const char *what,
                               size_t n_features, int n_classes, const gsgdi_labels *labels,
                               const char *target, const gsgdi_names *names);

/* What a reader needs to know of the options. */
typedef struct {
    int header;                   /* -1 detect, 0 none, 1 the first row */
    int delimiter;                /* 0 detect, else the character */
    int decimal;                  /* CSV: the decimal mark, '.' or ',' */
    const char *label;            /* GSGD_DATA_LABEL or NULL */
    const char *ignore;           /* GSGD_DATA_IGNORE or NULL */
    const char *ref_target;       /* without label: the reference's target column
                                     name, found by the header (NULL: none) */
    const gsgdi_names *ref_names; /* the reference's feature names: a header's
                                     columns are placed by them (NULL: none) */
    const char *ref_what;         /* "the model", "the training set" */
    int zero_based;               /* svmlight: -1 detect, 0, 1 */
    size_t n_features;            /* the reference's features, or 0 */
    const char *n_features_from;  /* who set n_features, for messages ("the
                                     spec's"); NULL: "the model's" */
    int csr;                      /* svmlight: 1 rows as CSR, 0 dense, -1 by density
                                     (gsgdi_storage_prefers_csr) */
    int wider_ok;                 /* sparse rows may reach past n_features (a test set of a
                                     training set, which gsgd_dataset_set_features widens) */
} gsgdi_read_opts;

/* ---- the target column as read ---------------------------------------------- */

typedef struct {
    size_t n;
    double *num; /* n values, when the column was read as numbers; else NULL */
    char *pool;  /* when read as text: row i's text at pool + off[i] */
    size_t *off; /* n offsets */
    size_t pool_len, pool_cap;
    size_t *line;   /* source line of each row, or NULL: rows named "row i" */
    size_t column;  /* 1-based column in messages, 0 when not a column */
    char name[64];  /* its header name (CSV) or array ("y"), "" when none */
    char file[256]; /* the file it came from, for messages */
} gsgdi_raw_targets;

void gsgdi_raw_targets_free(gsgdi_raw_targets *t);
/* Appends one row's text label (len bytes, not NUL-terminated). */
gsgd_status gsgdi_raw_targets_push_text(gsgd_context *ctx, gsgdi_raw_targets *t, const char *s,
                                        size_t len, size_t line);

/* Parses [s, s + len) (blanks around it allowed) as a number with strtod
 * in the C locale; 1 when all of it is one (inf and nan included). */
int gsgdi_parse_number(const char *s, size_t len, double *v);
/* 1 when [s, s + len) is how files write a missing value: nothing, "?",
 * NA, N/A, NaN, null (any case; blanks around it allowed). */
int gsgdi_is_missing(const char *s, size_t len);

/* How targets.c turns raw targets into y. */
typedef struct {
    int real;     /* regression */
    int identity; /* > 0: the values are class indices of this many
                     classes (synth): an identity map */
    int has_ref;  /* map through ref (classes) / follow its kind */
    int ref_classes;
    const gsgdi_labels *ref;
} gsgdi_target_rules;

/* Sets h->y (n floats), h->n_classes, h->meta.labels and the range from t,
 * by the rules: a reference's map, a new sorted map of the values found
 * (refusing a column that does not look like classes), or real values.
 * t may be NULL (no target column): y is all 0 and meta.no_targets set;
 * with a reference the map is still the reference's. */
gsgd_status gsgdi_targets_finish(gsgd_context *ctx, const gsgdi_raw_targets *t,
                                 const gsgdi_target_rules *r, gsgdi_host_data *h);

/* ---- input ------------------------------------------------------------------- */

/* A source's bytes: a mapped file, or a buffer (a decompressed .gz, standard
 * input). */
typedef struct {
    const unsigned char *data;
    size_t len;
    void *map; /* munmap(map, map_len) */
    size_t map_len;
    unsigned char *owned;
    int gz; /* was gzip-compressed */
} gsgdi_input;

/* Reads path ("-": standard input), gzip-compressed or not. IO naming path;
 * TOO_LARGE past GSGD_MAX_INPUT_BYTES. */
gsgd_status gsgdi_input_open(gsgd_context *ctx, const char *path, gsgdi_input *in);
/* Reads path as the text of kind ("CSV", "svmlight", or "CSV or svmlight"
 * for messages) as gsgdi_input_open does, but bytes that are read rather
 * than mapped (standard input, a pipe or a device, a .gz) are checked as
 * they arrive, so that a source that is no text costs a chunk of memory,
 * not GSGD_MAX_INPUT_BYTES (/dev/zero, a binary stream): a NUL byte is
 * BAD_FORMAT (as gsgdi_text_no_nul says it), a line longer than
 * GSGD_MAX_LINE_BYTES TOO_LARGE, and standard input that starts as a
 * binary format (npy, npz, IDX) INVALID_ARGUMENT, as gsgdi_stdin_refused. */
gsgd_status gsgdi_input_open_text(gsgd_context *ctx, const char *path, const char *kind,
                                  gsgdi_input *in);
/* INVALID_ARGUMENT: data of format f cannot be read from standard input. */
gsgd_status gsgdi_stdin_refused(gsgd_context *ctx, gsgd_data_format f);
/* BAD_FORMAT naming the line and column (bytes, 1-based, as the CSV reader
 * counts lines) of the first NUL byte of the text [p, p + len) when it has
 * one, else OK. The text readers check their input with it: their string
 * functions would stop at a NUL and misreport the rest of the line, and a
 * UTF-16 file is half NULs. what names the source, kind the format;
 * lines_before counts the lines of the source before p (a streamed piece). */
gsgd_status gsgdi_text_no_nul(gsgd_context *ctx, const char *what, const char *kind, const void *p,
                              size_t len, size_t lines_before);

/* A source read a piece at a time (gzip, standard input, a pipe). */
typedef struct {
    struct gzFile_s *gz; /* NULL when the source was mapped instead */
    const char *path;
    int gzip; /* the bytes were gzip-compressed (known after the first read) */
} gsgdi_stream;

/* For readers that take their input in pieces: a plain file is mapped into
 * in (s->gz NULL), anything else is left open as the stream s (in empty).
 * Statuses as gsgdi_input_open; close both. */
gsgd_status gsgdi_input_open_stream(gsgd_context *ctx, const char *path, gsgdi_input *in,
                                    gsgdi_stream *s);
/* Up to cap bytes of s into buf (*got < cap only at the end, 0 there).
 * IO, BAD_FORMAT (corrupt gzip data) naming the path. */
gsgd_status gsgdi_stream_read(gsgd_context *ctx, gsgdi_stream *s, void *buf, size_t cap,
                              size_t *got);
void gsgdi_stream_close(gsgdi_stream *s);
void gsgdi_input_close(gsgdi_input *in);
/* Frees an input allocated with malloc (a host data's release). */
void gsgdi_input_release(void *in);
/* The first up to size bytes of path, decompressed when it is gzip. */
gsgd_status gsgdi_input_peek(gsgd_context *ctx, const char *path, unsigned char *buf, size_t size,
                             size_t *got, int *gz);

/* The format of a source from its name and first bytes (never AUTO: CSV
 * when nothing else fits). */
gsgd_data_format gsgdi_detect_format(const char *path, const unsigned char *head, size_t len);
/* "CSV", "svmlight", ... */
const char *gsgdi_format_name(gsgd_data_format f);

/* ---- readers ------------------------------------------------------------------ */

/* Parses delimited text (what names it in messages): features into h->X,
 * h->n, h->d, the detail ("comma-separated, header") into h->meta, the
 * target column into t (t->n == 0 when the rows have none). */
gsgd_status gsgdi_csv_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                            const gsgdi_read_opts *o, gsgdi_host_data *h, gsgdi_raw_targets *t);

/* The delimiter of delimited text [p, end): of tab, ';', ',' and '|' the
 * first found equally often on each of the first 30 lines, else the most
 * frequent on the first line, else 0 (runs of blanks) when the first line
 * has two words, else ',' (csv_sniff.c). */
char gsgdi_csv_sniff_delimiter(const char *p, const char *end);
/* "comma", "tab", "semicolon", "blank" (0), "'|'", "custom". */
const char *gsgdi_csv_delimiter_name(char d);

/* Parses svmlight / LIBSVM text (what names it in messages): the rows into
 * h as CSR (h->indptr, h->indices, h->values) or dense (h->X) as o->csr
 * says, h->n, h->d, the detail ("1-based indices, stored sparse") into
 * h->meta, the targets (numbers, or label texts) into t with their lines.
 * BAD_FORMAT, BAD_VALUE, UNSUPPORTED (multi-label), SHAPE_MISMATCH (an
 * index past o->n_features), TOO_LARGE, OUT_OF_MEMORY; each message names
 * what, the line and the column. */
gsgd_status gsgdi_svmlight_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                                 const gsgdi_read_opts *o, gsgdi_host_data *h,
                                 gsgdi_raw_targets *t);
/* The same from a stream, read a piece at a time (a gzip file is never
 * held whole); IO and BAD_FORMAT of the stream too. */
gsgd_status gsgdi_svmlight_stream(gsgd_context *ctx, const char *what, gsgdi_stream *s,
                                  const gsgdi_read_opts *o, gsgdi_host_data *h,
                                  gsgdi_raw_targets *t);

/* ---- storage: sparse or dense (storage.c) ------------------------------------ */

/* The share of nonzero values from which rows are stored dense when the
 * caller leaves it to gsgd (GSGD_STORAGE_AUTO): 5%. Measured: softmax, 10
 * classes, 16000 training rows of 1000 features, lr 0.1, 8 epochs on the
 * CPU backend (2 threads), the best of 3: the sparse run took, of the dense
 * run's time, 0.82 (batch 64) and 0.26 (batch 256) at 1% nonzero, 0.65 and
 * 0.53 at 2%, 1.18 and 0.62 at 5%, 1.58 and 1.13 at 10%, 2.2 and 2.1 at
 * 20%: the crossing lies between 4% and 8%. Below it CSR also takes at most
 * 8 x 5% = 0.4 of the dense bytes; above it dense rows also take the
 * centring standardiser, which sparse rows cannot. */
#define GSGD_DENSE_FROM 0.05

/* 1 when n rows of d features with nnz nonzeros are better stored as CSR
 * (their density below GSGD_DENSE_FROM). */
int gsgdi_storage_prefers_csr(size_t n, size_t d, size_t nnz);
/* Replaces h's CSR rows by dense ones (a repeated index adds up); nothing
 * to do for dense h. TOO_LARGE naming what past 2^32 values, for a dense
 * array of almost only zeros (density below 1/4096 past 2^26 values), or
 * rows past 2^31 - 1 features; OUT_OF_MEMORY. */
gsgd_status gsgdi_host_densify(gsgd_context *ctx, const char *what, gsgdi_host_data *h);
/* Replaces h's dense rows (X, or X8 converted as the gather converts
 * bytes) by CSR ones holding their nonzeros; nothing to do for CSR h.
 * TOO_LARGE past 2^31 - 1 features; OUT_OF_MEMORY. */
gsgd_status gsgdi_host_sparsify(gsgd_context *ctx, const char *what, gsgdi_host_data *h);
/* Stores h's rows as csr says: 1 as CSR, 0 dense, -1 CSR rows by density
 * (gsgdi_storage_prefers_csr), dense rows as they are. */
gsgd_status gsgdi_host_store(gsgd_context *ctx, const char *what, int csr, gsgdi_host_data *h);

/* A parsed .npy array: its type and shape, and where its elements lie (in
 * the buffer given to gsgdi_npy_parse, which must outlive it). */
typedef struct {
    char kind;   /* 'f' float, 'i' signed, 'u' unsigned, 'b' bool */
    int esize;   /* bytes per element */
    int swap;    /* big-endian elements on this little-endian host */
    int fortran; /* column-major */
    int ndim;
    uint64_t shape[8];
    uint64_t count; /* elements */
    const unsigned char *elems;
} gsgdi_npy;

/* Parses a .npy image (format versions 1 to 3). BAD_FORMAT naming what for
 * a bad magic, header or dtype and a size that does not match the shape;
 * TOO_LARGE for shapes past the limits. */
gsgd_status gsgdi_npy_parse(gsgd_context *ctx, const char *what, const void *data, size_t len,
                            gsgdi_npy *a);
/* The features of a 2-D (or higher, flattened per row) array as floats:
 * *X is a new array, or with *borrowed = 1 the array's own bytes (little-
 * endian float32 in C order, read in place). Non-finite values are
 * BAD_VALUE naming row and column. */
gsgd_status gsgdi_npy_features(gsgd_context *ctx, const char *what, const gsgdi_npy *a, float **X,
                               size_t *n, size_t *d, int *borrowed);
/* The targets of a 1-D (or n x 1) array as numbers. */
gsgd_status gsgdi_npy_targets(gsgd_context *ctx, const char *what, const gsgdi_npy *a,
                              gsgdi_raw_targets *t);

/* A member of a zip archive (stored, or deflated and inflated here with its
 * CRC checked): *data points into the archive or, when *owned is not NULL,
 * into *owned (free it). BAD_FORMAT naming what and the member; *data is
 * NULL (and OK returned) when the archive has no such member. */
gsgd_status gsgdi_zip_member(gsgd_context *ctx, const char *what, const void *zip, size_t len,
                             const char *member, const unsigned char **data, size_t *size,
                             unsigned char **owned);
/* The member names of a zip archive, comma-separated, for messages. */
void gsgdi_zip_list(const void *zip, size_t len, char *buf, size_t size);

/* 1 when the .npz archive is a matrix of scipy.sparse.save_npz: it holds
 * the members format, shape, data, indices and indptr (detect.c). */
int gsgdi_npz_is_scipy_sparse(const void *zip, size_t len);
/* The CSR matrix of a scipy.sparse.save_npz archive into h's CSR fields,
 * h->n and h->d (npz_csr.c): indptr and indices of any integer type,
 * values of any number type, rows as scipy holds them (indices need not
 * be sorted; a repeated one adds up). BAD_FORMAT naming what and the
 * member (not csr, a member missing, corrupt or of the wrong shape),
 * BAD_VALUE (a row pointer, an index outside the shape, a value not
 * finite), TOO_LARGE, OUT_OF_MEMORY. */
gsgd_status gsgdi_npz_csr(gsgd_context *ctx, const char *what, const void *zip, size_t len,
                          gsgdi_host_data *h);

/* Reads an IDX image file (ubyte, byte, short, int, float or double; 2 to 4
 * dimensions, the first one is the sample count) and an IDX label file (one
 * dimension, integer type) into features and raw targets. Either may be
 * gzip-compressed. ubyte images are scaled to [0,1] (GSGD_U8_FEATURE);
 * other types are kept as they are. With storage AUTO or U8, ubyte images
 * stay bytes in out->X8 (out->X is NULL): the same features in a quarter
 * of the memory. labels_path may be NULL (no targets). Statuses: IO
 * (open/read), BAD_FORMAT (header, truncation, count mismatch), BAD_VALUE
 * (NaN/Inf), TOO_LARGE (absurd dimensions), INVALID_ARGUMENT (storage U8
 * for images that are not ubyte). */
gsgd_status gsgdi_load_idx(gsgd_context *ctx, const char *images_path, const char *labels_path,
                           gsgdi_storage storage, gsgdi_host_data *out, gsgdi_raw_targets *t);

/* Largest n x d x k gsgdi_synth takes: the multiply-adds of labelling the
 * samples, measured at 0.4 to 1.2 ns each on one core of an EPYC (2^34:
 * 7 to 21 s; synth:20000,3,65536, 3.9e9 of them, took 2.7 to 4.9 s), on
 * top of drawing the n x d features (about 35 ns each). */
#define GSGD_SYNTH_MAX_WORK ((uint64_t)1 << 34)

/* A learnable problem from a random teacher: x ~ N(0, I_d), teacher W (d x k)
 * ~ N(0, 1/d); label = argmax_k (x W)_k for k >= 2, and for k == 1 a
 * regression target y = x.w + 0.1 N(0,1). The first floor(0.8 n) samples
 * (at least 1, at most n-1) go to train, the rest to test. Deterministic for
 * a seed. Statuses: INVALID_ARGUMENT (n < 2, d < 1, k outside [1, 65536]),
 * TOO_LARGE (n x d or d x k above GSGD_MAX_ELEMENTS, n x d x k above
 * GSGD_SYNTH_MAX_WORK), all before anything is allocated. */
gsgd_status gsgdi_synth(gsgd_context *ctx, size_t n, size_t d, int k, uint64_t seed,
                        gsgdi_host_data *train, gsgdi_host_data *test);

/* ---- loading ------------------------------------------------------------------ */

/* Everything a file's loading needs, from the options (and a spec's own
 * options on top). */
typedef struct {
    gsgd_data_format format; /* AUTO: detected */
    gsgdi_read_opts read;
    gsgdi_target_rules rules;
    gsgdi_storage storage;   /* AUTO resolved for the device: F32 on the CPU */
    const char *labels_file; /* NULL: none */
} gsgdi_load_plan;

void gsgdi_load_plan_from(gsgd_context *ctx, const gsgd_data_options *o, gsgdi_load_plan *p);
/* A storage choice as gsgdi_read_opts.csr takes it: CSR 1, F32 0, else -1
 * (by density). */
int gsgdi_storage_csr(gsgdi_storage s);

/* Loads the file path ("-": standard input) into host data, its targets
 * finished by the plan's rules and its meta filled. */
gsgd_status gsgdi_load_file(gsgd_context *ctx, const char *path, const gsgdi_load_plan *p,
                            gsgdi_host_data *h);

/* Loads a spec (fashion-mnist, idx:, csv:, tsv:, svmlight:, npy:, npz:,
 * synth:) into its parts; *handled is 0 when source is no spec. */
gsgd_status gsgdi_load_spec(gsgd_context *ctx, const char *source, const gsgd_data_options *o,
                            gsgdi_host_data *train, gsgdi_host_data *test, int *handled);

/* Splits host data into seeded train and test parts, stratified by class
 * for classes (split.c); h is unchanged. */
gsgd_status gsgdi_host_split(gsgd_context *ctx, const gsgdi_host_data *h, double test_fraction,
                             uint64_t seed, gsgdi_host_data *train, gsgdi_host_data *test);

/* synth-sparse (synth_sparse.c; see gsgd_dataset_load): CSR rows and
 * their drawn class indices (or real values, k = 1) in y, split 80/20. */
gsgd_status gsgdi_synth_sparse(gsgd_context *ctx, size_t n, size_t D, int k, size_t nnz,
                               uint64_t seed, gsgdi_host_data *train, gsgdi_host_data *test);

#endif
