"""Debian's Fashion-MNIST (dataset-fashion-mnist) as numpy arrays, for the
peer comparisons in bench/. Reads the installed IDX files; never downloads."""
import gzip
import os

DATA_DIR = "/usr/share/datasets/fashion-mnist"


def load_idx(path):
    import numpy as np
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = [int.from_bytes(raw[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_fashion():
    """Xtr, ytr, Xte, yte: pixels as float32 in [0, 1] (byte / 255, as gsgd
    reads them), labels as uint8."""
    import numpy as np
    part = lambda name: load_idx(os.path.join(DATA_DIR, name))
    Xtr = part("train-images-idx3-ubyte.gz").reshape(60000, -1).astype(np.float32) / 255.0
    Xte = part("t10k-images-idx3-ubyte.gz").reshape(10000, -1).astype(np.float32) / 255.0
    return Xtr, part("train-labels-idx1-ubyte.gz"), Xte, part("t10k-labels-idx1-ubyte.gz")
