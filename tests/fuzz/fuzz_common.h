/*
 * Shared pieces of the libFuzzer harnesses (tests/fuzz/README.md).
 *
 * The readers take paths, so each input is written to a file in a private
 * directory first (on tmpfs when /dev/shm exists: a few microseconds per
 * input). One CPU context serves every input, capped at FUZZ_MEM_LIMIT so
 * that an accepted but absurd size fails as an allocation refused by the
 * context rather than as an out-of-memory kill. Invariants the harness
 * checks on a successful read abort with FUZZ_CHECK, which libFuzzer
 * reports as a finding like a sanitizer's.
 */
#ifndef GSGD_FUZZ_COMMON_H
#define GSGD_FUZZ_COMMON_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsgd.h"

#define FUZZ_MEM_LIMIT ((size_t)256 << 20)

#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);           \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

/* The harness's private directory, created on first use and removed at
 * exit. */
const char *fuzz_dir(void);
/* The path of name in the private directory (a static buffer per slot,
 * 0 to 3). */
const char *fuzz_path(const char *name, int slot);
/* Writes size bytes to name in the private directory; returns its path. */
const char *fuzz_write(const char *name, int slot, const void *data, size_t size);
/* gzip-compresses [data, data + size) into a malloc'd buffer. */
unsigned char *fuzz_gzip(const unsigned char *data, size_t size, size_t *out_size);
/* The shared CPU context, quiet and memory-capped. */
gsgd_context *fuzz_context(void);
/* Every status a reader may return is one of the documented values, and a
 * failure leaves a message naming what went wrong. */
void fuzz_check_failure(gsgd_context *ctx, gsgd_status st);
/* No gsgd memory outlives an input: what one input allocated and did not
 * free would accumulate until the cap refused everything. */
void fuzz_check_no_leak(gsgd_context *ctx);
/* What every text and array reader promises of the data it accepts,
 * checked on h (features read) and t (its target column as read, t->n == 0
 * for none; freed here): the targets are finished as a loader finishes
 * them (a new label map, or real values when real), then the features are
 * finite, every class index is an integer below the class count, the map
 * is sorted and distinct with every class present, and each row's raw
 * target names the label of its class; the data uploads, and h is freed. */
void fuzz_check_host_data(gsgd_context *ctx, void *h, void *t, int real);
/* Puts right the CRC32 that model files and checkpoints end with, so that
 * mutations reach the checks behind it. */
void fuzz_fix_crc(unsigned char *p, size_t len);

#endif
