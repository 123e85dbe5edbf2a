"""Multilayer perceptrons: MLPClassifier over gsgd's mlp:H1,H2,... models
(ReLU hidden layers, softmax output).

There is no MLPRegressor: libgsgd's mlp models end in a softmax over class
labels (gsgd_model_create refuses an mlp for regression), and this package
adds no second engine. It comes with the library's mlp regression."""

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._classifier import GsgdClassifier
from .linear import _COMMON_DOC

__all__ = ["MLPClassifier"]


class MLPClassifier(GsgdClassifier):
    __doc__ = """Multilayer perceptron classifier trained by gsgd (scikit-learn's
    MLPClassifier conventions): ReLU hidden layers, softmax output,
    cross-entropy loss.

    hidden_layer_sizes : widths of the hidden layers, e.g. (256, 128).
    """ + _COMMON_DOC + """    coefs_, intercepts_ : per layer, weights (in x out) and biases; the first
        layer's in the standardised units when standardize=True.
    """

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

    def predict_proba(self, X):
        """Class probabilities (softmax of the logits), (n, n_classes)."""
        return self._proba(X)

    def predict_log_proba(self, X):
        return self._log_proba(X)

    def _layers(self):
        p, n_decay = self._flat_params
        sizes = [self.n_features_in_] + self._widths() + [len(self.classes_)]
        W, b, off, boff = [], [], 0, n_decay
        for a, c in zip(sizes[:-1], sizes[1:]):
            W.append(p[off:off + a * c].reshape(a, c).copy())
            b.append(p[boff:boff + c].copy())
            off, boff = off + a * c, boff + c
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
