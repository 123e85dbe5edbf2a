"""partial_fit goes on with the trainer of its last call
(gsgd_trainer_set_data): the optimizer's state, step count and schedule
carry over, bit for bit as the library's own checkpoint route carries them
(gsgd_trainer_save + gsgd_trainer_resume_new_data)."""

import pickle

import numpy as np
import pytest

import gsgd


@pytest.fixture
def data():
    rng = np.random.default_rng(1)
    centers = rng.normal(scale=2.0, size=(3, 5))
    y = rng.integers(0, 3, 400)
    X = (centers[y] + rng.normal(size=(400, 5))).astype(np.float32)
    return X, y


# The estimator's options, as the low-level API spells them.
OPTS = {"optim": "momentum", "momentum": 0.9, "schedule": "constant", "batch": 32, "seed": 3,
        "standardize": "off", "tol": 0.0, "validation_fraction": 0.0, "epochs": 1}


def _est():
    return gsgd.SGDClassifier(loss="log_loss", optimizer="momentum", momentum=0.9,
                              batch_size=32, random_state=3, device="cpu", tol=None)


def _params(est):
    return est._model_.params()[0]


def test_two_halves_equal_the_checkpoint_route_bit_for_bit(data, tmp_path):
    X, y = data
    X1, y1, X2, y2 = X[:200], y[:200], X[200:350], y[200:350]
    est = _est().partial_fit(X1, y1, classes=[0, 1, 2]).partial_fit(X2, y2)

    ctx = gsgd.Context("cpu")
    m1 = gsgd.Model(ctx, "softmax", 5, 3, seed=3)
    t1 = gsgd.Trainer(m1, gsgd.Dataset(ctx, X1, y1.astype(np.float32), 3), gsgd.Options(OPTS))
    t1.train()
    path = str(tmp_path / "half.ckpt")
    t1.save(path)
    opts, epochs_done, _ = gsgd.checkpoint_options(path)
    assert epochs_done == 1
    m2 = gsgd.Model(ctx, "softmax", 5, 3, seed=99)  # its parameters come from the file
    t2 = gsgd.Trainer(m2, gsgd.Dataset(ctx, X2, y2.astype(np.float32), 3), opts)
    t2.resume_new_data(path)
    res = t2.train()

    assert np.array_equal(_params(est), m2.params()[0])  # bit for bit
    assert est.t_ == res["steps"] == 7 + 5  # ceil(200 / 32) + ceil(150 / 32)
    assert est.n_iter_ == 2


def test_the_optimizer_state_persists_across_calls(data):
    X, y = data
    # The same rows twice are one run of two epochs (the shuffle of epoch 2
    # included), bit for bit ...
    twice = _est().partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)
    fit2 = _est().set_params(epochs=2).fit(X, y)
    assert fit2.n_iter_ == 2
    assert np.array_equal(_params(twice), _params(fit2))
    assert twice.t_ == fit2.t_ == 26
    # ... and not what a fresh optimizer per call gives (partial_fit before
    # gsgd_trainer_set_data): the velocity carried over matters.
    ctx = gsgd.Context("cpu")
    m = gsgd.Model(ctx, "softmax", 5, 3, seed=3)
    ds = gsgd.Dataset(ctx, X, y.astype(np.float32), 3)
    gsgd.Trainer(m, ds, gsgd.Options(OPTS)).train()
    gsgd.Trainer(m, ds, gsgd.Options({**OPTS, "seed": 4})).train()
    diff = np.abs(m.params()[0] - _params(twice)).max()
    assert diff > 1e-3, diff


def test_adam_counts_its_steps_on(data):
    X, y = data
    # Adam's bias correction follows the step count: restarting it each
    # call would take the large first steps again.
    a = gsgd.SGDClassifier(loss="log_loss", optimizer="adam", batch_size=32, random_state=0,
                           device="cpu", tol=None)
    a.partial_fit(X, y, classes=[0, 1, 2]).partial_fit(X, y)
    b = gsgd.SGDClassifier(loss="log_loss", optimizer="adam", batch_size=32, random_state=0,
                           device="cpu", tol=None, epochs=2).fit(X, y)
    assert np.array_equal(_params(a), _params(b))


def test_pickling_after_partial_fit_drops_the_trainer_and_goes_on(data):
    X, y = data
    est = _est().partial_fit(X[:200], y[:200], classes=[0, 1, 2])
    assert est._trainer_ is not None
    copy = pickle.loads(pickle.dumps(est))
    assert not hasattr(copy, "_trainer_")
    assert est._trainer_ is not None  # pickling left the original as it was
    assert np.array_equal(_params(copy), _params(est))
    copy.partial_fit(X[200:], y[200:])  # a new optimizer, the same model
    est.partial_fit(X[200:], y[200:])  # its own optimizer, carried on
    assert copy.n_iter_ == est.n_iter_ == 2 and copy.t_ == est.t_ == 7 + 7
    assert not np.array_equal(_params(copy), _params(est))


def test_fit_then_partial_fit_and_regressors(data):
    X, y = data
    est = _est().set_params(epochs=3).fit(X, y)
    assert est._trainer_ is None and est.stop_reason_ == "epochs"
    est.partial_fit(X, y)
    assert est.n_iter_ == 4 and est.stop_reason_ == "epochs"
    yr = X @ np.arange(1.0, 6.0)
    for reg in (gsgd.SGDRegressor(device="cpu", random_state=0, tol=None, batch_size=32),
                gsgd.MLPRegressor((8,), device="cpu", random_state=0, tol=None,
                                  batch_size=32)):
        reg.partial_fit(X, yr).partial_fit(X, yr)
        ref = type(reg)(**{**reg.get_params(), "epochs": 2}).fit(X, yr)
        assert np.array_equal(_params(reg), _params(ref)), type(reg).__name__
