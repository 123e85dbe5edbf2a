"""The lower-level API and the estimators' extras: the memory plan as a
dict, the bench sweep as records, the training log, checkpoints, pickling,
progress, partial_fit and the fitted coefficients."""

import math
import pickle

import numpy as np
import pytest

import gsgd


def test_the_plan_is_the_memory_table_as_a_dict(blobs):
    X, y = blobs
    # min_epoch_steps 0: no small-data cap (600 / 16 rows would give 32).
    p = gsgd.plan(X, y, "softmax", device="cpu", options={"min_epoch_steps": 0})
    assert p["device"] == "cpu" and p["n_train"] == 600
    assert p["batch"] == 64, p["reason"]  # the CPU's cap
    assert p["predicted"] == p["fixed"] + p["batch"] * p["per_sample"]
    assert p["measured"] == p["predicted"]  # exact on the CPU backend
    fixed = sum(i["bytes"] for i in p["items"] if not i["per_sample"])
    per = sum(i["bytes"] for i in p["items"] if i["per_sample"])
    assert (fixed, per) == (p["fixed"], p["per_sample"])
    assert p["predicted"] <= p["budget"] and p["reason"]


def test_plans_take_dataset_specs_and_measure_the_fastest_batch():
    p = gsgd.plan("synth:2000,10,3:seed=1", model="mlp:16", device="cpu",
                  batch_size="fastest", options={"max_batch": 256})
    assert [c["batch"] for c in p["curve"]][:2] == [1, 2] or p["curve"][0]["batch"] >= 1
    assert p["batch"] in [c["batch"] for c in p["curve"]]
    assert all(c["samples_per_second"] > 0 for c in p["curve"])


def test_bench_trains_once_per_batch_and_returns_records(blobs):
    X, y = blobs
    rows = gsgd.bench(X, y, "softmax", batches=[32, 64], epochs=2, device="cpu",
                      test=(X, y), as_frame=False)
    assert [r["batch"] for r in rows] == [32, 64]
    for r in rows:
        assert r["steps"] == 2 * math.ceil(600 / r["batch"]) and r["epochs"] == 2
        assert r["samples_per_second"] > 0 and r["samples_per_second_warm"] > 0
        assert 0.5 <= r["test_accuracy"] <= 1.0 and math.isnan(r["time_to_target_s"])
    # To a target: the run stops at the first epoch that reaches it.
    r, = gsgd.bench(X, y, "softmax", batches=[32], epochs=20, test=(X, y), target_acc=0.5,
                    device="cpu", as_frame=False)
    assert r["test_accuracy"] >= 0.5 and r["epochs"] < 20 and r["time_to_target_s"] >= 0


def test_the_bench_sweep_is_powers_of_two_up_to_the_planned_batch(blobs):
    X, y = blobs
    rows = gsgd.bench(X, y, "softmax", device="cpu", as_frame=False,
                      options={"min_epoch_steps": 0})
    assert [r["batch"] for r in rows] == [32, 64]
    # By default an epoch of the 600 rows takes at least 16 steps: 32 rows.
    assert gsgd.plan(X, y, "softmax", device="cpu")["batch"] == 32


def test_bench_gives_a_data_frame_with_pandas(blobs):
    pd = pytest.importorskip("pandas")
    X, y = blobs
    df = gsgd.bench(X, y, "softmax", batches=[16], device="cpu")
    assert isinstance(df, pd.DataFrame) and list(df["batch"]) == [16]


def test_the_training_log_is_a_list_of_epochs_and_a_callback_that_can_stop(blobs):
    X, y = blobs
    seen = []
    clf = gsgd.SGDClassifier(epochs=10, tol=None, device="cpu", random_state=0,
                             callback=lambda e: seen.append(e) or e["epoch"] == 3).fit(X, y)
    assert clf.n_iter_ == 3 and [e["epoch"] for e in clf.history_] == [1, 2, 3]
    assert seen == clf.history_
    assert set(seen[0]) == {"epoch", "loss", "samples_per_second", "seconds", "lr"}


def test_an_exception_in_the_callback_stops_training_and_propagates(blobs):
    X, y = blobs

    def interrupt(e):
        raise KeyboardInterrupt  # what Ctrl-C raises there

    with pytest.raises(KeyboardInterrupt):
        gsgd.SGDClassifier(device="cpu", callback=interrupt).fit(X, y)


def test_verbose_shows_progress_on_stderr(blobs, capsys):
    X, y = blobs
    gsgd.SGDClassifier(epochs=2, tol=None, verbose=1, device="cpu").fit(X, y)
    err = capsys.readouterr().err
    assert "epoch 1/2" in err and "epoch 2/2" in err and "samples/s" in err


def test_verbose_under_epochs_auto_shows_no_bound_as_a_length(blobs, capsys):
    X, y = blobs
    est = gsgd.SGDClassifier(epochs="auto", schedule="cosine", verbose=1, device="cpu",
                             options={"min_steps": 0}).fit(X, y)
    err = capsys.readouterr().err
    n = len(est.history_)
    assert est.stop_reason_ == "converged"
    assert "epoch 1 [" in err and "/1000" not in err
    assert f"epoch {n}/{n} [" in err  # the cooldown's end is known


def test_a_checkpoint_resumed_continues_the_run_bit_for_bit(blobs, tmp_path):
    X, y = blobs
    kw = dict(loss="log_loss", optimizer="momentum", tol=None, device="cpu", random_state=3)
    straight = gsgd.SGDClassifier(epochs=4, **kw).fit(X, y)
    ck = tmp_path / "run.ckpt"
    gsgd.SGDClassifier(epochs=2, checkpoint=str(ck), **kw).fit(X, y)
    resumed = gsgd.SGDClassifier(epochs=2, **kw).fit(X, y, resume_from=str(ck))
    np.testing.assert_array_equal(straight.coef_, resumed.coef_)
    np.testing.assert_array_equal(straight.intercept_, resumed.intercept_)
    assert [e["epoch"] for e in resumed.history_] == [3, 4]


def test_checkpoint_every_writes_during_the_run(blobs, tmp_path):
    X, y = blobs
    ck = tmp_path / "every.ckpt"
    epochs_at_save = []

    def watch(e):
        epochs_at_save.append(gsgd.checkpoint_options(str(ck))[1])

    gsgd.SGDClassifier(epochs=3, tol=None, checkpoint=str(ck), checkpoint_every=1,
                       callback=watch, device="cpu").fit(X, y)
    assert epochs_at_save == [1, 2, 3]


@pytest.mark.parametrize("est", [gsgd.SGDClassifier(loss="log_loss", standardize=True),
                                 gsgd.SGDRegressor(), gsgd.MLPClassifier((8,))])
def test_fitted_estimators_pickle_through_the_model_file(blobs, est):
    X, y = blobs
    est.set_params(device="cpu", random_state=0, epochs=5).fit(X, y)
    est2 = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(est.predict(X), est2.predict(X))
    est2.partial_fit(X, y)  # and it trains on


def test_partial_fit_trains_one_epoch_per_call(blobs):
    X, y = blobs
    clf = gsgd.SGDClassifier(loss="log_loss", device="cpu", random_state=0)
    with pytest.raises(ValueError, match="classes"):
        clf.partial_fit(X[:100], y[:100])
    for i in range(0, 600, 100):
        clf.partial_fit(X[i:i + 100], y[i:i + 100], classes=[0, 1, 2])
    assert clf.n_iter_ == 6 and clf.score(X, y) > 0.9
    with pytest.raises(ValueError, match="labels outside"):
        clf.partial_fit(X[:10], np.full(10, 7))


def test_coef_and_intercept_reproduce_the_decision_function(blobs):
    X, y = blobs
    for std in (False, True):
        clf = gsgd.SGDClassifier(loss="log_loss", standardize=std, epochs=5, device="cpu",
                                 random_state=0).fit(X * 10 + 3, y)
        z = clf.decision_function(X * 10 + 3)
        ref = (X * 10 + 3) @ clf.coef_.T.astype(np.float64) + clf.intercept_
        np.testing.assert_allclose(z, ref, rtol=1e-4, atol=1e-4 * np.abs(z).max())
    yb = (y == 1).astype(int)
    clf = gsgd.SGDClassifier(device="cpu", random_state=0).fit(X, yb)  # hinge: 2 outputs
    assert clf.coef_.shape == (1, 3) and clf.intercept_.shape == (1,)
    np.testing.assert_allclose(clf.decision_function(X), X @ clf.coef_[0] + clf.intercept_[0],
                               rtol=1e-4, atol=1e-5)
    reg = gsgd.SGDRegressor(standardize=False, epochs=300, tol=None, device="cpu",
                            random_state=0).fit(
        X, X @ [1.0, -2.0, 0.5] + 3)
    np.testing.assert_allclose(reg.coef_, [1.0, -2.0, 0.5], atol=0.05)
    np.testing.assert_allclose(reg.intercept_, [3.0], atol=0.05)


def test_mlp_coefs_reproduce_the_logits(blobs):
    X, y = blobs
    clf = gsgd.MLPClassifier((8, 4), epochs=3, device="cpu", random_state=0).fit(X, y)
    assert [w.shape for w in clf.coefs_] == [(3, 8), (8, 4), (4, 3)]
    a = X
    for i, (w, b) in enumerate(zip(clf.coefs_, clf.intercepts_)):
        a = a @ w + b
        if i < len(clf.coefs_) - 1:
            a = np.maximum(a, 0)
    np.testing.assert_allclose(clf.decision_function(X), a, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(clf.predict_proba(X).sum(axis=1), 1.0, atol=1e-6)


def test_the_train_result_says_why_training_stopped(blobs):
    # gsgd_train_result's last fields (issue 17) through ctypes: a given
    # number of epochs, then epochs auto (EPOCHS 0) with its cosine cooldown.
    X, y = blobs
    ctx = gsgd.Context("cpu")
    ds = gsgd.Dataset(ctx, X.astype(np.float32), y.astype(np.float32), 3)
    r = gsgd.Trainer(gsgd.Model(ctx, "softmax", 3, 3), ds, {"epochs": 2}).train()
    assert (r["epochs"], r["stop_reason"], r["cooldown_epochs"]) == (2, "epochs", 0)
    r = gsgd.Trainer(gsgd.Model(ctx, "softmax", 3, 3), ds,
                     {"epochs": 0, "min_steps": 0, "max_epochs": 200}).train()
    assert r["stop_reason"] == "converged", r
    assert 1 <= r["cooldown_epochs"] < r["epochs"] < 200
    assert r["steps"] == r["epochs"] * math.ceil(600 / r["batch"])


def test_epochs_and_standardize_take_auto(blobs):
    X, y = blobs
    clf = gsgd.SGDClassifier(loss="log_loss", epochs="auto", schedule="cosine", device="cpu",
                             random_state=0).fit(X, y)
    assert 1 <= clf.n_iter_ < 1000 and clf.t_ >= 5000 and clf.score(X, y) > 0.9
    # A column 1000 times the others: "auto" standardises, False does not.
    Xw = X * [1000.0, 1.0, 1.0]
    kw = dict(loss="log_loss", epochs=5, tol=None, device="cpu", random_state=0)
    auto = gsgd.SGDClassifier(standardize="auto", **kw).fit(Xw, y)
    on = gsgd.SGDClassifier(standardize=True, **kw).fit(Xw, y)
    off = gsgd.SGDClassifier(standardize=False, **kw).fit(Xw, y)
    np.testing.assert_array_equal(auto.decision_function(Xw), on.decision_function(Xw))
    assert np.any(off.decision_function(Xw) != on.decision_function(Xw))
    for bad in ({"epochs": "forever"}, {"standardize": "yes"}):
        with pytest.raises(ValueError):
            gsgd.SGDClassifier(device="cpu", **bad).fit(X, y)
