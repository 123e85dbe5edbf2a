"""The lower-level API: the memory plan as a dict, a batch-size sweep as
records, Fashion-MNIST as NumPy arrays, and the library's description."""

import gzip
import os
import struct

from ctypes import byref, c_void_p

import numpy as np

from ._capi import check, lib
from ._core import Context, Dataset, Model, Options, parse_mem_limit
from ._train import Trainer, plan_dict

__all__ = ["plan", "bench", "info", "load_fashion_mnist"]


def info(device="auto"):
    """The build and the device, as `gsgd info` prints them."""
    return Context(device).info()


def _batch_values(batch_size):
    if batch_size == "auto":
        return {"batch": 0, "batch_policy": "largest"}
    if batch_size == "fastest":
        return {"batch": 0, "batch_policy": "fastest"}
    if isinstance(batch_size, (int, np.integer)) and not isinstance(batch_size, bool) \
            and batch_size > 0:
        return {"batch": int(batch_size)}
    raise ValueError(f"batch_size must be 'auto', 'fastest' or a positive integer, got "
                     f"{batch_size!r}")


def _data(ctx, X, y, model, test=None):
    """(train dataset, test dataset or None, n_classes) from arrays or from a
    dataset spec string of gsgd_dataset_load ("fashion-mnist", "synth:...")."""
    if isinstance(X, str):
        if y is not None:
            raise ValueError("y must be None when X is a dataset spec")
        train, spec_test = Dataset.load(ctx, X)
        return train, (spec_test if test is None else _data(ctx, *test, model)[0]), \
            train.n_classes
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be 1D, got shape {y.shape}")
    if model == "linear" and y.dtype.kind == "f" and not np.all(np.mod(y, 1) == 0):
        k, targets, classes = 0, y, None
    else:
        classes, inv = np.unique(y, return_inverse=True)
        k, targets = len(classes), inv
    train = Dataset(ctx, X, targets.astype(np.float32), k)
    te = None
    if test is not None:
        Xt, yt = test
        yt = np.asarray(yt)
        if classes is not None:
            idx = np.searchsorted(classes, yt)
            if np.any(idx >= k) or np.any(classes[np.minimum(idx, k - 1)] != yt):
                raise ValueError("the test labels hold classes the training labels do not")
            yt = idx
        te = Dataset(ctx, Xt, yt.astype(np.float32), k)
    return train, te, k


def plan(X, y=None, model="softmax", *, device="auto", batch_size="auto", mem_limit=None,
         standardize=False, options=None, random_state=0):
    """Plans training as gsgd_trainer_create would (`gsgd plan`) and returns
    the plan as a dict: "batch" and "reason", the memory model's "fixed",
    "per_sample", "predicted" and "measured" bytes, the "budget" and its
    sources ("memory": free, total, cap, headroom), "items" (the memory
    table: name, bytes, per_sample, resident), "lr", "seconds" and, with
    batch_size="fastest", the measured "curve". X, y: arrays, or X a dataset
    spec ("fashion-mnist") and y None."""
    ctx = Context(device)
    ds, _, k = _data(ctx, X, y, model)
    m = Model(ctx, model, ds.shape[1], k, random_state)
    if standardize:
        m.fit_standardizer(ds)
    values = {**_batch_values(batch_size), **parse_mem_limit(mem_limit), **(options or {})}
    out = _plan(ctx, m, ds, Options(values))
    out["device"] = ctx.device
    out["n_train"] = ds.shape[0]
    return out


def _sweep(bstar, n):
    """Powers of two from 32 (1 below that) up to B*, and B* itself: the
    sizes `gsgd bench --batches sweep` measures."""
    bstar = min(bstar, n)
    out, b = [], (1 if bstar < 32 else 32)
    while b <= bstar:
        out.append(b)
        b *= 2
    if not out or out[-1] != bstar:
        out.append(bstar)
    return out


def bench(X, y=None, model="softmax", *, batches="sweep", epochs=1, target_acc=None, test=None,
          device="auto", mem_limit=None, standardize=False, options=None, random_state=0,
          as_frame=None):
    """Trains a fresh model at each batch size and returns one record per
    batch: samples_per_second (and _warm, after the first epoch, with
    epochs >= 2), seconds, steps, epochs, train_loss, test_accuracy, lr and,
    with target_acc and a test set, time_to_target_s (NaN when not reached).
    batches: "sweep" (powers of two up to the planner's batch, as `gsgd
    bench`) or a list. test: (X_test, y_test), or the spec's own test part
    when X is a spec. Returns a pandas DataFrame when pandas is installed
    (as_frame=None or True), else a list of dicts.

    These are training runs through the public API. `gsgd bench` also times
    each phase of a step (gather, forward, backward, update) against copy
    and sgemm yardsticks through the library's internals, which this
    binding does not reach."""
    ctx = Context(device)
    train, te, k = _data(ctx, X, y, model, test)
    base = {**parse_mem_limit(mem_limit), **(options or {}), "seed": random_state}
    if batches == "sweep":
        m = Model(ctx, model, train.shape[1], k, random_state)
        batches = _sweep(_plan(ctx, m, train, Options(base))["batch"], train.shape[0])
        del m
    records = []
    for b in batches:
        values = dict(base, batch=int(b), epochs=epochs)
        if target_acc is not None:
            values["target_acc"] = target_acc
        m = Model(ctx, model, train.shape[1], k, random_state)
        if standardize:
            m.fit_standardizer(train)
        tr = Trainer(m, train, Options(values))
        r = tr.train(te)
        del tr
        records.append({"batch": int(b), "epochs": r["epochs"], "steps": r["steps"],
                        "seconds": r["seconds"], "samples_per_second": r["samples_per_second"],
                        "samples_per_second_warm": r["samples_per_second_warm"],
                        "train_loss": r["train_loss"], "test_accuracy": r["test_accuracy"],
                        "time_to_target_s": r["time_to_target_s"], "lr": r["lr"],
                        "model": model, "device": ctx.device})
    if as_frame is not False:
        try:
            import pandas
            return pandas.DataFrame.from_records(records)
        except ImportError:
            if as_frame:
                raise
    return records


def _plan(ctx, model, ds, opts):
    p = c_void_p()
    check(lib.gsgd_plan(ctx.ptr, model.ptr, ds.ptr, opts.ptr, byref(p)), ctx.ptr)
    try:
        return plan_dict(p)
    finally:
        lib.gsgd_plan_free(p)


def _read_idx(path):
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    if len(data) < 4 or data[0] or data[1] or data[2] != 0x08:
        raise ValueError(f"{path}: not an IDX file of unsigned bytes")
    ndim = data[3]
    dims = struct.unpack(f">{ndim}I", data[4:4 + 4 * ndim])
    body = np.frombuffer(data, np.uint8, offset=4 + 4 * ndim)
    if body.size != int(np.prod(dims)):
        raise ValueError(f"{path}: {body.size} bytes of data for dimensions {dims}")
    return body.reshape(dims)


def load_fashion_mnist(path="/usr/share/datasets/fashion-mnist"):
    """(X_train, y_train, X_test, y_test) of Fashion-MNIST from its IDX files
    (Debian's dataset-fashion-mnist): features float32 in [0, 1] as
    byte / 255 (the bits gsgd's own loader gives), labels uint8."""
    def find(name):
        for suffix in (".gz", ""):
            p = os.path.join(path, name + suffix)
            if os.path.exists(p):
                return p
        raise FileNotFoundError(f"{os.path.join(path, name)}[.gz] not found (Debian: apt "
                                f"install dataset-fashion-mnist)")

    out = []
    for part in ("train", "t10k"):
        images = _read_idx(find(f"{part}-images-idx3-ubyte"))
        labels = _read_idx(find(f"{part}-labels-idx1-ubyte"))
        X = images.reshape(images.shape[0], -1).astype(np.float32)
        X /= np.float32(255.0)  # float32 division, as the C loader's (float)b / 255.0f
        out += [X, labels]
    return tuple(out)
