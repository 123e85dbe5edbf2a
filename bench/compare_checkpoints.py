#!/usr/bin/env python3
"""Compares the training state of checkpoints of two format versions.

bench/bitwise_runs.sh hashes whole checkpoint files, so a new checkpoint
format (version 2 added the label map) changes every hash. This script
checks what the hashes stood for: every field of the fixed header but the
version and the flags' new bits, the options, and every array (parameters,
standardiser, average, optimizer state) are bit-identical between the
checkpoints of the same name in OLD_DIR and NEW_DIR (src/io/checkpoint.c
has the layout). Prints one line per pair; exits 1 on any difference.

Usage: bench/compare_checkpoints.py OLD_DIR NEW_DIR
"""
import os
import struct
import sys
import zlib

FIXED = 280


def parse(path):
    b = open(path, "rb").read()
    if b[:8] != b"GSGDCKP\0":
        raise ValueError(f"{path}: not a checkpoint")
    if zlib.crc32(b[:-4]) != struct.unpack_from("<I", b, len(b) - 4)[0]:
        raise ValueError(f"{path}: CRC mismatch")
    version, flags = struct.unpack_from("<I", b, 8)[0], struct.unpack_from("<I", b, 156)[0]
    nf = struct.unpack_from("<Q", b, 144)[0]
    npar = struct.unpack_from("<Q", b, 160)[0]
    nstate = struct.unpack_from("<I", b, 172)[0]
    nopt = struct.unpack_from("<I", b, 268)[0]
    off = FIXED + 8 * nopt
    parts = {"header": b[12:156] + b[160:FIXED], "options": b[FIXED:off]}
    parts["params"] = b[off:off + 4 * npar]
    off += 4 * npar
    if flags & 1:
        parts["standardiser"] = b[off:off + 8 * nf]
        off += 8 * nf
    if flags & 2:
        parts["average"] = b[off:off + 4 * npar]
        off += 4 * npar
    for k in range(nstate):
        parts[f"state{k}"] = b[off:off + 4 * npar]
        off += 4 * npar
    rest = len(b) - 4 - off  # the label map (version 2, flag bit 2)
    return version, flags & 3, parts, rest


def main():
    old_dir, new_dir = sys.argv[1], sys.argv[2]
    names = sorted(n for n in os.listdir(old_dir) if n.endswith(".ckpt"))
    bad = 0
    for name in names:
        vo, fo, po, _ = parse(os.path.join(old_dir, name))
        vn, fn, pn, label_bytes = parse(os.path.join(new_dir, name))
        diff = [k for k in sorted(set(po) | set(pn)) if po.get(k) != pn.get(k)]
        if fo != fn:
            diff.append("flags")
        size = sum(len(v) for v in pn.values())
        status = "identical" if not diff else "DIFFERENT: " + ", ".join(diff)
        print(f"{name:28s} v{vo} -> v{vn}: {size} bytes of state {status}"
              f" (label map {label_bytes} bytes)")
        bad += bool(diff)
    print(f"compare_checkpoints: {len(names) - bad} of {len(names)} checkpoints hold the same state")
    return 1 if bad or not names else 0


if __name__ == "__main__":
    sys.exit(main())
