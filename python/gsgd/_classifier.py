"""The classifier side shared by SGDClassifier and MLPClassifier: labels
mapped to classes_ (np.unique) and back, and the outputs scikit-learn's
classifiers give."""

import numpy as np
from sklearn.base import ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets

from ._arrays import is_device_array
from ._base import GsgdEstimator, _to_host, _xp


def _like(a, ref):
    """Host array a on the device of the device array ref."""
    if type(ref).__module__.split(".")[0] == "torch":
        import torch
        return torch.as_tensor(a, device=ref.device)
    return _xp(ref).asarray(a)


def _as_f32(a):
    if type(a).__module__.split(".")[0] == "torch":
        import torch
        return a.to(torch.float32)
    return a.astype(_xp(a).float32)


class GsgdClassifier(ClassifierMixin, GsgdEstimator):
    """Base of gsgd's classifiers (not for direct use)."""

    _is_classifier = True

    def _encode(self, y, classes=None):
        """(classes, class indices of y as float32): the library trains on
        indices 0..K-1; classes_ maps them back."""
        if is_device_array(y):
            # Labels are mapped on the device, by the array's own library.
            found = _to_host(_xp(y).unique(y))
            if classes is None:
                classes = found
            elif not np.all(np.isin(found, classes)):
                raise ValueError(f"y holds labels outside classes={list(classes)}")
            idx = _xp(y).searchsorted(_like(np.asarray(classes), y), y)
            return classes, _as_f32(idx), len(found)
        check_classification_targets(y)
        if classes is None:
            classes_, idx = np.unique(y, return_inverse=True)
            return classes_, idx.astype(np.float32), len(classes_)
        idx = np.searchsorted(classes, y)
        if np.any(idx >= len(classes)) or np.any(classes[np.minimum(idx, len(classes) - 1)] != y):
            raise ValueError(f"y holds labels outside classes={list(classes)}")
        return classes, idx.astype(np.float32), len(np.unique(idx))

    def fit(self, X, y, resume_from=None):
        """Trains a new model on X and y for up to `epochs` epochs (fewer when
        tol stops it). resume_from: a checkpoint (see `checkpoint`) to
        continue exactly, with its own options and model, for `epochs` more
        epochs on the same X and y. Returns self."""
        X, y = self._check_Xy(X, y, reset=True)
        classes, idx, _ = self._encode(y)
        if len(classes) < 2:
            raise ValueError(f"gsgd: the classifier needs samples of at least 2 classes; got "
                             f"{len(classes)} class ({classes[0]!r})")
        self.classes_ = classes
        return self._train(X, idx, len(classes), partial=False, first=True,
                           resume_from=resume_from)

    def partial_fit(self, X, y, classes=None):
        """One epoch over X and y, going on from earlier calls: the model,
        the optimizer's state (momentum, Adam's moments), the step count
        and the schedule carry over (gsgd_trainer_set_data). The first call
        needs `classes` (every label there will be). After fit or
        unpickling, the first partial_fit starts a new optimizer."""
        first = not hasattr(self, "_model_")
        X, y = self._check_Xy(X, y, reset=first)
        if first:
            if classes is None:
                raise ValueError("classes must be passed on the first call to partial_fit")
            classes = np.unique(np.asarray(classes))
            if len(classes) < 2:
                raise ValueError("gsgd: the classifier needs at least 2 classes")
            self.classes_ = classes
        elif classes is not None and not np.array_equal(np.unique(classes), self.classes_):
            raise ValueError(f"classes={list(classes)} differs from the first call's "
                             f"{list(self.classes_)}")
        _, idx, _ = self._encode(y, self.classes_)
        return self._train(X, idx, len(self.classes_), partial=True, first=first)

    def decision_function(self, X):
        """Raw outputs: (n,) for two classes (positive means classes_[1]),
        else (n, n_classes) logits."""
        z = self._raw(X)
        if z.shape[1] == 1:
            return z[:, 0]
        if len(self.classes_) == 2:
            return z[:, 1] - z[:, 0]
        return z

    def predict(self, X):
        X = self._host_rows(X)
        return self.classes_[self._model_.predict(X).astype(np.intp)]

    def _proba(self, X):
        X = self._host_rows(X)
        return self._model_.predict_proba(X, len(self.classes_))

    def _log_proba(self, X):
        with np.errstate(divide="ignore"):
            return np.log(self._proba(X))
