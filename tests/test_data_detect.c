/* Format detection: binary magic first, then the extension, then what the
 * text looks like. */
#include <criterion/criterion.h>
#include <string.h>

#include "data/loaders.h"

static gsgd_data_format detect(const char *path, const char *head, size_t len) {
    return gsgdi_detect_format(path, (const unsigned char *)head, len);
}

Test(detect, binary_magic_wins_over_any_name) {
    cr_assert_eq(detect("x.csv", "\x93NUMPY\x01\x00", 8), GSGD_FORMAT_NPY);
    cr_assert_eq(detect("x.txt", "PK\x03\x04....", 8), GSGD_FORMAT_NPZ);
    cr_assert_eq(detect("images", "\0\0\x08\x03\0\0\0\x02", 8), GSGD_FORMAT_IDX);
    cr_assert_eq(detect(NULL, "\0\0\x0D\x02", 4), GSGD_FORMAT_IDX);
}

Test(detect, extensions_name_the_text_formats_also_under_gz) {
    const char *csv = "1 2:3\n"; /* looks like svmlight, named CSV */
    cr_assert_eq(detect("a.csv", csv, strlen(csv)), GSGD_FORMAT_CSV);
    cr_assert_eq(detect("a.TSV.gz", csv, strlen(csv)), GSGD_FORMAT_CSV);
    cr_assert_eq(detect("a.libsvm", "1,2\n", 4), GSGD_FORMAT_SVMLIGHT);
    cr_assert_eq(detect("a.svm.gz", "1,2\n", 4), GSGD_FORMAT_SVMLIGHT);
    cr_assert_eq(detect("train-labels-idx1-ubyte", "x", 1), GSGD_FORMAT_IDX);
}

Test(detect, content_decides_for_other_names) {
    const char *svm = "# comment\n\n+1 qid:3 1:0.5 7:1\n-1 2:1";
    cr_assert_eq(detect("a.txt", svm, strlen(svm)), GSGD_FORMAT_SVMLIGHT);
    cr_assert_eq(detect("-", svm, strlen(svm)), GSGD_FORMAT_SVMLIGHT);
    const char *csv[] = {"1,2,3\n", "a;b\n1;2\n", "1 2 3\n", "label,x:y\n1,2\n", "1 3:0.5 x\n"};
    for (int k = 0; k < 5; k++)
        cr_assert_eq(detect("a.txt", csv[k], strlen(csv[k])), GSGD_FORMAT_CSV, "%s", csv[k]);
}
