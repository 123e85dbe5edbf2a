#!/usr/bin/python3
"""gsgd on the CPU against scikit-learn on Fashion-MNIST, in one run.

Measures on the same data and machine:
  * time to 0.84 test accuracy: gsgd softmax (--target-acc 0.84) against
    LogisticRegression() (lbfgs) and SGDClassifier(loss="log_loss"), the
    latter evaluated after every epoch for up to 20 epochs;
  * 20 epochs of an MLP with hidden layers (256, 128): gsgd mlp:256,128
    with momentum against MLPClassifier((256, 128), max_iter=20).
Times are training (fit) times: data loading is excluded on both sides;
gsgd's include its per-epoch test evaluation. gsgd runs are repeated and
the median is reported; scikit-learn's slow fits run once (said in the
output). numpy runs on OpenBLAS with the same thread count as gsgd.

Usage: bench/compare_sklearn.py [--gsgd build/gsgd] [--threads 2] [--quick]
Writes bench/results/cpu_vs_sklearn.{json,md}. Never downloads anything.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

from fashion_mnist import DATA_DIR, load_fashion


def gsgd_run(gsgd, args, env):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        cmd = [gsgd, "train", "--data", "fashion-mnist", "--device", "cpu", "--quiet",
               "--summary", path] + args
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        with open(path) as f:
            return json.load(f)
    finally:
        os.unlink(path)


def machine():
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gsgd", default="build/gsgd")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--quick", action="store_true", help="2 epochs, for a smoke test")
    ap.add_argument("--out", default="bench/results/cpu_vs_sklearn")
    a = ap.parse_args()
    if not os.path.isdir(DATA_DIR):
        print(f"compare_sklearn: {DATA_DIR} missing (apt-get install dataset-fashion-mnist)")
        return 0
    try:
        import numpy as np
        import sklearn
        from sklearn.linear_model import LogisticRegression, SGDClassifier
        from sklearn.neural_network import MLPClassifier
        from threadpoolctl import threadpool_info, threadpool_limits
    except ImportError as e:
        print(f"compare_sklearn: skipped, scikit-learn not available ({e}); "
              "scripts/setup --bench installs it")
        return 0
    import warnings
    from sklearn.exceptions import ConvergenceWarning
    warnings.filterwarnings("ignore", category=ConvergenceWarning)

    epochs = 2 if a.quick else 20
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads))
    res = {"machine": machine(), "threads": a.threads, "epochs": epochs,
           "sklearn_version": sklearn.__version__, "numpy_version": np.__version__,
           "date": time.strftime("%Y-%m-%d %H:%M")}

    # gsgd first: time to 0.84 (softmax, defaults) and 20 MLP epochs.
    runs = [gsgd_run(a.gsgd, ["--model", "softmax", "--epochs", str(epochs),
                              "--target-acc", "0.84"], env) for _ in range(a.repeats)]
    ttt = [r["time_to_target_s"] for r in runs]
    res["gsgd_softmax"] = {
        "time_to_0.84_s": statistics.median(ttt) if None not in ttt else None,
        "runs_s": ttt, "test_accuracy": runs[0]["test_accuracy"], "epochs": runs[0]["epochs"],
        "batch": runs[0]["batch"], "lr": runs[0]["lr"],
        "command": f"gsgd train --data fashion-mnist --model softmax --epochs {epochs} "
                   "--target-acc 0.84 --device cpu"}
    runs = [gsgd_run(a.gsgd, ["--model", "mlp:256,128", "--optim", "momentum",
                              "--epochs", str(epochs)], env) for _ in range(a.repeats)]
    res["gsgd_mlp"] = {
        "seconds": statistics.median(r["seconds"] for r in runs),
        "runs_s": [r["seconds"] for r in runs], "test_accuracy": runs[0]["test_accuracy"],
        "samples_per_second": statistics.median(r["samples_per_second"] for r in runs),
        "command": f"gsgd train --data fashion-mnist --model mlp:256,128 --optim momentum "
                   f"--epochs {epochs} --device cpu"}
    print(json.dumps({k: res[k] for k in ("gsgd_softmax", "gsgd_mlp")}, indent=1), flush=True)

    Xtr, ytr, Xte, yte = load_fashion()
    with threadpool_limits(limits=a.threads):
        res["blas"] = [{k: i.get(k) for k in ("internal_api", "num_threads", "version")}
                       for i in threadpool_info()]
        t = time.perf_counter()
        lr = LogisticRegression().fit(Xtr, ytr)
        res["sklearn_logreg"] = {"seconds": time.perf_counter() - t,
                                 "test_accuracy": float(lr.score(Xte, yte)), "runs": 1,
                                 "model": "LogisticRegression() (lbfgs, max_iter=100)"}
        print(res["sklearn_logreg"], flush=True)

        sgd = SGDClassifier(loss="log_loss", random_state=0)
        classes = np.unique(ytr)
        t, hit, accs = time.perf_counter(), None, []
        for e in range(epochs):
            sgd.partial_fit(Xtr, ytr, classes=classes)
            accs.append(float(sgd.score(Xte, yte)))
            if hit is None and accs[-1] >= 0.84:
                hit = time.perf_counter() - t
        res["sklearn_sgd"] = {"seconds": time.perf_counter() - t, "time_to_0.84_s": hit,
                              "test_accuracy": accs[-1], "best_accuracy": max(accs),
                              "model": 'SGDClassifier(loss="log_loss"), one partial_fit '
                                       "per epoch, scored each epoch"}
        print(res["sklearn_sgd"], flush=True)

        t = time.perf_counter()
        mlp = MLPClassifier((256, 128), max_iter=epochs, random_state=0).fit(Xtr, ytr)
        res["sklearn_mlp"] = {"seconds": time.perf_counter() - t,
                              "test_accuracy": float(mlp.score(Xte, yte)), "runs": 1,
                              "model": f"MLPClassifier((256, 128), max_iter={epochs}) "
                                       "(adam, batch 200)"}
        print(res["sklearn_mlp"], flush=True)

    g, s = res["gsgd_softmax"], res["sklearn_logreg"]
    ratio_lr = s["seconds"] / g["time_to_0.84_s"] if g["time_to_0.84_s"] else None
    ratio_mlp = res["sklearn_mlp"]["seconds"] / res["gsgd_mlp"]["seconds"]
    res["ratios"] = {"logreg_fit_over_gsgd_time_to_0.84": ratio_lr,
                     "mlpclassifier_over_gsgd_mlp_same_epochs": ratio_mlp}
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    fmt = lambda v: "not reached" if v is None else f"{v:.2f}"
    lines = [
        "# gsgd (CPU) against scikit-learn on Fashion-MNIST", "",
        f"{res['machine']['cpu']}, {res['machine']['cores']} cores, {a.threads} threads on "
        f"both sides; scikit-learn {sklearn.__version__}, numpy {np.__version__} on "
        f"{', '.join(str(b['internal_api']) + ' ' + str(b['version']) for b in res['blas'])}; "
        f"{res['date']}. Command: `{' '.join(sys.argv)}`.", "",
        "| what | seconds | test accuracy | note |", "|---|---|---|---|",
        f"| gsgd softmax, time to 0.84 | {fmt(g['time_to_0.84_s'])} | {g['test_accuracy']:.4f} "
        f"| median of {a.repeats}; {g['epochs']} epochs, batch {g['batch']}, lr {g['lr']} |",
        f"| LogisticRegression() fit | {s['seconds']:.2f} | {s['test_accuracy']:.4f} | 1 run |",
        f"| SGDClassifier(log_loss), time to 0.84 | {fmt(res['sklearn_sgd']['time_to_0.84_s'])}"
        f" | {res['sklearn_sgd']['best_accuracy']:.4f} (best of {epochs} epochs) | 1 run |",
        f"| gsgd mlp:256,128 momentum, {epochs} epochs | {res['gsgd_mlp']['seconds']:.2f} | "
        f"{res['gsgd_mlp']['test_accuracy']:.4f} | median of {a.repeats} |",
        f"| MLPClassifier((256,128)), {epochs} epochs | {res['sklearn_mlp']['seconds']:.2f} | "
        f"{res['sklearn_mlp']['test_accuracy']:.4f} | 1 run |", "",
        f"LogisticRegression fit time / gsgd time to 0.84: "
        f"{fmt(ratio_lr)}x. MLPClassifier / gsgd MLP, same epochs: {ratio_mlp:.1f}x.", ""]
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
