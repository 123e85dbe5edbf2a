#!/usr/bin/env python3
"""gsgd from Python: train on Fashion-MNIST from NumPy arrays, predict, and
plot the batch-size sweep.

    pip install .                       # from the repository root
    python3 examples/python/fashion_mnist.py [--epochs 10] [--plot sweep.png]

Needs Debian's dataset-fashion-mnist (or --data DIR with the four IDX
files); the plot needs matplotlib, otherwise the sweep is printed.
"""
import argparse
import logging

import numpy as np

import gsgd


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default="/usr/share/datasets/fashion-mnist")
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--plot", default="sweep.png", help="'' for no plot")
    ap.add_argument("--subset", type=int, default=0, help="train on the first N samples")
    a = ap.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(name)s: %(message)s")  # gsgd's log

    print(gsgd.info(a.device))
    # float32 in [0, 1], C order: gsgd reads these arrays in place on the CPU.
    X, y, X_test, y_test = gsgd.load_fashion_mnist(a.data)
    if a.subset:
        X, y = X[:a.subset], y[:a.subset]  # a view: still C order, no copy

    clf = gsgd.SGDClassifier(loss="log_loss", epochs=a.epochs, tol=None, random_state=0,
                             device=a.device, verbose=1)
    clf.fit(X, y)
    pred = clf.predict(X_test)
    proba = clf.predict_proba(X_test[:3])
    print(f"softmax: test accuracy {np.mean(pred == y_test):.4f} after {clf.n_iter_} epochs "
          f"at batch {clf.batch_size_} on {clf.device_}; "
          f"{clf.history_[-1]['samples_per_second']:,.0f} samples/s in the last epoch")
    print("first three test images: classes", pred[:3], "with probability",
          np.round(proba.max(axis=1), 3))

    mlp = gsgd.MLPClassifier((256, 128), optimizer="momentum", epochs=max(1, a.epochs // 2),
                             tol=None, random_state=0, device=a.device).fit(X, y)
    print(f"mlp:256,128: test accuracy {mlp.score(X_test, y_test):.4f}")

    # The memory plan behind batch_size="auto", and throughput across batch sizes.
    plan = gsgd.plan(X, y, "softmax", device=a.device)
    print(f"planned batch {plan['batch']}: {plan['reason']}")
    sweep = gsgd.bench(X, y, "softmax", batches=[32, 64, 128, 256, 512, 1024], epochs=2,
                       test=(X_test, y_test), device=a.device, as_frame=False)
    for r in sweep:
        print(f"batch {r['batch']:5d}: {r['samples_per_second_warm']:12,.0f} samples/s, "
              f"test accuracy {r['test_accuracy']:.4f}")
    if a.plot:
        try:
            import matplotlib
            matplotlib.use("Agg")
            import matplotlib.pyplot as plt
        except ImportError:
            print("matplotlib is not installed: no plot")
            return
        b = [r["batch"] for r in sweep]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(b, [r["samples_per_second_warm"] for r in sweep], "o-")
        ax.set_xscale("log", base=2)
        ax.set_xlabel("batch size")
        ax.set_ylabel("samples/s (epoch 2)")
        ax.set_title(f"gsgd softmax on Fashion-MNIST ({sweep[0]['device']})")
        fig.tight_layout()
        fig.savefig(a.plot, dpi=100)
        print(f"sweep plotted to {a.plot}")


if __name__ == "__main__":
    main()
