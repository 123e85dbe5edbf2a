"""coef_ and intercept_ act on the user's raw features also when the model
standardises its input: the standardiser's mean and 1/std
(gsgd_model_standardizer) are folded in, so X @ coef_.T + intercept_ is
the model's decision function to float rounding; the MLPs' first layer
likewise."""

import numpy as np
import pytest

import gsgd


def _spread(n=300, seed=0):
    """Features of very different scales and offsets (as wine's magnesium
    next to its hue), so a standardiser is far from the identity."""
    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(n, 4))
    X = Z * np.array([1.0, 15.0, 0.01, 3.0]) + np.array([0.0, 100.0, 0.5, -20.0])
    return X.astype(np.float32), Z


def _bound(X, coef, intercept):
    """Float32 rounding of a forward pass over these terms: 8 ulps (1e-6) of
    the largest partial sums, |coef| . |x| + |intercept| per row and output."""
    return 1e-6 * (np.abs(X) @ np.abs(np.atleast_2d(coef)).T + np.abs(intercept))


@pytest.mark.parametrize("standardize", [True, "auto"])
def test_regressor_coef_is_on_raw_features(standardize):
    X, Z = _spread()
    y = Z @ np.array([1.0, -2.0, 0.5, 3.0]) + 4.0
    reg = gsgd.SGDRegressor(device="cpu", random_state=0, standardize=standardize,
                            epochs=20).fit(X, y)
    assert reg._model_.standardizer() is not None  # "auto" standardises these too
    assert reg.coef_.shape == (4,) and reg.intercept_.shape == (1,)
    mine = X.astype(np.float64) @ reg.coef_ + reg.intercept_[0]
    err = np.abs(mine - reg.predict(X))
    assert np.all(err <= _bound(X, reg.coef_, reg.intercept_)[:, 0]), err.max()
    # In raw units the coefficients are the truth's divided by the scales.
    np.testing.assert_allclose(reg.coef_, [1.0, -2.0 / 15, 0.5 / 0.01, 3.0 / 3], rtol=0.05)


@pytest.mark.parametrize("k", [2, 3])
def test_classifier_coef_is_on_raw_features(k):
    X, Z = _spread(seed=1)
    y = np.argmax(Z[:, :k] + 0.1 * Z[:, 3:4], axis=1)
    clf = gsgd.SGDClassifier(loss="log_loss", device="cpu", random_state=0, standardize=True,
                             epochs=10).fit(X, y)
    want = (1, 4) if k == 2 else (k, 4)
    assert clf.coef_.shape == want and clf.intercept_.shape == (want[0],)
    mine = X.astype(np.float64) @ clf.coef_.T.astype(np.float64) + clf.intercept_
    df = clf.decision_function(X).reshape(len(X), -1)
    err = np.abs(mine - df)
    assert np.all(err <= _bound(X, clf.coef_, clf.intercept_) * (2 if k == 2 else 1)), err.max()
    assert clf.score(X, y) > 0.9


def test_without_a_standardizer_coef_is_the_parameters():
    X, Z = _spread(seed=2)
    y = (Z[:, 0] > 0).astype(int)
    clf = gsgd.SGDClassifier(loss="log_loss", device="cpu", random_state=0, standardize=False,
                             epochs=3).fit(X / np.abs(X).max(0), y)
    assert clf._model_.standardizer() is None
    p, nd = clf._model_.params()
    assert np.array_equal(clf.intercept_, p[nd:])  # logistic: one output, its bias


def test_sparse_input_scaled_not_centred_folds_too():
    sp = pytest.importorskip("scipy.sparse")
    X, Z = _spread(seed=3)
    X[np.abs(Z) < 0.7] = 0.0
    Xs = sp.csr_matrix(X)
    y = Z[:, 0] - Z[:, 3]
    reg = gsgd.SGDRegressor(device="cpu", random_state=0, standardize=True, epochs=5,
                            lr=1e-3).fit(Xs, y)
    mean, inv = reg._model_.standardizer()
    assert not mean.any()  # sparse rows are scaled, never centred
    mine = Xs @ reg.coef_.astype(np.float64) + reg.intercept_[0]
    err = np.abs(mine - reg.predict(Xs))
    assert np.all(err <= _bound(X, reg.coef_, reg.intercept_)[:, 0]), err.max()


def _forward(est, X):
    """scikit-learn's MLP forward pass over coefs_ and intercepts_ (ReLU)."""
    a = X.astype(np.float64)
    for i, (W, b) in enumerate(zip(est.coefs_, est.intercepts_)):
        a = a @ W + b
        if i < len(est.coefs_) - 1:
            a = np.maximum(a, 0.0)
    return a


def test_mlp_first_layer_is_on_raw_features():
    X, Z = _spread(seed=4)
    y = np.sin(Z[:, 0]) + Z[:, 1] * Z[:, 3]
    reg = gsgd.MLPRegressor((16, 8), device="cpu", random_state=0, epochs=30).fit(X, y)
    assert reg._model_.standardizer() is not None
    out = _forward(reg, X)[:, 0]
    np.testing.assert_allclose(out, reg.predict(X), rtol=1e-4, atol=1e-4 * np.abs(out).max())
    clf = gsgd.MLPClassifier((16,), device="cpu", random_state=0, standardize=True,
                             epochs=10).fit(X, (Z[:, 1] > 0).astype(int))
    logits = _forward(clf, X)
    proba = np.exp(logits - logits.max(1, keepdims=True))
    proba /= proba.sum(1, keepdims=True)
    np.testing.assert_allclose(proba, clf.predict_proba(X), atol=1e-5)
