"""Linear models: SGDClassifier and SGDRegressor over gsgd's linear, logistic,
softmax and hinge models."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.metaestimators import available_if

from ._base import GsgdEstimator
from ._classifier import GsgdClassifier

__all__ = ["SGDClassifier", "SGDRegressor"]

_COMMON_DOC = """
    optimizer : "sgd" (default), "momentum", "nesterov", "adam", "adamw",
        "adagrad", "rmsprop", "lars" or "lamb": gsgd's update rules (PyTorch's
        formulas, one fused pass over the flat parameters).
    lr : float or None. None is gsgd's automatic rate (0.1 for sgd, 0.1 (1 -
        momentum) with momentum, PyTorch's defaults for adaptive rules).
    momentum, weight_decay : float or None (None: the rule's default).
    batch_size : "auto" (the largest that fits mem_limit, capped at 64 on the
        CPU and 1024 on CUDA, and on small data at n / 16 rows: an epoch
        takes at least 16 steps, options' min_epoch_steps), "fastest" (the
        fastest measured power of two) or an int.
    schedule : "constant", "step", "exponential", "cosine", "invscaling",
        "optimal" or "adaptive".
    epochs : passes over the data at most (scikit-learn's max_iter), or
        "auto": until the loss stops improving by tol for n_iter_no_change
        epochs, after at least 5000 steps, at most 1000 epochs (options'
        min_steps, max_epochs; with schedule="cosine" the rate then decays
        over a cooldown before the stop: gsgd's own default).
    tol, n_iter_no_change : stop when the training loss (or the validation
        accuracy) has not improved by tol for n_iter_no_change epochs; tol=None
        never stops early.
    validation_fraction : > 0 holds out that share of the training data and
        stops on its accuracy (scikit-learn's early_stopping).
    standardize : True standardises every feature with the training data's
        mean and standard deviation, inside the model (kept when pickled);
        "auto" does so when the features' scales differ (gsgd's default:
        the largest column's root mean square over the median's > 10);
        False never.
    device : "auto" (CUDA when usable, else the CPU), "cpu", "cuda", "cuda:N".
    mem_limit : memory the planner may use: bytes, "2GiB" or "50%".
    random_state : int (gsgd's seed, as `gsgd train --seed`), RandomState or
        None.
    verbose : 1 shows a progress bar on stderr.
    callback : callable(dict) called after every epoch with epoch, loss,
        samples_per_second, seconds and lr; returning True stops training.
    checkpoint, checkpoint_every : a path where fit saves a checkpoint at the
        end (and every checkpoint_every epochs); fit(X, y,
        resume_from=path) continues one exactly.
    options : dict of any other gsgd option by name ("beta1", "clip_norm",
        "l1", "l1_ratio", "average", "warmup", "lr_scaling", "max_batch", ...).

    Fitted attributes: n_features_in_, n_iter_ (epochs run), t_ (steps),
    batch_size_ (the batch used), loss_ (the last epoch's training loss),
    stop_reason_ (why the last fit or partial_fit ended: "epochs",
    "no_improvement", "converged", "max_epochs", "target", "lr_floor" or
    "callback"), history_ (one dict per epoch), device_ ("cpu" or "cuda").
"""


class SGDClassifier(GsgdClassifier):
    __doc__ = """Linear classifier trained by gsgd (scikit-learn's SGDClassifier
    conventions).

    loss : "hinge" (default: gsgd's multiclass SVM loss), "log_loss" (logistic
        regression for two classes, softmax for more; gives predict_proba) or
        "squared_error" (least squares on one-hot targets; "squared" too).
    """ + _COMMON_DOC + """    coef_, intercept_ : (1, d) and (1,) for two classes, (K, d) and (K,)
        for more, on the raw input: the model's standardiser (mean, 1/std)
        folded in, so X @ coef_.T + intercept_ is decision_function(X) to
        float rounding.
    """

    def __init__(self, loss="hinge", *, optimizer="sgd", lr=None, momentum=None,
                 weight_decay=None, batch_size="auto", schedule="constant", epochs=1000,
                 tol=1e-3, n_iter_no_change=5, validation_fraction=0.0, standardize=False,
                 device="auto", mem_limit=None, random_state=None, verbose=0, callback=None,
                 checkpoint=None, checkpoint_every=0, options=None):
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.schedule = schedule
        self.epochs = epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.standardize = standardize
        self.device = device
        self.mem_limit = mem_limit
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.options = options

    def _spec(self, n_classes):
        if self.loss == "log_loss":
            return "logistic" if n_classes == 2 else "softmax"
        if self.loss == "hinge":
            return "hinge"
        if self.loss in ("squared_error", "squared"):
            return "linear"
        raise ValueError(f"loss must be 'hinge', 'log_loss' or 'squared_error', got "
                         f"{self.loss!r}")

    def _has_proba(self):
        return self.loss == "log_loss"

    @available_if(_has_proba)
    def predict_proba(self, X):
        """Class probabilities, (n, n_classes) (loss="log_loss" only)."""
        return self._proba(X)

    @available_if(_has_proba)
    def predict_log_proba(self, X):
        return self._log_proba(X)

    @property
    def coef_(self):
        w, b = _affine(self)
        if w.shape[0] == 2 and len(self.classes_) == 2:  # two outputs: their difference
            return (w[1] - w[0])[None, :]
        return w

    @property
    def intercept_(self):
        w, b = _affine(self)
        if b.shape[0] == 2 and len(self.classes_) == 2:
            return np.array([b[1] - b[0]], dtype=b.dtype)
        return b


def _affine(est):
    """(W as (outputs, d), b) of a one-layer model in the input's units: the
    parameters, with the model's standardiser (if any) folded in. The model
    reads feature j as (x_j - mean_j) * inv_std_j, so on raw x its weights
    are W_kj * inv_std_j and its biases b_k - sum_j W_kj * inv_std_j * mean_j
    (in float64, then float32: X @ coef_.T + intercept_ is the decision
    function to float rounding)."""
    p, n_decay = est._flat_params
    d = est.n_features_in_
    k = n_decay // d
    W, b = p[:n_decay].reshape(d, k).T, p[n_decay:]
    return _fold(est._model_, W, b)


def _fold(model, W, b):
    """Weights W (outputs, d) and biases b of a first layer that reads
    standardised features, as they act on the raw ones."""
    std = model.standardizer()
    if std is None:
        return W.copy(), b.copy()
    mean, inv = (a.astype(np.float64) for a in std)
    coef = W.astype(np.float64) * inv[None, :]
    return coef.astype(np.float32), (b.astype(np.float64) - coef @ mean).astype(np.float32)


def _regression_targets(y):
    """y as the library's float32 targets, on the device where it is."""
    from ._arrays import is_device_array
    if is_device_array(y):
        from ._classifier import _as_f32
        return _as_f32(y)
    return np.ascontiguousarray(y, dtype=np.float32)


class SGDRegressor(RegressorMixin, GsgdEstimator):
    __doc__ = """Linear regression trained by gsgd on the squared loss
    (scikit-learn's SGDRegressor conventions; loss="squared_error" only).

    standardize is True by default here: least squares at a fixed rate
    diverges on unscaled features (its gradient grows with |x|^2; the
    classifiers' losses have bounded gradients), and scikit-learn's own
    advice is to scale the input of SGD.
    """ + _COMMON_DOC + """    coef_, intercept_ : (d,) and (1,), on the raw input (the standardiser
        folded in): X @ coef_ + intercept_ is predict(X) to float rounding.
    """

    def __init__(self, loss="squared_error", *, optimizer="sgd", lr=None, momentum=None,
                 weight_decay=None, batch_size="auto", schedule="constant", epochs=1000,
                 tol=1e-3, n_iter_no_change=5, validation_fraction=0.0, standardize=True,
                 device="auto", mem_limit=None, random_state=None, verbose=0, callback=None,
                 checkpoint=None, checkpoint_every=0, options=None):
        self.loss = loss
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.schedule = schedule
        self.epochs = epochs
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.validation_fraction = validation_fraction
        self.standardize = standardize
        self.device = device
        self.mem_limit = mem_limit
        self.random_state = random_state
        self.verbose = verbose
        self.callback = callback
        self.checkpoint = checkpoint
        self.checkpoint_every = checkpoint_every
        self.options = options

    def _spec(self, n_classes):
        if self.loss not in ("squared_error", "squared"):
            raise ValueError(f"loss must be 'squared_error', got {self.loss!r}")
        return "linear"

    def _targets(self, y):
        return _regression_targets(y)

    def fit(self, X, y, resume_from=None):
        """Trains a new model for up to `epochs` epochs; resume_from
        continues a checkpoint exactly (see SGDClassifier.fit)."""
        X, y = self._check_Xy(X, y, reset=True)
        return self._train(X, self._targets(y), 0, partial=False, first=True,
                           resume_from=resume_from)

    def partial_fit(self, X, y):
        """One epoch over X and y, going on from earlier calls: the model,
        the optimizer's state, the step count and the schedule carry over
        (see SGDClassifier.partial_fit)."""
        first = not hasattr(self, "_model_")
        X, y = self._check_Xy(X, y, reset=first)
        return self._train(X, self._targets(y), 0, partial=True, first=first)

    def predict(self, X):
        X = self._host_rows(X)
        return self._model_.predict(X)

    @property
    def coef_(self):
        return _affine(self)[0][0]

    @property
    def intercept_(self):
        return _affine(self)[1]
