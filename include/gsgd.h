/*
 * gsgd — minibatch stochastic gradient descent engine.
 *
 * Public C API. C99-compatible; no CUDA header is needed (streams are void *).
 *
 * Conventions
 *  - Every call returns a gsgd_status; outputs go through pointer arguments.
 *  - gsgd_status_string() names any status; gsgd_last_error(ctx) gives the
 *    detail of the last failure on that context (file, record, what was wrong).
 *  - Each function's comment says which statuses it returns, without the
 *    GSGD_STATUS_ prefix: "Returns OK; INVALID_ARGUMENT (NULL ds); ...".
 *    OUT_OF_MEMORY is host memory (on the CPU backend, all of gsgd's);
 *    DEVICE_OUT_OF_MEMORY is gsgd's backend memory going past the context's
 *    cap (gsgd_context_set_mem_limit, on the CPU backend too) or past what
 *    the GPU has. "DEVICE_ERROR, NO_DEVICE (CUDA)" ends the list of every
 *    call that runs device work: on a CUDA context a failed CUDA, cuBLAS or
 *    cuRAND call returns DEVICE_ERROR, NO_DEVICE where the runtime finds the
 *    device unusable, or DEVICE_OUT_OF_MEMORY where the library itself ran
 *    out, with the library's message in gsgd_last_error. INTERNAL, a broken
 *    invariant (a bug in gsgd, reported with file and line), is left out of
 *    the lists, which name it only where it has another cause.
 *  - Objects are opaque handles with create/free pairs. free(NULL) is a no-op.
 *  - No call prints, exits or aborts the process.
 *  - One context per thread; objects created from a context belong to it.
 *
 * Stable API: everything above the "experimental" marker at the end.
 */
#ifndef GSGD_H
#define GSGD_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GSGD_VERSION_MAJOR 0
#define GSGD_VERSION_MINOR 1
#define GSGD_VERSION_PATCH 0
#define GSGD_VERSION_NUMBER                                                                        \
    (GSGD_VERSION_MAJOR * 10000 + GSGD_VERSION_MINOR * 100 + GSGD_VERSION_PATCH)

#if defined(GSGD_STATIC_DEFINE)
#define GSGD_API
#elif defined(_WIN32)
#ifdef GSGD_BUILDING
#define GSGD_API __declspec(dllexport)
#else
#define GSGD_API __declspec(dllimport)
#endif
#else
#define GSGD_API __attribute__((visibility("default")))
#endif

/* ------------------------------------------------------------------------ */
/* Status codes. Values are pinned and never renumbered:                    */
/* 0 ok, 1-99 caller errors, 100-199 data and I/O, 200-299 device,          */
/* 999 internal.                                                            */
/* IO is a file that cannot be opened or read, or an output path refused or */
/* impossible to create (the caller's to fix); WRITE_FAILED is an output    */
/* whose writing failed at the time (disk full, quota, I/O error), which    */
/* leaves the file as it was: the environment's, not the input's.           */
/* ------------------------------------------------------------------------ */
#define GSGD_STATUS_MAP(X)                                                                         \
    X(OK, 0, "success")                                                                            \
    X(INVALID_ARGUMENT, 1, "invalid argument")                                                     \
    X(OUT_OF_RANGE, 2, "parameter out of range")                                                   \
    X(UNSUPPORTED, 3, "unsupported in this build or for this model")                               \
    X(SHAPE_MISMATCH, 4, "model and data shapes do not match")                                     \
    X(OUT_OF_MEMORY, 5, "host memory allocation failed")                                           \
    X(DIVERGED, 6, "training diverged (loss is NaN or Inf)")                                       \
    X(INTERRUPTED, 7, "stopped by the caller")                                                     \
    X(IO, 100, "file could not be opened, read or written")                                        \
    X(BAD_FORMAT, 101, "malformed input data")                                                     \
    X(BAD_VALUE, 102, "invalid value in input data")                                               \
    X(TOO_LARGE, 103, "input dimensions exceed limits")                                            \
    X(WRITE_FAILED, 104, "file could not be written (disk full or I/O error)")                     \
    X(NO_DEVICE, 200, "no usable CUDA device")                                                     \
    X(DEVICE_ERROR, 201, "CUDA runtime or library error")                                          \
    X(DEVICE_OUT_OF_MEMORY, 202, "device memory allocation failed")                                \
    X(INTERNAL, 999, "internal error")

typedef enum {
#define GSGD_STATUS_ENUM_(name, value, text) GSGD_STATUS_##name = value,
    GSGD_STATUS_MAP(GSGD_STATUS_ENUM_)
#undef GSGD_STATUS_ENUM_
} gsgd_status;

/* Short human-readable description of a status ("malformed input data"):
 * a static string, never NULL; unknown values give "unknown status". */
GSGD_API const char *gsgd_status_string(gsgd_status s);
/* The enum name without prefix ("BAD_FORMAT"): a static string, never NULL;
 * "UNKNOWN" for unknown values. */
GSGD_API const char *gsgd_status_name(gsgd_status s);

/* Library version as MAJOR*10000 + MINOR*100 + PATCH. */
GSGD_API unsigned gsgd_version(void);
/* Version as text, e.g. "0.1.0" (a static string). */
GSGD_API const char *gsgd_version_string(void);

/* ------------------------------------------------------------------------ */
/* Context: device selection and error state.                               */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_context gsgd_context;

typedef enum {
    GSGD_DEVICE_AUTO = 0, /* CUDA when a device is usable, else the CPU */
    GSGD_DEVICE_CPU = 1,
    GSGD_DEVICE_CUDA = 2
} gsgd_device;

/* Creates a context on a device. device_index selects the GPU for CUDA
 * (and for AUTO). CUDA returns GSGD_STATUS_NO_DEVICE when no usable GPU is
 * present or the CUDA backend is not built in; AUTO then falls back to the
 * CPU. On failure *ctx is NULL and gsgd_last_error(NULL) says why; after an
 * AUTO fallback it says why CUDA was not used. *ctx is the caller's, freed
 * with gsgd_context_free. Returns OK; INVALID_ARGUMENT (NULL ctx, unknown
 * device); OUT_OF_MEMORY; NO_DEVICE (CUDA: as above, or device_index out of
 * range, or this build's kernels cannot run on the GPU); DEVICE_ERROR,
 * DEVICE_OUT_OF_MEMORY (CUDA: setting the device up failed). AUTO returns
 * OK, on the CPU, whatever made CUDA fail. */
GSGD_API gsgd_status gsgd_context_create(gsgd_context **ctx, gsgd_device device, int device_index);
/* Frees the context (NULL: no-op). Every object created from it must be
 * freed first. */
GSGD_API void gsgd_context_free(gsgd_context *ctx);
/* The device the context actually runs on (never AUTO); CPU for NULL. */
GSGD_API gsgd_device gsgd_context_device(const gsgd_context *ctx);
/* Detail of the last failure on ctx ("" if none): what was wrong, where in
 * the input, and the likely fix. In debug builds, and when the environment
 * variable GSGD_DEBUG is set (to anything but "0"), the source location
 * that raised it follows as " [file.c:line]". Valid until the next call
 * on ctx. With NULL: the last failure this thread met without a context to
 * record it in, kept in a thread-local buffer, above all why the thread's
 * last gsgd_context_create failed (or why AUTO fell back to the CPU);
 * valid until the thread's next such failure, and a note that ctx is NULL
 * when the thread has met none. Owned by gsgd; never NULL. */
GSGD_API const char *gsgd_last_error(const gsgd_context *ctx);
/* Runs all of the context's device work on the caller's stream
 * (cudaStream_t on CUDA: every kernel, copy and cuBLAS call; ignored on the
 * CPU). NULL selects the default stream. The caller keeps ownership of the
 * stream and must keep it alive while the context uses it. Returns OK;
 * INVALID_ARGUMENT (NULL ctx); DEVICE_ERROR (CUDA: cuBLAS refused the
 * stream). */
GSGD_API gsgd_status gsgd_context_set_stream(gsgd_context *ctx, void *stream);
/* What the library has to say besides errors: the batch the planner chose
 * and why, a learning rate divided by the adaptive schedule, steps skipped
 * as non-finite, an early stop. Nothing is printed unless asked: the
 * library calls fn (on the calling thread, during the call that did it)
 * with one line, no newline, valid for the call only. */
typedef enum { GSGD_LOG_INFO = 0, GSGD_LOG_WARNING = 1 } gsgd_log_level;
typedef void (*gsgd_log_fn)(gsgd_log_level level, const char *message, void *user);
/* Installs (fn non-NULL) or removes (NULL, the default) ctx's log callback;
 * user is handed back to fn, never read. Returns OK; INVALID_ARGUMENT (NULL
 * ctx). */
GSGD_API gsgd_status gsgd_context_set_log(gsgd_context *ctx, gsgd_log_fn fn, void *user);
/* Caps the memory gsgd may allocate on the context's device at bytes (0 =
 * no cap beyond what the device has): the batch-size planner plans within
 * it, leaving the rest to the embedding code. Enforced on every allocation:
 * one that would take gsgd past the cap fails with
 * GSGD_STATUS_DEVICE_OUT_OF_MEMORY. Lowering it frees nothing. Returns OK;
 * INVALID_ARGUMENT (NULL ctx). */
GSGD_API gsgd_status gsgd_context_set_mem_limit(gsgd_context *ctx, size_t bytes);
/* Bytes currently allocated by gsgd on the context's device, and the peak
 * since creation (datasets, parameters, buffers). Either output may be
 * NULL. Returns OK; INVALID_ARGUMENT (NULL ctx). */
GSGD_API gsgd_status gsgd_context_memory(const gsgd_context *ctx, size_t *in_use, size_t *peak);
/* Writes a short description of the build and the device into buf (always
 * NUL-terminated, truncated to size). Returns OK; INVALID_ARGUMENT (NULL ctx
 * or buf, size 0). */
GSGD_API gsgd_status gsgd_info(gsgd_context *ctx, char *buf, size_t size);

/* ------------------------------------------------------------------------ */
/* Datasets: n samples of d float features and one target each.             */
/* Classification targets are class indices 0..n_classes-1 stored as float; */
/* n_classes == 0 means regression (real targets).                          */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_dataset gsgd_dataset;

/* Copies n x d row-major features X and n targets y into a new dataset on
 * the context's device. Rejects non-finite values and out-of-range labels
 * (GSGD_STATUS_BAD_VALUE, with the sample index in gsgd_last_error).
 * On CUDA, features that do not fit the device's free memory or the
 * context's limit (gsgd_context_set_mem_limit) are kept in pinned host
 * memory instead, which each batch's gather reads over the bus: training
 * works the same, slower, and the log callback says so. This holds for
 * every dataset constructor below (load, split, subset); where the GPU's
 * pinned memory is not at the same address for host and device (no
 * unified addressing), they fail with UNSUPPORTED instead. X and y stay
 * the caller's; *out is the caller's, freed with gsgd_dataset_free.
 * Returns OK; INVALID_ARGUMENT (NULL ctx, X, y or out; n or d 0; n_classes
 * outside [0, 65536]); BAD_VALUE; TOO_LARGE (over 2^32 values or 2^32 - 1
 * samples); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; UNSUPPORTED (CUDA: as
 * above); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_from_host(gsgd_context *ctx, const float *X, const float *y,
                                            size_t n, size_t d, int n_classes, gsgd_dataset **out);

/* Wraps caller-owned arrays as a dataset, without a copy: n x d row-major
 * features X and n targets y in the context's device memory (host memory
 * on the CPU backend). The caller keeps ownership: both must stay alive and
 * unchanged until gsgd_dataset_free, which does not free them. The memory
 * is the caller's, so it counts neither in gsgd_context_memory nor against
 * gsgd's limits, and plans list it at 0 bytes. The targets are checked as
 * gsgd_dataset_from_host checks them (GSGD_STATUS_BAD_VALUE naming the
 * sample), through a copy of y alone; X is not read until training. *out
 * is the caller's. Returns OK; INVALID_ARGUMENT (NULL ctx, X, y or out; n
 * or d 0; n_classes outside [0, 65536]); BAD_VALUE; TOO_LARGE (over 2^32
 * values or 2^32 - 1 samples); OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE
 * (CUDA). */
GSGD_API gsgd_status gsgd_dataset_from_device(gsgd_context *ctx, float *X, float *y, size_t n,
                                              size_t d, int n_classes, gsgd_dataset **out);

/* Sparse datasets: rows in CSR (compressed sparse row) form, the form of
 * text (bag of words, TF-IDF) and hashed features: row i's nonzeros are
 * values[indptr[i] .. indptr[i + 1]) at feature indices[same]. Values are
 * float32, row pointers int64, indices int32 or int64. A sparse dataset
 * stays sparse on every device: a step gathers its batch's rows as CSR
 * and never forms a dense batch, the forward pass is CSR x W (the first
 * layer of an MLP; the rest dense), the weight gradient has rows only for
 * the features of the batch, and the update touches only those rows where
 * the rule allows (gsgd_optim: "sparse data"). Everything that takes a
 * dataset takes a sparse one: training, planning, evaluation,
 * prediction, split, subset, standardisation (scaling only: a sparse row
 * is never centred). */
typedef enum { GSGD_INDEX_INT32 = 0, GSGD_INDEX_INT64 = 1 } gsgd_index_type;

/* Copies a host CSR matrix of n rows (indptr n + 1 int64, from 0; indices
 * and values indptr[n] each, indices of type index_type) and n targets y
 * into a new sparse dataset on the context's device (CUDA: kept in pinned
 * host memory when it does not fit, as gsgd_dataset_from_host). d is the
 * feature count, or 0 to take the largest index + 1. Indices need not be
 * sorted within a row; a repeated one adds up. Int64 indices are stored
 * as int32 (every index is below 2^31). The arrays stay the caller's; *out
 * is the caller's. Returns OK; INVALID_ARGUMENT (NULL ctx, indptr, y or
 * out, indices without values or the reverse; n 0; n_classes outside [0,
 * 65536]; an unknown index_type; d 0 with no nonzero); BAD_VALUE (indptr
 * not from 0 or decreasing, an index outside [0, d), a non-finite value or
 * target, a bad label; naming the row); TOO_LARGE (d over 2^31 - 1, over
 * 2^32 nonzeros or 2^32 - 1 rows); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY;
 * UNSUPPORTED, DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_from_csr(gsgd_context *ctx, size_t n, size_t d,
                                           const int64_t *indptr, const void *indices,
                                           gsgd_index_type index_type, const float *values,
                                           const float *y, int n_classes, gsgd_dataset **out);

/* Wraps a caller's CSR arrays in the context's device memory (host memory
 * on the CPU backend) as a sparse dataset, without a copy, as
 * gsgd_dataset_from_device does for dense arrays: the caller keeps them
 * alive and unchanged until gsgd_dataset_free, which does not free them,
 * and they count neither in gsgd's memory nor against its limits. The
 * structure (indptr and indices) and the targets are checked through host
 * copies; the values are not read until training. d as in
 * gsgd_dataset_from_csr. Returns as gsgd_dataset_from_csr (no
 * DEVICE_OUT_OF_MEMORY). Returns OK; INVALID_ARGUMENT; BAD_VALUE;
 * TOO_LARGE; OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_from_device_csr(gsgd_context *ctx, size_t n, size_t d,
                                                  int64_t *indptr, void *indices,
                                                  gsgd_index_type index_type, float *values,
                                                  float *y, int n_classes, gsgd_dataset **out);

/* Whether ds is sparse (1) or dense (0), and its stored values: the
 * nonzeros of a sparse dataset, n x d of a dense one. Either output may be
 * NULL. Returns OK; INVALID_ARGUMENT (NULL ds). */
GSGD_API gsgd_status gsgd_dataset_sparse(const gsgd_dataset *ds, int *sparse, size_t *nnz);

/* Declares that a sparse dataset has d features, at least as many as it
 * has (the features past its largest index are zero): a test file whose
 * largest index is below the training file's, or a hashed space of fixed
 * width. Nothing is copied. Returns OK; INVALID_ARGUMENT (NULL ds; d below
 * the dataset's feature count or above 2^31 - 1); UNSUPPORTED (a dense
 * dataset). */
GSGD_API gsgd_status gsgd_dataset_set_features(gsgd_dataset *ds, size_t d);

/* Loads a dataset from a spec or a file and returns its training and test
 * parts (*test is NULL when the spec has no test part); the same as
 * gsgd_dataset_load_ex with default options (a PATH's format detected).
 * Specs:
 *   fashion-mnist[:DIR]            IDX files of Debian's dataset-fashion-mnist
 *                                  (default DIR /usr/share/datasets/fashion-mnist)
 *   idx:IMAGES,LABELS              one IDX image file (ubyte or float) + labels
 *   csv:PATH[:label=first|last][:header][:target=real|class]
 *   tsv:PATH, svmlight:PATH (or libsvm:PATH), npz:PATH, npy:X[,Y]
 *                                  that format whatever the file's name
 *   synth:N,D,K[:seed=S]           a learnable problem from a random teacher,
 *                                  split 80/20 into train/test (K = 1:
 *                                  regression)
 *   synth-sparse:N,D,K,NNZ[:seed=S]  its sparse kin: N rows of about NNZ
 *                                  nonzeros among D features drawn from a
 *                                  power law (as words in text), rows of
 *                                  unit norm; split 80/20
 *   svmlight:PATH[:zero-based|one-based][:features=N][:storage=csr|f32]
 *                                  svmlight/LIBSVM text (sparse below 5%
 *                                  nonzero values unless storage= says)
 *   npz:MATRIX.npz[,LABELS][:storage=csr|f32]
 *                                  also a CSR matrix of scipy.sparse.save_npz,
 *                                  labels from a .npy or text file
 *   PATH                           a file of a format gsgd_dataset_load_ex
 *                                  detects
 * Class labels of files go through a label map (gsgd_dataset_label): an
 * IDX file with labels 3, 7, 9 has 3 classes; synth's labels are its class
 * indices.
 * IDX files may be gzip-compressed. ubyte images are scaled to [0,1]: each
 * feature is (float)byte / 255.0f. The two IDX forms take ":storage=u8|f32"
 * at the end. u8 keeps ubyte images as one byte per feature on the device
 * (and on the host while loading) and converts them to floats as each
 * batch is gathered: a quarter of the memory, so a larger resident dataset
 * and a larger planned batch, with bitwise the same features and training
 * as storage=f32, which keeps floats. The default is u8 on a CUDA context
 * and f32 on the CPU, where memory is plentiful and the conversion cost
 * 14% of softmax's throughput (measured). Other IDX types, csv and
 * synth data are floats; storage=u8 on non-ubyte images is
 * GSGD_STATUS_INVALID_ARGUMENT, as is an unknown storage value.
 * Errors name the file and the record: see gsgd_last_error. test may be
 * NULL when the test part is not wanted; *train and *test are the
 * caller's. Returns OK; INVALID_ARGUMENT (NULL ctx, spec or train; a
 * malformed spec, an unknown option, synth sizes out of range; storage as
 * above); IO (a file missing or unreadable); BAD_FORMAT (a malformed or
 * truncated file); BAD_VALUE (a non-finite value, a bad label); TOO_LARGE
 * (over 2^32 values); SHAPE_MISMATCH (fashion-mnist's training and test
 * images differ in size); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; UNSUPPORTED
 * (CUDA: see gsgd_dataset_from_host); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_load(gsgd_context *ctx, const char *spec, gsgd_dataset **train,
                                       gsgd_dataset **test);

/* Splits ds into a shuffled training part and a test part holding
 * test_fraction of the samples (0 < test_fraction < 1), seeded. ds is
 * unchanged and still owned by the caller; *train and *test are new
 * datasets on its context, the caller's too. Returns OK; INVALID_ARGUMENT
 * (NULL ds, train or test; test_fraction outside (0, 1) or leaving a part
 * empty); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; UNSUPPORTED (CUDA: see
 * gsgd_dataset_from_host); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_split(const gsgd_dataset *ds, double test_fraction, uint64_t seed,
                                        gsgd_dataset **train, gsgd_dataset **test);
/* The same, stratified: each class goes to the test part in proportion to
 * its size (floor(count x test share), the rows left over to the classes
 * with the largest remainders, as scikit-learn's train_test_split with
 * stratify=y), drawn at random within the class; both parts keep ds's
 * label map. A regression dataset is split as gsgd_dataset_split does.
 * Returns OK; INVALID_ARGUMENT (NULL ds, train or
 * test; test_fraction outside (0, 1) or leaving a part empty);
 * OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; UNSUPPORTED (CUDA: see
 * gsgd_dataset_from_host); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_split_stratified(const gsgd_dataset *ds, double test_fraction,
                                                   uint64_t seed, gsgd_dataset **train,
                                                   gsgd_dataset **test);

/* Number of samples, features and classes (0 for regression). Any output
 * pointer may be NULL. Returns OK; INVALID_ARGUMENT (NULL ds). */
GSGD_API gsgd_status gsgd_dataset_shape(const gsgd_dataset *ds, size_t *n, size_t *d,
                                        int *n_classes);
/* Frees ds and the memory gsgd allocated for it (NULL: no-op); the arrays
 * of gsgd_dataset_from_device stay the caller's. Free the trainers that
 * train on it first. */
GSGD_API void gsgd_dataset_free(gsgd_dataset *ds);

/* ------------------------------------------------------------------------ */
/* Your own data: formats, loading options, label maps, descriptions.       */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_data_options gsgd_data_options;

/* File formats (GSGD_DATA_FORMAT). AUTO detects: binary magic first
 * (.npy's "\x93NUMPY", a zip's "PK", IDX's 0 0 type rank, gzip's 1f 8b
 * around any of the text formats), then the extension (.csv .tsv .txt
 * .svm .svmlight .libsvm .npy .npz, each also with .gz), then the text
 * itself ("1 3:0.5 7:1" is svmlight, anything else CSV). */
typedef enum {
    GSGD_FORMAT_AUTO = 0,
    GSGD_FORMAT_CSV = 1,      /* delimited text (CSV, TSV, ';', blanks), optional header,
                                 quoted fields (RFC 4180) */
    GSGD_FORMAT_SVMLIGHT = 2, /* svmlight / LIBSVM "label [qid:q] index:value ... [# c]"
                                 (labels numbers or texts), stored sparse (CSR) below 5%
                                 nonzero values, else dense (GSGD_DATA_STORAGE) */
    GSGD_FORMAT_NPY = 3,      /* NumPy .npy features (2 or more dimensions, flattened per
                                 row); targets from GSGD_DATA_LABELS_FILE */
    GSGD_FORMAT_NPZ = 4,      /* NumPy .npz (numpy.savez or savez_compressed) holding
                                 arrays X and y, or a CSR matrix of
                                 scipy.sparse.save_npz (targets from
                                 GSGD_DATA_LABELS_FILE; stored as svmlight's rows) */
    GSGD_FORMAT_IDX = 5       /* IDX images; targets from GSGD_DATA_LABELS_FILE */
} gsgd_data_format;

/* What the target column holds (GSGD_DATA_TARGET). */
typedef enum {
    GSGD_TARGET_CLASSES = 0, /* class labels as the user has them: any integers
                                (-1/+1, 3/7/9) or texts, through a sorted label map */
    GSGD_TARGET_REAL = 1     /* real values: regression */
} gsgd_target_kind;

/* How features are stored on the device (GSGD_DATA_STORAGE). */
typedef enum {
    GSGD_STORAGE_AUTO = 0, /* u8 for ubyte IDX images on CUDA; svmlight and scipy CSR .npz
                              rows sparse (CSR) below 5% nonzero values, else dense;
                              synth-sparse CSR; f32 otherwise */
    GSGD_STORAGE_F32 = 1,  /* dense floats (svmlight and scipy CSR .npz rows densified) */
    GSGD_STORAGE_U8 = 2,   /* bytes, converted as each batch is gathered (ubyte IDX only) */
    GSGD_STORAGE_CSR = 3   /* sparse rows (CSR), whatever the density; dense sources
                              (CSV, .npy, IDX) converted */
} gsgd_storage;

typedef enum {
    GSGD_DATA_FORMAT = 0,        /* a gsgd_data_format; default AUTO */
    GSGD_DATA_TARGET = 1,        /* a gsgd_target_kind; default CLASSES */
    GSGD_DATA_HEADER = 2,        /* CSV: -1 detect (default: the first row is a header
                                    when a column is text there and a number in the
                                    second row), 0 no header, 1 a header */
    GSGD_DATA_DELIMITER = 3,     /* CSV: 0 detect (default: the one of tab, ';', ','
                                    found as often on each of the first lines, else runs
                                    of blanks), or the character's code: 44 ',', 9 tab,
                                    59 ';', 32 runs of blanks, any other ASCII mark */
    GSGD_DATA_ZERO_BASED = 4,    /* svmlight: -1 detect (default: 0-based when an index 0
                                    occurs, as scikit-learn's "auto"), 0 indices from 1,
                                    1 from 0 */
    GSGD_DATA_TEST_FRACTION = 5, /* > 0: hold out this seeded share of the rows as the
                                    test part (stratified by class for classes) when
                                    the source has none; 0 (default) = no test part */
    GSGD_DATA_SEED = 6,          /* seed of that split; default 0 */
    GSGD_DATA_STORAGE = 7,       /* a gsgd_storage; default AUTO */
    GSGD_DATA_DECIMAL = 8        /* CSV: the decimal mark's code: 46 '.' (default) or
                                    44 ',' (files of locales that write 1,5, often
                                    ';'-separated); a number with both ("1.234,5") is
                                    refused as no number */
} gsgd_data_param;

/* Text options (gsgd_data_set_text). */
typedef enum {
    GSGD_DATA_LABEL = 0,       /* CSV: the target column, by header name or by index
                                  (0 the first column, -1 the last); "none" for rows of
                                  features only. Default: the column named label,
                                  target, class or y (any case) when there is a
                                  header, else the first not left out by IGNORE. */
    GSGD_DATA_LABELS_FILE = 1, /* .npy features, IDX images, scipy CSR .npz: the file of
                                  the targets (.npy, IDX labels, or text with one label
                                  a line); without it the rows have no targets (input
                                  for gsgd_predict) */
    GSGD_DATA_IGNORE = 2       /* CSV: columns that are neither features nor the
                                  target (an ID, a date), comma-separated, each by
                                  header name or index (0 the first, -1 the last); one
                                  the file lacks is INVALID_ARGUMENT naming it. A model
                                  does not keep them: give them again for its input */
} gsgd_data_text;

/* Creates loading options holding every default; *out is the caller's,
 * freed with gsgd_data_options_free. Returns OK; INVALID_ARGUMENT (NULL
 * out); OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_data_options_create(gsgd_data_options **out);
/* Frees o (NULL: no-op). Datasets keep nothing of it: o may go as soon as
 * they are loaded. */
GSGD_API void gsgd_data_options_free(gsgd_data_options *o);
/* Sets a numeric option. Returns OK; INVALID_ARGUMENT (NULL o, unknown p);
 * OUT_OF_RANGE (outside gsgd_data_param_bounds, NaN, a non-integer value
 * of an integer option, or a DELIMITER that is a letter, digit, quote,
 * '.', '-', '+' or control character other than tab). */
GSGD_API gsgd_status gsgd_data_set(gsgd_data_options *o, gsgd_data_param p, double value);
/* Reads a numeric option into *value. Returns OK; INVALID_ARGUMENT (NULL o
 * or value, unknown p). */
GSGD_API gsgd_status gsgd_data_get(const gsgd_data_options *o, gsgd_data_param p, double *value);
/* Inclusive bounds and default of a numeric option; outputs may be NULL.
 * Returns OK; INVALID_ARGUMENT (unknown p). */
GSGD_API gsgd_status gsgd_data_param_bounds(gsgd_data_param p, double *lo, double *hi,
                                            double *dflt);
/* Sets a text option to a copy of value (NULL restores the default).
 * Returns OK; INVALID_ARGUMENT (NULL o, unknown p); OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_data_set_text(gsgd_data_options *o, gsgd_data_text p, const char *value);
/* Loads the next data as a test set of train: its features must be
 * train's, its class labels are mapped through train's label map (one it
 * does not know is BAD_VALUE naming file, line and column), so a test file
 * lacking some classes keeps their indices, and train decides classes or
 * real targets. The shape and map are copied: train may be freed after.
 * NULL removes the reference. gsgd_data_set_model does the same for a
 * model. Sparse rows narrower than the reference take its width; sparse
 * rows of a test set may also reach past it (features the training set
 * lacks), which gsgd_dataset_set_features then gives a sparse training set
 * (against a model they may not). Returns OK; INVALID_ARGUMENT (NULL o);
 * OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_data_set_reference(gsgd_data_options *o, const gsgd_dataset *train);

/* Loads a dataset from a source with options o (NULL: the defaults) and
 * returns its training part and, when it has one (the spec's own, or
 * TEST_FRACTION's), its test part (*test may then be NULL; test itself may
 * be NULL when not wanted). Sources: a PATH of any gsgd_data_format
 * (detected, or GSGD_DATA_FORMAT), "-" for CSV or svmlight on standard
 * input, or a spec of gsgd_dataset_load; the spec's prefix and its options
 * win over o. svmlight rows and scipy.sparse CSR matrices are stored
 * sparse (CSR) below 5% nonzero values and dense above, unless
 * GSGD_DATA_STORAGE says (gsgd_dataset_sparse tells which); a gzip svmlight
 * file is read a piece at a time, never held whole. Classification
 * targets become the sorted label map of the
 * values found (gsgd_dataset_label); a target column that does not look
 * like classes (numbers that are not whole, or more than max(1000, n/2)
 * distinct labels) or holds one class only is refused, naming the column
 * and the fix. Every value is checked: a missing one (empty, NA, NaN, ?),
 * text among numbers, ragged rows, bad indices are BAD_VALUE or BAD_FORMAT
 * with the file, line (record) and column in gsgd_last_error. On failure
 * both outputs are NULL; *train and *test are the caller's. Returns OK;
 * INVALID_ARGUMENT (NULL ctx, source or train; a source that is neither a
 * file nor a spec; a LABEL that names no column; TEST_FRACTION with a
 * source that has a test part of its own, or rows without targets; a
 * binary format on standard input); IO (a file cannot be opened or read);
 * BAD_FORMAT (malformed content: ragged rows, an unclosed quote, a bad
 * header, magic, index or archive, truncation); BAD_VALUE (a missing,
 * non-numeric or non-finite value, a target column that is not labels, a
 * label the reference does not know); SHAPE_MISMATCH (features other than
 * the reference's); TOO_LARGE (past 2^32 values or 65536 classes, found
 * before allocating); UNSUPPORTED (multi-label rows, encrypted or
 * otherwise compressed archive members); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_load_ex(gsgd_context *ctx, const char *source,
                                          const gsgd_data_options *o, gsgd_dataset **train,
                                          gsgd_dataset **test);

/* One line on what ds holds, for a report before training: "wine.csv: CSV
 * (comma-separated, header), 142 rows x 13 features, 3 classes (1, 2, 3),
 * f32, 7.9 KiB" (regression: "target 0.5 .. 9.25"; a split part says
 * which; sparse data says "CSR, 699334 nonzeros" where dense says f32 or
 * u8). Always NUL-terminated, cut to size. Returns OK; INVALID_ARGUMENT
 * (NULL ds or buf, size 0). */
GSGD_API gsgd_status gsgd_dataset_describe(const gsgd_dataset *ds, char *buf, size_t size);
/* The original label of class k (0 <= k < n_classes) as text: "7",
 * "setosa", "-1"; *text is owned by ds. Returns OK; INVALID_ARGUMENT (NULL
 * ds or text, k out of range, a regression dataset). */
GSGD_API gsgd_status gsgd_dataset_label(const gsgd_dataset *ds, int k, const char **text);
/* Whether ds has targets (*has is 0 for rows loaded without a target
 * column) and their range as given: the smallest and largest label of an
 * integer map, 0 and n_classes - 1 for text labels, the real values' range
 * for regression. Outputs may be NULL. Returns OK; INVALID_ARGUMENT (NULL
 * ds). */
GSGD_API gsgd_status gsgd_dataset_targets(const gsgd_dataset *ds, int *has, double *lo, double *hi);
/* The header name of feature j (0-based) as ds's file had it ("alcohol"),
 * or "" when it had none (not a CSV file with a header); *name is owned by
 * ds. A file read against a model or training set whose features have
 * names has its columns in their order: matched by name, not position.
 * Returns OK; INVALID_ARGUMENT (NULL ds or name, j out of range). */
GSGD_API gsgd_status gsgd_dataset_feature_name(const gsgd_dataset *ds, size_t j, const char **name);
/* The header name of the column ds's targets were read from ("quality"),
 * or "" (no header, not CSV, no target column); *name is owned by ds.
 * Returns OK; INVALID_ARGUMENT (NULL ds or name). */
GSGD_API gsgd_status gsgd_dataset_target_name(const gsgd_dataset *ds, const char **name);
/* Copies rows [first, first + count) to host arrays: X (count x d floats,
 * as the models see them before standardisation) and y (count targets:
 * class indices as floats, or real values); either may be NULL; both stay
 * the caller's. Returns OK; INVALID_ARGUMENT (NULL ds); OUT_OF_RANGE
 * (rows past the end); OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_read(const gsgd_dataset *ds, size_t first, size_t count, float *X,
                                       float *y);

/* ------------------------------------------------------------------------ */
/* Models. All parameters live in ONE flat float buffer: every weight      */
/* matrix first (row-major, in x out, layer by layer), then every bias.     */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_model gsgd_model;

/* Creates a model from a spec for n_features inputs and n_classes classes:
 *   linear       squared loss; one output for regression (n_classes 0),
 *                one output per class on one-hot targets otherwise
 *   logistic     binary logistic regression (n_classes must be 2)
 *   softmax      multinomial logistic regression (cross-entropy)
 *   hinge        multiclass SVM loss, sum_j!=y max(0, s_j - s_y + 1)
 *   mlp:H1,H2,.. ReLU hidden layers of the given widths; a softmax output
 *                for classes, one linear output under the squared loss
 *                for regression (n_classes 0)
 * Parameters are initialised as PyTorch's nn.Linear does,
 * U(-1/sqrt(fan_in), 1/sqrt(fan_in)), from seed. *out is the caller's.
 * Returns OK; INVALID_ARGUMENT (NULL ctx, spec or out; an unknown or
 * malformed spec; n_features 0 or above 2^30; n_classes negative or 1);
 * SHAPE_MISMATCH (logistic without 2 classes; softmax, hinge or mlp with
 * n_classes 0); TOO_LARGE (a layer of over 2^34 weights); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_model_create(gsgd_context *ctx, const char *spec, size_t n_features,
                                       int n_classes, uint64_t seed, gsgd_model **out);
/* Frees the model with its parameters and standardiser (NULL: no-op).
 * Free its trainers first. */
GSGD_API void gsgd_model_free(gsgd_model *model);

/* The flat parameter buffer (device memory on CUDA, host memory on the
 * CPU backend) and its length. Owned by the model; the caller may read and
 * write it between calls. *n_decay is the length of the leading part that
 * holds weights (weight decay applies there; biases follow). Any output may
 * be NULL. Returns OK; INVALID_ARGUMENT (NULL model). */
GSGD_API gsgd_status gsgd_model_params(gsgd_model *model, float **params, size_t *n,
                                       size_t *n_decay);

/* Computes per-feature mean and standard deviation from ds and stores them
 * with the model: every later forward pass (training, evaluation, predict)
 * standardises its input, and gsgd_model_save keeps them. Features with
 * zero spread are centred only. On failure the model keeps the
 * standardiser it had (or none). Returns OK; INVALID_ARGUMENT (NULL model
 * or ds, or ds of another context); SHAPE_MISMATCH (feature counts
 * differ); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE
 * (CUDA). */
GSGD_API gsgd_status gsgd_model_fit_standardizer(gsgd_model *model, const gsgd_dataset *ds);
/* The model's standardiser, if it has one (*has = 1; 0 without, and then
 * nothing is written): every forward pass reads feature j as
 * (x_j - mean[j]) * inv_std[j]. mean and inv_std (each may be NULL)
 * receive n_features floats in host memory, the caller's. So a model
 * without hidden layers is affine in the raw features, with weights
 * W[j][k] * inv_std[j] and biases b[k] - sum_j mean[j] * inv_std[j] *
 * W[j][k]: the coefficients scikit-learn's coef_ holds. A sparse model's
 * standardiser scales only (mean all 0); a feature without spread has
 * inv_std 1. Returns OK; INVALID_ARGUMENT (NULL model); DEVICE_ERROR,
 * NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_model_standardizer(const gsgd_model *model, float *mean, float *inv_std,
                                             int *has);

/* Writes n_out = n rows of predictions for n x d host features X into host
 * array out: for regression the predicted value; for classes the predicted
 * label as the data had it when the label map holds integers (3, 7, 9;
 * -1, 1; exact up to 2^24 in magnitude), else the class index, which
 * gsgd_model_label turns into the label's text (gsgd_predict_classes gives
 * the index in every case). Both arrays stay the caller's; n = 0 does
 * nothing. Returns OK; INVALID_ARGUMENT (NULL model; NULL X or out with
 * n > 0); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE
 * (CUDA). */
GSGD_API gsgd_status gsgd_predict(gsgd_model *model, const float *X, size_t n, float *out);

/* gsgd_predict over the rows of a dataset, dense or sparse: out (host,
 * ds's n floats) receives each row's prediction. Returns OK;
 * INVALID_ARGUMENT (NULL model, ds or out; ds of another context);
 * SHAPE_MISMATCH (feature counts differ; a sparse dataset may have fewer);
 * UNSUPPORTED (sparse data and a standardiser that centres, fitted on
 * dense data); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; DEVICE_ERROR,
 * NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_predict_dataset(gsgd_model *model, const gsgd_dataset *ds, float *out);

/* n x n_outputs raw outputs of the model (logits; one column for logistic
 * and for linear regression), for n x n_features host features X, into
 * host out (row-major): the model's forward pass, standardiser included,
 * as gsgd_predict computes it (linear on classes: one column per class).
 * n == 0 writes nothing. Returns OK; INVALID_ARGUMENT (NULL model; NULL X
 * or out with n > 0); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY (its buffers, at
 * most 1024 rows); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_decision_function(gsgd_model *model, const float *X, size_t n,
                                            float *out);
/* n x n_classes class probabilities (softmax of the logits; logistic:
 * [1 - p, p], p the sigmoid of its one output) for softmax, logistic and
 * mlp models, into host out (row-major); computed in double from the
 * float logits and rounded once. Returns OK; UNSUPPORTED (linear and
 * hinge, which have no probabilities); INVALID_ARGUMENT (NULL model; NULL
 * X or out with n > 0); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; DEVICE_ERROR,
 * NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_predict_proba(gsgd_model *model, const float *X, size_t n, float *out);

/* gsgd_predict_classes, gsgd_decision_function and gsgd_predict_proba over
 * the rows of a dataset, dense or sparse (no dense copy of sparse rows is
 * made): out (host) receives ds's n rows of what the host-row function
 * writes, in the same layout. Returns OK; INVALID_ARGUMENT (NULL model, ds
 * or out; ds of another context; predict_classes of a regression model);
 * SHAPE_MISMATCH (feature counts differ; a sparse dataset may have fewer);
 * UNSUPPORTED (predict_proba of linear and hinge; sparse data and a
 * standardiser that centres); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY;
 * DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_predict_classes_dataset(gsgd_model *model, const gsgd_dataset *ds,
                                                  int32_t *out);
/* gsgd_decision_function over a dataset's rows (see above). Returns OK;
 * INVALID_ARGUMENT; SHAPE_MISMATCH; UNSUPPORTED; OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_decision_function_dataset(gsgd_model *model, const gsgd_dataset *ds,
                                                    float *out);
/* gsgd_predict_proba over a dataset's rows (see above). Returns OK;
 * INVALID_ARGUMENT; SHAPE_MISMATCH; UNSUPPORTED; OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_predict_proba_dataset(gsgd_model *model, const gsgd_dataset *ds,
                                                float *out);

typedef struct {
    double loss;     /* mean data loss (no regularisation term): cross-entropy for
                        softmax, mlp and logistic, the multiclass hinge, and HALF
                        the squared error for linear (loss = mse / 2) */
    double accuracy; /* fraction correct; NaN for regression */
    size_t n;        /* samples evaluated */
} gsgd_eval_result;

/* Evaluates the model on ds in batches (its own buffers, at most 1024 rows).
 * gsgd_evaluate_metrics gives the other figures. Returns OK;
 * INVALID_ARGUMENT (NULL model, ds or out, ds of another context, or rows
 * loaded without targets); SHAPE_MISMATCH (feature counts differ,
 * regression against classes, ds has more classes than the model, or its
 * label map is not the model's: see gsgd_model_set_labels); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_evaluate(gsgd_model *model, const gsgd_dataset *ds,
                                   gsgd_eval_result *out);

/* Saves the model (spec, shapes, standardiser, label map, parameters) to path:
 * versioned binary with a CRC32, written to a temporary file, fsynced and
 * renamed, so path is never left half-written. path is a regular file
 * (replaced), a new path, or a symbolic link, whose target is replaced
 * (the link is kept); a device, FIFO, socket or directory there is
 * refused. Returns OK; INVALID_ARGUMENT (NULL model, NULL or empty path);
 * IO (path refused or cannot be created, naming it); WRITE_FAILED (writing
 * failed at the time, disk full or I/O error: path is then unchanged);
 * OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_model_save(const gsgd_model *model, const char *path);
/* Loads a model written by gsgd_model_save, or the model of a checkpoint
 * (gsgd_trainer_save), with its label map; files of the previous format
 * version (without a map) load with the class indices as labels; *out is
 * the caller's. Returns OK; INVALID_ARGUMENT (NULL ctx, path or out); IO
 * (path cannot be read or is not a regular file); BAD_FORMAT (a corrupt or
 * truncated file, or one of an unknown format version or another byte
 * order, or a label map that does not fit the model, naming it);
 * OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_model_load(gsgd_context *ctx, const char *path, gsgd_model **out);
/* The model's spec string ("mlp:256,128", owned by the model), feature and
 * class counts. Any output may be NULL. Returns OK; INVALID_ARGUMENT (NULL
 * model). */
GSGD_API gsgd_status gsgd_model_shape(const gsgd_model *model, const char **spec,
                                      size_t *n_features, int *n_classes);

/* Gives the model ds's label map (a copy), so that saved files, predictions
 * and gsgd_model_label speak the user's labels, and the name of the column
 * ds's targets came from (a CSV header's; see gsgd_model_target_name). ds
 * must have the model's class count (SHAPE_MISMATCH otherwise); a
 * regression model and dataset have no map (only the name is taken). Until
 * it is called a classifier's labels are its class indices "0", "1", ...
 * Once set, evaluation refuses data whose label map differs: load such
 * data with gsgd_data_set_model.
 * Returns OK; INVALID_ARGUMENT (NULL model or ds); SHAPE_MISMATCH (class
 * counts differ); OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_model_set_labels(gsgd_model *model, const gsgd_dataset *ds);
/* The original label of class k as text ("setosa", "7", "-1"); *text is
 * owned by the model. Returns OK; INVALID_ARGUMENT (NULL model or text, k
 * out of range, a regression model). */
GSGD_API gsgd_status gsgd_model_label(const gsgd_model *model, int k, const char **text);
/* The header name of the column the model's training targets came from
 * ("quality"), or "" when they had none (not a CSV file with a header, or
 * arrays); *name is owned by the model. Model files and checkpoints keep
 * it, and data loaded against the model (gsgd_data_set_model) without
 * GSGD_DATA_LABEL takes the column of that name as the target wherever the
 * header has it, so a file with the target column predicts from the right
 * features. Returns OK; INVALID_ARGUMENT (NULL model or name). */
GSGD_API gsgd_status gsgd_model_target_name(const gsgd_model *model, const char **name);
/* The name of feature j (0-based) of the model's training data ("alcohol"),
 * or "" when it had none; *name is owned by the model. Model files and
 * checkpoints keep the names, and data loaded against the model
 * (gsgd_data_set_model) from a CSV file with a header has its columns
 * matched to them by name, in any order: a column the model does not know
 * (or one of its features the header lacks) is SHAPE_MISMATCH naming it.
 * Returns OK; INVALID_ARGUMENT (NULL model or name, j out of range). */
GSGD_API gsgd_status gsgd_model_feature_name(const gsgd_model *model, size_t j, const char **name);
/* Loads the next data (gsgd_dataset_load_ex with o) as input of model: the
 * features must be the model's (a CSV row may then lack the target
 * column: n_features columns are features only, n_features + 1 have a
 * target: the one GSGD_DATA_LABEL names, else the model's target column by
 * its name (gsgd_model_target_name), else the loader's default; a header
 * naming the model's features places each column by its name,
 * gsgd_model_feature_name), class labels are mapped through the model's label map (one it
 * does not know is BAD_VALUE naming file, line and column) and the model
 * decides classes or real targets. The model's shape and map are copied:
 * the model may be freed after. NULL removes the reference. Returns OK;
 * INVALID_ARGUMENT (NULL o); OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_data_set_model(gsgd_data_options *o, const gsgd_model *model);
/* Writes the predicted class index (0..n_classes-1: the column of
 * gsgd_predict_proba, the argmax of gsgd_decision_function) of each of the
 * n rows of host features X into out; gsgd_model_label names it. Both
 * arrays stay the caller's. Returns OK; INVALID_ARGUMENT (NULL model; NULL
 * X or out with n > 0; a regression model); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_predict_classes(gsgd_model *model, const float *X, size_t n,
                                          int32_t *out);
/* A few lines on the model: spec, features, outputs and parameters, its
 * labels, whether it standardises its input. Always NUL-terminated, cut to
 * size. Returns OK; INVALID_ARGUMENT (NULL model or buf, size 0). */
GSGD_API gsgd_status gsgd_model_describe(const gsgd_model *model, char *buf, size_t size);

/* Evaluation metrics, scikit-learn's definitions. */
typedef struct gsgd_metrics gsgd_metrics;

typedef enum {
    GSGD_METRIC_N = 0,         /* samples evaluated */
    GSGD_METRIC_N_CLASSES = 1, /* the model's classes (0 for regression) */
    GSGD_METRIC_LOSS = 2,      /* mean of the loss the model trains on (gsgd_eval_result's
                                  loss): cross-entropy (softmax, mlp, logistic), multiclass
                                  hinge, half the squared error (linear) */
    GSGD_METRIC_ACCURACY = 3,  /* classes: fraction predicted right */
    GSGD_METRIC_LOG_LOSS = 4,  /* classes: mean -ln p(true class) from the softmax
                                  (sigmoid for logistic) of the outputs; NaN for hinge and
                                  linear, which give no probabilities */
    GSGD_METRIC_MACRO_F1 = 5,  /* classes: unweighted mean of the per-class F1 */
    GSGD_METRIC_MSE = 6,       /* regression: mean squared error (twice LOSS) */
    GSGD_METRIC_RMSE = 7,      /* regression: its square root */
    GSGD_METRIC_MAE = 8,       /* regression: mean absolute error */
    GSGD_METRIC_R2 = 9         /* regression: 1 - SS_res / SS_tot (1 when both are 0, 0
                                  when only SS_tot is, as scikit-learn's r2_score) */
} gsgd_metric;

/* Evaluates model on ds (its own buffers, at most 1024 rows at a time)
 * into a new metrics object: every gsgd_metric, and for classes the
 * per-class figures and the confusion matrix. *out is the caller's, freed
 * with gsgd_metrics_free; NULL on failure. Returns OK; INVALID_ARGUMENT
 * (NULL model, ds or out; an empty ds, one of another context, or rows
 * without targets); SHAPE_MISMATCH (as gsgd_evaluate: features, classes
 * or the label map differ); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY;
 * DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_evaluate_metrics(gsgd_model *model, const gsgd_dataset *ds,
                                           gsgd_metrics **out);
/* Frees metrics (NULL: no-op). */
GSGD_API void gsgd_metrics_free(gsgd_metrics *metrics);
/* One figure into *value: NaN where it does not apply (ACCURACY for
 * regression, MSE for classes, LOG_LOSS for hinge and linear). Returns OK;
 * INVALID_ARGUMENT (NULL metrics or value, unknown which). */
GSGD_API gsgd_status gsgd_metrics_get(const gsgd_metrics *metrics, gsgd_metric which,
                                      double *value);
/* Class k's precision, recall and F1 (0 where undefined, as scikit-learn's
 * zero_division=0) and support (samples of that true class). Outputs may
 * be NULL. Returns OK; INVALID_ARGUMENT (NULL metrics, k out of range, a
 * regression model). */
GSGD_API gsgd_status gsgd_metrics_class(const gsgd_metrics *metrics, int k, double *precision,
                                        double *recall, double *f1, size_t *support);
/* The K x K confusion matrix into counts (caller-owned, K = n_classes):
 * counts[t * K + p] samples of true class t predicted as p. Returns OK;
 * INVALID_ARGUMENT (NULL metrics or counts, a regression model). */
GSGD_API gsgd_status gsgd_metrics_confusion(const gsgd_metrics *metrics, size_t *counts);

/* ------------------------------------------------------------------------ */
/* Options: one enum-keyed setter with bounds, so new parameters never      */
/* break the ABI. Names follow PyTorch's optim.                             */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_options gsgd_options;

/* Update rules. g is the gradient (after clipping); "coupled" weight decay
 * adds wd * w to g, "decoupled" shrinks w by lr * wd directly; decay of
 * either kind touches the weights only, never the biases. t is the 1-based
 * step. Formulas and defaults are PyTorch's (torch.optim) unless noted.
 *
 * Sparse data: the first layer's weight gradient has rows only for the
 * features of the batch. SGD updates only those rows (lazily: the weight
 * decay the other rows miss is applied when a batch next touches them, at
 * the end of each epoch, before evaluation and saving: the dense result up
 * to rounding); so does Adagrad without weight decay (exactly the dense
 * result); Adam and AdamW update only those rows as PyTorch's SparseAdam
 * does (the other rows keep their weights and moments; not the dense
 * algorithm). Momentum, Nesterov, RMSprop, LARS and LAMB, and any rule with
 * CLIP_NORM, L1, AVERAGE or ON_NAN skip, update every row (dense), as does
 * a trainer with a gradient hook. */
typedef enum {
    GSGD_OPTIM_SGD = 0,      /* w -= lr * g (coupled decay) */
    GSGD_OPTIM_MOMENTUM = 1, /* SGD(momentum=mu): v = mu v + g; w -= lr v */
    GSGD_OPTIM_NESTEROV = 2, /* SGD(momentum=mu, nesterov=True):
                                v = mu v + g; w -= lr (g + mu v) */
    GSGD_OPTIM_ADAM = 3,     /* Adam (coupled decay): m = b1 m + (1-b1) g;
                                s = b2 s + (1-b2) g^2;
                                w -= lr/(1-b1^t) m / (sqrt(s)/sqrt(1-b2^t) + eps) */
    GSGD_OPTIM_ADAMW = 4,    /* AdamW: w -= lr wd w (decoupled), then Adam
                                without coupled decay */
    GSGD_OPTIM_ADAGRAD = 5,  /* Adagrad: s += g^2; w -= lr g / (sqrt(s) + eps) */
    GSGD_OPTIM_RMSPROP = 6,  /* RMSprop: s = a s + (1-a) g^2; d = g/(sqrt(s)+eps);
                                mu > 0: v = mu v + d; w -= lr v; else w -= lr d */
    GSGD_OPTIM_LARS = 7,     /* LARS (You et al. 2017), per segment (each weight
                                matrix, each bias vector): q = eta |w| /
                                (|g| + wd |w| + eps), 1 when |w| or |g| is 0;
                                v = mu v + q (g + wd w); w -= lr v */
    GSGD_OPTIM_LAMB = 8      /* LAMB (You et al. 2019), per segment: Adam's
                                bias-corrected u = m^/(sqrt(s^) + eps) + wd w
                                (decoupled); w -= lr (|w| / |u|) u, ratio 1
                                when |w| or |u| is 0 */
} gsgd_optim;

typedef enum {
    GSGD_LR = 0,                   /* learning rate; 0 (the default) = automatic:
                                      0.1 for SGD, 0.1 * (1 - momentum) for momentum
                                      and Nesterov (the same effective step),
                                      0.01 (1 - momentum) / TRUST_COEF for LARS (each
                                      layer moves ~1% per step), 1e-3 for Adam, AdamW
                                      and LAMB, 1e-2 for Adagrad and RMSprop
                                      (PyTorch's defaults); on sparse data, for models
                                      without hidden layers, SGD takes 30 / mean |x|^2
                                      (and momentum (1 - momentum) of it): 30 for
                                      unit-norm text rows */
    GSGD_MOMENTUM = 1,             /* momentum mu (momentum, nesterov, rmsprop, lars);
                                      -1 (the default) = automatic: 0 for RMSprop
                                      (PyTorch's default), 0.9 for the others */
    GSGD_WEIGHT_DECAY = 2,         /* L2 strength wd on the weights (coupled, or
                                      decoupled for AdamW and LAMB); -1 (the default)
                                      = automatic: 0.01 for AdamW and LAMB, else 0 */
    GSGD_OPTIMIZER = 3,            /* a gsgd_optim value */
    GSGD_BATCH = 4,                /* minibatch size B; 0 (the default) = planned for
                                      the memory available: see gsgd_plan */
    GSGD_EPOCHS = 5,               /* number of passes over the training data; 0 (the
                                      default) = automatic: until the monitored loss
                                      (training loss, or validation accuracy with
                                      VALIDATION_FRACTION) stops improving by TOL for
                                      N_ITER_NO_CHANGE epochs, not before MIN_STEPS
                                      steps, at most MAX_EPOCHS epochs; with the
                                      COSINE schedule (COSINE_PERIOD 0) the rate
                                      holds until then and decays to LR_MIN over
                                      COOLDOWN x the epochs so far, then training
                                      stops (gsgd_train_result's stop_reason) */
    GSGD_SEED = 6,                 /* seed of the per-epoch shuffle */
    GSGD_LR_STEP = 7,              /* step decay: multiply lr by LR_GAMMA every LR_STEP
                                      epochs; 0 = constant learning rate */
    GSGD_LR_GAMMA = 8,             /* step decay factor */
    GSGD_TARGET_ACC = 9,           /* stop when test accuracy >= this; 0 = never */
    GSGD_CHECK_EVERY = 10,         /* steps between NaN/Inf checks and progress calls */
    GSGD_BATCH_POLICY = 11,        /* a gsgd_batch_policy: how BATCH = 0 picks B */
    GSGD_MAX_BATCH = 12,           /* cap on a planned batch; 0 = the device's max
                                      useful batch (64 on the CPU, 1024 on CUDA) */
    GSGD_MEM_LIMIT = 13,           /* bytes gsgd may use on the device, for planning
                                      (resident data included); 0 = no limit */
    GSGD_MEM_FRACTION = 14,        /* the same as a fraction of the device's total
                                      memory; 0 = no limit */
    GSGD_MEM_HEADROOM = 15,        /* fraction of the memory cap the planner leaves
                                      free (default 0.02: every buffer is allocated
                                      and a step run before training, so the margin
                                      need not cover the model's error, measured at
                                      0.03% on an H200) */
    GSGD_MEM_RESERVE = 16,         /* bytes the planner leaves free besides; -1 = the
                                      device's default: 0 on the CPU, 256 MiB on
                                      CUDA (context, kernels, library handles) */
    GSGD_LR_SCALING = 17,          /* a gsgd_lr_scaling: LR holds at LR_REF_BATCH and
                                      is scaled to the batch actually used */
    GSGD_LR_REF_BATCH = 18,        /* the batch size LR is given for */
    GSGD_WARMUP = 19,              /* epochs (may be fractional) of linear warmup per
                                      step (Goyal et al. 2017), before any schedule;
                                      0 = none */
    GSGD_BETA1 = 20,               /* Adam, AdamW, LAMB: first-moment decay b1 */
    GSGD_BETA2 = 21,               /* Adam, AdamW, LAMB: second-moment decay b2 */
    GSGD_EPS = 22,                 /* denominator term; -1 (the default) = the rule's
                                      own: 1e-10 Adagrad, 1e-6 LAMB, else 1e-8 */
    GSGD_RMS_ALPHA = 23,           /* RMSprop's smoothing constant a */
    GSGD_TRUST_COEF = 24,          /* LARS's trust coefficient eta */
    GSGD_CLIP_NORM = 25,           /* > 0: scale g by min(1, c / (|g| + 1e-6)), |g| the
                                      norm of the whole flat gradient (PyTorch's
                                      clip_grad_norm_); 0 = off */
    GSGD_L1 = 26,                  /* elastic-net strength alpha (scikit-learn's
                                      alpha): after each step a proximal soft
                                      threshold w = sign(w) max(|w| - lr alpha r, 0)
                                      on the weights, r = L1_RATIO, and coupled L2
                                      decay alpha (1 - r) on top of WEIGHT_DECAY;
                                      0 = off */
    GSGD_L1_RATIO = 27,            /* the L1 share r of L1 (1 = pure L1, as --l1) */
    GSGD_SCHEDULE = 28,            /* a gsgd_schedule */
    GSGD_LR_MIN = 29,              /* cosine: the rate at the end of a cycle */
    GSGD_COSINE_PERIOD = 30,       /* cosine: epochs of the first cycle; 0 = all of
                                      EPOCHS (one cycle, no restart) */
    GSGD_COSINE_MULT = 31,         /* cosine: each cycle is this many times the
                                      previous one (SGDR's T_mult) */
    GSGD_POWER_T = 32,             /* invscaling: lr / t^power_t */
    GSGD_AVERAGE = 33,             /* averaged SGD (scikit-learn's average): N > 0
                                      averages the iterates from step N on, and the
                                      average is what evaluation and saving see;
                                      0 = off */
    GSGD_VALIDATION_FRACTION = 34, /* early stopping on a held-out part of
                               the training set (scikit-learn's
                               validation_fraction, early_stopping=True);
                               0 = stop on the training loss */
    GSGD_N_ITER_NO_CHANGE = 35,    /* epochs without improvement by TOL before
                                  stopping (or, with ADAPTIVE, dividing lr by 5) */
    GSGD_TOL = 36,                 /* improvement that counts; 0 = never stop early;
                                      -1 (the default) = automatic: scikit-learn's
                                      1e-3 with EPOCHS 0, else 0 (a given EPOCHS
                                      runs all its epochs) */
    GSGD_ON_NAN = 37,              /* a gsgd_on_nan: what a non-finite step does */
    GSGD_MAX_EPOCHS = 38,          /* EPOCHS 0: at most this many epochs (default
                                      1000, scikit-learn's max_iter) */
    GSGD_MIN_STEPS = 39,           /* EPOCHS 0: no stop (and no cooldown) before
                                      this many optimizer steps, so that a small
                                      training set gets enough updates (default
                                      5000: against 500 and 2000 it gained on
                                      digits, breast_cancer, diabetes and a
                                      2000-row synth set, at under a second;
                                      bench/results/defaults_grid.md) */
    GSGD_STANDARDIZE = 40,         /* a gsgd_standardize: whether gsgd_trainer_create
                                      gives the model a standardiser */
    GSGD_MIN_EPOCH_STEPS = 41,     /* a planned batch (BATCH 0) leaves at least this
                                      many steps per epoch: at most max(1, floor(n /
                                      this)) rows (default 16, measured: 4 left iris
                                      and wine at ~500 epochs, 64 at batch 1);
                                      0 = no minimum */
    GSGD_COOLDOWN = 42,            /* EPOCHS 0 with COSINE (COSINE_PERIOD 0): the
                                      final decay lasts this fraction of the epochs
                                      trained before it, at least one (default 0.2,
                                      measured) */
    GSGD_PRECISION = 43            /* a gsgd_precision: the arithmetic of the
                                      training step's products */
} gsgd_param;

/* The arithmetic of a training step's products (GSGD_PRECISION): its
 * forward and backward GEMMs and the fused one-layer gradient. Whatever
 * the precision, parameters, gradients and optimizer state stay FP32 (the
 * master weights), the update is the same one fused FP32 pass, the loss
 * and its gradient are FP32, and evaluation and prediction run in FP32.
 * TF32 and BF16 round each input of a product as a GPU's tensor cores
 * take it (to nearest, ties to even) and accumulate in FP32:
 *   CPU:  the inputs rounded so, then SGEMM (OpenBLAS): the reference of
 *         what the tensor cores compute, slower than FP32 (the CPU has
 *         no such units); the fused one-layer gradient rounds the same.
 *   CUDA: cuBLAS's tensor-core compute types over the FP32 buffers
 *         (CUBLAS_COMPUTE_32F_FAST_TF32, _FAST_16BF), so no copy of an
 *         operand is made and the planner counts no more memory. The
 *         fused one-layer kernel has no tensor-core version yet: it runs
 *         in FP32 whatever the precision (more exact than asked). */
typedef enum {
    GSGD_PRECISION_FP32 = 0, /* the default and the reference: FP32 products */
    GSGD_PRECISION_TF32 = 1, /* inputs rounded to TF32: FP32's exponent, 10
                                explicit mantissa bits (unit roundoff 2^-11) */
    GSGD_PRECISION_BF16 = 2  /* inputs rounded to BF16: FP32's exponent, 7
                                explicit mantissa bits (2^-8); on CUDA cuBLAS
                                may take TF32 instead (_FAST_16BF allows it),
                                which is more exact */
} gsgd_precision;

/* Learning-rate schedules of GSGD_SCHEDULE, on top of LR (scaled by
 * LR_SCALING); e is the epoch as a real number (step / steps per epoch),
 * t the 1-based step. All are computed per step, none needs a host sync. */
typedef enum {
    GSGD_SCHEDULE_CONSTANT = 0,    /* lr; with LR_STEP > 0, STEP decay */
    GSGD_SCHEDULE_STEP = 1,        /* lr * LR_GAMMA^floor(epoch / LR_STEP) */
    GSGD_SCHEDULE_EXPONENTIAL = 2, /* lr * LR_GAMMA^epoch (per epoch) */
    GSGD_SCHEDULE_COSINE = 3,      /* the default: LR_MIN + (lr - LR_MIN)(1 +
                                      cos(pi e_c/T))/2, e_c the epochs into the
                                      current cycle of T epochs (COSINE_PERIOD,
                                      COSINE_MULT; period 0 = all of EPOCHS). With
                                      EPOCHS 0 and period 0: lr until the loss
                                      stops improving at epoch E, then one half
                                      cycle of T = max(1, round(COOLDOWN x E))
                                      epochs from E, then the run stops */
    GSGD_SCHEDULE_INVSCALING = 4,  /* lr / t^POWER_T (scikit-learn) */
    GSGD_SCHEDULE_OPTIMAL = 5,     /* 1 / (alpha (t + t0)), alpha = L1 or else
                                      WEIGHT_DECAY, t0 by Bottou's heuristic
                                      (scikit-learn's 'optimal'); ignores lr */
    GSGD_SCHEDULE_ADAPTIVE = 6     /* lr, divided by 5 whenever the monitored
                                      loss (or validation accuracy) has not
                                      improved by TOL for N_ITER_NO_CHANGE
                                      epochs; stops below 1e-6 (scikit-learn) */
} gsgd_schedule;

/* What happens when a step's gradient (or loss) is NaN or Inf. The check
 * runs on the device; the host reads its flag every CHECK_EVERY steps. */
typedef enum {
    GSGD_ON_NAN_STOP = 0, /* stop with GSGD_STATUS_DIVERGED naming the step */
    GSGD_ON_NAN_SKIP = 1  /* leave the parameters and optimizer state as they
                             were and halve the learning rate for the rest of
                             the run */
} gsgd_on_nan;

/* Whether gsgd_trainer_create standardises the features (see
 * gsgd_model_standardize). */
typedef enum {
    GSGD_STANDARDIZE_OFF = 0, /* never (a standardiser the model has stays) */
    GSGD_STANDARDIZE_ON = 1,  /* always */
    GSGD_STANDARDIZE_AUTO = 2 /* the default: when r = max(s_max, 1) /
                                 min(s_median, 1) > 10, s_j the root mean square
                                 of column j (all-zero columns left out): the
                                 columns' scales differ, or stray from the ~1
                                 the default rates were measured at. Measured
                                 (bench/results/defaults_grid.md): raw wine
                                 (r 822), breast_cancer (4393), diabetes (192)
                                 fail or diverge unscaled; digits (12.9) and
                                 iris (5.9) train as well either way;
                                 Fashion-MNIST (2.1) trains worse scaled
                                 (0.840 against 0.846) */
} gsgd_standardize;

/* How a planned batch (BATCH = 0) is chosen. */
typedef enum {
    GSGD_BATCH_LARGEST = 0, /* the largest that fits the memory budget, up to
                               MAX_BATCH ("--batch auto") */
    GSGD_BATCH_FASTEST = 1  /* the highest measured samples/s among powers of
                               two up to that ("--batch fastest") */
} gsgd_batch_policy;

/* How LR follows the batch size B (B x replicas when data-parallel). */
typedef enum {
    GSGD_LR_SCALING_NONE = 0,   /* LR as given, whatever B */
    GSGD_LR_SCALING_LINEAR = 1, /* LR * B / LR_REF_BATCH (Goyal et al. 2017) */
    GSGD_LR_SCALING_SQRT = 2    /* LR * sqrt(B / LR_REF_BATCH) (Krizhevsky 2014) */
} gsgd_lr_scaling;

/* Creates an options object holding every parameter's default; *out is the
 * caller's. Returns OK; INVALID_ARGUMENT (NULL out); OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_options_create(gsgd_options **out);
/* Frees opts (NULL: no-op). Plans, trainers and optimizers keep copies of
 * what they need, so opts may go as soon as they are created. */
GSGD_API void gsgd_options_free(gsgd_options *opts);
/* Sets a parameter. Returns OK; INVALID_ARGUMENT (NULL opts, unknown p);
 * OUT_OF_RANGE (outside gsgd_param_bounds, NaN, or a non-integer value of
 * an integer parameter). */
GSGD_API gsgd_status gsgd_set(gsgd_options *opts, gsgd_param p, double value);
/* Reads a parameter into *value. Returns OK; INVALID_ARGUMENT (NULL opts or
 * value, unknown p). */
GSGD_API gsgd_status gsgd_get(const gsgd_options *opts, gsgd_param p, double *value);
/* Inclusive bounds and default of a parameter. Any output may be NULL.
 * Returns OK; INVALID_ARGUMENT (unknown p). */
GSGD_API gsgd_status gsgd_param_bounds(gsgd_param p, double *lo, double *hi, double *dflt);
/* The parameter's name as on the command line ("weight_decay"), a static
 * string; NULL for an unknown p. */
GSGD_API const char *gsgd_param_name(gsgd_param p);

/* ------------------------------------------------------------------------ */
/* Batch-size planning: how much memory training takes, and the largest     */
/* batch that fits (like zstd's ZSTD_estimateCCtxSize, but checked).        */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_batch_plan gsgd_batch_plan;

/* Plans training of model on data with opts exactly as gsgd_trainer_create
 * would, then frees everything it allocated. An embedding code can call it
 * before allocating buffers of its own, or to size them.
 *
 * Memory model: bytes(B) = fixed + B x per_sample, one line item per buffer
 * (gsgd_plan_item): fixed are the parameters, standardiser, dataset (these
 * three already allocated: "resident"; features in the caller's arrays or
 * in pinned host memory are listed at 0 bytes), other gsgd memory already
 * in use (a test set), gradients, optimizer state, the update's scratch,
 * the averaged parameters, the NaN/Inf guard, learning rate(s), permutation
 * and its scratch, and on CUDA cuBLAS's workspace; per sample are the batch
 * input and targets, and each layer's output and its gradient. Evaluation
 * reuses the training buffers, so it never needs more. The standardiser
 * gsgd_trainer_create may add (STANDARDIZE, 2 x d floats) is counted when
 * the model has it already.
 *
 * Sparse training data: the batch holds its rows' nonzeros instead of a
 * dense input, so bytes(B) = fixed + B x per_sample + nnz(B) x
 * per_nonzero, where nnz(B) is the nonzeros of the B densest rows of the
 * training set: no batch the permutation can form holds more, so the
 * planned batch never runs out of memory. The per-nonzero items are the
 * batch's features, values and rows, their grouping by feature and the
 * first layer's compact weight gradient (gsgd_plan_item: *per_sample 2);
 * B is the largest that fits, found by search.
 *
 * Budget: the smallest of the device's free memory plus what gsgd already
 * holds, the context's limit (gsgd_context_set_mem_limit), MEM_LIMIT and
 * MEM_FRACTION x total memory; minus headroom: MEM_HEADROOM of it, plus
 * MEM_RESERVE, plus a bound on the allocator's rounding.
 *
 * Batch (BATCH = 0): the largest B with bytes(B) <= budget, rounded down to
 * a multiple of 32 above 32, then clamped to the training set and to
 * MAX_BATCH, then to max(1, floor(n / MIN_EPOCH_STEPS)) rows (rounded the
 * same way) so that an epoch of n rows takes at least MIN_EPOCH_STEPS
 * steps. It is verified by allocating every buffer and running one step
 * (at learning rate 0: the model is left unchanged) and one evaluation
 * batch; should that fail to allocate, the batch is bisected between the
 * last success and the failure. BATCH_POLICY = FASTEST then times powers
 * of two up to it (gsgd_plan_curve) and takes the highest samples/s.
 * A fixed BATCH > 0 is checked against the cap and verified the same way,
 * never changed.
 *
 * *out is the caller's, freed with gsgd_plan_free; NULL on failure.
 * Returns OK; INVALID_ARGUMENT (NULL argument; model or data of another
 * context); SHAPE_MISMATCH (model and data do not go together);
 * DEVICE_OUT_OF_MEMORY (with "model does not fit: needs X, has Y" in
 * gsgd_last_error(ctx) when not even one row fits, or a fixed BATCH
 * exceeds the cap); OUT_OF_MEMORY; INTERNAL (the CPU backend cannot read
 * the memory size); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_plan(gsgd_context *ctx, gsgd_model *model, const gsgd_dataset *data,
                               const gsgd_options *opts, gsgd_batch_plan **out);
/* Frees plan (NULL: no-op). */
GSGD_API void gsgd_plan_free(gsgd_batch_plan *plan);

/* Accessors. Each returns 0 (or "") for a NULL plan. */

/* The batch size chosen. */
GSGD_API size_t gsgd_plan_batch(const gsgd_batch_plan *plan);
/* The largest batch the budget allows by the memory model, before rounding
 * and the clamps to the training set and MAX_BATCH (may exceed both). */
GSGD_API size_t gsgd_plan_max_fit(const gsgd_batch_plan *plan);
/* The bytes the plan may use: the cap minus the headroom. */
GSGD_API size_t gsgd_plan_budget(const gsgd_batch_plan *plan);
/* Sum of the fixed items (bytes). */
GSGD_API size_t gsgd_plan_fixed(const gsgd_batch_plan *plan);
/* Sum of the per-sample items (bytes per batch row). */
GSGD_API size_t gsgd_plan_per_sample(const gsgd_batch_plan *plan);
/* Sparse data: the sum of the per-nonzero items (bytes per nonzero of
 * the batch); 0 for dense data. */
GSGD_API size_t gsgd_plan_per_nonzero(const gsgd_batch_plan *plan);
/* Sparse data: the nonzeros the planned batch holds at most (those of the
 * training set's densest rows); 0 for dense data. */
GSGD_API size_t gsgd_plan_batch_nonzeros(const gsgd_batch_plan *plan);
/* fixed + batch x per_sample (+ its nonzeros x per_nonzero): gsgd's
 * predicted footprint at the batch. */
GSGD_API size_t gsgd_plan_predicted(const gsgd_batch_plan *plan);
/* gsgd's peak footprint measured while verifying the batch, counted as
 * gsgd_context_memory counts (cuBLAS's own workspace is not); 0 when not
 * verified. On the CPU backend it equals gsgd_plan_predicted. */
GSGD_API size_t gsgd_plan_measured(const gsgd_batch_plan *plan);
/* Why the batch is what it is, one sentence. Owned by the plan. */
GSGD_API const char *gsgd_plan_reason(const gsgd_batch_plan *plan);
/* The learning rate at the chosen batch after LR_SCALING (LR = 0 resolved;
 * before warmup and schedule). */
GSGD_API double gsgd_plan_lr(const gsgd_batch_plan *plan);
/* Wall time the planning took, verification and timing included. */
GSGD_API double gsgd_plan_seconds(const gsgd_batch_plan *plan);
/* Where the budget came from: the device's free and total memory, the cap
 * (smallest of free + gsgd's use and the limits) and the headroom taken
 * off it. Any output may be NULL. Returns OK; INVALID_ARGUMENT (NULL
 * plan). */
GSGD_API gsgd_status gsgd_plan_memory(const gsgd_batch_plan *plan, size_t *free_bytes,
                                      size_t *total_bytes, size_t *cap, size_t *headroom);
/* The memory table: the number of line items (0 for a NULL plan). */
GSGD_API int gsgd_plan_item_count(const gsgd_batch_plan *plan);
/* Line item i of the memory table: its name (owned by the plan), bytes (of
 * the whole buffer; per batch row when *per_sample is 1, per nonzero of
 * the batch when it is 2, sparse data), and *resident when
 * it was allocated before planning. Outputs may be NULL. Returns OK;
 * INVALID_ARGUMENT (NULL plan, i out of range). */
GSGD_API gsgd_status gsgd_plan_item(const gsgd_batch_plan *plan, int i, const char **name,
                                    size_t *bytes, int *per_sample, int *resident);
/* The throughput curve BATCH_POLICY = FASTEST measured: its number of
 * points (0 under another policy, or for a NULL plan). */
GSGD_API int gsgd_plan_curve_count(const gsgd_batch_plan *plan);
/* Point i of the curve: the batch and samples per second (median of timed
 * steps, warm-up excluded). Outputs may be NULL. Returns OK;
 * INVALID_ARGUMENT (NULL plan, i out of range). */
GSGD_API gsgd_status gsgd_plan_curve(const gsgd_batch_plan *plan, int i, size_t *batch,
                                     double *samples_per_second);

/* ------------------------------------------------------------------------ */
/* Training.                                                                */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_trainer gsgd_trainer;

typedef struct {
    int epoch;                 /* 1-based epoch in progress */
    int epochs;                /* planned epochs: with EPOCHS 0, MAX_EPOCHS until
                                  the cooldown is known, then its end (at the
                                  last epoch's end: the epochs trained) */
    size_t step;               /* steps done in this epoch */
    size_t steps;              /* steps per epoch */
    double loss;               /* mean training loss so far this epoch */
    double samples_per_second; /* training throughput so far this epoch */
    double seconds;            /* wall time since gsgd_train started */
    int epoch_done;            /* 1 at the end of an epoch */
    double test_accuracy;      /* at epoch end with a test set, else NaN */
    double lr;                 /* learning rate of the latest step */
} gsgd_progress;

/* Called every CHECK_EVERY steps and at each epoch end; return nonzero to
 * stop training (gsgd_train then returns GSGD_STATUS_INTERRUPTED). */
typedef int (*gsgd_progress_fn)(const gsgd_progress *p, void *user);

typedef struct {
    int epochs;                     /* epochs completed */
    size_t steps;                   /* optimizer steps taken */
    size_t batch;                   /* minibatch size used */
    double train_loss;              /* mean training loss of the last epoch */
    double test_accuracy;           /* on the test set after training; NaN without */
    double test_loss;               /* NaN without a test set */
    double seconds;                 /* wall time of gsgd_train, evaluation included */
    double samples_per_second;      /* training samples / training time (no eval) */
    double time_to_target_s;        /* wall time until TARGET_ACC reached; NaN if not */
    double lr;                      /* learning rate of the first epoch after warmup
                                       (LR resolved, scaled to the batch) */
    size_t skipped_steps;           /* steps ON_NAN = SKIP left out (0 with STOP) */
    int stopped_early;              /* 1 when early stopping (TOL, a validation
                                       set, ADAPTIVE's floor) ended the run */
    double validation_accuracy;     /* on the held-out part after the last epoch
                                      (VALIDATION_FRACTION); NaN without */
    double samples_per_second_warm; /* the same over the epochs after the first:
                                       warm-up excluded (the first carries lazy
                                       loading of the GPU's kernels and the CUDA
                                       Graph recording); NaN with one epoch */
    int stop_reason;                /* a gsgd_stop_reason: why training ended */
    int cooldown_epochs;            /* EPOCHS 0 with COSINE: epochs of the final
                                       decay (the loss stopped improving after
                                       epoch epochs - cooldown_epochs); else 0 */
    double train_seconds;           /* of seconds, the epochs' steps alone */
    double eval_seconds;            /* of seconds, the evaluations: per epoch (with
                                       TARGET_ACC, a progress callback or a
                                       validation set) and the final one; the rest
                                       of seconds is the progress callback's */
} gsgd_train_result;

/* Why gsgd_train ended (gsgd_train_result's stop_reason). */
typedef enum {
    GSGD_STOP_EPOCHS = 0,         /* ran the EPOCHS asked */
    GSGD_STOP_CONVERGED = 1,      /* EPOCHS 0: the monitored loss stopped improving
                                     by TOL for N_ITER_NO_CHANGE epochs, after
                                     MIN_STEPS steps (with COSINE: and the cooldown
                                     that followed ran to its end) */
    GSGD_STOP_MAX_EPOCHS = 2,     /* EPOCHS 0: MAX_EPOCHS came first (with COSINE
                                     the cooldown was placed to end there) */
    GSGD_STOP_TARGET = 3,         /* TARGET_ACC reached */
    GSGD_STOP_NO_IMPROVEMENT = 4, /* a given EPOCHS cut short by TOL > 0 or by a
                                     validation set (VALIDATION_FRACTION) */
    GSGD_STOP_LR_FLOOR = 5        /* ADAPTIVE: no improvement with the rate at
                                     its floor, 1e-6 */
} gsgd_stop_reason;

/* Applies opts' STANDARDIZE to model for training data ds, as
 * gsgd_trainer_create does before planning: ON fits a standardiser
 * (gsgd_model_fit_standardizer), AUTO fits one when ds's columns differ in
 * scale (see GSGD_STANDARDIZE_AUTO; sparse ds: never, as scikit-learn and
 * Vowpal Wabbit leave sparse features unscaled), OFF fits none; ON on
 * sparse data scales without centring; a model that already
 * has a standardiser keeps it, unmeasured. Call it yourself to decide on
 * the whole data before cutting it into shards, or to report the
 * decision. *standardized (may be NULL) receives 1 when the model now
 * standardises its input; *scale_ratio (may be NULL) the measure AUTO
 * compares (NaN when nothing was measured). On failure the model keeps the
 * standardiser it had (or none). Returns OK; INVALID_ARGUMENT (NULL model,
 * ds or opts, ds of another context, or ds empty); SHAPE_MISMATCH (feature
 * counts differ); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; DEVICE_ERROR,
 * NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_model_standardize(gsgd_model *model, const gsgd_dataset *ds,
                                            const gsgd_options *opts, int *standardized,
                                            double *scale_ratio);

/* Creates a trainer: allocates every buffer a step needs once (batch,
 * activations, gradients, optimizer state), so the step loop allocates
 * nothing. With BATCH = 0 the batch is planned as gsgd_plan does and the
 * buffers verified there are the ones kept. Fails as gsgd_plan does when
 * the model does not fit. The model and dataset must outlive the trainer.
 * With VALIDATION_FRACTION > 0 the trainer holds out that seeded share of
 * train (a copy, which planning counts) and trains on the rest. First it
 * applies STANDARDIZE to the model (gsgd_model_standardize, on the rows it
 * trains on): by default a model whose features' scales differ gets a
 * standardiser, which stays with it (evaluation, prediction, saving). With
 * AVERAGE > 0 the model's parameter buffer and the trainer's average trade
 * places: after gsgd_train (and gsgd_trainer_free) the model holds the
 * average, so call gsgd_model_params again rather than keeping its
 * pointer. *out is the caller's. Returns OK; INVALID_ARGUMENT (NULL
 * argument; model and data of different contexts; VALIDATION_FRACTION
 * leaving a part empty); SHAPE_MISMATCH (model and data do not go
 * together); DEVICE_OUT_OF_MEMORY (the model does not fit, as in
 * gsgd_plan); OUT_OF_MEMORY; UNSUPPORTED (CUDA: VALIDATION_FRACTION's
 * copies, see gsgd_dataset_from_host); INTERNAL (the CPU backend cannot
 * read the memory size); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_trainer_create(gsgd_model *model, const gsgd_dataset *train,
                                         const gsgd_options *opts, gsgd_trainer **out);
/* Frees the trainer and its buffers (NULL: no-op); with AVERAGE the model
 * keeps the average. Free it before its model and datasets. */
GSGD_API void gsgd_trainer_free(gsgd_trainer *tr);

/* The plan the trainer was created with: batch, memory table, predicted
 * and measured bytes, reason. Owned by the trainer, valid until
 * gsgd_trainer_free. Returns OK; INVALID_ARGUMENT (NULL tr or plan). */
GSGD_API gsgd_status gsgd_trainer_plan(const gsgd_trainer *tr, const gsgd_batch_plan **plan);

/* Runs one epoch: shuffle, then one update per minibatch (the last, partial
 * batch included). *mean_loss may be NULL. On CUDA the steps between two
 * health checks (CHECK_EVERY) are recorded into a CUDA Graph in the first
 * epoch and replayed in the next ones, with the same results bit for bit,
 * for SGD, MOMENTUM, NESTEROV, ADAGRAD, RMSPROP and LARS without AVERAGE and
 * without a gradient hook (the Adam family's bias correction changes every
 * step). The environment variable GSGD_CUDA_GRAPHS=0 turns this off.
 * Models without hidden layers take each batch's gradient in one fused op
 * where the backend offers it (gather, logits, loss and weight gradient
 * without the batch matrix in memory; the same results up to the order of
 * float sums), from the batch where it was measured faster than the
 * composed ops: every batch on the CPU, batches of 256 rows and more on CUDA.
 * GSGD_FUSED_GRADIENT=1 or 0 in the environment, read when the trainer is
 * created, turns it on or off at every batch. Returns OK; INVALID_ARGUMENT
 * (NULL tr); DIVERGED (a step went NaN or Inf under ON_NAN = STOP, naming
 * it); the status a gradient hook returned; OUT_OF_MEMORY (CUDA Graphs'
 * table); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_train_epoch(gsgd_trainer *tr, double *mean_loss);

/* Runs EPOCHS epochs, or with EPOCHS 0 (the default) until the monitored
 * loss stops improving (see GSGD_EPOCHS), evaluating on test (may be NULL)
 * after each epoch when TARGET_ACC is set or a progress callback is given,
 * and once at the end. progress and out may be NULL; *out is written on
 * success only, and out->stop_reason says why training ended.
 * Returns OK; INVALID_ARGUMENT (NULL tr, or test of another context);
 * DIVERGED (as gsgd_train_epoch);
 * INTERRUPTED (the progress callback returned nonzero); SHAPE_MISMATCH
 * (test does not fit the model); the status a gradient hook returned;
 * OUT_OF_MEMORY (CUDA Graphs' table); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_train(gsgd_trainer *tr, const gsgd_dataset *test,
                                gsgd_progress_fn progress, void *user, gsgd_train_result *out);

/* Evaluates the trainer's model on ds with the trainer's own buffers (no
 * allocation). Returns OK; INVALID_ARGUMENT (NULL tr, ds or out, or ds of
 * another context); SHAPE_MISMATCH (as gsgd_evaluate); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_trainer_evaluate(gsgd_trainer *tr, const gsgd_dataset *ds,
                                           gsgd_eval_result *out);

/* Checkpoints. gsgd_trainer_save writes the trainer's whole state to path:
 * the model (spec, shapes, standardiser, parameters), the running average,
 * the optimizer state, the NaN/Inf guard, the counters (epochs done, steps
 * done of the epoch in progress, steps, early stopping, ADAPTIVE's factor),
 * the batch and every option. There is no random-number state to keep:
 * each epoch's shuffle is a function of SEED and the epoch. The file is
 * versioned with a CRC32 and written like gsgd_model_save (temporary
 * "<path>.tmp", fsync, rename), so path is never half-written; a stale
 * "<path>.tmp" of a killed save is reused by the next. gsgd_model_load
 * reads a checkpoint's model (the average when the run averaged). Call it
 * between gsgd_train calls or from the progress callback, also after a
 * stop mid-epoch. path follows gsgd_model_save's rule. Returns OK;
 * INVALID_ARGUMENT (NULL tr, NULL or empty path); IO (path refused or
 * cannot be created, naming it); WRITE_FAILED (writing failed at the time:
 * path is then unchanged); OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_trainer_save(const gsgd_trainer *tr, const char *path);

/* Restores a checkpoint into tr, which gsgd_trainer_create made for a
 * model of the same spec and shape, on the same training data, with the
 * same options but for those that do not change the steps (EPOCHS,
 * TARGET_ACC, CHECK_EVERY, BATCH as long as the batch is the same, and the
 * other planning options); gsgd_checkpoint_options gives them. The next
 * gsgd_train (or gsgd_train_epoch) then takes exactly the steps the saved
 * run would have taken, bit for bit on the same backend, starting in the
 * middle of an epoch when the saved run stopped there; its EPOCHS counts
 * the epochs on top, the partial one included (its mean training loss
 * covers the steps after the resume only). The model's parameters and
 * standardiser are replaced, and its label map by the checkpoint's (one
 * that differs from the training data's is refused: load the data with
 * gsgd_data_set_model on the checkpoint's model). With AVERAGE the model
 * holds the average, as after gsgd_train. Other data than the saved run's
 * is refused: gsgd_trainer_resume_new_data goes on with it. Returns OK;
 * INVALID_ARGUMENT (NULL tr or path; the batch, an option or the replicas
 * differ, naming it); IO (path cannot be read); BAD_FORMAT (corrupt,
 * truncated, not a checkpoint, or of an unknown format version or another
 * byte order, naming the file); SHAPE_MISMATCH (model, number of samples
 * or label map, naming what differs); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY (a standardiser the model lacked); DEVICE_ERROR,
 * NO_DEVICE (CUDA). tr is unchanged after the errors up to OUT_OF_MEMORY
 * in this list; after the others it may be left partly restored. */
GSGD_API gsgd_status gsgd_trainer_resume(gsgd_trainer *tr, const char *path);

/* Continues a checkpoint's run on other data, as scikit-learn's partial_fit
 * goes on from the last fit: tr (created as for gsgd_trainer_resume, but
 * on the new training data) takes the checkpoint's parameters,
 * standardiser, optimizer state, average and step count, so the schedule,
 * Adam's bias correction and the average go on where they were, and its
 * epoch count, so EPOCHS counts the epochs on top. Unlike
 * gsgd_trainer_resume nothing is exact: the data may have any number of
 * rows (the batch is the trainer's, clamped to them), a stop mid-epoch is
 * not continued (the next epoch starts fresh over the new rows), and early
 * stopping forgets its best value (losses on other data do not compare):
 * EPOCHS 0 looks for a new plateau, with COSINE a new cooldown after it.
 * The model spec, features, classes and label map must be the
 * checkpoint's (load the data with gsgd_data_set_model on the
 * checkpoint's model, so a part without some classes still maps them
 * right); the options as for gsgd_trainer_resume. tr is unchanged on
 * error. Returns OK; INVALID_ARGUMENT (NULL tr or path; an option or the
 * replicas differ); IO (path cannot be read); BAD_FORMAT (not a checkpoint,
 * corrupt, truncated or of an unknown version); SHAPE_MISMATCH (model
 * spec, features, classes or label map differ, naming them); OUT_OF_MEMORY;
 * DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_trainer_resume_new_data(gsgd_trainer *tr, const char *path);

/* Goes on training tr on other data without a checkpoint, as
 * scikit-learn's partial_fit goes on from its last call: the next
 * gsgd_train (or gsgd_train_epoch) draws from train, with the model, the
 * optimizer state (momentum, Adam's moments), the average, the step and
 * epoch counts and the rate's schedule where tr left them, and its EPOCHS
 * counts the epochs on top. As after gsgd_trainer_resume_new_data (which
 * does the same through a file), the next epoch starts fresh over the new
 * rows, and early stopping forgets its best value. The batch is the one tr
 * was planned with, clamped to train's rows; the buffers that depend on the
 * rows are made anew (the memory plan is not redone). train must have the
 * model's features and classes (and its label map, when both have one),
 * and outlive tr; the previous dataset may be freed once this returns.
 * Two trainers taking the same steps end bit for bit equal whether the
 * second went through gsgd_trainer_set_data or a checkpoint and
 * gsgd_trainer_resume_new_data. tr is unchanged on error. Returns OK;
 * INVALID_ARGUMENT (NULL tr or train; train of another context or empty;
 * tr holds out a VALIDATION_FRACTION of its first data); SHAPE_MISMATCH
 * (features, classes or label map differ); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_trainer_set_data(gsgd_trainer *tr, const gsgd_dataset *train);

/* Sets opts to the options of the run a checkpoint saved, BATCH to the
 * batch it used: what gsgd_trainer_create needs before
 * gsgd_trainer_resume. *epochs_done receives the epochs it completed and
 * *epoch_step the steps it had done of the next one (nonzero after a stop
 * mid-epoch); opts and both outputs may be NULL. ctx may be NULL (the
 * options are needed before a device is chosen): the detail then goes to
 * gsgd_last_error(NULL). Returns OK; INVALID_ARGUMENT (NULL path); IO and
 * BAD_FORMAT as gsgd_trainer_resume (BAD_FORMAT also for a saved option
 * out of range); OUT_OF_MEMORY. */
GSGD_API gsgd_status gsgd_checkpoint_options(gsgd_context *ctx, const char *path,
                                             gsgd_options *opts, int *epochs_done,
                                             size_t *epoch_step);

/* ------------------------------------------------------------------------ */
/* Embedding primitive: the fused in-place update on caller-owned buffers.  */
/* ------------------------------------------------------------------------ */
typedef struct gsgd_optimizer gsgd_optimizer;

/* Creates an optimizer for flat buffers of n floats, with the rule and
 * hyperparameters of opts: OPTIMIZER (any gsgd_optim), LR, MOMENTUM,
 * WEIGHT_DECAY, BETA1, BETA2, EPS, RMS_ALPHA, TRUST_COEF, CLIP_NORM, L1,
 * L1_RATIO (automatic values resolved as for training). Its state (momentum
 * or moment buffers, as the rule needs) lives on the context's device.
 * Weight decay and the L1 step apply to all n entries; LARS and LAMB see
 * the buffer as one segment. The rate is LR, unscheduled; the step count
 * for Adam's bias correction is the number of gsgd_optimizer_step calls.
 * ON_NAN has no effect here (no NaN guard on caller buffers). *out is the
 * caller's. Returns OK; INVALID_ARGUMENT (NULL ctx, opts or out);
 * OUT_OF_RANGE (n floats overflow size_t); OUT_OF_MEMORY;
 * DEVICE_OUT_OF_MEMORY; DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_optimizer_create(gsgd_context *ctx, const gsgd_options *opts, size_t n,
                                           gsgd_optimizer **out);
/* Frees the optimizer and its state (NULL: no-op); the buffers it updated
 * stay the caller's. */
GSGD_API void gsgd_optimizer_free(gsgd_optimizer *opt);
/* Applies one update in place: params -= lr * direction(grads). Both
 * buffers hold n floats in the context's device memory (host memory on the
 * CPU backend). On CUDA the update is one kernel enqueued on stream (a
 * cudaStream_t; NULL = the context's stream, see gsgd_context_set_stream)
 * and the call returns without waiting for it: the caller orders later
 * reads of params after it on that stream. The CPU ignores stream and
 * returns when the update is done. params, grads and stream stay the
 * caller's. Returns OK; INVALID_ARGUMENT (NULL opt, params or grads);
 * SHAPE_MISMATCH (n is not the optimizer's); DEVICE_ERROR, NO_DEVICE
 * (CUDA). */
GSGD_API gsgd_status gsgd_optimizer_step(gsgd_optimizer *opt, float *params, const float *grads,
                                         size_t n, void *stream);

/* ------------------------------------------------------------------------ */
/* Experimental API: may change in any minor version, unlike everything     */
/* above. Data-parallel training (`gsgd train --distributed`) is built on   */
/* it, and so can an embedding code's own MPI or NCCL reduction.            */
/* ------------------------------------------------------------------------ */

/* A source read into host memory, apart from any device: the first half
 * of gsgd_dataset_load_ex, so that the slow parts of a start (reading and
 * decompressing the data, opening a GPU) can run at once on two threads. */
typedef struct gsgd_host_data gsgd_host_data;

/* Reads and parses source with options o (NULL: the defaults) as
 * gsgd_dataset_load_ex does, training and test part, into host memory,
 * without a context: safe on any thread, also while another one runs
 * gsgd_context_create. Ubyte images whose storage is left to the device
 * (GSGD_STORAGE_AUTO) are kept as bytes; gsgd_dataset_upload gives a CPU
 * context floats, as loading there would. The detail of a failure is in
 * this thread's gsgd_last_error(NULL). *out is the caller's, freed with
 * gsgd_host_data_free. Returns OK; INVALID_ARGUMENT (NULL source or out,
 * and the rest as gsgd_dataset_load_ex); IO; BAD_FORMAT; BAD_VALUE;
 * SHAPE_MISMATCH; TOO_LARGE; UNSUPPORTED; OUT_OF_MEMORY: as
 * gsgd_dataset_load_ex. */
GSGD_API gsgd_status gsgd_host_data_read(const char *source, const gsgd_data_options *o,
                                         gsgd_host_data **out);
/* Uploads host data into datasets on ctx: the datasets
 * gsgd_dataset_load_ex would have given for the same source and options,
 * bit for bit. *test (test may be NULL) stays NULL when the source has no
 * test part. h stays the caller's and may be uploaded again or freed at
 * once; *train and *test are the caller's. Returns OK; INVALID_ARGUMENT
 * (NULL ctx, h or train); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; UNSUPPORTED
 * (CUDA: see gsgd_dataset_from_host); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_upload(gsgd_context *ctx, const gsgd_host_data *h,
                                         gsgd_dataset **train, gsgd_dataset **test);
/* Frees host data (NULL: no-op). */
GSGD_API void gsgd_host_data_free(gsgd_host_data *h);

/* Copies count rows of ds, first, first + stride, first + 2*stride, ...,
 * into a new dataset on the same context (stride >= 1). A rank keeping
 * every n_ranks-th sample gets a shard that stays balanced even when the
 * file is sorted by label. *out is the caller's. Returns OK;
 * INVALID_ARGUMENT (NULL ds or out; count or stride 0); OUT_OF_RANGE (a
 * row past the end); OUT_OF_MEMORY; DEVICE_OUT_OF_MEMORY; UNSUPPORTED
 * (CUDA: see gsgd_dataset_from_host); DEVICE_ERROR, NO_DEVICE (CUDA). */
GSGD_API gsgd_status gsgd_dataset_subset(const gsgd_dataset *ds, size_t first, size_t count,
                                         size_t stride, gsgd_dataset **out);

/* Called by the trainer once per step between the backward pass and the
 * update, with the flat gradient (n floats in the context's device memory,
 * host memory on the CPU backend) and the stream it was computed on (NULL
 * on the CPU). The hook may change grads in place, e.g. sum them over
 * ranks with one allreduce. Any status other than OK stops training with
 * that status. */
typedef gsgd_status (*gsgd_grad_hook_fn)(float *grads, size_t n, void *stream, void *user);

/* Installs (fn non-NULL) or removes (fn NULL) the trainer's gradient hook;
 * user is handed back to fn, never read. Returns OK; INVALID_ARGUMENT (NULL
 * tr). */
GSGD_API gsgd_status gsgd_trainer_set_grad_hook(gsgd_trainer *tr, gsgd_grad_hook_fn fn, void *user);

/* Makes tr replica `rank` of n_replicas that train one model together. A
 * global step covers n_replicas x BATCH samples; each replica scales its
 * gradient so that the SUM over replicas (done by the grad hook) is the
 * mean over the global step, also for the last, partial step.
 *   shard == 0: every replica holds the same dataset and draws the same
 *     seeded permutation, and computes its contiguous slice of each global
 *     batch (a partial one is split evenly). The result equals one process
 *     with BATCH x n_replicas, up to floating-point summation order.
 *   shard == 1: every replica holds its own part of the data, of the SAME
 *     size on every replica (the caller makes sure; otherwise the replicas
 *     take different numbers of steps), and shuffles it with its own seed.
 * Call before the first epoch. n_replicas == 1 restores the default.
 * Returns OK; INVALID_ARGUMENT (NULL tr; rank < 0 or >= n_replicas;
 * shard not 0 or 1; the trainer has taken steps). */
GSGD_API gsgd_status gsgd_trainer_set_replica(gsgd_trainer *tr, int rank, int n_replicas,
                                              int shard);

#ifdef __cplusplus
}
#endif
#endif /* GSGD_H */
