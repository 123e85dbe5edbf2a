#!/usr/bin/python3
"""gsgd on the GPU against PyTorch on Fashion-MNIST, in one run.

Trains the same model on the same data and GPU with the same batch, learning
rate and momentum (0.9):
  * gsgd: `gsgd train --device cuda --optim momentum` (run through
    subprocess, a fresh process each run);
  * PyTorch eager: nn.Linear layers (ReLU between them), initialised as gsgd
    does (weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))), cross
    entropy, torch.optim.SGD(momentum=0.9, fused=True);
  * the same training step under torch.compile, when it is available.
Both sides keep the whole data set on the GPU and shuffle it there each
epoch. Two measurements:
  * steady-state samples/s: --epochs epochs, --repeats runs, median. Epoch 1
    of every run is warm-up (CUDA and cuBLAS lazy loading; torch.compile's
    compilation, done once per process) and is left out: samples/s is the
    samples of epochs 2..E over their summed times. Each epoch is timed with
    one test-set evaluation, because gsgd's per-epoch figures (`--log`)
    include one: gsgd's epoch time is samples / the rate its log gives (so
    the figure is the harmonic mean of the rates), PyTorch's is the time
    between GPU synchronisations before and after the epoch. Epoch 1's
    seconds are reported apart;
  * time to --target-acc test accuracy (evaluated after each epoch, at most
    --target-epochs epochs), median of --repeats runs: for gsgd the wall
    clock of the whole `gsgd train --target-acc` process (start, CUDA init,
    data load and upload included) and its summary's time_to_target_s
    (training and evaluation only); for PyTorch eager, from the start of the
    data's upload to the GPU to the end of the epoch that reaches the
    target, in this process, where CUDA is already initialised and warm.
Writes <--out>.json and <--out>.md (the machine, the command lines, both
sides' figures and the ratios gsgd / torch) and prints the md.

Usage: bench/compare_torch.py [--gsgd build/gsgd] [--model softmax|mlp:256,128]
                              [--batch 1024] [--lr 0.01] [--epochs 10] [--repeats 3]
                              [--target-acc 0.84] [--target-epochs 20]
                              [--no-compile] [--out bench/results/gpu_vs_torch]
Skips with a message (exit 0) without torch or numpy, without a CUDA device,
or without the data. Never downloads anything.
"""
import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import tempfile
import time

from fashion_mnist import DATA_DIR, load_fashion

MOMENTUM = 0.9


def hidden_widths(model):
    if model == "softmax":
        return []
    if model.startswith("mlp:"):
        return [int(w) for w in model[4:].split(",")]
    raise SystemExit(f"compare_torch: --model {model}: only softmax and mlp:H1,H2,... compare")


def after_warmup(rates):
    """Samples/s over epochs 2..E of a run from its per-epoch samples/s:
    every epoch trains the same samples, so total samples over total time is
    the harmonic mean of the rates. Epoch 1 is warm-up."""
    rest = rates[1:]
    if not rest:
        raise ValueError("no epoch after the warm-up epoch")
    return len(rest) / sum(1.0 / r for r in rest)


def median_or_none(xs):
    """The median, or None when a run has none (a target not reached)."""
    return None if None in xs else statistics.median(xs)


def ratio(x, y):
    return None if x is None or not y else x / y


# ---- PyTorch -------------------------------------------------------------

def build(torch, widths, d, k):
    """Linear layers on the GPU with ReLU between them; reset initialises."""
    nn = torch.nn
    layers, fan_in = [], d
    for w in widths + [k]:
        layers += [nn.Linear(fan_in, w, device="cuda"), nn.ReLU()]
        fan_in = w
    return nn.Sequential(*layers[:-1])  # no ReLU on the logits


def reset(torch, model, opt):
    """Makes model and opt as good as new in place, so that a compiled step
    is reused rather than recompiled: gsgd's init from seed 0 (weights and
    biases alike), and zeroed momentum buffers, which act as fresh ones
    (buf = 0.9 * 0 + grad, as a first step sets buf = grad)."""
    torch.manual_seed(0)
    for lin in model:
        if isinstance(lin, torch.nn.Linear):
            bound = 1.0 / lin.in_features ** 0.5
            torch.nn.init.uniform_(lin.weight, -bound, bound)
            torch.nn.init.uniform_(lin.bias, -bound, bound)
    for state in opt.state.values():
        state["momentum_buffer"].zero_()


def torch_setup(torch, widths, d, a, compiled):
    """Model, optimizer and training step. A compiled step compiles at its
    first call (epoch 1 of the first run) and later runs of this setup reuse
    it, so compilation is warm-up, once per process."""
    model = build(torch, widths, d, 10)
    opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=MOMENTUM, fused=True)
    loss_fn = torch.nn.CrossEntropyLoss()

    def step(xb, yb):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
        return loss

    return model, opt, torch.compile(step) if compiled else step


def torch_epoch(torch, model, step, data, batch):
    """One epoch timed as gsgd's --log times it: shuffle on the GPU, train,
    then test accuracy. Returns (seconds, accuracy)."""
    Xtr, ytr, Xte, yte = data
    n = Xtr.shape[0]
    torch.cuda.synchronize()
    t = time.perf_counter()
    perm = torch.randperm(n, device="cuda")
    for s in range(0, n, batch):
        idx = perm[s:s + batch]
        step(Xtr[idx], ytr[idx])
    with torch.no_grad():
        acc = (model(Xte).argmax(1) == yte).float().mean().item()
    torch.cuda.synchronize()
    return time.perf_counter() - t, acc


def upload(torch, arrays):
    return tuple(torch.from_numpy(v).cuda() for v in arrays)


def torch_throughput(torch, widths, data, a, compiled):
    """--repeats runs of --epochs epochs with one setup; the first epoch of
    the first run also compiles when compiled."""
    model, opt, step = torch_setup(torch, widths, data[0].shape[1], a, compiled)
    n = data[0].shape[0]
    runs = []
    for _ in range(a.repeats):
        reset(torch, model, opt)
        runs.append([torch_epoch(torch, model, step, data, a.batch) for _ in range(a.epochs)])
    steady = [after_warmup([n / s for s, _ in run]) for run in runs]
    return {"samples_per_second": statistics.median(steady), "runs": steady,
            "first_epoch_s": runs[0][0][0], "first_epoch_s_runs": [run[0][0] for run in runs],
            "test_accuracy": runs[0][-1][1]}


def torch_time_to_target(torch, widths, arrays, a):
    """Seconds from the start of the upload to the end of the first epoch
    (evaluation included) at --target-acc, eager; None when not reached."""
    model, opt, step = torch_setup(torch, widths, arrays[0].shape[1], a, compiled=False)
    reset(torch, model, opt)
    torch.cuda.synchronize()
    t = time.perf_counter()
    data = upload(torch, arrays)
    for epoch in range(1, a.target_epochs + 1):
        _, acc = torch_epoch(torch, model, step, data, a.batch)
        if acc >= a.target_acc:
            return {"seconds": time.perf_counter() - t, "epochs": epoch, "test_accuracy": acc}
    return {"seconds": None, "epochs": a.target_epochs, "test_accuracy": acc}


def torch_target_runs(torch, widths, arrays, a):
    runs = [torch_time_to_target(torch, widths, arrays, a) for _ in range(a.repeats)]
    return {"seconds": median_or_none([r["seconds"] for r in runs]),
            "runs_s": [r["seconds"] for r in runs], "epochs": [r["epochs"] for r in runs],
            "test_accuracy": runs[0]["test_accuracy"],
            "what": "eager, from the start of the upload (torch.from_numpy(...).cuda()) to "
                    "the end of the epoch reaching the target, evaluation included, in a "
                    "process where CUDA is already initialised and warm"}


def attempt(name, fn, *args):
    """fn's result, or its error recorded, so that one failing PyTorch
    variant (torch.compile needs a working Triton and C compiler) leaves
    the others' figures."""
    try:
        r = fn(*args)
    except Exception as e:
        print(f"compare_torch: {name} failed: {e}", flush=True)
        return {"error": str(e)}
    print(name, r, flush=True)
    return r


# ---- gsgd ----------------------------------------------------------------

def gsgd_command(a, epochs, *extra):
    return [a.gsgd, "train", "--data", "fashion-mnist", "--device", "cuda", "--quiet",
            "--model", a.model, "--optim", "momentum", "--momentum", str(MOMENTUM),
            "--lr", str(a.lr), "--batch", str(a.batch), "--epochs", str(epochs),
            # PyTorch's side steps at a constant rate; gsgd's default is a
            # cosine since issue 17.
            "--schedule", "constant", *extra]


def shown(cmd, log):
    """cmd as a shell line, with the scratch files gsgd_run adds named."""
    return shlex.join(cmd) + (" --log LOG.jsonl" if log else "") + " --summary SUMMARY.json"


def gsgd_run(cmd, log):
    """Runs cmd with --summary (and --log when log) into a scratch folder.
    Returns (summary, per-epoch log lines, wall-clock seconds of the whole
    process)."""
    with tempfile.TemporaryDirectory() as d:
        summary_path, log_path = os.path.join(d, "summary.json"), os.path.join(d, "log.jsonl")
        full = cmd + (["--log", log_path] if log else []) + ["--summary", summary_path]
        t = time.perf_counter()
        subprocess.run(full, check=True, stdout=subprocess.DEVNULL)
        wall = time.perf_counter() - t
        with open(summary_path) as f:
            summary = json.load(f)
        lines = []
        if log:
            with open(log_path) as f:
                lines = [json.loads(line) for line in f if line.strip()]
    return summary, lines, wall


def gsgd_throughput(a):
    cmd = gsgd_command(a, a.epochs)
    runs = [gsgd_run(cmd, log=True) for _ in range(a.repeats)]
    for _, lines, _ in runs:
        if len(lines) != a.epochs:
            raise SystemExit(f"compare_torch: gsgd logged {len(lines)} epochs, not {a.epochs}")
    steady = [after_warmup([e["samples_per_second"] for e in lines]) for _, lines, _ in runs]
    first = [lines[0]["seconds"] for _, lines, _ in runs]  # seconds since training began
    return {"samples_per_second": statistics.median(steady), "runs": steady,
            "first_epoch_s": statistics.median(first), "first_epoch_s_runs": first,
            "test_accuracy": runs[0][0]["test_accuracy"],
            # The summary's own figure: training only, but over every epoch.
            "summary_samples_per_second_all_epochs": [s["samples_per_second"] for s, _, _ in runs],
            "command": shown(cmd, log=True)}


def gsgd_time_to_target(a):
    cmd = gsgd_command(a, a.target_epochs, "--target-acc", str(a.target_acc))
    runs = [gsgd_run(cmd, log=False) for _ in range(a.repeats)]
    train = [s["time_to_target_s"] for s, _, _ in runs]
    process = [w if s["time_to_target_s"] is not None else None for s, _, w in runs]
    return {"process_s": median_or_none(process), "process_s_runs": process,
            "train_s": median_or_none(train), "train_s_runs": train,
            "epochs": [s["epochs"] for s, _, _ in runs],
            "test_accuracy": runs[0][0]["test_accuracy"], "command": shown(cmd, log=False)}


# ---- report --------------------------------------------------------------

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


def ratios(res):
    g, t = res["gsgd"], res["time_to_target"]
    torch_s = t["torch_eager"].get("seconds")
    out = {f"samples_per_second_gsgd_over_{name}":
           ratio(g["samples_per_second"], res[name].get("samples_per_second"))
           for name in ("torch_eager", "torch_compile") if name in res}
    out["time_to_target_gsgd_process_over_torch_eager"] = ratio(t["gsgd"]["process_s"], torch_s)
    out["time_to_target_gsgd_train_over_torch_eager"] = ratio(t["gsgd"]["train_s"], torch_s)
    return out


def fmt(v, spec, none="not reached"):
    return none if v is None else format(v, spec)


def throughput_table(res, a):
    g = res["gsgd"]
    lines = [f"| what | samples/s, epochs 2-{a.epochs} | gsgd / it | first epoch s | "
             "test accuracy |", "|---|---|---|---|---|",
             f"| gsgd train --device cuda | {g['samples_per_second']:,.0f} | 1.00 | "
             f"{g['first_epoch_s']:.3f} | {g['test_accuracy']:.4f} |"]
    for name in ("torch_eager", "torch_compile"):
        r = res.get(name)
        if r is None:
            continue
        label = name.replace("_", " ") + " (SGD fused=True)"
        if "error" in r:
            lines.append(f"| {label} | failed: {r['error'][:80]} | | | |")
        else:
            lines.append(f"| {label} | {r['samples_per_second']:,.0f} | "
                         f"{g['samples_per_second'] / r['samples_per_second']:.2f} | "
                         f"{r['first_epoch_s']:.3f} | {r['test_accuracy']:.4f} |")
    return lines


def target_table(res, a):
    g, te = res["time_to_target"]["gsgd"], res["time_to_target"]["torch_eager"]
    torch_s = te.get("seconds")
    epochs = statistics.median_low(g["epochs"])
    lines = [f"| time to {a.target_acc} test accuracy (at most {a.target_epochs} epochs) | "
             "seconds | epochs | test accuracy | / torch eager |", "|---|---|---|---|---|"]
    for label, s in (("gsgd, whole process: start, CUDA init, data load and upload included",
                      g["process_s"]),
                     ("gsgd, training and evaluation (summary's time_to_target_s)", g["train_s"])):
        lines.append(f"| {label} | {fmt(s, '.3f')} | {epochs} | {g['test_accuracy']:.4f} | "
                     f"{fmt(ratio(s, torch_s), '.2f', '')} |")
    if "error" in te:
        lines.append(f"| torch eager | failed: {te['error'][:80]} | | | |")
    else:
        lines.append(f"| torch eager, upload to target (CUDA already initialised, warm) | "
                     f"{fmt(torch_s, '.3f')} | {statistics.median_low(te['epochs'])} | "
                     f"{te['test_accuracy']:.4f} | {'1.00' if torch_s else ''} |")
    return lines


def markdown(res, a):
    m = res["machine"]
    head = [
        "# gsgd (CUDA) against PyTorch on Fashion-MNIST", "",
        f"{m['gpu']} ({m['gpu_memory_bytes'] / 2**30:.0f} GiB, driver {m['driver']}), "
        f"PyTorch {m['torch']} (CUDA {m['cuda_torch']}), {m['cpu']}; {res['date']}. "
        f"Model {a.model}, batch {a.batch}, lr {a.lr}, momentum {MOMENTUM}; medians of "
        f"{a.repeats} runs. Command: `{res['command']}`; gsgd: `{res['gsgd']['command']}` "
        f"and `{res['time_to_target']['gsgd']['command']}`.", ""]
    return "\n".join(head + throughput_table(res, a) + [""] + target_table(res, a)
                     + ["", res["warmup"], ""])


# One sentence for the md; the module docstring says the same at length.
WARMUP = ("Warm-up is excluded: samples/s is the samples of epochs 2..E of each run over their "
          "summed times, epoch 1 (CUDA and cuBLAS lazy loading, torch.compile's one "
          "compilation per process) being the first-epoch column (gsgd: median over fresh "
          "processes; PyTorch: its first run), and every epoch is timed with one test "
          "evaluation, as gsgd's --log rates include one (gsgd: epoch time = samples / the "
          "logged rate; PyTorch: GPU synchronised before and after the epoch).")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--gsgd", default="build/gsgd")
    ap.add_argument("--model", default="softmax")
    ap.add_argument("--batch", type=int, default=1024)
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--epochs", type=int, default=10, help="per throughput run, 2 or more")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--target-acc", type=float, default=0.84)
    ap.add_argument("--target-epochs", type=int, default=20, help="at most, to --target-acc")
    ap.add_argument("--no-compile", action="store_true", help="skip the torch.compile run")
    ap.add_argument("--out", default="bench/results/gpu_vs_torch")
    a = ap.parse_args()
    if a.epochs < 2:
        ap.error("--epochs must be 2 or more: epoch 1 is warm-up, left out of samples/s")
    if a.repeats < 1 or a.target_epochs < 1:
        ap.error("--repeats and --target-epochs must be 1 or more")
    widths = hidden_widths(a.model)
    try:
        import numpy  # noqa: F401  (load_fashion needs it)
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
           "momentum": MOMENTUM, "epochs": a.epochs, "repeats": a.repeats,
           "target_acc": a.target_acc, "target_epochs": a.target_epochs,
           "date": time.strftime("%Y-%m-%d %H:%M"), "command": shlex.join(sys.argv),
           "warmup": WARMUP}
    res["gsgd"] = gsgd_throughput(a)
    print("gsgd", res["gsgd"], flush=True)
    res["time_to_target"] = {"gsgd": gsgd_time_to_target(a)}
    print("gsgd time to target", res["time_to_target"]["gsgd"], flush=True)

    Xtr, ytr, Xte, yte = load_fashion()
    arrays = (Xtr, ytr.astype("int64"), Xte, yte.astype("int64"))  # torch's class indices
    data = upload(torch, arrays)
    res["torch_eager"] = attempt("torch_eager", torch_throughput, torch, widths, data, a, False)
    if not a.no_compile and hasattr(torch, "compile"):
        res["torch_compile"] = attempt("torch_compile", torch_throughput, torch, widths, data, a,
                                       True)
    del data  # the time-to-target runs upload their own
    # After the throughput runs, so PyTorch's CUDA context and kernels are warm.
    res["time_to_target"]["torch_eager"] = attempt("torch_eager time to target",
                                                   torch_target_runs, torch, widths, arrays, a)
    res["ratios"] = ratios(res)

    md = markdown(res, a)
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json", "w") as f:
        json.dump(res, f, indent=1)
    with open(a.out + ".md", "w") as f:
        f.write(md)
    print(md)
    return 0


if __name__ == "__main__":
    sys.exit(main())
