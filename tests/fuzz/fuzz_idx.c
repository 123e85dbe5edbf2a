/*
 * IDX reader (src/data/idx.c), plain files, and with FUZZ_IDX_GZIP gzip
 * files (fuzz_idx_gz). Input: a mode byte, a split byte pair, then the
 * image file followed by the label file (the split, modulo the bytes left,
 * says where the labels start). Mode bits 0-1: storage (auto, f32, u8).
 * Under FUZZ_IDX_GZIP, bits 2 and 3 gzip the images and the labels (clear:
 * the bytes are written as they are, so raw gzip streams are mutated too),
 * and bits 4 and 5 cut the compressed images or labels short at the
 * split (a truncated download).
 */
#include "fuzz_common.h"
#include "data/loaders.h"

/* Writes part as file name, gzip-compressed when gz, cut to at most
 * cut_at compressed bytes when cut. */
static const char *put(const char *name, int slot, const uint8_t *p, size_t n, int gz, int cut,
                       size_t cut_at) {
    if (!gz) return fuzz_write(name, slot, p, n);
    size_t zn;
    unsigned char *z = fuzz_gzip(p, n, &zn);
    if (cut && cut_at < zn) zn = cut_at;
    const char *path = fuzz_write(name, slot, z, zn);
    free(z);
    return path;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 3) return 0;
    gsgd_context *ctx = fuzz_context();
    const unsigned mode = data[0];
    const size_t rest = size - 3, split_raw = (size_t)data[1] | (size_t)data[2] << 8;
    const size_t split = rest ? split_raw % (rest + 1) : 0;
    const uint8_t *img = data + 3, *lab = data + 3 + split;
    const gsgdi_storage storage = (mode & 3) == 1   ? GSGD_STORAGE_F32
                                  : (mode & 3) == 2 ? GSGD_STORAGE_U8
                                                    : GSGD_STORAGE_AUTO;
#ifdef FUZZ_IDX_GZIP
    const int gz_img = (mode >> 2) & 1, gz_lab = (mode >> 3) & 1;
    const int cut_img = (mode >> 4) & 1, cut_lab = (mode >> 5) & 1;
#else
    const int gz_img = 0, gz_lab = 0, cut_img = 0, cut_lab = 0;
#endif
    const char *ip = put("images", 0, img, split, gz_img, cut_img, split_raw >> 4);
    const char *lp = put("labels", 1, lab, rest - split, gz_lab, cut_lab, split_raw >> 4);
    gsgdi_host_data h;
    memset(&h, 0, sizeof h);
    gsgdi_raw_targets t;
    gsgd_status st = gsgdi_load_idx(ctx, ip, lp, storage, &h, &t);
    fuzz_check_failure(ctx, st);
    if (st != GSGD_STATUS_OK) {
        FUZZ_CHECK(!h.X && !h.X8 && !h.y && h.n == 0 && t.n == 0 && !t.num);
        fuzz_check_no_leak(ctx);
        return 0;
    }
    FUZZ_CHECK(h.n >= 1 && h.d >= 1 && (h.X != NULL) != (h.X8 != NULL) && t.n == h.n);
    FUZZ_CHECK(storage != GSGD_STORAGE_F32 || h.X);
    /* The class labels as the label file gives them, mapped as a loader
     * maps them: sorted, every class present. */
    fuzz_check_host_data(ctx, &h, &t, 0);
    return 0;
}
