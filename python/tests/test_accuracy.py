"""The estimators train wine, digits and Fashion-MNIST to the accuracy of
the `gsgd` program with the same options: the same library, so the same
test accuracy. GSGD_CLI names the program (scripts/test sets it to the
build's); without it these tests skip, saying so."""

import json
import os
import subprocess

import numpy as np
import pytest
from sklearn.datasets import load_digits, load_wine
from sklearn.model_selection import train_test_split

import gsgd


def cli_accuracy(tmp_path, args):
    cli = os.environ.get("GSGD_CLI")
    if not cli or not os.path.exists(cli):
        pytest.skip("GSGD_CLI (the gsgd program) not set: no CLI to compare with")
    summary = tmp_path / "summary.json"
    subprocess.run([cli, "train", *args, "--device", "cpu", "--quiet", "--summary",
                    str(summary)], check=True, capture_output=True)
    return json.loads(summary.read_text())["test_accuracy"]


def write_csv(path, X, y):
    # %.9g round-trips float32 exactly: the CLI reads the same numbers.
    np.savetxt(path, np.column_stack([X.astype(np.float32), y]), fmt="%.9g", delimiter=",")


@pytest.mark.parametrize("name,load", [("wine", load_wine), ("digits", load_digits)])
@pytest.mark.parametrize("model", ["softmax", "mlp:32"])
def test_small_datasets_reach_the_clis_accuracy(tmp_path, name, load, model):
    X, y = load(return_X_y=True)
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)
    write_csv(tmp_path / "train.csv", Xtr, ytr)
    write_csv(tmp_path / "test.csv", Xte, yte)
    want = cli_accuracy(tmp_path, ["--data", f"csv:{tmp_path}/train.csv:label=last", "--test",
                                   f"csv:{tmp_path}/test.csv:label=last", "--model", model,
                                   "--standardize", "--epochs", "30", "--seed", "7",
                                   "--schedule", "constant"])  # the estimators' default
    kw = dict(standardize=True, epochs=30, tol=None, random_state=7, device="cpu")
    est = gsgd.SGDClassifier(loss="log_loss", **kw) if model == "softmax" else \
        gsgd.MLPClassifier((32,), **kw)
    got = est.fit(Xtr.astype(np.float32), ytr).score(Xte.astype(np.float32), yte)
    assert got == pytest.approx(want, abs=0.5 / len(yte)), (got, want)
    assert got > (0.9 if name == "wine" else 0.93)


def test_fashion_mnist_softmax_reaches_the_clis_accuracy(tmp_path, fashion_mnist):
    X, y, Xt, yt = fashion_mnist
    want = cli_accuracy(tmp_path, ["--data", "fashion-mnist", "--model", "softmax",
                                   "--epochs", "3", "--seed", "0", "--schedule", "constant"])
    clf = gsgd.SGDClassifier(loss="log_loss", epochs=3, tol=None, random_state=0,
                             device="cpu").fit(X, y)
    assert clf.score(Xt, yt) == pytest.approx(want, abs=0.5 / len(yt))
    assert want > 0.8


def test_fashion_mnist_mlp_reaches_the_clis_accuracy(tmp_path, fashion_mnist):
    X, y, Xt, yt = fashion_mnist
    want = cli_accuracy(tmp_path, ["--data", "fashion-mnist", "--model", "mlp:32",
                                   "--epochs", "1", "--seed", "0", "--schedule", "constant"])
    clf = gsgd.MLPClassifier((32,), epochs=1, tol=None, random_state=0, device="cpu").fit(X, y)
    assert clf.score(Xt, yt) == pytest.approx(want, abs=0.5 / len(yt))
    assert want > 0.8
