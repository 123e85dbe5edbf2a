"""Trainers, plans and the fused optimizer over caller buffers."""

import math
import os
from ctypes import byref, c_char_p, c_double, c_int, c_size_t, c_void_p

from . import _capi
from ._arrays import array_ref
from ._capi import check, lib
from ._core import Handle, Options

__all__ = ["Trainer", "plan_dict", "Optimizer", "checkpoint_options"]


def plan_dict(plan_ptr):
    """A gsgd_batch_plan as a dict: the batch, why, the memory model's
    totals, the budget's sources, every line of the memory table and the
    throughput curve of batch_policy="fastest"."""
    p = plan_ptr
    d = {k: getattr(lib, f"gsgd_plan_{k}")(p)
         for k in ("batch", "max_fit", "budget", "fixed", "per_sample", "predicted", "measured")}
    d["reason"] = lib.gsgd_plan_reason(p).decode(errors="replace")
    d["lr"] = lib.gsgd_plan_lr(p)
    d["seconds"] = lib.gsgd_plan_seconds(p)
    free, total, cap, headroom = (c_size_t() for _ in range(4))
    check(lib.gsgd_plan_memory(p, byref(free), byref(total), byref(cap), byref(headroom)))
    d["memory"] = {"free": free.value, "total": total.value, "cap": cap.value,
                   "headroom": headroom.value}
    items = []
    for i in range(lib.gsgd_plan_item_count(p)):
        name, nbytes, per, res = c_char_p(), c_size_t(), c_int(), c_int()
        check(lib.gsgd_plan_item(p, i, byref(name), byref(nbytes), byref(per), byref(res)))
        items.append({"name": name.value.decode(), "bytes": nbytes.value,
                      "per_sample": bool(per.value), "resident": bool(res.value)})
    d["items"] = items
    curve = []
    for i in range(lib.gsgd_plan_curve_count(p)):
        b, sps = c_size_t(), c_double()
        check(lib.gsgd_plan_curve(p, i, byref(b), byref(sps)))
        curve.append({"batch": b.value, "samples_per_second": sps.value})
    d["curve"] = curve
    return d


class _Callback:
    """gsgd_progress_fn around a Python callable(dict) -> bool (True stops).
    An exception in it (KeyboardInterrupt included: Ctrl-C lands here,
    where Python code runs) stops training and is raised again after
    gsgd_train returns, so it is never lost in a C frame."""

    def __init__(self, fn):
        self.fn, self.exc, self.stopped, self.last = fn, None, False, None
        self.c = _capi.PROGRESS_FN(self._call)

    def _call(self, p, user):
        try:
            q = p.contents
            info = {name: getattr(q, name) for name, _ in _capi.Progress._fields_}
            info["epoch_done"] = bool(info["epoch_done"])
            self.last = info
            if self.fn is not None and self.fn(info):
                self.stopped = True
                return 1
            return 0
        except BaseException as e:  # noqa: B036 - re-raised by Trainer.train
            self.exc = e
            return 1


class Trainer(Handle):
    """gsgd_trainer_create(model, dataset, options): every buffer a step
    needs, allocated once (the batch planned when options' batch is 0)."""

    def __init__(self, model, dataset, options):
        if not isinstance(options, Options):
            options = Options(options)
        ptr = c_void_p()
        check(lib.gsgd_trainer_create(model.ptr, dataset.ptr, options.ptr, byref(ptr)),
              model.ctx.ptr)
        self.model, self.dataset, self.options = model, dataset, options
        self._own(ptr, lib.gsgd_trainer_free, model, dataset)

    @property
    def ctx(self):
        return self.model.ctx

    def plan(self):
        p = c_void_p()
        check(lib.gsgd_trainer_plan(self._ptr, byref(p)), self.ctx.ptr)
        return plan_dict(p)

    def train(self, test=None, callback=None):
        """gsgd_train: up to the options' epochs. callback(dict) is called
        every check_every steps and at each epoch end (dict["epoch_done"]);
        returning True stops training. Returns the gsgd_train_result as a
        dict; after a stop by the callback, "stopped_by_callback" is True
        and the other figures are those of the last report."""
        cb = _Callback(callback)
        res = _capi.TrainResult()
        st = lib.gsgd_train(self._ptr, test.ptr if test is not None else None, cb.c, None,
                            byref(res))
        if cb.exc is not None:
            raise cb.exc
        if st == 7 and cb.stopped:  # GSGD_STATUS_INTERRUPTED by the callback
            last = cb.last or {}
            return {"epochs": last.get("epoch", 0) - (0 if last.get("epoch_done") else 1),
                    "train_loss": last.get("loss", math.nan),
                    "seconds": last.get("seconds", math.nan), "stopped_by_callback": True,
                    "stopped_early": 0, "steps": None, "batch": None}
        check(st, self.ctx.ptr)
        out = res.as_dict()
        out["stopped_by_callback"] = False
        return out

    def train_epoch(self):
        loss = c_double()
        check(lib.gsgd_train_epoch(self._ptr, byref(loss)), self.ctx.ptr)
        return loss.value

    def evaluate(self, ds):
        r = _capi.EvalResult()
        check(lib.gsgd_trainer_evaluate(self._ptr, ds.ptr, byref(r)), self.ctx.ptr)
        return {"loss": r.loss, "accuracy": r.accuracy, "n": r.n}

    def save(self, path):
        """A checkpoint of the whole run (gsgd_trainer_save)."""
        check(lib.gsgd_trainer_save(self._ptr, os.fsencode(path)), self.ctx.ptr)

    def resume(self, path):
        """Restores a checkpoint: the next train continues it bit for bit."""
        check(lib.gsgd_trainer_resume(self._ptr, os.fsencode(path)), self.ctx.ptr)

    def resume_new_data(self, path):
        """Takes a checkpoint's run onto this trainer's (other) data
        (gsgd_trainer_resume_new_data): parameters, optimizer state and
        counters go on; the next epoch starts fresh over these rows."""
        check(lib.gsgd_trainer_resume_new_data(self._ptr, os.fsencode(path)), self.ctx.ptr)

    def set_data(self, dataset):
        """Goes on over another dataset (gsgd_trainer_set_data): the next
        train draws from it, with the optimizer state, step and epoch counts
        where this trainer left them. The previous dataset is let go."""
        check(lib.gsgd_trainer_set_data(self._ptr, dataset.ptr), self.ctx.ptr)
        old = self.dataset
        dataset._users += 1
        self._deps = tuple(dataset if d is old else d for d in self._deps)
        self.dataset = dataset
        old._release()



def checkpoint_options(path):
    """(Options, epochs_done, epoch_step) of a checkpoint: what a trainer
    needs before resume()."""
    opts = Options()
    e, s = c_int(), c_size_t()
    st = lib.gsgd_checkpoint_options(None, os.fsencode(path), opts.ptr, byref(e), byref(s))
    if st:
        raise _capi.error(st, None, _capi.last_error_null())
    return opts, e.value, s.value


class Optimizer(Handle):
    """gsgd's fused in-place update over buffers of the caller's:
    step(params, grads) computes params -= lr * direction(grads) with the
    rule's state kept here, in one pass (one kernel on CUDA). params and
    grads are flat float32 buffers of n elements: NumPy arrays on a CPU
    context, CUDA arrays (CuPy, PyTorch through __cuda_array_interface__ or
    DLPack) on a CUDA one. Nothing is copied: params change in place.

    Options as gsgd's: optimizer ("sgd", "momentum", "nesterov", "adam",
    "adamw", "adagrad", "rmsprop", "lars", "lamb"), lr, momentum,
    weight_decay, and any other by name in options."""

    def __init__(self, n, optimizer="sgd", lr=None, momentum=None, weight_decay=None,
                 context=None, device="auto", options=None):
        from ._core import Context
        self.ctx = context if context is not None else Context(device)
        values = dict(options or {})
        values["optim"] = optimizer
        for name, v in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if v is not None:
                values[name] = v
        self.options = Options(values)
        self.n = int(n)
        ptr = c_void_p()
        check(lib.gsgd_optimizer_create(self.ctx.ptr, self.options.ptr, self.n, byref(ptr)),
              self.ctx.ptr)
        self._own(ptr, lib.gsgd_optimizer_free, self.ctx)

    def step(self, params, grads, stream=None):
        """One update. On CUDA it is enqueued on stream (an int
        cudaStream_t such as torch.cuda.current_stream().cuda_stream; None:
        the context's) and returns without waiting."""
        p, g = array_ref(params), array_ref(grads)
        want = "cuda" if self.ctx.device == "cuda" else "cpu"
        for name, r in (("params", p), ("grads", g)):
            if r.device != want:
                raise TypeError(f"gsgd: {name} is in {r.device} memory but the optimizer runs "
                                f"on the {want}")
            if r.dtype != "float32" or not r.c_contiguous:
                raise TypeError(f"gsgd: {name} must be a contiguous float32 buffer, got "
                                f"{r.dtype}")
            size = 1
            for s in r.shape:
                size *= s
            if size != self.n:
                raise ValueError(f"gsgd: {name} has {size} elements, the optimizer {self.n}")
        if getattr(getattr(params, "flags", None), "writeable", True) is False:
            raise ValueError("gsgd: params is read-only")
        check(lib.gsgd_optimizer_step(self._ptr, c_void_p(p.ptr), c_void_p(g.ptr), self.n,
                                      c_void_p(int(stream or 0))), self.ctx.ptr)

