"""Multilayer perceptrons over gsgd's mlp:H1,H2,... models (ReLU hidden
layers): MLPClassifier (softmax output, cross-entropy) and MLPRegressor (one
linear output, squared loss)."""

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.utils.validation import check_is_fitted

from ._base import GsgdEstimator
from ._classifier import GsgdClassifier
from .linear import _COMMON_DOC

__all__ = ["MLPClassifier", "MLPRegressor"]


class _MLP:
    """What the two MLPs share: the spec from hidden_layer_sizes and the
    per-layer views of the flat parameters."""

    def _widths(self):
        h = self.hidden_layer_sizes
        h = [h] if isinstance(h, (int, np.integer)) else list(h)
        if not h or any(not isinstance(w, (int, np.integer)) or isinstance(w, bool) or w < 1
                        for w in h):
            raise ValueError(f"hidden_layer_sizes must be positive integers, got "
                             f"{self.hidden_layer_sizes!r}")
        return h

    def _spec(self, n_classes):
        return "mlp:" + ",".join(str(int(w)) for w in self._widths())

    def _layers(self):
        p, n_decay = self._flat_params
        sizes = [self.n_features_in_] + self._widths() + [self._n_out()]
        W, b, off, boff = [], [], 0, n_decay
        for a, c in zip(sizes[:-1], sizes[1:]):
            W.append(p[off:off + a * c].reshape(a, c).copy())
            b.append(p[boff:boff + c].copy())
            off, boff = off + a * c, boff + c
        # The first layer on the raw input: the model's standardiser folded
        # in (exact: it is affine before the first ReLU).
        from .linear import _fold
        w0, b[0] = _fold(self._model_, W[0].T, b[0])
        W[0] = np.ascontiguousarray(w0.T)
        return W, b

    @property
    def coefs_(self):
        return self._layers()[0]

    @property
    def intercepts_(self):
        return self._layers()[1]

    @property
    def n_layers_(self):
        check_is_fitted(self)
        return len(self._widths()) + 2

    @property
    def n_outputs_(self):
        check_is_fitted(self)
        return self._n_out()


_MLP_DOC = """
    hidden_layer_sizes : widths of the hidden layers, e.g. (256, 128).
    """
_LAYERS_DOC = """    coefs_, intercepts_ : per layer, weights (in x out) and biases, on the
        raw input: a standardiser's mean and 1/std are folded into the first
        layer's, so the usual forward pass over them is predict's.
    n_layers_, n_outputs_ : as scikit-learn's MLPs.
    """


class MLPClassifier(_MLP, GsgdClassifier):
    __doc__ = """Multilayer perceptron classifier trained by gsgd (scikit-learn's
    MLPClassifier conventions): ReLU hidden layers, softmax output,
    cross-entropy loss.
    """ + _MLP_DOC + _COMMON_DOC + _LAYERS_DOC

    def __init__(self, hidden_layer_sizes=(100,), *, optimizer="sgd", lr=None, momentum=None,
                 weight_decay=None, batch_size="auto", schedule="constant", epochs=200,
                 tol=1e-4, n_iter_no_change=10, validation_fraction=0.0, standardize=False,
                 device="auto", mem_limit=None, random_state=None, verbose=0, callback=None,
                 checkpoint=None, checkpoint_every=0, options=None):
        self.hidden_layer_sizes = hidden_layer_sizes
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

    def _n_out(self):
        return len(self.classes_)

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits), (n, n_classes)."""
        return self._proba(X)

    def predict_log_proba(self, X):
        return self._log_proba(X)


class MLPRegressor(_MLP, RegressorMixin, GsgdEstimator):
    __doc__ = """Multilayer perceptron regressor trained by gsgd (scikit-learn's
    MLPRegressor conventions): ReLU hidden layers, one linear output, the
    squared loss; one target (y of shape (n,)).

    optimizer is "adam" by default (scikit-learn's MLPRegressor's solver, at
    its rate 1e-3): the squared loss's gradient grows with the targets'
    scale, and plain SGD at gsgd's automatic rate diverges on unscaled
    targets (those of check_estimator among them), where Adam's steps stay
    bounded by the rate. standardize is True by default, as for
    SGDRegressor, for the same reason on the input's side.
    """ + _MLP_DOC + _COMMON_DOC + _LAYERS_DOC

    def __init__(self, hidden_layer_sizes=(100,), *, optimizer="adam", lr=None, momentum=None,
                 weight_decay=None, batch_size="auto", schedule="constant", epochs=200,
                 tol=1e-4, n_iter_no_change=10, validation_fraction=0.0, standardize=True,
                 device="auto", mem_limit=None, random_state=None, verbose=0, callback=None,
                 checkpoint=None, checkpoint_every=0, options=None):
        self.hidden_layer_sizes = hidden_layer_sizes
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

    def _n_out(self):
        return 1

    def _targets(self, y):
        from .linear import _regression_targets
        return _regression_targets(y)

    def fit(self, X, y, resume_from=None):
        """Trains a new model for up to `epochs` epochs; resume_from
        continues a checkpoint exactly (see SGDClassifier.fit)."""
        X, y = self._check_Xy(X, y, reset=True)
        return self._train(X, self._targets(y), 0, partial=False, first=True,
                           resume_from=resume_from)

    def partial_fit(self, X, y):
        """One epoch over X and y, going on from earlier calls (see
        SGDRegressor.partial_fit)."""
        first = not hasattr(self, "_model_")
        X, y = self._check_Xy(X, y, reset=first)
        return self._train(X, self._targets(y), 0, partial=True, first=first)

    def predict(self, X):
        """Predicted values, (n,)."""
        X = self._host_rows(X)
        return self._model_.predict(X)
