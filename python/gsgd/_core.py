"""Python objects over gsgd's handles: Context, Dataset, Model, Options.

Each owns its C object and frees it when collected; each holds a reference
to what it was made from (a model to its context, a dataset to the arrays it
wraps), so nothing is freed while something still uses it.
"""

import ctypes
import os
import tempfile
from ctypes import byref, c_char_p, c_double, c_int, c_size_t, c_void_p

import numpy as np

from . import _capi
from ._arrays import array_ref, host_view
from ._capi import check, lib

__all__ = ["Context", "Dataset", "Model", "Options", "parse_device", "parse_mem_limit"]

_DEVICE_NAMES = {0: "auto", 1: "cpu", 2: "cuda"}


def parse_device(device):
    """"auto", "cpu", "cuda" or "cuda:N" -> (gsgd_device, index)."""
    if not isinstance(device, str):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    name, _, idx = device.partition(":")
    codes = {"auto": 0, "cpu": 1, "cuda": 2}
    if name not in codes or (idx and (name != "cuda" or not idx.isdigit())):
        raise ValueError(f"device must be 'auto', 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    return codes[name], int(idx or 0)


_UNITS = {"": 1, "B": 1, "K": 1e3, "KB": 1e3, "KIB": 1024, "M": 1e6, "MB": 1e6,
          "MIB": 1024**2, "G": 1e9, "GB": 1e9, "GIB": 1024**3, "T": 1e12, "TB": 1e12,
          "TIB": 1024**4}


def parse_mem_limit(mem_limit):
    """None, bytes, "2GiB" or "50%" -> {"mem_limit": bytes} or {"mem_fraction": f}
    (the options of gsgd train --mem-limit)."""
    if mem_limit is None:
        return {}
    if isinstance(mem_limit, (int, np.integer)) and not isinstance(mem_limit, bool):
        if mem_limit <= 0:
            raise ValueError(f"mem_limit must be positive, got {mem_limit}")
        return {"mem_limit": int(mem_limit)}
    if isinstance(mem_limit, str):
        s = mem_limit.strip().upper()
        try:
            if s.endswith("%"):
                f = float(s[:-1]) / 100.0
                if not 0.0 < f <= 1.0:
                    raise ValueError
                return {"mem_fraction": f}
            num = s.rstrip("KMGTIB")
            v = float(num) * _UNITS[s[len(num):]]
            if v >= 1:
                return {"mem_limit": int(v)}
        except (ValueError, KeyError):
            pass
    raise ValueError(f"mem_limit must be bytes, a size such as '2GiB' or a share such as "
                     f"'50%', got {mem_limit!r}")


class Handle:
    """Owns one C object and frees it once nothing made from it is alive.
    Python's collector finalises the objects of a garbage cycle in any
    order (a traceback holding a model and its context is one), so a
    context must not be freed before its model just because its __del__
    ran first: each handle counts the handles that depend on it."""

    _ptr = None

    def _own(self, ptr, free, *deps):
        self._ptr, self._free, self._deps, self._users, self._dead = ptr, free, deps, 0, False
        for d in deps:
            d._users += 1

    @property
    def ptr(self):
        return self._ptr

    def _release(self):
        self._users -= 1
        if self._dead and self._users == 0:
            self._close()

    def _close(self):
        if self._ptr:
            ptr, self._ptr = self._ptr, None
            self._free(ptr)
            for d in self._deps:
                d._release()
            self._deps = ()

    def __del__(self):
        if self._ptr is None:
            return
        self._dead = True
        if self._users == 0:
            self._close()


_said_why_cpu = False


class Context(Handle):
    """A gsgd context: the device everything made from it runs on.
    device: "auto" (CUDA when usable, else the CPU, saying why in the log),
    "cpu", "cuda" or "cuda:N". mem_limit caps gsgd's allocations there
    (bytes; gsgd_context_set_mem_limit). The library's log goes to the
    "gsgd" logger of Python's logging."""

    def __init__(self, device="auto", mem_limit=None):
        code, idx = parse_device(device)
        ptr = c_void_p()
        st = lib.gsgd_context_create(byref(ptr), code, idx)
        if st:
            raise _capi.error(st, None, _capi.last_error_null())
        self._own(ptr, lib.gsgd_context_free)
        check(lib.gsgd_context_set_log(ptr, _capi.log_callback, None), ptr)
        global _said_why_cpu
        if code == 0 and self.device == "cpu" and not _said_why_cpu:
            why = _capi.last_error_null()
            if why:  # once per process: every estimator makes a context
                _capi.logger.info("device auto: running on the CPU (%s)", why)
                _said_why_cpu = True
        if mem_limit is not None:
            check(lib.gsgd_context_set_mem_limit(ptr, int(mem_limit)), ptr)

    @property
    def device(self):
        """"cpu" or "cuda": where the context runs."""
        return _DEVICE_NAMES[lib.gsgd_context_device(self._ptr)]

    def memory(self):
        """(bytes gsgd holds on the device now, peak since creation)."""
        a, b = c_size_t(), c_size_t()
        check(lib.gsgd_context_memory(self._ptr, byref(a), byref(b)), self._ptr)
        return a.value, b.value

    def info(self):
        """The build and the device, as `gsgd info` prints them."""
        buf = ctypes.create_string_buffer(8192)
        check(lib.gsgd_info(self._ptr, buf, len(buf)), self._ptr)
        return buf.value.decode(errors="replace")

    def set_stream(self, stream):
        """Runs the context's device work on a cudaStream_t (an int handle,
        e.g. torch.cuda.current_stream().cuda_stream or cupy's .ptr)."""
        check(lib.gsgd_context_set_stream(self._ptr, c_void_p(int(stream or 0))), self._ptr)



def host_array(a):
    """a as a NumPy array without a copy where it can be: NumPy arrays as
    they are, host DLPack producers through np.from_dlpack."""
    if not isinstance(a, np.ndarray) and hasattr(a, "__dlpack__") and \
            not hasattr(a, "__array__"):
        return np.from_dlpack(a)
    return np.asarray(a)


def _host_f32c(a, name):
    """C-contiguous float32 NumPy array: a itself when it already is one."""
    a = host_array(a)
    if a.dtype == np.float32 and a.flags.c_contiguous:
        return a, False
    return np.ascontiguousarray(a, dtype=np.float32), True


def _device_f32c(a, name):
    """The same for a CuPy array or PyTorch tensor on the device: a itself
    when it is C-contiguous float32, else one conversion on the device."""
    ref = array_ref(a)
    if ref.dtype == np.float32 and ref.c_contiguous:
        return a, False
    mod = type(a).__module__.split(".")[0]
    if mod == "cupy":
        import cupy
        return cupy.ascontiguousarray(a, dtype=cupy.float32), True
    if mod == "torch":
        import torch
        return a.detach().to(torch.float32).contiguous(), True
    raise TypeError(f"gsgd: {name} must be C-contiguous float32 device memory "
                    f"(got {ref.dtype}, contiguous={ref.c_contiguous})")


def _is_sparse(X):
    try:
        import scipy.sparse
    except ImportError:
        return False
    return scipy.sparse.issparse(X)


class Dataset(Handle):
    """n x d features and n targets (class indices 0..K-1 as float, or real
    values with n_classes=0) as a gsgd dataset, without a copy where the
    library allows: on the CPU a C-contiguous float32 X is read in place
    (gsgd_dataset_from_device over host memory); CUDA arrays (CuPy,
    PyTorch) are read in place on a CUDA context; host arrays on a CUDA
    context are copied to the device once (gsgd_dataset_from_host).
    A scipy.sparse matrix stays sparse (a CSR dataset): on the CPU its
    indices (int32 or int64) and float32 values are read in place
    (gsgd_dataset_from_device_csr); the row pointers become int64, the one
    type the library takes (n + 1 numbers). .copied says which: "none",
    "converted" (a conversion to C-contiguous float32, CSR, float32 values
    or int64 row pointers was made first) or "uploaded"."""

    def __init__(self, ctx, X, y, n_classes=0):
        self.ctx = ctx
        if _is_sparse(X):
            self._init_csr(ctx, X, y, n_classes)
            return
        from ._arrays import is_device_array
        dev = is_device_array(X)
        if dev != is_device_array(y):
            raise TypeError("gsgd: X and y must both be on the host or both on the device")
        if dev:
            if ctx.device != "cuda":
                raise TypeError("gsgd: X is in CUDA memory but the context runs on the CPU")
            X, cx = _device_f32c(X, "X")
            y, cy = _device_f32c(y, "y")
            # Once per dataset, not per step: the producer's pending writes.
            cuda_synchronize()
        else:
            X, cx = _host_f32c(X, "X")
            y, cy = _host_f32c(y, "y")
        xr, yr = array_ref(X), array_ref(y)
        if len(xr.shape) != 2 or len(yr.shape) != 1 or yr.shape[0] != xr.shape[0]:
            raise ValueError(f"gsgd: X must be n x d and y n long; got {xr.shape} and {yr.shape}")
        n, d = xr.shape
        out = c_void_p()
        if dev or ctx.device == "cpu":
            st = lib.gsgd_dataset_from_device(ctx.ptr, c_void_p(xr.ptr), c_void_p(yr.ptr), n, d,
                                              int(n_classes), byref(out))
            self.copied = "converted" if (cx or cy) else "none"
        else:
            st = lib.gsgd_dataset_from_host(ctx.ptr, c_void_p(xr.ptr), c_void_p(yr.ptr), n, d,
                                            int(n_classes), byref(out))
            self.copied = "uploaded"
        check(st, ctx.ptr)
        self._own(out, lib.gsgd_dataset_free, ctx)
        self._keep = (xr, yr)  # the arrays a wrapped dataset reads
        self.shape = (n, d)
        self.n_classes = int(n_classes)

    def _init_csr(self, ctx, X, y, n_classes):
        from ._arrays import is_device_array
        if is_device_array(y):
            raise TypeError("gsgd: a scipy.sparse X is in host memory, so y must be too")
        conv = X.format != "csr"
        X = X.tocsr()
        data, indices = X.data, X.indices
        if data.dtype != np.float32 or not data.flags.c_contiguous:
            data, conv = np.ascontiguousarray(data, dtype=np.float32), True
        if indices.dtype not in (np.int32, np.int64) or not indices.flags.c_contiguous:
            indices, conv = np.ascontiguousarray(indices, dtype=np.int64), True
        indptr = X.indptr
        if indptr.dtype != np.int64 or not indptr.flags.c_contiguous:
            indptr, conv = np.ascontiguousarray(indptr, dtype=np.int64), True
        y, cy = _host_f32c(y, "y")
        n, d = X.shape
        if y.ndim != 1 or y.shape[0] != n:
            raise ValueError(f"gsgd: X must be n x d and y n long; got {X.shape} and {y.shape}")
        it = 1 if indices.dtype == np.int64 else 0  # GSGD_INDEX_INT64 / INT32
        args = (ctx.ptr, n, d, c_void_p(indptr.ctypes.data), c_void_p(indices.ctypes.data), it,
                c_void_p(data.ctypes.data), c_void_p(y.ctypes.data), int(n_classes))
        out = c_void_p()
        if ctx.device == "cpu":
            st = lib.gsgd_dataset_from_device_csr(*args, byref(out))
            self.copied = "converted" if (conv or cy) else "none"
        else:
            st = lib.gsgd_dataset_from_csr(*args, byref(out))
            self.copied = "uploaded"
        check(st, ctx.ptr)
        self._own(out, lib.gsgd_dataset_free, ctx)
        self._keep = (indptr, indices, data, y)  # the arrays a wrapped dataset reads
        self.shape = (n, d)
        self.n_classes = int(n_classes)

    @property
    def sparse(self):
        """Whether the dataset holds CSR rows."""
        flag = c_int()
        check(lib.gsgd_dataset_sparse(self._ptr, byref(flag), None), self.ctx.ptr)
        return bool(flag.value)

    @classmethod
    def load(cls, ctx, spec):
        """(train, test) from a dataset spec of gsgd_dataset_load
        ("fashion-mnist", "csv:PATH:label=last", "synth:N,D,K"); test is
        None when the spec has none."""
        tr, te = c_void_p(), c_void_p()
        check(lib.gsgd_dataset_load(ctx.ptr, spec.encode(), byref(tr), byref(te)), ctx.ptr)
        return cls._wrap(ctx, tr), (cls._wrap(ctx, te) if te.value else None)

    @classmethod
    def _wrap(cls, ctx, ptr):
        self = cls.__new__(cls)
        self.ctx, self._keep, self.copied = ctx, None, "loaded"
        self._own(ptr, lib.gsgd_dataset_free, ctx)
        n, d, k = c_size_t(), c_size_t(), c_int()
        check(lib.gsgd_dataset_shape(ptr, byref(n), byref(d), byref(k)), ctx.ptr)
        self.shape, self.n_classes = (n.value, d.value), k.value
        return self




class Options(Handle):
    """A gsgd_options from {name: value}, names as gsgd_param_name gives
    them (those of the command line: "lr", "momentum", "optim", "batch",
    "beta1", "clip_norm", ...); values are numbers or, for enumerations,
    their names ("adam", "cosine", "sqrt", "skip", "fastest")."""

    ENUMS = {
        "optim": ["sgd", "momentum", "nesterov", "adam", "adamw", "adagrad", "rmsprop", "lars",
                  "lamb"],
        "schedule": ["constant", "step", "exponential", "cosine", "invscaling", "optimal",
                     "adaptive"],
        "lr_scaling": ["none", "linear", "sqrt"],
        "on_nan": ["stop", "skip"],
        "batch_policy": ["largest", "fastest"],
        "standardize": ["off", "on", "auto"],
        "precision": ["fp32", "tf32", "bf16"],
    }

    def __init__(self, values=None):
        ptr = c_void_p()
        check(lib.gsgd_options_create(byref(ptr)))
        self._own(ptr, lib.gsgd_options_free)
        for name, value in (values or {}).items():
            self[name] = value

    def __setitem__(self, name, value):
        if name not in _capi.PARAMS:
            raise ValueError(f"gsgd: unknown option {name!r}; known: {', '.join(_capi.PARAMS)}")
        if isinstance(value, str):
            choices = self.ENUMS.get(name)
            if not choices or value not in choices:
                raise ValueError(f"gsgd: option {name}={value!r}: expected "
                                 + (" | ".join(choices) if choices else "a number"))
            value = choices.index(value)
        if isinstance(value, bool) or not isinstance(value, (int, float, np.integer,
                                                              np.floating)):
            raise ValueError(f"gsgd: option {name} must be a number, got {value!r}")
        p = _capi.PARAMS[name]
        st = lib.gsgd_set(self._ptr, p, float(value))
        if st:
            lo, hi = c_double(), c_double()
            lib.gsgd_param_bounds(p, byref(lo), byref(hi), None)
            raise _capi.error(st, None, f"option {name}={value!r} is outside [{lo.value:g}, "
                              f"{hi.value:g}] or not an integer where one is needed")

    def __getitem__(self, name):
        v = c_double()
        check(lib.gsgd_get(self._ptr, _capi.PARAMS[name], byref(v)))
        return v.value




def _tmpdir():
    return tempfile.TemporaryDirectory(prefix="gsgd-")


class Model(Handle):
    """A gsgd model (spec "linear", "logistic", "softmax", "hinge" or
    "mlp:H1,H2,..") on a context. Pickles through gsgd's model file format
    (gsgd_model_save / gsgd_model_load), so a copy loads on any device."""

    def __init__(self, ctx, spec, n_features, n_classes, seed=0):
        ptr = c_void_p()
        check(lib.gsgd_model_create(ctx.ptr, spec.encode(), int(n_features), int(n_classes),
                                    int(seed) & (2**64 - 1), byref(ptr)), ctx.ptr)
        self.ctx = ctx
        self._own(ptr, lib.gsgd_model_free, ctx)

    @classmethod
    def load(cls, ctx, path):
        """A model file of gsgd_model_save, or a checkpoint's model."""
        ptr = c_void_p()
        check(lib.gsgd_model_load(ctx.ptr, os.fsencode(path), byref(ptr)), ctx.ptr)
        self = cls.__new__(cls)
        self.ctx = ctx
        self._own(ptr, lib.gsgd_model_free, ctx)
        return self

    def save(self, path):
        check(lib.gsgd_model_save(self._ptr, os.fsencode(path)), self.ctx.ptr)

    def to_bytes(self):
        with _tmpdir() as d:
            path = os.path.join(d, "model.gsgd")
            self.save(path)
            with open(path, "rb") as f:
                return f.read()

    @classmethod
    def from_bytes(cls, data, device="auto"):
        with _tmpdir() as d:
            path = os.path.join(d, "model.gsgd")
            with open(path, "wb") as f:
                f.write(data)
            return cls.load(Context(device), path)

    def __reduce__(self):
        return (_model_from_bytes, (self.to_bytes(), self.ctx.device))

    @property
    def shape(self):
        """(spec, n_features, n_classes)."""
        spec, d, k = c_char_p(), c_size_t(), c_int()
        check(lib.gsgd_model_shape(self._ptr, byref(spec), byref(d), byref(k)), self.ctx.ptr)
        return spec.value.decode(), d.value, k.value

    def params_ref(self):
        """(address, n, n_decay) of the flat parameter buffer, in the
        context's device memory (host memory on the CPU)."""
        p, n, nd = c_void_p(), c_size_t(), c_size_t()
        check(lib.gsgd_model_params(self._ptr, byref(p), byref(n), byref(nd)), self.ctx.ptr)
        return p.value, n.value, nd.value

    def params(self):
        """A host copy of the flat parameters (weights, then biases) and
        the length of the weights' part."""
        addr, n, nd = self.params_ref()
        out = np.empty(n, np.float32)
        if self.ctx.device == "cpu":
            out[:] = host_view(_HostRef(addr, (n,)))
        else:
            _cuda_download(out, addr)
        return out, nd

    def fit_standardizer(self, ds):
        check(lib.gsgd_model_fit_standardizer(self._ptr, ds.ptr), self.ctx.ptr)

    def standardizer(self):
        """(mean, inv_std), float32 arrays of n_features, when the model
        standardises its input (feature j read as (x_j - mean[j]) *
        inv_std[j]); None when it does not (gsgd_model_standardizer)."""
        d = self.shape[1]
        mean, inv = np.empty(d, np.float32), np.empty(d, np.float32)
        has = c_int()
        check(lib.gsgd_model_standardizer(self._ptr, c_void_p(mean.ctypes.data),
                                          c_void_p(inv.ctypes.data), byref(has)), self.ctx.ptr)
        return (mean, inv) if has.value else None

    def _rows_sparse(self, fn, X, cols):
        """fn's dataset form over scipy.sparse rows: the rows stay CSR."""
        n = X.shape[0]
        ds = Dataset(self.ctx, X, np.zeros(n, np.float32), 0)
        out = np.empty((n, cols), np.float32)
        check(fn(self._ptr, ds.ptr, c_void_p(out.ctypes.data)), self.ctx.ptr)
        return out

    def _rows(self, fn, X, cols):
        if _is_sparse(X):
            # gsgd_predict -> gsgd_predict_dataset, and so on
            return self._rows_sparse(getattr(lib, fn.__name__ + "_dataset"), X, cols)
        X, _ = _host_f32c(X, "X")
        n = X.shape[0]
        out = np.empty((n, cols), np.float32)
        check(fn(self._ptr, c_void_p(X.ctypes.data), n, c_void_p(out.ctypes.data)),
              self.ctx.ptr)
        return out

    def predict(self, X):
        """gsgd_predict: class indices (as float32) or regression values."""
        return self._rows(lib.gsgd_predict, X, 1)[:, 0]

    def decision_function(self, X, n_outputs):
        return self._rows(lib.gsgd_decision_function, X, n_outputs)

    def predict_proba(self, X, n_classes):
        return self._rows(lib.gsgd_predict_proba, X, n_classes)

    def evaluate(self, ds):
        r = _capi.EvalResult()
        check(lib.gsgd_evaluate(self._ptr, ds.ptr, byref(r)), self.ctx.ptr)
        return {"loss": r.loss, "accuracy": r.accuracy, "n": r.n}



def _model_from_bytes(data, device):
    try:
        return Model.from_bytes(data, device)
    except _capi.GsgdError as e:
        if device == "cpu" or e.name != "NO_DEVICE":
            raise
        # A model trained on a GPU unpickled where there is none.
        return Model.from_bytes(data, "auto")


class _HostRef:
    def __init__(self, ptr, shape):
        self.ptr, self.shape, self.dtype, self.device = ptr, shape, np.dtype(np.float32), "cpu"


_cudart = None


def cudart():
    """The CUDA runtime libgsgd is linked with (loaded already with it)."""
    global _cudart
    if _cudart is None:
        for name in ("libcudart.so.12", "libcudart.so.13", "libcudart.so.11.0", "libcudart.so"):
            try:
                _cudart = ctypes.CDLL(name)
                break
            except OSError:
                continue
        else:
            raise RuntimeError("gsgd: the CUDA runtime library is not loadable")
    return _cudart


def cuda_synchronize():
    """Waits for all work on the device: what __cuda_array_interface__ asks
    of a consumer before reading an array another library just wrote."""
    st = cudart().cudaDeviceSynchronize()
    if st != 0:
        raise RuntimeError(f"gsgd: cudaDeviceSynchronize failed (CUDA error {st})")


def _cuda_download(out, addr):
    """Copies device memory at addr into the host array out (cudaMemcpy,
    after the device is idle)."""
    cuda_synchronize()
    st = cudart().cudaMemcpy(c_void_p(out.ctypes.data), c_void_p(addr), c_size_t(out.nbytes),
                             c_int(2))  # cudaMemcpyDeviceToHost
    if st != 0:
        raise RuntimeError(f"gsgd: reading the parameters from the GPU failed (CUDA error {st})")
