#!/usr/bin/python3
"""scikit-learn's bundled data sets as raw CSV train/test splits for gsgd.

Writes DIR/NAME_train.csv and DIR/NAME_test.csv: no header, the target in
the first column (gsgd's csv:PATH default), then the features exactly as
scikit-learn ships them (no scaling: wine's magnesium stays ~100 next to
hue ~1). Classification sets are split 70/30, stratified, random_state 0
(iris: 105 training rows); diabetes (regression, load_diabetes(scaled=False))
70/30 unstratified. Nothing is downloaded: these sets come with
scikit-learn (Debian's python3-sklearn).

Usage: bench/sklearn_sets.py DIR   (prints one line per set)
"""
import os
import sys

CLASSIFICATION = ["iris", "wine", "breast_cancer", "digits"]
REGRESSION = ["diabetes"]


def load(name):
    from sklearn import datasets
    if name == "diabetes":
        return datasets.load_diabetes(return_X_y=True, scaled=False)
    return getattr(datasets, "load_" + name)(return_X_y=True)


def split(name):
    """Xtr, ytr, Xte, yte of a set, as written."""
    from sklearn.model_selection import train_test_split
    X, y = load(name)
    strat = y if name in CLASSIFICATION else None
    Xtr, Xte, ytr, yte = train_test_split(X, y, test_size=0.3, random_state=0, stratify=strat)
    return Xtr, ytr, Xte, yte


def write(path, X, y, integer):
    with open(path, "w") as f:
        for xi, yi in zip(X, y):
            label = "%d" % yi if integer else repr(float(yi))
            f.write(",".join([label] + [repr(float(v)) for v in xi]) + "\n")


def export(out):
    os.makedirs(out, exist_ok=True)
    sets = {}
    for name in CLASSIFICATION + REGRESSION:
        Xtr, ytr, Xte, yte = split(name)
        integer = name in CLASSIFICATION
        tr, te = os.path.join(out, name + "_train.csv"), os.path.join(out, name + "_test.csv")
        write(tr, Xtr, ytr, integer)
        write(te, Xte, yte, integer)
        sets[name] = dict(train=tr, test=te, n_train=len(ytr), n_test=len(yte), d=Xtr.shape[1],
                          classes=len(set(ytr)) if integer else 0)
    return sets


if __name__ == "__main__":
    for name, s in export(sys.argv[1] if len(sys.argv) > 1 else "sets").items():
        print(f"{name}: {s['n_train']} train, {s['n_test']} test, {s['d']} features, "
              f"{s['classes']} classes -> {s['train']}")
