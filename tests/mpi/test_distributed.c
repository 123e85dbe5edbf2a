/*
 * `gsgd train --distributed` under mpirun on the CPU backend: the trained
 * parameters equal those of one process with the global batch, to the
 * summation-order bound of testutil.h. Built and registered only when CMake
 * finds MPI; GSGD_MPIEXEC is the launcher with its flags.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gsgd.h"
#include "testutil.h"

#define D 4
#define LR 0.1

/* n rows of D features in [-0.99, 0.99] (the first times scale0) and a
 * label from a fixed linear teacher, as CSV (label last). Written with
 * %.9g: floats read back exact. */
static const char *write_scaled_csv(const char *name, int n, float scale0) {
    const char *path = tu_path(name);
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    for (int i = 0; i < n; i++) {
        int score[3] = {0}, best = 0;
        for (int j = 0; j < D; j++) {
            int q = (i * 37 + j * 101 + i * j * 7) % 199 - 99;
            fprintf(f, "%.9g,", (double)((float)q / 100.0f * (j == 0 ? scale0 : 1.0f)));
            for (int k = 0; k < 3; k++) score[k] += ((k * 5 + j * 3) % 7 - 3) * q;
        }
        for (int k = 1; k < 3; k++)
            if (score[k] > score[best]) best = k;
        fprintf(f, "%d\n", best);
    }
    cr_assert_eq(fclose(f), 0);
    return path;
}

static const char *write_csv(const char *name, int n) { return write_scaled_csv(name, n, 1.0f); }

/* Runs `gsgd train` (under mpirun -np ranks when ranks > 0) and asserts
 * success; extra holds the options that differ between runs. */
static void train(int ranks, const char *csv, const char *extra, const char *model_file) {
    char cmd[4096], out[8192];
    char launcher[256] = "";
    if (ranks > 0) snprintf(launcher, sizeof launcher, "%s -np %d", GSGD_MPIEXEC, ranks);
    snprintf(cmd, sizeof cmd,
             "%s %s train --data csv:%s:label=last --model softmax --lr %g --seed 5 "
             "--device cpu --quiet --save %s %s",
             launcher, GSGD_CLI_PATH, csv, LR, model_file, extra);
    int rc = tu_run(cmd, out, sizeof out);
    cr_assert_eq(rc, 0, "'%s' exited with %d:\n%s", cmd, rc, out);
}

static void load_params(const char *path, float *p, size_t cap, size_t *n) {
    gsgd_context *ctx;
    gsgd_model *m;
    float *src;
    cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), GSGD_STATUS_OK);
    cr_assert_eq(gsgd_model_load(ctx, path, &m), GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
    cr_assert_eq(gsgd_model_params(m, &src, n, NULL), GSGD_STATUS_OK);
    cr_assert_leq(*n, cap);
    memcpy(p, src, *n * sizeof(float));
    gsgd_model_free(m);
    gsgd_context_free(ctx);
}

/* max |a - b| over the two models' parameters. */
static double param_diff(const char *a, const char *b) {
    float pa[64], pb[64];
    size_t na, nb;
    load_params(a, pa, 64, &na);
    load_params(b, pb, 64, &nb);
    cr_assert_eq(na, nb);
    double m = 0;
    for (size_t i = 0; i < na; i++) m = fmax(m, fabs((double)pa[i] - (double)pb[i]));
    return m;
}

Test(distributed, two_ranks_equal_one_process_with_twice_the_batch) {
    /* 137 rows, global batch 26: 5 full steps, then 7 rows split 3/4. */
    const char *csv = write_csv("data137.csv", 137);
    const char *single = tu_path("single.model"), *dist = tu_path("dist.model");
    train(0, csv, "--batch 26 --epochs 2", single);
    train(2, csv, "--distributed --batch 13 --epochs 2", dist);
    const int G = 26, T = 2 * 6;
    double diff = param_diff(single, dist), tol = tu_softmax_sgd_order_bound(G, T, LR, D);
    cr_expect_leq(diff, tol, "max |distributed - single| = %g > bound %g", diff, tol);
}

Test(distributed, full_batch_shards_equal_full_batch_descent) {
    /* Each rank holds every other row (68 of 136); a batch of 68 is its
     * whole shard, so every global step is the full-batch gradient. */
    const char *csv = write_csv("data136.csv", 136);
    const char *single = tu_path("full.model"), *dist = tu_path("shard.model");
    train(0, csv, "--batch 136 --epochs 4", single);
    train(2, csv, "--distributed --shard --batch 68 --epochs 4", dist);
    double diff = param_diff(single, dist), tol = tu_softmax_sgd_order_bound(136, 4, LR, D);
    cr_expect_leq(diff, tol, "max |sharded - single| = %g > bound %g", diff, tol);
}

/* The standardiser bytes (mean then inv_std) of the checkpoint that
 * --save wrote, in a fresh malloc; NULL when it has none (layout of format
 * version 2: src/io/checkpoint.c). */
static unsigned char *standardiser_of(const char *path, size_t *len) {
    size_t n;
    unsigned char *b = tu_read_file(path, &n);
    uint32_t version, flags, n_options;
    uint64_t d, n_params;
    memcpy(&version, b + 8, 4);
    memcpy(&d, b + 144, 8);
    memcpy(&flags, b + 156, 4);
    memcpy(&n_params, b + 160, 8);
    memcpy(&n_options, b + 268, 4);
    cr_assert_eq(version, 3);
    const size_t at = 296 + 8 * (size_t)n_options + 4 * n_params;
    unsigned char *s = NULL;
    *len = 8 * d;
    if (flags & 1u) {
        cr_assert_leq(at + *len, n);
        s = malloc(*len);
        memcpy(s, b + at, *len);
    }
    free(b);
    return s;
}

Test(distributed, shards_standardise_with_the_whole_training_set) {
    /* A first column 1000 times the others: standardize auto (the default)
     * scales the features. Each rank must decide and fit on all the rows
     * before they are cut into shards, as one process does, else the
     * replicas would train models of different inputs. */
    const char *csv = write_scaled_csv("wide136.csv", 136, 1000.0f);
    const char *single = tu_path("wide_full.model"), *dist = tu_path("wide_shard.model");
    train(0, csv, "--batch 136 --epochs 1", single);
    train(2, csv, "--distributed --shard --batch 68 --epochs 1", dist);
    size_t n1, n2;
    unsigned char *s1 = standardiser_of(single, &n1), *s2 = standardiser_of(dist, &n2);
    cr_assert_not_null(s1, "standardize auto scales a column 1000 times the others");
    cr_assert_not_null(s2, "the sharded run standardises too");
    cr_expect(memcmp(s1, s2, n1) == 0, "the shards' standardiser is the whole set's");
    free(s1);
    free(s2);
}

Test(distributed, one_rank_is_bit_identical_to_a_plain_run) {
    const char *csv = write_csv("data50.csv", 50);
    const char *plain = tu_path("plain.model"), *one = tu_path("one.model");
    train(0, csv, "--batch 8 --epochs 2", plain);
    train(1, csv, "--distributed --batch 8 --epochs 2", one);
    cr_expect_eq(param_diff(plain, one), 0.0);
}

Test(distributed, shard_without_distributed_is_a_usage_error) {
    char cmd[1024], out[2048];
    snprintf(cmd, sizeof cmd, "%s train --data synth:40,2,2 --model softmax --shard",
             GSGD_CLI_PATH);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 2);
    cr_expect(strstr(out, "--shard needs --distributed"), "%s", out);
}

Test(distributed, the_per_rank_batch_must_be_given) {
    /* A batch planned per rank could differ between ranks (and so would the
     * number of steps): the run is refused before any training. */
    char cmd[1024], out[2048];
    snprintf(cmd, sizeof cmd,
             "%s -np 2 %s train --data synth:40,2,2 --model softmax --distributed --quiet",
             GSGD_MPIEXEC, GSGD_CLI_PATH);
    cr_expect_eq(tu_run(cmd, out, sizeof out), 2, "%s", out);
    cr_expect(strstr(out, "--distributed needs --batch N"), "%s", out);
}
