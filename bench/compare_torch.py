#!/usr/bin/python3
"""gsgd on the GPU against PyTorch on Fashion-MNIST, in one run.

Trains the same model on the same data and GPU with the same batch, learning
rate, momentum and number of epochs:
  * gsgd: `gsgd train --device cuda --summary` (run through subprocess);
  * PyTorch eager: nn.Linear layers (ReLU between them), initialised as gsgd
    does (weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))), cross
    entropy, torch.optim.SGD(momentum=0.9, fused=True);
  * the same model under torch.compile, when it is available.
Both sides keep the whole data set on the GPU and shuffle it there each
epoch. samples/s counts training only (evaluation excluded, GPU synchronised
at the end of each epoch), like gsgd's summary. Prints samples/s and test
accuracy side by side; writes bench/results/gpu_vs_torch.{json,md} with the
machine's description.

Usage: bench/compare_torch.py [--gsgd build/gsgd] [--model softmax|mlp:256,128]
                              [--batch 1024] [--lr 0.01] [--epochs 10] [--repeats 3]
Skips with a message (exit 0) without torch, without a CUDA device, or
without the data. Never downloads anything.
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


def hidden_widths(model):
    if model == "softmax":
        return []
    if model.startswith("mlp:"):
        return [int(w) for w in model[4:].split(",")]
    raise SystemExit(f"compare_torch: --model {model}: only softmax and mlp:H1,H2,... compare")


def build(torch, widths, d, k):
    nn = torch.nn
    layers, fan_in = [], d
    for w in widths + [k]:
        lin = nn.Linear(fan_in, w)
        bound = 1.0 / fan_in ** 0.5  # gsgd's init: weights and biases alike
        nn.init.uniform_(lin.weight, -bound, bound)
        nn.init.uniform_(lin.bias, -bound, bound)
        layers += [lin, nn.ReLU()]
        fan_in = w
    return nn.Sequential(*layers[:-1])  # no ReLU on the logits


def torch_run(torch, widths, data, a, compiled):
    Xtr, ytr, Xte, yte = data
    torch.manual_seed(0)
    model = build(torch, widths, Xtr.shape[1], 10).cuda()
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=0.9, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    if compiled:
        step = torch.compile(step)
    n, B = Xtr.shape[0], a.batch
    train_s = 0.0
    for epoch in range(a.epochs):
        torch.cuda.synchronize()
        t = time.perf_counter()
        perm = torch.randperm(n, device="cuda")
        for s in range(0, n, B):
            idx = perm[s:s + B]
            step(Xtr[idx], ytr[idx])
        torch.cuda.synchronize()
        train_s += time.perf_counter() - t
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    return {"samples_per_second": n * a.epochs / train_s, "train_seconds": train_s,
            "test_accuracy": acc}


def gsgd_run(a, env):
    fd, path = tempfile.mkstemp(suffix=".json")
    os.close(fd)
    try:
        cmd = [a.gsgd, "train", "--data", "fashion-mnist", "--device", "cuda", "--quiet",
               "--model", a.model, "--optim", "momentum", "--momentum", "0.9",
               "--lr", str(a.lr), "--batch", str(a.batch), "--epochs", str(a.epochs),
               "--summary", path]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, env=env)
        with open(path) as f:
            return json.load(f), " ".join(cmd[:-2])
    finally:
        os.unlink(path)


def machine(torch):
    p = torch.cuda.get_device_properties(0)
    cpu = platform.processor()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((l.split(":", 1)[1].strip() for l in f if l.startswith("model name")), cpu)
    except OSError:
        pass
    try:
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        driver = None
    return {"gpu": p.name, "gpu_memory_bytes": p.total_memory, "compute_capability":
            f"{p.major}.{p.minor}", "cuda_torch": torch.version.cuda, "driver": driver,
            "torch": torch.__version__, "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gsgd", default="build/gsgd")
    ap.add_argument("--model", default="softmax")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile run")
    ap.add_argument("--out", default="bench/results/gpu_vs_torch")
    a = ap.parse_args()
    widths = hidden_widths(a.model)
    try:
        import numpy as np
        import torch
    except ImportError as e:
        print(f"compare_torch: skipped, PyTorch or numpy not available ({e})")
        return 0
    if not torch.cuda.is_available():
        print("compare_torch: skipped, no CUDA device visible to PyTorch")
        return 0
    if not os.path.isdir(DATA_DIR):
        print(f"compare_torch: skipped, {DATA_DIR} missing (apt-get install dataset-fashion-mnist)")
        return 0

    res = {"machine": machine(torch), "model": a.model, "batch": a.batch, "lr": a.lr,
           "momentum": 0.9, "epochs": a.epochs, "repeats": a.repeats,
           "date": time.strftime("%Y-%m-%d %H:%M"), "command": " ".join(sys.argv)}
    runs = [gsgd_run(a, dict(os.environ)) for _ in range(a.repeats)]
    res["gsgd"] = {"samples_per_second": statistics.median(r["samples_per_second"] for r, _ in runs),
                   "runs": [r["samples_per_second"] for r, _ in runs],
                   "test_accuracy": runs[0][0]["test_accuracy"], "command": runs[0][1]}
    print("gsgd", res["gsgd"], flush=True)

    Xtr, ytr, Xte, yte = load_fashion()
    ytr, yte = ytr.astype("int64"), yte.astype("int64")  # torch's class indices
    data = tuple(torch.from_numpy(v).cuda() for v in (Xtr, ytr, Xte, yte))
    variants = [("torch_eager", False)]
    if not a.no_compile and hasattr(torch, "compile"):
        variants.append(("torch_compile", True))
    for name, compiled in variants:
        try:
            rs = [torch_run(torch, widths, data, a, compiled) for _ in range(a.repeats)]
        except Exception as e:  # torch.compile needs a working Triton/C compiler
            print(f"compare_torch: {name} failed: {e}")
            res[name] = {"error": str(e)}
            continue
        res[name] = {"samples_per_second": statistics.median(r["samples_per_second"] for r in rs),
                     "runs": [r["samples_per_second"] for r in rs],
                     "test_accuracy": rs[0]["test_accuracy"]}
        print(name, res[name], flush=True)

    g = res["gsgd"]["samples_per_second"]
    lines = ["# gsgd (CUDA) against PyTorch on Fashion-MNIST", "",
             f"{res['machine']['gpu']} ({res['machine']['gpu_memory_bytes'] / 2**30:.0f} GiB, "
             f"driver {res['machine']['driver']}), PyTorch {torch.__version__} (CUDA "
             f"{torch.version.cuda}); {res['date']}. Model {a.model}, batch {a.batch}, "
             f"lr {a.lr}, momentum 0.9, {a.epochs} epochs; samples/s over training only, "
             f"median of {a.repeats} runs. Command: `{res['command']}`.", "",
             "| what | samples/s | gsgd / it | test accuracy |", "|---|---|---|---|",
             f"| gsgd train --device cuda | {g:,.0f} | 1.00 | {res['gsgd']['test_accuracy']:.4f} |"]
    for name, _ in variants:
        r = res.get(name, {})
        if "samples_per_second" in r:
            lines.append(f"| {name.replace('_', ' ')} (SGD fused=True) | "
                         f"{r['samples_per_second']:,.0f} | {g / r['samples_per_second']:.2f} | "
                         f"{r['test_accuracy']:.4f} |")
        else:
            lines.append(f"| {name.replace('_', ' ')} | failed: {r.get('error', '?')[:80]} | | |")
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    with open(a.out + ".md", "w") as f:
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
