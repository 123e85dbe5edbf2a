"""The C API of libgsgd (include/gsgd.h) through ctypes: prototypes, statuses
turned into exceptions, and the library's log sent to Python's logging.

Every call below is a coarse one (create a model, train, predict a block of
rows), so ctypes' cost of about a microsecond a call is lost in the work;
arrays cross as pointers, never as copies. ctypes releases the GIL during a
call, so other Python threads run while gsgd trains.
"""

import ctypes
import logging
import os
from ctypes import (CFUNCTYPE, POINTER, Structure, c_char_p, c_double, c_float, c_int,
                    c_size_t, c_uint, c_uint64, c_void_p)

__all__ = ["lib", "check", "GsgdError", "STATUS_NAMES", "log_callback", "Progress",
           "TrainResult", "EvalResult", "PROGRESS_FN"]

_HERE = os.path.dirname(os.path.abspath(__file__))


def _load():
    # GSGD_LIBRARY points at another build (a development tree's
    # build/libgsgd.so); the installed package carries its own copy.
    path = os.environ.get("GSGD_LIBRARY") or os.path.join(_HERE, "libgsgd.so")
    try:
        return ctypes.CDLL(path)
    except OSError as e:
        raise ImportError(
            f"gsgd: cannot load the gsgd library from {path}: {e}. Reinstall the package "
            "(pip install .) or set GSGD_LIBRARY to a built libgsgd.so") from e


lib = _load()

logger = logging.getLogger("gsgd")


# --- statuses and exceptions --------------------------------------------------
class GsgdError(Exception):
    """A gsgd status other than OK: .status (the number), .name ("BAD_FORMAT")
    and the library's detail in the message. Raised as one of the subclasses
    below, which are also ValueError, MemoryError, OSError or RuntimeError."""

    def __init__(self, status, name, detail):
        self.status, self.name, self.detail = status, name, detail
        super().__init__(f"gsgd: {name}: {detail}")


class GsgdValueError(GsgdError, ValueError):
    pass


class GsgdMemoryError(GsgdError, MemoryError):
    pass


class GsgdOSError(GsgdError, OSError):
    pass


class GsgdRuntimeError(GsgdError, RuntimeError):
    pass


# Statuses of the caller's data or arguments are ValueErrors (scikit-learn's
# convention for bad input), allocation failures MemoryErrors, files (one that
# cannot be read or written, a write that failed: disk full) OSErrors;
# the rest (divergence, devices, internal) RuntimeErrors.
_KIND = {1: GsgdValueError, 2: GsgdValueError, 3: GsgdValueError, 4: GsgdValueError,
         5: GsgdMemoryError, 100: GsgdOSError, 101: GsgdValueError, 102: GsgdValueError,
         103: GsgdValueError, 104: GsgdOSError, 202: GsgdMemoryError}


def _proto(name, restype, *argtypes):
    f = getattr(lib, name)
    f.restype, f.argtypes = restype, list(argtypes)
    return f


_proto("gsgd_status_name", c_char_p, c_int)
_proto("gsgd_status_string", c_char_p, c_int)
_proto("gsgd_last_error", c_char_p, c_void_p)

STATUS_NAMES = {}
for _s in (0, 1, 2, 3, 4, 5, 6, 7, 100, 101, 102, 103, 104, 200, 201, 202, 999):
    STATUS_NAMES[_s] = lib.gsgd_status_name(_s).decode()


def error(status, ctx=None, detail=None):
    """The exception for a status, with gsgd_last_error(ctx)'s detail."""
    name = lib.gsgd_status_name(status).decode()
    if detail is None:
        detail = lib.gsgd_last_error(ctx).decode(errors="replace")
    if not detail:
        detail = lib.gsgd_status_string(status).decode()
    return _KIND.get(status, GsgdRuntimeError)(status, name, detail)


def check(status, ctx=None):
    """Raises for a status other than OK; ctx (a gsgd_context pointer or
    None) gives the detail. Call it right after the failing call: the
    detail is valid until the next call on ctx."""
    if status != 0:
        raise error(status, ctx)


# --- structs of gsgd.h ---------------------------------------------------------
class EvalResult(Structure):
    _fields_ = [("loss", c_double), ("accuracy", c_double), ("n", c_size_t)]


class Progress(Structure):
    _fields_ = [("epoch", c_int), ("epochs", c_int), ("step", c_size_t), ("steps", c_size_t),
                ("loss", c_double), ("samples_per_second", c_double), ("seconds", c_double),
                ("epoch_done", c_int), ("test_accuracy", c_double), ("lr", c_double)]


class TrainResult(Structure):
    _fields_ = [("epochs", c_int), ("steps", c_size_t), ("batch", c_size_t),
                ("train_loss", c_double), ("test_accuracy", c_double), ("test_loss", c_double),
                ("seconds", c_double), ("samples_per_second", c_double),
                ("time_to_target_s", c_double), ("lr", c_double), ("skipped_steps", c_size_t),
                ("stopped_early", c_int), ("validation_accuracy", c_double),
                ("samples_per_second_warm", c_double), ("stop_reason", c_int),
                ("cooldown_epochs", c_int), ("train_seconds", c_double),
                ("eval_seconds", c_double)]

    # gsgd_stop_reason, by value
    STOP_REASONS = ["epochs", "converged", "max_epochs", "target", "no_improvement", "lr_floor"]

    def as_dict(self):
        d = {name: getattr(self, name) for name, _ in self._fields_}
        r = d["stop_reason"]
        d["stop_reason"] = self.STOP_REASONS[r] if 0 <= r < len(self.STOP_REASONS) else r
        return d


PROGRESS_FN = CFUNCTYPE(c_int, POINTER(Progress), c_void_p)
LOG_FN = CFUNCTYPE(None, c_int, c_char_p, c_void_p)

# --- functions -------------------------------------------------------------------
P = c_void_p
_S = c_int  # gsgd_status
_proto("gsgd_version", c_uint)
_proto("gsgd_version_string", c_char_p)
_proto("gsgd_context_create", _S, POINTER(P), c_int, c_int)
_proto("gsgd_context_free", None, P)
_proto("gsgd_context_device", c_int, P)
_proto("gsgd_context_set_stream", _S, P, P)
_proto("gsgd_context_set_log", _S, P, LOG_FN, P)
_proto("gsgd_context_set_mem_limit", _S, P, c_size_t)
_proto("gsgd_context_memory", _S, P, POINTER(c_size_t), POINTER(c_size_t))
_proto("gsgd_info", _S, P, c_char_p, c_size_t)
_proto("gsgd_dataset_from_host", _S, P, P, P, c_size_t, c_size_t, c_int, POINTER(P))
_proto("gsgd_dataset_from_device", _S, P, P, P, c_size_t, c_size_t, c_int, POINTER(P))
_proto("gsgd_dataset_from_csr", _S, P, c_size_t, c_size_t, P, P, c_int, P, P, c_int, POINTER(P))
_proto("gsgd_dataset_from_device_csr", _S, P, c_size_t, c_size_t, P, P, c_int, P, P, c_int,
       POINTER(P))
_proto("gsgd_dataset_sparse", _S, P, POINTER(c_int), POINTER(c_size_t))
_proto("gsgd_dataset_load", _S, P, c_char_p, POINTER(P), POINTER(P))
_proto("gsgd_dataset_shape", _S, P, POINTER(c_size_t), POINTER(c_size_t), POINTER(c_int))
_proto("gsgd_dataset_free", None, P)
_proto("gsgd_model_create", _S, P, c_char_p, c_size_t, c_int, c_uint64, POINTER(P))
_proto("gsgd_model_free", None, P)
_proto("gsgd_model_params", _S, P, POINTER(P), POINTER(c_size_t), POINTER(c_size_t))
_proto("gsgd_model_fit_standardizer", _S, P, P)
_proto("gsgd_model_standardizer", _S, P, P, P, P)
_proto("gsgd_predict", _S, P, P, c_size_t, P)
_proto("gsgd_decision_function", _S, P, P, c_size_t, P)
_proto("gsgd_predict_proba", _S, P, P, c_size_t, P)
_proto("gsgd_predict_dataset", _S, P, P, P)
_proto("gsgd_decision_function_dataset", _S, P, P, P)
_proto("gsgd_predict_proba_dataset", _S, P, P, P)
_proto("gsgd_evaluate", _S, P, P, POINTER(EvalResult))
_proto("gsgd_model_save", _S, P, c_char_p)
_proto("gsgd_model_load", _S, P, c_char_p, POINTER(P))
_proto("gsgd_model_shape", _S, P, POINTER(c_char_p), POINTER(c_size_t), POINTER(c_int))
_proto("gsgd_options_create", _S, POINTER(P))
_proto("gsgd_options_free", None, P)
_proto("gsgd_set", _S, P, c_int, c_double)
_proto("gsgd_get", _S, P, c_int, POINTER(c_double))
_proto("gsgd_param_bounds", _S, c_int, POINTER(c_double), POINTER(c_double), POINTER(c_double))
_proto("gsgd_param_name", c_char_p, c_int)
_proto("gsgd_plan", _S, P, P, P, P, POINTER(P))
_proto("gsgd_plan_free", None, P)
for _name in ("batch", "max_fit", "budget", "fixed", "per_sample", "predicted", "measured"):
    _proto(f"gsgd_plan_{_name}", c_size_t, P)
_proto("gsgd_plan_reason", c_char_p, P)
_proto("gsgd_plan_lr", c_double, P)
_proto("gsgd_plan_seconds", c_double, P)
_proto("gsgd_plan_memory", _S, P, POINTER(c_size_t), POINTER(c_size_t), POINTER(c_size_t),
       POINTER(c_size_t))
_proto("gsgd_plan_item_count", c_int, P)
_proto("gsgd_plan_item", _S, P, c_int, POINTER(c_char_p), POINTER(c_size_t), POINTER(c_int),
       POINTER(c_int))
_proto("gsgd_plan_curve_count", c_int, P)
_proto("gsgd_plan_curve", _S, P, c_int, POINTER(c_size_t), POINTER(c_double))
_proto("gsgd_trainer_create", _S, P, P, P, POINTER(P))
_proto("gsgd_trainer_free", None, P)
_proto("gsgd_trainer_plan", _S, P, POINTER(P))
_proto("gsgd_train_epoch", _S, P, POINTER(c_double))
_proto("gsgd_train", _S, P, P, PROGRESS_FN, P, POINTER(TrainResult))
_proto("gsgd_trainer_evaluate", _S, P, P, POINTER(EvalResult))
_proto("gsgd_trainer_save", _S, P, c_char_p)
_proto("gsgd_trainer_resume", _S, P, c_char_p)
_proto("gsgd_trainer_resume_new_data", _S, P, c_char_p)
_proto("gsgd_trainer_set_data", _S, P, P)
_proto("gsgd_checkpoint_options", _S, P, c_char_p, P, POINTER(c_int), POINTER(c_size_t))
_proto("gsgd_optimizer_create", _S, P, P, c_size_t, POINTER(P))
_proto("gsgd_optimizer_free", None, P)
_proto("gsgd_optimizer_step", _S, P, P, P, c_size_t, P)

# Parameter names as gsgd_param_name gives them ("weight_decay" -> 2).
PARAMS = {}
for _p in range(256):
    _n = lib.gsgd_param_name(_p)
    if _n is None:
        break
    PARAMS[_n.decode()] = _p


# --- the library's log ----------------------------------------------------------
def _on_log(level, message, user):
    # Runs on the calling thread during the gsgd call that logs.
    logger.log(logging.WARNING if level == 1 else logging.INFO, "%s",
               message.decode(errors="replace"))


# One callback object for every context, alive as long as the module.
log_callback = LOG_FN(_on_log)


def last_error_null():
    """gsgd_last_error(NULL): why this thread's last context creation failed
    or fell back to the CPU."""
    return lib.gsgd_last_error(None).decode(errors="replace")


def as_float_ptr(addr):
    return ctypes.cast(c_void_p(addr), POINTER(c_float))
