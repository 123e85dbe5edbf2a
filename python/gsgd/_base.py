"""What the four estimators share: scikit-learn's input validation, gsgd's
options from the constructor's parameters, and fit / partial_fit as a
handful of library calls (context, model, dataset, trainer, train)."""

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from ._arrays import is_device_array
from ._core import Context, Dataset, Model, Options, host_array, parse_mem_limit
from ._progress import ProgressBar
from ._train import Trainer, checkpoint_options

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # scikit-learn 1.2 - 1.5

    def _validate_data(est, *args, **kwargs):
        return est._validate_data(*args, **kwargs)


def _is_sparse(X):
    import scipy.sparse
    return scipy.sparse.issparse(X)


def _xp(a):
    """The array module of a device array: cupy or torch."""
    mod = type(a).__module__.split(".")[0]
    if mod == "cupy":
        import cupy
        return cupy
    if mod == "torch":
        import torch
        return torch
    raise TypeError(f"gsgd: device arrays of {mod} are not supported (CuPy and PyTorch are)")


def _to_host(a):
    """A device array's host copy (the library's predict reads host rows)."""
    if type(a).__module__.split(".")[0] == "torch":
        return a.detach().cpu().numpy()
    return _xp(a).asnumpy(a)


class GsgdEstimator(BaseEstimator):
    """Base of gsgd's estimators (not for direct use)."""

    _is_classifier = False

    def __sklearn_tags__(self):  # scikit-learn >= 1.6 asks; older ones take sparse X as is
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # scipy.sparse X trains as CSR
        return tags

    # --- options ------------------------------------------------------------
    def _seed(self):
        rs = self.random_state
        if isinstance(rs, (int, np.integer)) and not isinstance(rs, bool):
            if rs < 0:
                raise ValueError(f"random_state must be non-negative, got {rs}")
            return int(rs)  # as `gsgd train --seed`: one seed for init and shuffle
        return int(check_random_state(rs).randint(0, 2**31 - 1))

    def _epochs(self):
        """The library's EPOCHS: "auto" is 0 (until the loss stops improving by
        tol, at most options' max_epochs, 1000 by default)."""
        e = self.epochs
        if isinstance(e, str) and e == "auto":
            return 0
        if isinstance(e, (int, np.integer)) and not isinstance(e, bool) and e > 0:
            return int(e)
        raise ValueError(f"epochs must be 'auto' or a positive integer, got {e!r}")

    def _standardize(self):
        """The library's STANDARDIZE for the first fit: True "on", False "off",
        "auto" when the features' scales differ (gsgd_model_standardize)."""
        s = self.standardize
        if isinstance(s, str) and s == "auto":
            return "auto"
        if isinstance(s, (bool, np.bool_)):
            return "on" if s else "off"
        raise ValueError(f"standardize must be True, False or 'auto', got {s!r}")

    def _option_values(self, epochs, seed):
        v = {"optim": self.optimizer, "schedule": self.schedule, "epochs": epochs, "seed": seed,
             "standardize": self._standardize()}
        for name in ("lr", "momentum", "weight_decay"):
            if getattr(self, name) is not None:
                v[name] = getattr(self, name)
        bs = self.batch_size
        if isinstance(bs, str):
            if bs not in ("auto", "fastest"):
                raise ValueError(f"batch_size must be 'auto', 'fastest' or a positive integer, "
                                 f"got {bs!r}")
            v["batch"], v["batch_policy"] = 0, ("largest" if bs == "auto" else "fastest")
        elif isinstance(bs, (int, np.integer)) and not isinstance(bs, bool) and bs > 0:
            v["batch"] = int(bs)
        else:
            raise ValueError(f"batch_size must be 'auto', 'fastest' or a positive integer, got "
                             f"{bs!r}")
        v["tol"] = 0.0 if self.tol is None else self.tol
        v["n_iter_no_change"] = self.n_iter_no_change
        v["validation_fraction"] = self.validation_fraction
        v.update(parse_mem_limit(self.mem_limit))
        if self.options is not None:
            if not isinstance(self.options, dict):
                raise ValueError(f"options must be a dict of gsgd options, got "
                                 f"{type(self.options).__name__}")
            v.update(self.options)
        return v

    # --- input ----------------------------------------------------------------
    def _check_X(self, X, reset):
        if is_device_array(X):
            return self._check_device_X(X, reset)
        if _is_sparse(X):  # kept sparse: CSR with float32 values (scikit-learn's checks)
            return _validate_data(self, X, reset=reset, accept_sparse="csr", dtype=np.float32)
        if hasattr(X, "__dlpack__") and not hasattr(X, "__array__"):
            X = host_array(X)
        return _validate_data(self, X, reset=reset, dtype=np.float32, order="C")

    def _check_device_X(self, X, reset):
        xp = _xp(X)
        if X.ndim != 2:
            raise ValueError(f"Expected a 2D array, got {X.ndim}D")
        if X.shape[0] < 1 or X.shape[1] < 1:
            raise ValueError(f"Found array with shape {tuple(X.shape)}; need at least one "
                             "sample and one feature")
        if not bool(xp.isfinite(X).all()):
            raise ValueError("Input X contains NaN or infinity.")
        if reset:
            self.n_features_in_ = int(X.shape[1])
        elif X.shape[1] != self.n_features_in_:
            raise ValueError(f"X has {X.shape[1]} features, but {type(self).__name__} is "
                             f"expecting {self.n_features_in_} features as input.")
        return X

    def _check_Xy(self, X, y, reset):
        if is_device_array(X):
            X = self._check_device_X(X, reset)
            if not is_device_array(y):
                raise TypeError("gsgd: X is on the device, so y must be too")
            if y.ndim != 1 or y.shape[0] != X.shape[0]:
                raise ValueError(f"y must be 1D with {X.shape[0]} entries, got shape "
                                 f"{tuple(y.shape)}")
            return X, y
        if _is_sparse(X):
            return _validate_data(self, X, y, reset=reset, accept_sparse="csr", dtype=np.float32,
                                  y_numeric=not self._is_classifier)
        if hasattr(X, "__dlpack__") and not hasattr(X, "__array__"):
            X = host_array(X)
        return _validate_data(self, X, y, reset=reset, dtype=np.float32, order="C",
                              y_numeric=not self._is_classifier)

    def _host_rows(self, X):
        """X validated for prediction, as host C-contiguous float32 rows."""
        check_is_fitted(self)
        X = self._check_X(X, reset=False)
        return _to_host(X) if is_device_array(X) else X

    # --- training ---------------------------------------------------------------
    def _progress(self, trainer_box, epoch0, open_epochs):
        bar = ProgressBar(open_epochs=open_epochs) if self.verbose else None
        user = self.callback
        every = self.checkpoint_every or 0

        def on_progress(p):
            if bar is not None:
                bar(p)
            if not p["epoch_done"]:
                return False
            rec = {"epoch": epoch0 + p["epoch"], "loss": p["loss"],
                   "samples_per_second": p["samples_per_second"], "seconds": p["seconds"],
                   "lr": p["lr"]}
            self.history_.append(rec)
            if self.checkpoint and every > 0 and p["epoch"] % every == 0:
                trainer_box[0].save(self.checkpoint)
            return bool(user(dict(rec))) if user is not None else False

        return on_progress

    def _train(self, X, targets, n_classes, *, partial, first, resume_from=None):
        seed = self._seed() if first else self._seed_ + self._calls_  # a new trainer only
        epochs = 1 if partial else self._epochs()
        # partial_fit goes on with the trainer of its last call (optimizer
        # state, step count, schedule); fit starts a run of its own.
        tr = getattr(self, "_trainer_", None) if (partial and not first) else None
        self._trainer_ = None
        opts = None
        if tr is not None:
            model = tr.model
            ctx = model.ctx
        elif resume_from is not None:
            opts, _, _ = checkpoint_options(resume_from)
            opts["epochs"] = epochs
            ctx = Context(self.device)
            model = Model.load(ctx, resume_from)
        else:
            values = self._option_values(epochs, seed)
            if partial:  # one epoch over the rows given, no early stopping
                values.update(tol=0.0, validation_fraction=0.0)
            if not first:  # the model keeps the standardiser it has, or none
                values["standardize"] = "off"
            opts = Options(values)
            if first:
                ctx = Context(self.device)
                model = Model(ctx, self._spec(n_classes), X.shape[1], n_classes, seed)
            else:
                model = self._model_
                ctx = model.ctx
        ds = Dataset(ctx, X, targets, n_classes)
        if first and resume_from is None and self._standardize() == "on":
            model.fit_standardizer(ds)  # on all of X, as `gsgd train --standardize`
        if first:
            self.history_ = []
            self._seed_, self._calls_, self.t_ = seed, 0, 0
        reused = tr is not None
        if reused:
            tr.set_data(ds)
        else:
            tr = Trainer(model, ds, opts)
        box = [tr]
        if resume_from is not None:
            tr.resume(resume_from)
        # A resumed trainer counts on from the checkpoint's epochs itself.
        epoch0 = len(self.history_) if partial else 0
        open_epochs = int(opts["max_epochs"]) if epochs == 0 and opts is not None else 0
        result = tr.train(callback=self._progress(box, epoch0, open_epochs))
        if self.checkpoint:
            tr.save(self.checkpoint)
        self.batch_size_ = tr.plan()["batch"]
        if partial and result["steps"] is not None:
            # Kept for the next call; it reads X (zero copy) until then. A
            # run the callback stopped mid-epoch is not: its count is unknown.
            self._trainer_ = tr
        del box[0], tr, ds  # else free the trainer, then the dataset (it reads X)
        self._model_ = model
        self.device_ = ctx.device
        self._calls_ += 1
        self.n_iter_ = (self.n_iter_ + result["epochs"]) if (partial and not first) else \
            result["epochs"]
        if result["steps"] is not None:
            # gsgd_train reports the trainer's steps so far: a kept one's
            # include its earlier calls'.
            self.t_ += result["steps"] - (self._trainer_steps_ if reused else 0)
            self._trainer_steps_ = result["steps"]
        self.loss_ = result["train_loss"]
        self.stop_reason_ = "callback" if result["stopped_by_callback"] else \
            result["stop_reason"]
        return self

    def __getstate__(self):
        # A partial_fit's trainer holds device buffers and the last rows:
        # not pickled; partial_fit after unpickling starts a new one.
        state = dict(super().__getstate__())
        state.pop("_trainer_", None)
        return state

    # --- outputs ---------------------------------------------------------------
    def _raw(self, X):
        X = self._host_rows(X)
        spec, _, k = self._model_.shape
        cols = 1 if (k == 0 or spec == "logistic") else k
        return self._model_.decision_function(X, cols)

    def __sklearn_is_fitted__(self):
        return hasattr(self, "_model_")

    @property
    def _flat_params(self):
        check_is_fitted(self)
        return self._model_.params()
