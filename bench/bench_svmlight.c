/*
 * Speed of the svmlight reader (src/data/svmlight_csr.c) on one core: the
 * text's bytes (uncompressed) over the reader's CPU time, the median of
 * REPS reads of the file into a host CSR. Gzip files are streamed; their
 * rate counts the uncompressed text, inflation included.
 *
 *   gsgd_bench_svmlight FILE [REPS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <zlib.h>

#include "core/context.h"
#include "data/loaders.h"

static double cpu_seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp(const void *a, const void *b) {
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: gsgd_bench_svmlight FILE [REPS]\n");
        return 2;
    }
    const int reps = argc > 2 ? atoi(argv[2]) : 5;
    gzFile f = gzopen(argv[1], "rb");
    if (!f) return 1;
    static char buf[1 << 16];
    double text = 0;
    int got;
    while ((got = gzread(f, buf, sizeof buf)) > 0) text += got;
    gzclose(f);
    gsgd_context *ctx;
    if (gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0) != GSGD_STATUS_OK) return 1;
    double s[64];
    size_t nnz = 0, n = 0;
    gsgdi_load_plan plan;
    gsgdi_load_plan_from(ctx, NULL, &plan);
    plan.format = GSGD_FORMAT_SVMLIGHT;
    plan.read.csr = 1; /* the reader, not a conversion to dense */
    for (int r = 0; r < reps && r < 64; r++) {
        gsgdi_host_data h;
        const double t0 = cpu_seconds();
        if (gsgdi_load_file(ctx, argv[1], &plan, &h) != GSGD_STATUS_OK) {
            fprintf(stderr, "%s\n", gsgd_last_error(ctx));
            return 1;
        }
        s[r] = cpu_seconds() - t0;
        nnz = h.nnz, n = h.n;
        gsgdi_host_data_free(&h);
    }
    qsort(s, (size_t)reps, sizeof *s, cmp);
    printf("%s: %zu rows, %zu nonzeros, %.1f MB of text; %.3f s cpu (median of %d): "
           "%.0f MB/s of text on one core\n",
           argv[1], n, nnz, text / 1e6, s[reps / 2], reps, text / 1e6 / s[reps / 2]);
    gsgd_context_free(ctx);
    return 0;
}
