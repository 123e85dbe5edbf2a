"""Arrays into pointers the library can use, without a copy where it allows.

libgsgd reads features as n x d row-major float32 and targets as n float32,
either on the host (gsgd_dataset_from_host copies them to the device; on the
CPU backend gsgd_dataset_from_device wraps host memory as it is) or in the
context's device memory (gsgd_dataset_from_device, no copy). So:

- a C-contiguous float32 NumPy array is used in place;
- Fortran order, float64, uint8 or other dtypes need one conversion to
  C-contiguous float32 (the layout the library reads), made once per call;
- device arrays come through __cuda_array_interface__ (CuPy, PyTorch, Numba)
  or DLPack (__dlpack__), zero copy when they are C-contiguous float32.
"""

import ctypes
from dataclasses import dataclass, field

import numpy as np

__all__ = ["ArrayRef", "array_ref", "is_device_array", "host_view"]

# DLPack (dlpack.h, version 0.x "dltensor" capsules).
_DL_CPU, _DL_CUDA, _DL_CUDA_HOST, _DL_CUDA_MANAGED = 1, 2, 3, 13


class _DLDevice(ctypes.Structure):
    _fields_ = [("device_type", ctypes.c_int32), ("device_id", ctypes.c_int32)]


class _DLDataType(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint8), ("bits", ctypes.c_uint8), ("lanes", ctypes.c_uint16)]


class _DLTensor(ctypes.Structure):
    _fields_ = [("data", ctypes.c_void_p), ("device", _DLDevice), ("ndim", ctypes.c_int32),
                ("dtype", _DLDataType), ("shape", ctypes.POINTER(ctypes.c_int64)),
                ("strides", ctypes.POINTER(ctypes.c_int64)), ("byte_offset", ctypes.c_uint64)]


class _DLManagedTensor(ctypes.Structure):
    _fields_ = [("dl_tensor", _DLTensor), ("manager_ctx", ctypes.c_void_p),
                ("deleter", ctypes.c_void_p)]


_capsule_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_capsule_pointer.restype = ctypes.c_void_p
_capsule_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]

_DL_CODES = {(0, 8): np.int8, (0, 16): np.int16, (0, 32): np.int32, (0, 64): np.int64,
             (1, 8): np.uint8, (1, 16): np.uint16, (1, 32): np.uint32, (1, 64): np.uint64,
             (2, 16): np.float16, (2, 32): np.float32, (2, 64): np.float64}


@dataclass
class ArrayRef:
    """Where an array's data is: pointer, shape, dtype, whether it is
    C-contiguous, and "cpu" or "cuda". keep holds what must stay alive while
    the pointer is used (the array, a DLPack capsule)."""
    ptr: int
    shape: tuple
    dtype: np.dtype
    c_contiguous: bool
    device: str
    device_id: int = 0
    stream: object = None
    keep: list = field(default_factory=list)


def _c_strides(shape, itemsize):
    strides, s = [], itemsize
    for n in reversed(shape):
        strides.append(s)
        s *= n
    return tuple(reversed(strides))


def _contiguous(shape, strides, itemsize):
    if strides is None:
        return True
    # Strides of dimensions of length 1 do not matter.
    want = _c_strides(shape, itemsize)
    return all(n == 1 or a == b for n, a, b in zip(shape, strides, want))


def _from_cai(a):
    cai = a.__cuda_array_interface__
    shape = tuple(int(n) for n in cai["shape"])
    dtype = np.dtype(cai["typestr"])
    ptr = int(cai["data"][0] or 0)
    strides = cai.get("strides")
    return ArrayRef(ptr, shape, dtype, _contiguous(shape, strides, dtype.itemsize), "cuda",
                    stream=cai.get("stream"), keep=[a])


def _from_dlpack(a):
    dev_type, dev_id = a.__dlpack_device__()
    capsule = a.__dlpack__()
    # The capsule keeps its name, so its own destructor releases the
    # tensor when it is collected: ArrayRef.keep holds it until then.
    managed = _DLManagedTensor.from_address(_capsule_pointer(capsule, b"dltensor"))
    t = managed.dl_tensor
    key = (t.dtype.code, t.dtype.bits)
    if t.dtype.lanes != 1 or key not in _DL_CODES:
        raise TypeError(f"gsgd: DLPack dtype code {t.dtype.code} bits {t.dtype.bits} "
                        f"lanes {t.dtype.lanes} is not supported")
    dtype = np.dtype(_DL_CODES[key])
    shape = tuple(t.shape[i] for i in range(t.ndim))
    strides = None
    if t.strides:
        # DLPack strides count elements; ours count bytes.
        strides = tuple(t.strides[i] * dtype.itemsize for i in range(t.ndim))
    if t.device.device_type in (_DL_CPU, _DL_CUDA_HOST):
        device = "cpu"
    elif t.device.device_type in (_DL_CUDA, _DL_CUDA_MANAGED):
        device = "cuda"
    else:
        raise TypeError(f"gsgd: DLPack device type {t.device.device_type} is neither the CPU "
                        "nor CUDA")
    return ArrayRef((t.data or 0) + t.byte_offset, shape, dtype,
                    _contiguous(shape, strides, dtype.itemsize), device, int(dev_id),
                    keep=[a, capsule])


def is_device_array(a):
    """True for arrays in CUDA memory (they are not NumPy arrays)."""
    if isinstance(a, np.ndarray):
        return False
    if hasattr(a, "__cuda_array_interface__"):
        return True
    if hasattr(a, "__dlpack_device__"):
        try:
            return a.__dlpack_device__()[0] in (_DL_CUDA, _DL_CUDA_MANAGED)
        except Exception:  # a producer that cannot tell
            return False
    return False


def _detach(a):
    # A PyTorch tensor that requires grad refuses to export its memory;
    # gsgd only reads (or updates in place, as an optimizer does) the data.
    if type(a).__module__.startswith("torch") and getattr(a, "requires_grad", False):
        return a.detach()
    return a


def array_ref(a):
    """An ArrayRef for a NumPy array, a __cuda_array_interface__ or a DLPack
    producer, without copying it."""
    a = _detach(a)
    if isinstance(a, np.ndarray):
        return ArrayRef(a.ctypes.data, a.shape, a.dtype, a.flags.c_contiguous, "cpu", keep=[a])
    if hasattr(a, "__cuda_array_interface__"):
        return _from_cai(a)
    if hasattr(a, "__dlpack__"):
        return _from_dlpack(a)
    raise TypeError(f"gsgd: expected a NumPy array, or an array with __cuda_array_interface__ "
                    f"or __dlpack__, got {type(a).__name__}")


def host_view(ref):
    """A NumPy array over a host ArrayRef's memory (no copy)."""
    if ref.device != "cpu":
        raise TypeError("gsgd: not host memory")
    n = int(np.prod(ref.shape)) if ref.shape else 1
    if n == 0:
        return np.empty(ref.shape, ref.dtype)
    buf = (ctypes.c_char * (n * ref.dtype.itemsize)).from_address(ref.ptr)
    out = np.frombuffer(buf, dtype=ref.dtype).reshape(ref.shape)
    return out
