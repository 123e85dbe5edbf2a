/* The gsgd program on sparse files: train with --data/--test svmlight
 * files of different widths, plan and bench listing the sparse rows, and
 * a bad line refused with its file and line (exit 2). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "testutil.h"

/* Two classes told apart by features 1-3 against 4-6, some noise
 * features up to 400 (the test file's reach 450): 2 nonzeros a row, below
 * 1% of the values, so both files are stored sparse. */
static void write_files(const char **train, const char **test) {
    char buf[1 << 16];
    for (int part = 0; part < 2; part++) {
        size_t len = 0;
        for (int i = 0; i < (part ? 60 : 240); i++) {
            const int c = i % 2, a = 1 + 3 * c + i % 3, noise = 7 + (i * 7) % (part ? 443 : 393);
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%d %d:1 %d:0.5\n", c, a, noise);
        }
        const char *p = tu_path(part ? "test.svm.gz" : "train.svm.gz");
        cr_assert_eq(tu_write_gzip(p, buf, len), 0);
        *(part ? test : train) = p;
    }
}

Test(cli_sparse, trains_on_svmlight_files_of_different_widths) {
    const char *train, *test;
    write_files(&train, &test);
    static char out[1 << 16];
    const char *summary = tu_path("s.json");
    const int rc = tu_gsgd(out, sizeof out,
                           "train --device cpu --quiet --data %s --test %s --model softmax "
                           "--summary %s",
                           train, test, summary);
    cr_assert_eq(rc, 0, "%s", out);
    const char *s = tu_read_text(summary);
    double acc = 0;
    const char *a = strstr(s, "\"test_accuracy\"");
    cr_assert(a && sscanf(strchr(a, ':') + 1, "%lf", &acc) == 1, "%s", s);
    cr_expect(acc > 0.95, "test accuracy %g", acc);
}

Test(cli_sparse, plan_and_bench_show_the_sparse_rows) {
    const char *train, *test;
    write_files(&train, &test);
    static char out[1 << 16];
    cr_assert_eq(tu_gsgd(out, sizeof out, "plan --device cpu --data %s --model softmax", train), 0,
                 "%s", out);
    cr_expect(strstr(out, "per nonzero") && strstr(out, "nonzeros "), "%s", out);
    cr_assert_eq(tu_gsgd(out, sizeof out,
                         "bench --device cpu --data %s --model softmax --batches 32 --steps 5",
                         train),
                 0, "%s", out);
    cr_expect(strstr(out, "nonzeros/s"), "%s", out);
}

Test(cli_sparse, a_bad_line_names_file_and_line) {
    const char *p = tu_path("bad.svm");
    cr_assert_eq(tu_write_text(p, "1 1:1\n0 2:x\n"), 0);
    static char out[4096];
    const int rc = tu_gsgd(out, sizeof out, "train --device cpu --data %s --model softmax", p);
    cr_expect_eq(rc, 2, "%s", out);
    cr_expect(strstr(out, p) && strstr(out, "line 2"), "%s", out);
}
