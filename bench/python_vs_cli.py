#!/usr/bin/env python3
"""The Python binding against the `gsgd` program: the same training of the
same library, so the difference is what the binding adds.

CPU: Fashion-MNIST softmax, the same options on both sides (`gsgd train
--data fashion-mnist --model softmax --epochs E --seed 0 --schedule constant` and
SGDClassifier(loss="log_loss", epochs=E, tol=None, random_state=0)),
alternating runs, medians. Reported per side:
  * the CLI: its process's wall time (loading the gzipped IDX files
    included) and `seconds` of its --summary (gsgd_train: the epochs and the
    final test evaluation);
  * Python: fit's wall time (input validation, label encoding, context,
    model, dataset, planning and training: everything fit does) and the
    training clock inside it (gsgd_train's, history_[-1]["seconds"]);
  * the headline: fit's wall time over the CLI's `seconds`, with X in
    memory of the same kind as the CLI's dataset. NumPy asks the kernel for
    transparent huge pages on large arrays (madvise), gsgd's loader does not
    (plain malloc): the shuffled row gathers then take fewer TLB misses, and
    training from a NumPy array runs faster than the CLI's own (measured
    here ~25% on Fashion-MNIST). So Python is run twice: from the array as
    NumPy made it, and from a copy made with NumPy's huge pages turned off,
    which is the like-for-like comparison.
Both sides get the test accuracy; they must be equal (same bits).

GPU (only where a CUDA device, the CUDA build and CuPy are): samples/s of a
partial_fit loop over CuPy batches against the CLI's samples/s.

Usage: python3 bench/python_vs_cli.py [--gsgd build/gsgd] [--epochs 20]
       [--runs 5] [--out bench/results/python_vs_cli.md]
Run it with the Python that has the gsgd package (pip install .), or with
GSGD_LIBRARY=build/libgsgd.so PYTHONPATH=python.
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

import gsgd


def cli_run(cli, epochs, device="cpu"):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        t = time.perf_counter()
        subprocess.run([cli, "train", "--data", "fashion-mnist", "--model", "softmax",
                        "--epochs", str(epochs), "--seed", "0", "--device", device, "--quiet",
                        "--schedule", "constant",  # the estimator's (gsgd train's is cosine)
                        "--summary", path], check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        with open(path) as f:
            s = json.load(f)
        return {"wall": wall, "train": s["seconds"], "accuracy": s["test_accuracy"],
                "sps": s["samples_per_second"]}
    finally:
        os.remove(path)


def py_run(X, y, Xt, yt, epochs):
    clf = gsgd.SGDClassifier(loss="log_loss", epochs=epochs, tol=None, random_state=0,
                             device="cpu")
    t = time.perf_counter()
    clf.fit(X, y)
    wall = time.perf_counter() - t
    return {"wall": wall, "train": clf.history_[-1]["seconds"], "accuracy": clf.score(Xt, yt)}


def without_huge_pages(X):
    """A copy of X in memory NumPy has not asked huge pages for."""
    import numpy as np
    core = getattr(np, "_core", None) or np.core
    setter = getattr(core.multiarray, "_set_madvise_hugepage", None)
    if setter is None:
        return None
    old = setter(False)
    try:
        out = np.empty_like(X)
        out[:] = X
    finally:
        setter(old)
    return out


def gpu_partial_fit(X, y, cli, batch=4096, epochs=3):
    """samples/s of partial_fit over CuPy batches, or None with the reason."""
    try:
        import cupy as cp
    except ImportError:
        return None, "CuPy is not installed"
    try:
        gsgd.Context("cuda")
    except gsgd.GsgdError as e:
        return None, str(e)
    Xd, yd = cp.asarray(X), cp.asarray(y)
    clf = gsgd.SGDClassifier(loss="log_loss", batch_size=1024, device="cuda", random_state=0)
    clf.partial_fit(Xd[:batch], yd[:batch], classes=list(range(10)))  # warm-up
    cp.cuda.Device().synchronize()
    t = time.perf_counter()
    for _ in range(epochs):
        for i in range(0, len(X), batch):
            clf.partial_fit(Xd[i:i + batch], yd[i:i + batch])
    cp.cuda.Device().synchronize()
    sps = epochs * len(X) / (time.perf_counter() - t)
    ref = cli_run(cli, epochs, "cuda")
    return {"partial_fit_sps": sps, "cli_sps": ref["sps"]}, None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gsgd", default="build/gsgd")
    ap.add_argument("--epochs", type=int, default=20)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default="bench/results/python_vs_cli.md")
    a = ap.parse_args()

    t = time.perf_counter()
    X, y, Xt, yt = gsgd.load_fashion_mnist()
    load_s = time.perf_counter() - t
    py_run(X[:2000], y[:2000], Xt, yt, 1)  # first touch of the library
    Xs = without_huge_pages(X)
    cli, py, pys = [], [], []
    sides = [lambda: cli.append(cli_run(a.gsgd, a.epochs)),
             lambda: py.append(py_run(X, y, Xt, yt, a.epochs))]
    if Xs is not None:
        sides.append(lambda: pys.append(py_run(Xs, y, Xt, yt, a.epochs)))
    for i in range(a.runs):  # alternated, the order rotated: load on the machine hits all
        for k in range(len(sides)):
            sides[(i + k) % len(sides)]()
    med = {side: {k: statistics.median(r[k] for r in runs) for k in ("wall", "train")}
           for side, runs in (("cli", cli), ("py", py), ("pys", pys)) if runs}
    accs = {r["accuracy"] for r in cli + py + pys}
    like = "pys" if pys else "py"
    ratio = med[like]["wall"] / med["cli"]["train"]
    gpu, why = gpu_partial_fit(X, y, a.gsgd)

    load = os.getloadavg()
    cmd = " ".join([os.path.basename(sys.executable)] + sys.argv)
    env = {k: os.environ.get(k, "(unset)") for k in ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")}
    lines = [
        "# The Python binding against the CLI",
        "",
        f"Command: `{cmd}` ({time.strftime('%Y-%m-%d')}, {platform.node()}, "
        f"{os.cpu_count()} CPUs, {env}, load average at the end {load[0]:.1f} / "
        f"{load[1]:.1f} / {load[2]:.1f}), gsgd {gsgd.__version__}.",
        "",
        f"CPU, Fashion-MNIST softmax, {a.epochs} epochs, seed 0, batch planned (64), "
        f"median of {a.runs} runs each, alternated in a rotating order:",
        "",
        "| side | wall (s) | training (s) |",
        "| --- | ---: | ---: |",
        f"| `gsgd train` (process; wall includes loading the IDX files) | "
        f"{med['cli']['wall']:.3f} | {med['cli']['train']:.3f} |",
        f"| `SGDClassifier.fit`, X as NumPy allocates it (huge pages) | "
        f"{med['py']['wall']:.3f} | {med['py']['train']:.3f} |",
    ] + ([
        f"| `SGDClassifier.fit`, X without huge pages, as the CLI's dataset | "
        f"{med['pys']['wall']:.3f} | {med['pys']['train']:.3f} |"] if pys else []) + [
        "",
        f"**fit's wall time / the CLI's training time, like for like ({like}): {ratio:.3f}** "
        f"({(ratio - 1) * 100:+.1f}%; the goal is within 5%). "
        f"What fit adds around training (wall - training clock): "
        f"{(med[like]['wall'] - med[like]['train']) * 1000:.0f} ms.",
        "(fit's training clock is gsgd_train's, as the CLI's `seconds`; what is left between "
        "the like-for-like training clocks is the same engine timed in two processes, "
        "within the runs' spread below on a loaded machine.)",
        f"Test accuracy: {sorted(accs)} ({'the same on both sides' if len(accs) == 1 else 'DIFFERENT'}).",
        f"Loading Fashion-MNIST into NumPy (not part of fit): {load_s:.2f} s.",
        "",
        "All runs (wall, training seconds):",
        "",
        "- CLI: " + ", ".join(f"{r['wall']:.3f}/{r['train']:.3f}" for r in cli),
        "- Python: " + ", ".join(f"{r['wall']:.3f}/{r['train']:.3f}" for r in py),
        "- Python, no huge pages: " + ", ".join(f"{r['wall']:.3f}/{r['train']:.3f}"
                                               for r in pys),
        "",
        "GPU, partial_fit over CuPy batches of 4096 (batch 1024) against the CLI's samples/s: "
        + (f"{gpu['partial_fit_sps']:,.0f} against {gpu['cli_sps']:,.0f} samples/s "
           f"({gpu['partial_fit_sps'] / gpu['cli_sps']:.2f})." if gpu else
           f"not measured here ({why})."),
    ]
    text = "\n".join(lines) + "\n"
    print(text)
    if a.out:
        with open(a.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
