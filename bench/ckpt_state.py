#!/usr/bin/env python3
"""Hash of a checkpoint's training state, whatever its format version.

Prints the first 16 hex digits of the sha256 of everything a checkpoint
holds but its format: the fixed header from the byte-order mark to the
guard's first bad step (model spec and shapes, counters, guard) without the
version and the option count, then the payload after the options
(parameters, standardiser, average, optimizer state), CRC excluded. The
options and version 2's cooldown fields (0 unless EPOCHS was 0) are left
out: two runs that print the same hash trained bit-identically, even when
one file is version 1 with 38 options and the other version 2 with 43
(src/io/checkpoint.c has the layout).

Usage: bench/ckpt_state.py FILE...
"""
import hashlib
import struct
import sys


def state_hash(path):
    with open(path, "rb") as f:
        b = f.read()
    version, = struct.unpack_from("<I", b, 8)
    n_options, = struct.unpack_from("<I", b, 268)
    fixed = {1: 280, 2: 296}[version]
    h = hashlib.sha256()
    h.update(b[12:268])
    h.update(b[272:280])
    h.update(b[fixed + 8 * n_options:len(b) - 4])
    return h.hexdigest()[:16]


if __name__ == "__main__":
    for p in sys.argv[1:]:
        print(state_hash(p))
