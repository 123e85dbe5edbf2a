"""Your own data through the `gsgd` program, measured against scikit-learn:
a regression CSV with its target column named gives r2, rmse and mae close
to Ridge's on the same split, and `gsgd predict` writes labels and
probabilities that numpy reads back. GSGD_CLI names the program
(scripts/test sets it to the build's); without it these tests skip, saying
so."""

import csv
import json
import os
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_diabetes, load_wine
from sklearn.linear_model import Ridge
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def gsgd_cli(*args):
    cli = os.environ.get("GSGD_CLI")
    if not cli or not os.path.exists(cli):
        pytest.skip("GSGD_CLI (the gsgd program) not set: no CLI to compare with")
    return subprocess.run([cli, *args], check=True, capture_output=True, text=True)


def write_csv(path, names, X, y=None, target=None, at=None):
    """A CSV with a header; y (if given) in column `at` named `target`.
    %.9g round-trips float32 exactly: the program reads the same numbers."""
    with open(path, "w", newline="") as f:
        w = csv.writer(f)
        cols = list(names)
        if y is not None:
            cols.insert(at, target)
        w.writerow(cols)
        for i, row in enumerate(X):
            cells = ["%.9g" % v for v in row.astype(np.float32)]
            if y is not None:
                cells.insert(at, y[i] if isinstance(y[i], str) else "%.9g" % y[i])
            w.writerow(cells)


def test_regression_csv_is_close_to_ridge_on_the_same_split(tmp_path):
    data = load_diabetes()
    X, y = data.data, data.target
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.25, random_state=0)
    write_csv(tmp_path / "train.csv", data.feature_names, Xtr, ytr, "progression", 3)
    write_csv(tmp_path / "test.csv", data.feature_names, Xte, yte, "progression", 3)
    summary = tmp_path / "s.json"
    gsgd_cli("train", "--data", str(tmp_path / "train.csv"), "--test", str(tmp_path / "test.csv"),
             "--label", "progression", "--model", "linear", "--standardize", "--epochs", "50",
             "--seed", "0", "--device", "cpu", "--quiet", "--summary", str(summary))
    got = json.loads(summary.read_text())
    ridge = make_pipeline(StandardScaler(), Ridge(alpha=1.0)).fit(Xtr, ytr)
    p = ridge.predict(Xte)
    want = {"r2": r2_score(yte, p), "rmse": mean_squared_error(yte, p) ** 0.5,
            "mae": mean_absolute_error(yte, p)}
    # SGD ends near the least-squares fit, not on it: within 0.03 of r2
    # (about 1.5% of the mse) and 3% of rmse and mae. Measured against
    # Ridge's r2 0.358: 0.352 with the default cosine, 0.364 at the
    # constant rate that was the default when this was written.
    assert got["r2"] == pytest.approx(want["r2"], abs=0.03), (got, want)
    assert got["rmse"] == pytest.approx(want["rmse"], rel=0.03), (got, want)
    assert got["mae"] == pytest.approx(want["mae"], rel=0.03), (got, want)
    assert got["n_classes"] == 0 and got["labels"] is None
    assert got["test_loss"] == pytest.approx(got["mse"] / 2, rel=1e-5)


def test_predict_writes_labels_and_probabilities_numpy_reads(tmp_path):
    data = load_wine()
    names = np.array(["barolo", "grignolino", "barbera"])[data.target]
    Xtr, Xte, ytr, yte = train_test_split(data.data, names, test_size=0.3, random_state=0,
                                          stratify=names)
    write_csv(tmp_path / "wine.csv", data.feature_names, Xtr, ytr, "cultivar", 5)
    write_csv(tmp_path / "wine_test.csv", data.feature_names, Xte, yte, "cultivar", 5)
    write_csv(tmp_path / "new.csv", data.feature_names, Xte)
    model, summary = tmp_path / "m.gsgd", tmp_path / "s.json"
    gsgd_cli("train", "--data", str(tmp_path / "wine.csv"), "--test",
             str(tmp_path / "wine_test.csv"), "--label", "cultivar", "--model", "softmax",
             "--standardize", "--epochs", "30", "--device", "cpu", "--quiet", "--save", str(model),
             "--summary", str(summary))
    got = json.loads(summary.read_text())
    assert got["labels"] == ["barbera", "barolo", "grignolino"]
    for out in ("p.npy", "p.csv"):
        gsgd_cli("predict", "--model-file", str(model), "--data", str(tmp_path / "new.csv"),
                 "--out", str(tmp_path / out), "--quiet")
    labels = np.load(tmp_path / "p.npy")
    assert labels.dtype.kind == "U" and labels.shape == (len(yte),)
    with open(tmp_path / "p.csv") as f:
        assert [r["prediction"] for r in csv.DictReader(f)] == list(labels)
    # Exactly the accuracy train reported.
    assert np.mean(labels == yte) == got["accuracy"]
    gsgd_cli("predict", "--model-file", str(model), "--data", str(tmp_path / "new.csv"),
             "--out", str(tmp_path / "pp.npy"), "--proba", "--quiet")
    proba = np.load(tmp_path / "pp.npy")
    assert proba.dtype == np.float32 and proba.shape == (len(yte), 3)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=3 * 2.0 ** -24)
    assert (np.array(got["labels"])[proba.argmax(axis=1)] == labels).all()
