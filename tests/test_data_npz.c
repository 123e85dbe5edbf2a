/* Zip members of .npz archives: stored and deflated, the files numpy itself
 * wrote, and archives that are cut, corrupt or lack a member. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "data/loaders.h"
#include "testutil.h"

static gsgd_context *ctx;

static void setup(void) { cr_assert_eq(gsgd_context_create(&ctx, GSGD_DEVICE_CPU, 0), 0); }
static void teardown(void) { gsgd_context_free(ctx); }

TestSuite(npz, .init = setup, .fini = teardown);

static void expect_error(const char *detail) {
    const char *msg = gsgd_last_error(ctx);
    cr_assert(strstr(msg, "a.npz"), "message does not name the archive: %s", msg);
    cr_assert(strstr(msg, detail), "message lacks '%s': %s", detail, msg);
}

/* An archive of two members with known bytes, read back whole. */
static unsigned char *archive(int compress, size_t *n) {
    static const char text[] = "the second member, long enough to be worth deflating: "
                               "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";
    const unsigned char one[5] = {1, 2, 3, 4, 5};
    const char *names[2] = {"one.bin", "two.txt"};
    const unsigned char *data[2] = {one, (const unsigned char *)text};
    const size_t lens[2] = {sizeof one, sizeof text};
    const char *path = tu_path(compress ? "deflated.zip" : "stored.zip");
    cr_assert_eq(tu_write_zip(path, 2, names, data, lens, compress), 0);
    return tu_read_file(path, n);
}

Test(npz, gives_stored_members_in_place_and_deflated_ones_inflated) {
    for (int compress = 0; compress < 2; compress++) {
        size_t n, size;
        unsigned char *zip = archive(compress, &n), *owned;
        const unsigned char *data;
        cr_assert_eq(gsgdi_zip_member(ctx, "a.npz", zip, n, "two.txt", &data, &size, &owned),
                     GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
        cr_assert_not_null(data);
        cr_assert_str_eq((const char *)data, "the second member, long enough to be worth "
                                             "deflating: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
                                             "aaaaaaaaaaaaaa");
        cr_assert_eq(owned != NULL, compress, "stored members are not copied");
        if (!compress) cr_assert(data > zip && data < zip + n);
        free(owned);
        cr_assert_eq(gsgdi_zip_member(ctx, "a.npz", zip, n, "one.bin", &data, &size, &owned),
                     GSGD_STATUS_OK);
        cr_assert_eq(size, 5);
        cr_assert_eq(data[4], 5);
        free(owned);
        free(zip);
    }
}

Test(npz, a_missing_member_is_no_error_and_the_list_names_the_members) {
    size_t n, size;
    unsigned char *zip = archive(0, &n), *owned;
    const unsigned char *data;
    cr_assert_eq(gsgdi_zip_member(ctx, "a.npz", zip, n, "X.npy", &data, &size, &owned),
                 GSGD_STATUS_OK);
    cr_assert_null(data);
    char list[100];
    gsgdi_zip_list(zip, n, list, sizeof list);
    cr_assert_str_eq(list, "one.bin, two.txt");
    free(zip);
}

Test(npz, rejects_a_corrupt_member_by_its_crc) {
    for (int compress = 0; compress < 2; compress++) {
        size_t n, size;
        unsigned char *zip = archive(compress, &n), *owned;
        const unsigned char *data;
        /* The first member's data starts after its 30 + 7 byte header. */
        zip[30 + 7 + 2] ^= 0x10;
        cr_assert_eq(gsgdi_zip_member(ctx, "a.npz", zip, n, "one.bin", &data, &size, &owned),
                     GSGD_STATUS_BAD_FORMAT, "compress %d", compress);
        expect_error("member one.bin is corrupt");
        free(zip);
    }
}

Test(npz, rejects_cut_archives_without_reading_past_the_end) {
    size_t n;
    unsigned char *zip = archive(1, &n);
    const size_t cuts[] = {0, 10, 30, 60, n / 2, n - 23, n - 1};
    for (size_t k = 0; k < sizeof cuts / sizeof cuts[0]; k++) {
        /* A copy of exactly the cut length, so ASan sees any overread. */
        unsigned char *cut = malloc(cuts[k] + 1);
        memcpy(cut, zip, cuts[k]);
        const unsigned char *data;
        size_t size;
        unsigned char *owned;
        gsgd_status st =
            gsgdi_zip_member(ctx, "a.npz", cut, cuts[k], "two.txt", &data, &size, &owned);
        cr_assert_eq(st, GSGD_STATUS_BAD_FORMAT, "cut at %zu: %s", cuts[k], gsgd_status_name(st));
        free(cut);
    }
    free(zip);
}

Test(npz, reads_the_archives_numpy_wrote) {
    const char *files[2] = {GSGD_TEST_DATA_DIR "/labels379.npz",
                            GSGD_TEST_DATA_DIR "/strings_fortran.npz"};
    for (int k = 0; k < 2; k++) {
        gsgdi_input in;
        cr_assert_eq(gsgdi_input_open(ctx, files[k], &in), GSGD_STATUS_OK);
        const unsigned char *data;
        size_t size;
        unsigned char *owned;
        cr_assert_eq(
            gsgdi_zip_member(ctx, files[k], in.data, in.len, "X.npy", &data, &size, &owned),
            GSGD_STATUS_OK, "%s", gsgd_last_error(ctx));
        gsgdi_npy a;
        cr_assert_eq(gsgdi_npy_parse(ctx, "X.npy", data, size, &a), GSGD_STATUS_OK, "%s",
                     gsgd_last_error(ctx));
        cr_assert_eq(a.ndim, 2);
        cr_assert_eq(a.shape[0], 6);
        cr_assert_eq(a.fortran, k == 1);
        cr_assert_eq(owned != NULL, k == 1, "savez stores, savez_compressed deflates");
        free(owned);
        gsgdi_input_close(&in);
    }
}

Test(npz, refuses_a_member_that_claims_more_than_deflate_can_give) {
    size_t n, size;
    unsigned char *zip = archive(1, &n), *owned;
    const unsigned char *data;
    /* The central directory's uncompressed size of the first member: the
     * entry starts after both members; its size field is at +24. */
    size_t cd = n - 22;
    cd = zip[cd + 16] | zip[cd + 17] << 8 | zip[cd + 18] << 16 | (size_t)zip[cd + 19] << 24;
    zip[cd + 24 + 3] = 0x7F; /* about 2 GiB from a few bytes */
    cr_assert_eq(gsgdi_zip_member(ctx, "a.npz", zip, n, "one.bin", &data, &size, &owned),
                 GSGD_STATUS_BAD_FORMAT);
    expect_error("more than deflate can give");
    free(zip);
}
