/* Label maps: sorted integers or texts, lookups, and their bytes in files. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "data/labels.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(labels, .init = setup, .fini = teardown);

Test(labels, integer_maps_find_values_and_their_texts) {
    gsgdi_labels *l;
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){-1, 3, 70000}, 3, &l), GSGD_STATUS_OK);
    cr_assert_str_eq(l->text[0], "-1");
    cr_assert_str_eq(l->text[2], "70000");
    cr_assert_eq(gsgdi_labels_find_value(l, 3), 1);
    cr_assert_eq(gsgdi_labels_find_value(l, 4), -1);
    cr_assert_eq(gsgdi_labels_find_text(l, "+3"), 1);
    cr_assert_eq(gsgdi_labels_find_text(l, "3.0"), 1);
    cr_assert_eq(gsgdi_labels_find_text(l, "3.5"), -1);
    cr_assert_eq(gsgdi_labels_find_text(l, "three"), -1);
    cr_assert_eq(gsgdi_labels_find_text(l, " 3\t"), 1);
    cr_assert_not(gsgdi_labels_is_identity(l));
    gsgdi_labels_free(l);
}

/* A label text finds the class the readers' number makes of it: one that
 * underflows is 0 (strtod's value), as the map built from it says (found by
 * fuzz_csv: the map held 0 and the lookup refused the text on ERANGE). */
Test(labels, a_text_that_underflows_finds_the_class_zero) {
    gsgdi_labels *l;
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){0, 1}, 2, &l), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_labels_find_text(l, "77771e-37777777777777777"), 0);
    cr_assert_eq(gsgdi_labels_find_text(l, "1e-400"), 0);
    cr_assert_eq(gsgdi_labels_find_text(l, "1e400"), -1, "an overflow is no class");
    cr_assert_eq(gsgdi_labels_find_text(l, "nan"), -1);
    gsgdi_labels_free(l);
}

Test(labels, text_maps_find_texts_and_integers_written_as_text) {
    gsgdi_labels *l;
    const char *t[3] = {"10", "a", "b"};
    cr_assert_eq(gsgdi_labels_from_texts(ctx, t, 3, &l), GSGD_STATUS_OK);
    cr_assert_eq(gsgdi_labels_find_text(l, "b"), 2);
    cr_assert_eq(gsgdi_labels_find_text(l, "c"), -1);
    cr_assert_eq(gsgdi_labels_find_value(l, 10), 0);
    gsgdi_labels_free(l);
}

Test(labels, identity_copies_and_equality) {
    gsgdi_labels *a, *b, *c;
    cr_assert_eq(gsgdi_labels_identity(ctx, 4, &a), GSGD_STATUS_OK);
    cr_assert(gsgdi_labels_is_identity(a));
    cr_assert_eq(gsgdi_labels_copy(ctx, a, &b), GSGD_STATUS_OK);
    cr_assert(gsgdi_labels_equal(a, b));
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){0, 1, 2, 5}, 4, &c), GSGD_STATUS_OK);
    cr_assert_not(gsgdi_labels_equal(a, c));
    cr_assert_not(gsgdi_labels_equal(a, NULL));
    cr_assert(gsgdi_labels_equal(NULL, NULL));
    gsgdi_labels_free(a);
    gsgdi_labels_free(b);
    gsgdi_labels_free(c);
}

Test(labels, summary_shows_the_first_and_last_labels) {
    gsgdi_labels *l;
    char buf[100];
    cr_assert_eq(gsgdi_labels_identity(ctx, 10, &l), GSGD_STATUS_OK);
    gsgdi_labels_summary(l, buf, sizeof buf);
    cr_assert_str_eq(buf, "10 classes (0, 1, 2, 3, ..., 9)");
    gsgdi_labels_free(l);
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){3, 7, 9}, 3, &l), GSGD_STATUS_OK);
    gsgdi_labels_summary(l, buf, sizeof buf);
    cr_assert_str_eq(buf, "3 classes (3, 7, 9)");
    gsgdi_labels_free(l);
}

/* Writes l's image and reads it back. */
static gsgdi_labels *round_trip(const gsgdi_labels *l) {
    const size_t n = gsgdi_labels_image_bytes(l);
    unsigned char *img = malloc(n);
    gsgdi_labels_image_write(l, img);
    gsgdi_labels *back = NULL;
    size_t used = 0;
    cr_assert_eq(gsgdi_labels_image_read(ctx, "f", img, n, &used, &back), GSGD_STATUS_OK, "%s",
                 gsgd_last_error(ctx));
    cr_assert_eq(used, n);
    free(img);
    return back;
}

Test(labels, both_kinds_survive_their_image) {
    gsgdi_labels *a, *b;
    cr_assert_eq(gsgdi_labels_from_values(ctx, (int64_t[]){-5, 0, 1LL << 40}, 3, &a), 0);
    const char *t[2] = {"class one", "setosa"};
    cr_assert_eq(gsgdi_labels_from_texts(ctx, t, 2, &b), 0);
    gsgdi_labels *a2 = round_trip(a), *b2 = round_trip(b);
    cr_assert(gsgdi_labels_equal(a, a2));
    cr_assert(gsgdi_labels_equal(b, b2));
    gsgdi_labels_free(a), gsgdi_labels_free(a2), gsgdi_labels_free(b), gsgdi_labels_free(b2);
}

Test(labels, malformed_images_are_refused) {
    gsgdi_labels *l;
    const char *t[2] = {"a", "b"};
    cr_assert_eq(gsgdi_labels_from_texts(ctx, t, 2, &l), 0);
    const size_t n = gsgdi_labels_image_bytes(l);
    unsigned char img[64];
    gsgdi_labels_image_write(l, img);
    gsgdi_labels *back = NULL;
    size_t used;
    for (size_t cut = 0; cut < n; cut++)
        cr_assert_eq(gsgdi_labels_image_read(ctx, "f", img, cut, &used, &back),
                     GSGD_STATUS_BAD_FORMAT, "cut at %zu", cut);
    img[16] = 'c'; /* "c", "b": not in order */
    cr_assert_eq(gsgdi_labels_image_read(ctx, "f", img, n, &used, &back), GSGD_STATUS_BAD_FORMAT);
    img[4] = 1; /* one label: not a map of classes */
    cr_assert_eq(gsgdi_labels_image_read(ctx, "f", img, n, &used, &back), GSGD_STATUS_BAD_FORMAT);
    cr_assert_null(back);
    gsgdi_labels_free(l);
}
