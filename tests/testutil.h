/* Small helpers shared by the test suites. */
#ifndef GSGD_TESTUTIL_H
#define GSGD_TESTUTIL_H

#include <stddef.h>
#include <stdint.h>

#include "gsgd.h"

/* A fresh private directory under $TMPDIR (or /tmp); never NULL. The caller
 * may leave files in it: the directory and all in it are removed when the
 * process that made it exits normally (a crashed test keeps it). */
const char *tu_tmpdir(void);
/* Joins tu_tmpdir() and name into a static-lifetime path (ring of 16). */
const char *tu_path(const char *name);
/* Writes len bytes to path (creating or truncating); returns 0 on success. */
int tu_write_file(const char *path, const void *data, size_t len);
/* Writes a NUL-terminated string to path; returns 0 on success. */
int tu_write_text(const char *path, const char *text);
/* Writes len bytes gzip-compressed to path; returns 0 on success. */
int tu_write_gzip(const char *path, const void *data, size_t len);
/* The header of an IDX file into buf (4 + 4 ndims bytes): the magic with
 * the element type (0x08 unsigned byte, ...) and rank, then the dimensions
 * big-endian. Returns its length. */
size_t tu_idx_header(uint8_t *buf, uint8_t type, int ndims, const uint32_t *dims);
/* Writes an IDX file: that header, then len bytes of payload (fewer than
 * the dimensions call for, to make a truncated file). 0 on success. */
int tu_write_idx(const char *path, uint8_t type, int ndims, const uint32_t *dims,
                 const void *payload, size_t len);
/* A .npy image (format 1.0) in a fresh malloc, its size in *n: the header
 * dict {'descr': descr, 'fortran_order': fortran, 'shape': shape} padded
 * as numpy pads it, then len bytes of data. shape is Python's text, e.g.
 * "(3, 2)" or "(4,)". */
unsigned char *tu_npy(const char *descr, int fortran, const char *shape, const void *data,
                      size_t len, size_t *n);
/* Writes a zip archive of count members (names, data, lens), each stored
 * or, with compress, deflated (raw deflate, as numpy.savez_compressed
 * writes it). 0 on success. */
int tu_write_zip(const char *path, int count, const char *const *names,
                 const unsigned char *const *data, const size_t *lens, int compress);
/* Runs a shell command, captures stdout+stderr into out (NUL-terminated,
 * truncated to size) and returns the exit status (or -1). */
int tu_run(const char *cmd, char *out, size_t size);
/* Runs the gsgd program (GSGD_CLI_PATH) with printf-style arguments,
 * capturing its output like tu_run; returns its exit status. */
int tu_gsgd(char *out, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Number of newline characters in s. */
int tu_count_lines(const char *s);
/* The first 64 KiB of a text file, NUL-terminated, in a static buffer;
 * fails the current test when the file cannot be opened. */
char *tu_read_text(const char *path);
/* The whole of a file in a fresh malloc, its size in *n; fails the current
 * test when it cannot be read. */
unsigned char *tu_read_file(const char *path, size_t *n);
/* 1 when path exists. */
int tu_exists(const char *path);
/* The number stored under "key": in a JSON text; fails the current test
 * when the key is absent or its value is not a number. */
double tu_json_number(const char *json, const char *key);

/* ---- special files at output paths (test_outpath, test_cli_output) ---- */

/* A character device node to give as an output path: one made with mknod
 * in the test's directory when the tests run as root, else /dev/full,
 * which a user who is not root cannot replace even if a refusal failed.
 * NULL (the caller skips, saying why) when neither is safe: root without
 * the right to mknod. */
const char *tu_device_node(void);
/* The file type of path itself, not of a link's target (S_IFREG, S_IFLNK,
 * S_IFCHR, S_IFIFO...), or 0 when it does not exist. */
unsigned tu_file_type(const char *path);
/* The number of entries of dir whose name contains part. */
int tu_count_entries(const char *dir, const char *part);
/* Runs `gsgd args` in dir on a file system that is full (a 32 KiB tmpfs
 * mounted over dir in a user and mount namespace, holding a file "keep"
 * with "old" in it, then filled up), and after its output writes
 * "-- keep: <keep's content>" and "-- dir:" and dir's listing into out.
 * Returns gsgd's exit status, or -2 when no such file system can be made
 * here (no user namespaces): the caller skips, saying why. args holds no
 * single quote; relative paths in it are in dir. */
int tu_gsgd_full_disk(char *out, size_t size, const char *dir, const char *args);
/* 1 when s is exactly one JSON object (objects, arrays, strings, numbers,
 * null; blanks around it allowed). */
int tu_json_valid(const char *s);

/* Bound on max |a - b| between the parameters of two runs of plain SGD on
 * softmax regression with d features, all |x_ij| <= 1, that take the same
 * T steps of global batch at most G and differ only in the order each
 * gradient's G terms are summed (one process vs data-parallel replicas).
 * Per step: |dg| <= 2 gamma_G, gamma_G = G u / (1 - G u), u = 2^-24
 * (Higham, Accuracy and Stability, 3.1), as every term is <= 1/G. The
 * softmax Jacobian has absolute row sums <= 1/2, so the gradient is
 * L-Lipschitz in the max norm, L = (d + 1) / 2, and
 * e_{t+1} <= (1 + lr L) e_t + lr |dg| sums to |dg| ((1 + lr L)^T - 1) / L;
 * twice that covers rounding lr * g differently in the update. */
double tu_softmax_sgd_order_bound(int G, int T, double lr, int d);

/* A learnable table as delimited text (delim ',', ';', '\t'): n rows of d
 * features f0, f1, ... of growing scale and one target, from seed. k > 0:
 * classes, class c's label names[c], its rows 2.5 out on feature c % d;
 * k == 0: regression, about 3 f0 - 2 f1 + f2 / 6 + 10 (f2's weight 1/6
 * against its scale 3). The target goes in column col (0..d; -1 for rows
 * of features only) under the header's target_name when header. The same
 * n and seed give the same rows whatever col and header. Labels are
 * written as given (no quoting). Returns 0 on success. */
int tu_write_table(const char *path, size_t n, int d, int k, const char *const *names, int col,
                   const char *target_name, int header, char delim, uint64_t seed);

/* The common start of a training test on the CPU: a context, the data of
 * a spec, a model over its shape with weights from seed, default options;
 * tr is the test's to create. tu_fixture_finish frees all of it (the
 * trainer too) and expects every backend buffer released. */
typedef struct {
    gsgd_context *ctx;
    gsgd_dataset *train, *test;
    gsgd_model *model;
    gsgd_options *opts;
    gsgd_trainer *tr;
} tu_fixture;
void tu_fixture_start(tu_fixture *f, const char *data, const char *spec, uint64_t seed);
void tu_fixture_finish(tu_fixture *f);

#endif
