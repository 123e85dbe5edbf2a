#!/usr/bin/env python3
"""The training state of gsgd checkpoints, whatever their format version.

A checkpoint holds the training state (model spec and shapes, counters,
guard, parameters, standardiser, average, optimizer state) and things a
newer build may write differently without training differently: the
format version, the options (version 1 has 38, version 2 43, and issue 17
changed some defaults' values, e.g. TOL -1 for 0), version 2's cooldown
fields (0 unless EPOCHS was 0) and its label map (flag bit 2 and the map
at the end), version 3's feature and target column names (flag bits 4 and
3, after the optimizer state). Two runs whose states are equal trained bit-identically.
src/io/checkpoint.c has the layout.

Usage:
  bench/ckpt_state.py FILE...                 one hash per file: the first 16 hex
                                              digits of the state's sha256
  bench/ckpt_state.py --compare OLD NEW       the checkpoints of the same name in
                                              directories OLD and NEW, part by
                                              part; exits 1 on any difference
"""
import hashlib
import os
import struct
import sys
import zlib

FIXED = {1: 280, 2: 296, 3: 296}  # bytes before the options, by format version


def state(path):
    """(version, {part: bytes}) of the checkpoint at path, parts in file order."""
    with open(path, "rb") as f:
        b = f.read()
    if b[:8] != b"GSGDCKP\0":
        raise ValueError(f"{path}: not a gsgd checkpoint")
    if zlib.crc32(b[:-4]) != struct.unpack_from("<I", b, len(b) - 4)[0]:
        raise ValueError(f"{path}: CRC mismatch")
    version, = struct.unpack_from("<I", b, 8)
    if version not in FIXED:
        raise ValueError(f"{path}: format version {version}, this script reads 1 to 3")
    flags, = struct.unpack_from("<I", b, 156)
    n_features, = struct.unpack_from("<Q", b, 144)
    n_params, = struct.unpack_from("<Q", b, 160)
    n_state, = struct.unpack_from("<I", b, 172)
    n_options, = struct.unpack_from("<I", b, 268)
    # From the byte-order mark to the guard's first bad step, without the
    # option count (268) and with the flags' bits 0-1 only (standardiser,
    # average): bits 2-4 say that names and a label map follow.
    header = b[12:156] + struct.pack("<I", flags & 3) + b[160:268] + b[272:280]
    parts = {"header": header}
    off = FIXED[version] + 8 * n_options
    layout = [("params", 4 * n_params)]
    if flags & 1:
        layout.append(("standardiser", 8 * n_features))
    if flags & 2:
        layout.append(("average", 4 * n_params))
    layout += [(f"optimizer state {k}", 4 * n_params) for k in range(n_state)]
    for name, size in layout:
        parts[name] = b[off:off + size]
        off += size
    return version, parts


def state_hash(path):
    h = hashlib.sha256()
    for part in state(path)[1].values():
        h.update(part)
    return h.hexdigest()[:16]


def compare(old_dir, new_dir):
    names = sorted(n for n in os.listdir(old_dir) if n.endswith(".ckpt"))
    bad = 0
    for name in names:
        vo, po = state(os.path.join(old_dir, name))
        vn, pn = state(os.path.join(new_dir, name))
        diff = [k for k in dict.fromkeys([*po, *pn]) if po.get(k) != pn.get(k)]
        print(f"{name:28s} v{vo} -> v{vn}: {sum(map(len, pn.values()))} bytes of state "
              + ("identical" if not diff else "DIFFERENT: " + ", ".join(diff)))
        bad += bool(diff)
    print(f"ckpt_state: {len(names) - bad} of {len(names)} checkpoints hold the same state")
    return 1 if bad or not names else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--compare":
        sys.exit(compare(sys.argv[2], sys.argv[3]))
    if len(sys.argv) < 2 or sys.argv[1].startswith("-"):
        sys.exit(__doc__)
    for p in sys.argv[1:]:
        print(state_hash(p))
