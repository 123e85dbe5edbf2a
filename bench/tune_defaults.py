#!/usr/bin/env python3
"""Measure the defaults: grid over lr, batch and optimizer on Fashion-MNIST.

Runs `gsgd train` for each setting (20 epochs, --target-acc off so every run
does all epochs, plus a second pass with --target-acc for the time to reach
it) and writes bench/results/defaults.md. The defaults in src/options.c come
from this table: the setting with the best final test accuracy among those
that reach the target fastest, for softmax and for mlp:256,128.

Usage: bench/tune_defaults.py [--gsgd build/gsgd] [--quick]
"""
import argparse, json, os, platform, subprocess, sys, tempfile, time

def run(gsgd, args):
    with tempfile.NamedTemporaryFile(suffix=".json", delete=False) as f:
        path = f.name
    try:
        cmd = [gsgd, "train", "--data", "fashion-mnist", "--device", "cpu", "--quiet",
               "--summary", path] + args
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        with open(path) as f:
            return json.load(f)
    finally:
        if os.path.exists(path):
            os.unlink(path)

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gsgd", default="build/gsgd")
    ap.add_argument("--out", default="bench/results/defaults.md")
    args = ap.parse_args()
    grids = {
        "softmax": dict(epochs=20, target=0.84,
                        lrs=[0.01, 0.05, 0.1, 0.2, 0.5], batches=[32, 64, 128, 256],
                        optims=[("sgd", None), ("momentum", 0.9)]),
        "mlp:256,128": dict(epochs=20, target=0.885,
                            lrs=[0.01, 0.05, 0.1], batches=[64, 128, 256],
                            optims=[("momentum", 0.9)]),
    }
    lines = ["# Default hyperparameters, measured", "",
             f"Machine: {platform.processor() or platform.machine()}, "
             f"{os.cpu_count()} cores; {time.strftime('%Y-%m-%d')}.",
             f"Command: `{' '.join(sys.argv)}` (Fashion-MNIST, CPU backend, seed 0).", ""]
    for model, g in grids.items():
        lines += [f"## {model}: {g['epochs']} epochs, target {g['target']}", "",
                  "| optim | lr | batch | test acc | time to target (s) | s/epoch |",
                  "|---|---|---|---|---|---|"]
        for optim, mu in g["optims"]:
            for lr in g["lrs"]:
                for b in g["batches"]:
                    base = ["--model", model, "--optim", optim, "--lr", str(lr),
                            "--batch", str(b)]
                    full = run(args.gsgd, base + ["--epochs", str(g["epochs"])])
                    tgt = run(args.gsgd, base + ["--epochs", str(g["epochs"]),
                                                  "--target-acc", str(g["target"])])
                    ttt = tgt["time_to_target_s"]
                    lines.append(
                        f"| {optim} | {lr} | {b} | {full['test_accuracy']:.4f} | "
                        f"{'not reached' if ttt is None else f'{ttt:.2f}'} | "
                        f"{full['seconds'] / full['epochs']:.3f} |")
                    print(lines[-1], flush=True)
        lines.append("")
    os.makedirs(os.path.dirname(args.out), exist_ok=True)
    with open(args.out, "w") as f:
        f.write("\n".join(lines) + "\n")

if __name__ == "__main__":
    main()
