/* Zip archives as numpy.savez (stored members) and savez_compressed
 * (deflated) write them, read from memory: the end-of-central-directory
 * record (zip64 too, which numpy uses for large arrays), the central
 * directory, and a member's data, inflated here with zlib and its CRC-32
 * checked. Everything is bounds-checked against the archive's length:
 * offsets and sizes in the file are untrusted. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "data/loaders.h"

static uint32_t u16(const unsigned char *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8; }
static uint32_t u32(const unsigned char *p) { return u16(p) | u16(p + 2) << 16; }
static uint64_t u64(const unsigned char *p) {
    return (uint64_t)u32(p) | (uint64_t)u32(p + 4) << 32;
}

typedef struct {
    const unsigned char *z;
    size_t len;
    uint64_t cd_off, cd_size, entries;
} archive;

/* Finds the central directory. 0 when the bytes are not a zip archive. */
static int open_archive(const void *zip, size_t len, archive *a) {
    a->z = zip;
    a->len = len;
    if (len < 22) return 0;
    /* The end record is the last 22 bytes plus a comment of up to 65535. */
    const size_t lo = len > 22 + 65535 ? len - 22 - 65535 : 0;
    size_t e = len - 22 + 1;
    do {
        e--;
        if (u32(a->z + e) == 0x06054b50) break;
    } while (e > lo);
    if (u32(a->z + e) != 0x06054b50) return 0;
    a->entries = u16(a->z + e + 10);
    a->cd_size = u32(a->z + e + 12);
    a->cd_off = u32(a->z + e + 16);
    if ((a->entries == 0xFFFF || a->cd_size == 0xFFFFFFFF || a->cd_off == 0xFFFFFFFF) && e >= 20 &&
        u32(a->z + e - 20) == 0x07064b50) {
        const uint64_t r = u64(a->z + e - 20 + 8); /* the zip64 end record */
        if (r > len || len - r < 56 || u32(a->z + r) != 0x06064b50) return 0;
        a->entries = u64(a->z + r + 32);
        a->cd_size = u64(a->z + r + 40);
        a->cd_off = u64(a->z + r + 48);
    }
    return a->cd_off <= len && a->cd_size <= len - a->cd_off;
}

typedef struct {
    const unsigned char *name;
    size_t name_len;
    uint32_t flags, method, crc;
    uint64_t csize, usize, local;
} entry;

/* Reads the central directory entry at *off; 0 when malformed. */
static int read_entry(const archive *a, uint64_t *off, entry *en) {
    const uint64_t end = a->cd_off + a->cd_size, o = *off;
    if (o > end || end - o < 46 || u32(a->z + o) != 0x02014b50) return 0;
    const unsigned char *p = a->z + o;
    en->flags = u16(p + 8);
    en->method = u16(p + 10);
    en->crc = u32(p + 16);
    en->csize = u32(p + 20);
    en->usize = u32(p + 24);
    const size_t n = u16(p + 28), x = u16(p + 30), c = u16(p + 32);
    en->local = u32(p + 42);
    if (end - o - 46 < (uint64_t)n + x + c) return 0;
    en->name = p + 46;
    en->name_len = n;
    /* Zip64 extra field: the 64-bit values of the fields set to ~0. */
    const unsigned char *q = p + 46 + n, *qe = q + x;
    while (qe - q >= 4) {
        const uint32_t id = u16(q), sz = u16(q + 2);
        if ((size_t)(qe - q - 4) < sz) return 0;
        if (id == 0x0001) {
            const unsigned char *v = q + 4, *ve = v + sz;
            if (en->usize == 0xFFFFFFFF && ve - v >= 8) en->usize = u64(v), v += 8;
            if (en->csize == 0xFFFFFFFF && ve - v >= 8) en->csize = u64(v), v += 8;
            if (en->local == 0xFFFFFFFF && ve - v >= 8) en->local = u64(v);
        }
        q += 4 + sz;
    }
    *off = o + 46 + n + x + c;
    return 1;
}

void gsgdi_zip_list(const void *zip, size_t len, char *buf, size_t size) {
    archive a;
    size_t at = 0;
    if (size) buf[0] = '\0';
    if (!open_archive(zip, len, &a)) return;
    uint64_t off = a.cd_off;
    entry en;
    for (uint64_t k = 0; k < a.entries && at < size && read_entry(&a, &off, &en); k++)
        at += (size_t)snprintf(buf + at, size - at, "%s%.*s", k ? ", " : "",
                               (int)(en.name_len < 40 ? en.name_len : 40), (const char *)en.name);
}

static gsgd_status inflate_member(gsgd_context *ctx, const char *what, const char *member,
                                  const unsigned char *src, const entry *en, unsigned char **out) {
    *out = NULL;
    /* Sized from the directory, checked before allocating: a .npy of at
     * most 2^32 values of 8 bytes and its header. */
    GSGD_RETURN_ERROR_IF(en->usize > GSGD_MAX_ELEMENTS * 8 + 65536, ctx, GSGD_STATUS_TOO_LARGE,
                         "%s: member %s inflates to %llu bytes, past the limit of 2^32 values",
                         what, member, (unsigned long long)en->usize);
    /* Deflate expands at most 1032:1 (zlib's own bound), so a size beyond
     * that is a lie the allocation must not believe. */
    GSGD_RETURN_ERROR_IF(en->usize / 1032 > en->csize + 64, ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: member %s claims %llu bytes from %llu compressed, more than "
                         "deflate can give; the archive is corrupt",
                         what, member, (unsigned long long)en->usize,
                         (unsigned long long)en->csize);
    void *p = NULL;
    GSGD_FORWARD_IF_ERROR(gsgdi_host_alloc(ctx, en->usize ? (size_t)en->usize : 1, &p));
    unsigned char *buf = p;
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    if (inflateInit2(&zs, -MAX_WBITS) != Z_OK) {
        free(buf);
        return GSGD_ERROR(ctx, GSGD_STATUS_OUT_OF_MEMORY, "%s: inflateInit failed", what);
    }
    /* Fed in pieces: avail_in and avail_out are 32-bit. */
    const unsigned char *in = src;
    uint64_t in_left = en->csize, out_pos = 0;
    int zr = Z_OK;
    while (zr == Z_OK) {
        if (zs.avail_in == 0 && in_left) {
            const uInt c = in_left > (1u << 30) ? (1u << 30) : (uInt)in_left;
            zs.next_in = (unsigned char *)(uintptr_t)in;
            zs.avail_in = c;
            in += c;
            in_left -= c;
        }
        if (zs.avail_out == 0 && out_pos < en->usize) {
            const uint64_t room = en->usize - out_pos;
            const uInt c = room > (1u << 30) ? (1u << 30) : (uInt)room;
            zs.next_out = buf + out_pos;
            zs.avail_out = c;
            out_pos += c;
        }
        zr = inflate(&zs, Z_NO_FLUSH); /* Z_BUF_ERROR: no progress left to make */
    }
    inflateEnd(&zs);
    const uint64_t produced = out_pos - zs.avail_out;
    const int complete = zr == Z_STREAM_END && produced == en->usize;
    if (!complete || (produced && crc32_z(0L, buf, (size_t)produced) != en->crc)) {
        free(buf);
        return GSGD_ERROR(ctx, GSGD_STATUS_BAD_FORMAT,
                          "%s: member %s is corrupt (%s); write the file again", what, member,
                          complete ? "CRC mismatch" : "deflate data does not inflate to its size");
    }
    *out = buf;
    return GSGD_STATUS_OK;
}

gsgd_status gsgdi_zip_member(gsgd_context *ctx, const char *what, const void *zip, size_t len,
                             const char *member, const unsigned char **data, size_t *size,
                             unsigned char **owned) {
    *data = NULL;
    *size = 0;
    *owned = NULL;
    archive a;
    GSGD_RETURN_ERROR_IF(!open_archive(zip, len, &a), ctx, GSGD_STATUS_BAD_FORMAT,
                         "%s: not a zip archive, or truncated (no end of central directory); "
                         "write it with numpy.savez",
                         what);
    uint64_t off = a.cd_off;
    entry en;
    const size_t mlen = strlen(member);
    for (uint64_t k = 0; k < a.entries; k++) {
        GSGD_RETURN_ERROR_IF(!read_entry(&a, &off, &en), ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: malformed central directory (entry %llu)", what,
                             (unsigned long long)k);
        if (en.name_len != mlen || memcmp(en.name, member, mlen) != 0) continue;
        GSGD_RETURN_ERROR_IF(en.flags & 1u, ctx, GSGD_STATUS_UNSUPPORTED,
                             "%s: member %s is encrypted", what, member);
        GSGD_RETURN_ERROR_IF(en.method != 0 && en.method != 8, ctx, GSGD_STATUS_UNSUPPORTED,
                             "%s: member %s uses compression method %u; numpy.savez (stored) "
                             "and savez_compressed (deflate) are supported",
                             what, member, en.method);
        const uint64_t lo = en.local;
        GSGD_RETURN_ERROR_IF(lo > len || len - lo < 30 || u32(a.z + lo) != 0x04034b50, ctx,
                             GSGD_STATUS_BAD_FORMAT, "%s: member %s: bad local header", what,
                             member);
        const uint64_t start = lo + 30 + u16(a.z + lo + 26) + u16(a.z + lo + 28);
        GSGD_RETURN_ERROR_IF(start > len || en.csize > len - start, ctx, GSGD_STATUS_BAD_FORMAT,
                             "%s: member %s: truncated (needs %llu bytes past offset %llu)", what,
                             member, (unsigned long long)en.csize, (unsigned long long)start);
        if (en.method == 0) {
            GSGD_RETURN_ERROR_IF(en.csize != en.usize, ctx, GSGD_STATUS_BAD_FORMAT,
                                 "%s: member %s: stored sizes disagree", what, member);
            GSGD_RETURN_ERROR_IF(en.usize && crc32_z(0L, a.z + start, (size_t)en.usize) != en.crc,
                                 ctx, GSGD_STATUS_BAD_FORMAT,
                                 "%s: member %s is corrupt (CRC mismatch); write the file again",
                                 what, member);
            *data = a.z + start;
            *size = (size_t)en.usize;
            return GSGD_STATUS_OK;
        }
        GSGD_FORWARD_IF_ERROR(inflate_member(ctx, what, member, a.z + start, &en, owned));
        *data = *owned;
        *size = (size_t)en.usize;
        return GSGD_STATUS_OK;
    }
    return GSGD_STATUS_OK;
}
