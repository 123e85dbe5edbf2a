#!/usr/bin/python3
"""gsgd on the GPU against PyTorch at its strongest, in one run.

The same model, data, initialisation, batch, rule (SGD, momentum 0.9,
PyTorch's fused kernel) and learning rate on the same GPU, the whole data
set resident on the device and shuffled there each epoch, for each
precision asked (--precisions): gsgd `--precision P` against PyTorch with
the matching arithmetic (fp32: matmul precision "highest"; tf32: "high",
TF32 tensor cores; bf16: autocast to bfloat16, FP32 master weights and
update), in each of these setups (--kinds):
  * eager: the plain training loop (index the batch, forward, backward,
    fused SGD), what the earlier comparisons measured;
  * graph: the whole step (the batch indexed from a static permutation
    buffer at a step offset kept on the device, forward, backward, fused
    SGD, the offset's advance) captured once with torch.cuda.graph and
    replayed: one launch per step, as gsgd replays its steps; the last,
    partial batch has a graph of its own;
  * compile-reduce-overhead, compile-max-autotune: the forward and loss
    (with the batch's indexing) through torch.compile in that mode, its
    backward compiled by AOTAutograd, and the optimizer's step compiled
    too (torch.compile(opt.step)), as PyTorch's tutorials do; both modes
    replay CUDA Graphs (cudagraph trees), max-autotune also tunes GEMMs.
Measurements, medians of --repeats runs, warm-up excluded:
  * samples/s: --epochs epochs per run; epoch 1 (lazy loading, compilation,
    autotuning) is left out: samples/s is the samples of epochs 2..E over
    their summed times. Every epoch is timed with one test evaluation, as
    gsgd's per-epoch rates (--log) include one: gsgd's epoch time is
    samples / its logged rate, PyTorch's the time between device
    synchronisations before and after the epoch;
  * time to --target-acc (evaluated after each epoch, at most
    --target-epochs epochs) for gsgd (the whole process, exec to exit, and
    its training alone) and for the fastest PyTorch setup (warm: compiled
    or captured; from its reset to the end of the epoch reaching the
    target, plus a fresh upload of the data timed apart).
--batch auto is gsgd's planned B* (`gsgd plan --max-batch none`), used by
both sides. --data synth:N,D,K times gsgd on its synthetic set (80% of N
rows train) and PyTorch on random rows of the same shape (no target there:
samples/s only; the data's values do not change the work).
Writes <--out>.json and <--out>.md (the machine, the commands, every
figure and gsgd / each setup) and prints the md.

Usage: bench/compare_torch.py [--gsgd build/gsgd] [--model softmax|mlp:H1,...]
         [--data fashion-mnist|synth:N,D,K] [--batch 1024|auto] [--lr 0.01]
         [--precisions fp32,tf32,bf16] [--kinds eager,graph,compile-reduce-overhead,...]
         [--epochs 5] [--repeats 3] [--target-acc 0.84] [--target-epochs 20]
         [--setup-timeout 240] [--out bench/results/gpu_vs_torch]
Skips with a message (exit 0) without torch or numpy, without a CUDA
device, or without the data. Never downloads anything.
"""
import argparse
import json
import os
import platform
import shlex
import signal
import statistics
import subprocess
import sys
import tempfile
import time

from fashion_mnist import DATA_DIR, load_fashion

MOMENTUM = 0.9
PRECISIONS = ("fp32", "tf32", "bf16")
KINDS = ("eager", "graph", "compile-reduce-overhead", "compile-max-autotune")


def hidden_widths(model):
    if model == "softmax":
        return []
    if model.startswith("mlp:"):
        return [int(w) for w in model[4:].split(",")]
    raise SystemExit(f"compare_torch: --model {model}: only softmax and mlp:H1,H2,... compare")


def synth_shape(data):
    """synth:N,D,K -> (train rows, test rows, D, K) as gsgd splits it."""
    n, d, k = (int(v) for v in data.split(":", 1)[1].split(":")[0].split(","))
    n_train = min(max(int(0.8 * n), 1), n - 1)
    return n_train, n - n_train, d, k


def after_warmup(rates):
    """Samples/s over epochs 2..E of a run from its per-epoch samples/s:
    every epoch trains the same samples, so total samples over total time
    is the harmonic mean of the rates. Epoch 1 is warm-up."""
    rest = rates[1:]
    if not rest:
        raise ValueError("no epoch after the warm-up epoch")
    return len(rest) / sum(1.0 / r for r in rest)


def median_or_none(xs):
    """The median, or None when a run has none (a target not reached)."""
    return None if not xs or None in xs else statistics.median(xs)


def ratio(x, y):
    return None if x is None or not y else x / y


class SetupTimeout(Exception):
    pass


def with_timeout(seconds, fn, *args):
    """fn(*args), stopped with SetupTimeout after seconds (0: never)."""
    def expire(signum, frame):
        raise SetupTimeout(f"over --setup-timeout {seconds} s")
    old = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        return fn(*args)
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


# ---- PyTorch -------------------------------------------------------------

def set_precision(torch, precision):
    """The matmul arithmetic outside autocast: FP32 or TF32 tensor cores."""
    torch.set_float32_matmul_precision("high" if precision == "tf32" else "highest")
    torch.backends.cudnn.allow_tf32 = precision == "tf32"


def build(torch, widths, d, k):
    """Linear layers on the GPU with ReLU between them."""
    nn = torch.nn
    layers, fan_in = [], d
    for w in widths + [k]:
        layers += [nn.Linear(fan_in, w, device="cuda"), nn.ReLU()]
        fan_in = w
    return nn.Sequential(*layers[:-1])  # no ReLU on the logits


def reset(torch, model, opt):
    """Makes model and opt as good as new in place (so compiled code and
    captured graphs, which hold their addresses, stay valid): gsgd's init
    from seed 0, weights and biases ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in)),
    and zeroed momentum buffers, which act as fresh ones (buf = 0.9 * 0 +
    grad, as a first step sets buf = grad)."""
    torch.manual_seed(0)
    with torch.no_grad():
        for lin in model:
            if isinstance(lin, torch.nn.Linear):
                bound = 1.0 / lin.in_features ** 0.5
                lin.weight.uniform_(-bound, bound)
                lin.bias.uniform_(-bound, bound)
    for state in opt.state.values():
        if state.get("momentum_buffer") is not None:
            state["momentum_buffer"].zero_()


class TorchSetup:
    """One PyTorch setup (kind, precision) over resident data: its model,
    optimizer and step, and the epoch gsgd's --log times."""

    def __init__(self, torch, kind, precision, widths, data, batch, lr):
        self.torch, self.kind, self.precision, self.batch = torch, kind, precision, batch
        self.X, self.Y, self.Xte, self.Yte = data
        self.n = self.X.shape[0]
        set_precision(torch, precision)
        if kind.startswith("compile"):
            torch._dynamo.reset()  # nothing compiled under another setup's flags
        self.model = build(torch, widths, self.X.shape[1], int(self.Y.max().item()) + 1)
        self.opt = torch.optim.SGD(self.model.parameters(), lr=lr, momentum=MOMENTUM, fused=True)
        self.loss_fn = torch.nn.CrossEntropyLoss()
        getattr(self, "_make_" + kind.split("-")[0])()
        reset(torch, self.model, self.opt)

    def autocast(self):
        # No autocast cache inside graphs: its cached casts would be stale.
        return self.torch.autocast("cuda", dtype=self.torch.bfloat16,
                                   enabled=self.precision == "bf16",
                                   cache_enabled=self.kind == "eager")

    def _loss(self, idx):
        with self.autocast():
            return self.loss_fn(self.model(self.X[idx]), self.Y[idx])

    # eager: index, forward, backward, fused step
    def _make_eager(self):
        def step(idx):
            self.opt.zero_grad(set_to_none=True)
            self._loss(idx).backward()
            self.opt.step()
        self.step = step

    # compiled forward (+ AOTAutograd's backward) and compiled optimizer step
    def _make_compile(self):
        mode = self.kind.split("-", 1)[1]
        fwd = self.torch.compile(self._loss, mode=mode)
        opt_step = self.torch.compile(self.opt.step, mode=mode)

        def step(idx):
            self.opt.zero_grad(set_to_none=True)
            fwd(idx).backward()
            opt_step()
        self.step = step

    # the whole step captured once, replayed from a static index buffer
    def _make_graph(self):
        torch, B = self.torch, self.batch
        self.perm = torch.randperm(self.n, device="cuda")
        self.offset = torch.zeros((), dtype=torch.int64, device="cuda")

        def body(rows):
            idx = self.perm[self.offset + torch.arange(rows, device="cuda")]
            self._loss(idx).backward()
            self.opt.step()
            self.offset.add_(rows)

        tail = self.n % B
        shapes = [B] + ([tail] if tail else [])
        # Warm-up iterations on a side stream (PyTorch's recipe for whole-
        # network capture): the optimizer's state, cuBLAS's workspace.
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            for rows in shapes * 3:
                self.offset.zero_()
                self.opt.zero_grad(set_to_none=True)
                body(rows)
        torch.cuda.current_stream().wait_stream(s)
        self.graphs, self.grads, pool = [], [], None
        for rows in shapes:
            # Gradients None at capture: the captured backward writes them
            # (one allocated in the graph's pool) rather than adding to
            # what a replay of another graph left. Each graph's are kept
            # alive, so that the next capture cannot take their memory.
            self.opt.zero_grad(set_to_none=True)
            g = torch.cuda.CUDAGraph()
            with torch.cuda.graph(g, pool=pool):
                body(rows)
            pool = g.pool()
            self.graphs.append(g)
            self.grads.append([q.grad for q in self.model.parameters()])
        self.full_steps = self.n // B

    def epoch(self):
        """One epoch as gsgd's --log times it: shuffle on the GPU, train,
        then test accuracy. Returns (seconds, accuracy)."""
        torch, B = self.torch, self.batch
        torch.cuda.synchronize()
        t = time.perf_counter()
        if self.kind == "graph":
            self.perm.copy_(torch.randperm(self.n, device="cuda"))
            self.offset.zero_()
            for _ in range(self.full_steps):
                self.graphs[0].replay()
            if len(self.graphs) > 1:
                self.graphs[1].replay()
        else:
            perm = torch.randperm(self.n, device="cuda")
            for s in range(0, self.n, B):
                self.step(perm[s:s + B])
        acc = self.accuracy()
        torch.cuda.synchronize()
        return time.perf_counter() - t, acc

    def accuracy(self):
        torch = self.torch
        with torch.no_grad(), self.autocast():
            correct = 0
            for s in range(0, self.Xte.shape[0], 65536):
                out = self.model(self.Xte[s:s + 65536])
                correct += (out.argmax(1) == self.Yte[s:s + 65536]).sum()
            return correct.item() / self.Xte.shape[0]

    def reset(self):
        reset(self.torch, self.model, self.opt)


def torch_throughput(setup, a):
    """--repeats runs of --epochs epochs; the first epoch of the first run
    also compiles (compile kinds)."""
    runs = []
    for _ in range(a.repeats):
        setup.reset()
        runs.append([setup.epoch() for _ in range(a.epochs)])
    steady = [after_warmup([setup.n / s for s, _ in run]) for run in runs]
    return {"samples_per_second": statistics.median(steady), "runs": steady,
            "first_epoch_s": runs[0][0][0], "first_epoch_s_runs": [run[0][0] for run in runs],
            "test_accuracy": runs[0][-1][1]}


def torch_time_to_target(setup, arrays, a):
    """The setup, warm, from its reset to the end of the first epoch
    (evaluation included) at --target-acc; and a fresh upload of the data
    timed apart (the setup keeps the data it was built on: a captured
    graph holds its addresses)."""
    torch = setup.torch
    torch.cuda.synchronize()
    t = time.perf_counter()
    fresh = upload(torch, arrays)
    torch.cuda.synchronize()
    upload_s = time.perf_counter() - t
    del fresh
    runs = []
    for _ in range(a.repeats):
        setup.reset()
        torch.cuda.synchronize()
        t = time.perf_counter()
        hit = None
        for epoch in range(1, a.target_epochs + 1):
            _, acc = setup.epoch()
            if acc >= a.target_acc:
                hit = {"seconds": time.perf_counter() - t, "epochs": epoch, "test_accuracy": acc}
                break
        runs.append(hit or {"seconds": None, "epochs": a.target_epochs, "test_accuracy": acc})
    return {"seconds": median_or_none([r["seconds"] for r in runs]),
            "runs_s": [r["seconds"] for r in runs], "epochs": [r["epochs"] for r in runs],
            "test_accuracy": runs[0]["test_accuracy"], "upload_s": upload_s,
            "what": f"{setup.kind} {setup.precision}, warm (compiled or captured), from its "
                    "reset to the end of the epoch reaching the target, evaluation included; "
                    "upload_s: the data's upload, timed apart"}


def upload(torch, arrays):
    return tuple(torch.from_numpy(v).cuda() for v in arrays)


def synthetic(torch, shape):
    """Random rows of gsgd's synth shape on the device (seeded)."""
    n_train, n_test, d, k = shape
    g = torch.Generator(device="cuda").manual_seed(0)
    mk = lambda n: (torch.randn(n, d, device="cuda", generator=g),
                    torch.randint(0, k, (n,), device="cuda", generator=g))
    (X, Y), (Xte, Yte) = mk(n_train), mk(n_test)
    Y[0] = k - 1  # every class index present: the model's width is K
    return X, Y, Xte, Yte


def attempt(name, fn, *args):
    """fn's result, or its error recorded, so that one failing setup
    (torch.compile needs a working Triton and C compiler; a timeout) leaves
    the others' figures."""
    try:
        r = fn(*args)
    except Exception as e:  # noqa: BLE001 (any failure is a result here)
        print(f"compare_torch: {name} failed: {type(e).__name__}: {e}", flush=True)
        return {"error": f"{type(e).__name__}: {e}"}
    print(name, {k: v for k, v in r.items() if k != "setup"}, flush=True)
    return r


# ---- gsgd ----------------------------------------------------------------

def gsgd_command(a, precision, epochs, *extra):
    return [a.gsgd, "train", "--data", a.data, "--device", "cuda", "--quiet", "--model", a.model,
            "--optim", "momentum", "--momentum", str(MOMENTUM), "--lr", str(a.lr), "--batch",
            str(a.batch), "--epochs", str(epochs), "--precision", precision,
            # PyTorch's side steps at a constant rate, whatever gsgd's
            # default schedule is (a cosine since issue 17).
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


def gsgd_throughput(a, precision):
    cmd = gsgd_command(a, precision, a.epochs)
    runs = [gsgd_run(cmd, log=True) for _ in range(a.repeats)]
    for _, lines, _ in runs:
        if len(lines) != a.epochs:
            raise SystemExit(f"compare_torch: gsgd logged {len(lines)} epochs, not {a.epochs}")
    steady = [after_warmup([e["samples_per_second"] for e in lines]) for _, lines, _ in runs]
    first = [lines[0]["seconds"] for _, lines, _ in runs]  # seconds since training began
    return {"samples_per_second": statistics.median(steady), "runs": steady,
            "first_epoch_s": statistics.median(first), "first_epoch_s_runs": first,
            "test_accuracy": runs[0][0]["test_accuracy"],
            "summary_samples_per_second_all_epochs": [s["samples_per_second"] for s, _, _ in runs],
            "command": shown(cmd, log=True)}


def gsgd_time_to_target(a, precision):
    cmd = gsgd_command(a, precision, a.target_epochs, "--target-acc", str(a.target_acc))
    runs = [gsgd_run(cmd, log=False) for _ in range(a.repeats)]
    train = [s["time_to_target_s"] for s, _, _ in runs]
    process = [w if s["time_to_target_s"] is not None else None for s, _, w in runs]
    return {"process_s": median_or_none(process), "process_s_runs": process,
            "train_s": median_or_none(train), "train_s_runs": train,
            "epochs": [s["epochs"] for s, _, _ in runs],
            "breakdown": runs[0][0].get("breakdown"),
            "test_accuracy": runs[0][0]["test_accuracy"], "command": shown(cmd, log=False)}


def planned_batch(a):
    """gsgd's B* for the model and data on the device (its planner)."""
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "plan.json")
        subprocess.run([a.gsgd, "plan", "--data", a.data, "--model", a.model, "--device", "cuda",
                        "--max-batch", "none", "--quiet", "--json", path], check=True,
                       stdout=subprocess.DEVNULL)
        with open(path) as f:
            return int(json.load(f)["batch"])


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
        driver = subprocess.run(["nvidia-smi", "--query-gpu=driver_version",
                                 "--format=csv,noheader"], capture_output=True, text=True,
                                check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        driver = None
    return {"gpu": p.name, "gpu_memory_bytes": p.total_memory,
            "compute_capability": f"{p.major}.{p.minor}", "cuda_torch": torch.version.cuda,
            "driver": driver, "torch": torch.__version__, "cpu": cpu, "cores": os.cpu_count(),
            "python": platform.python_version()}


def fmt(v, spec, none="-"):
    return none if v is None else format(v, spec)


def best_torch(res):
    """(name, result) of the PyTorch setup with the highest samples/s."""
    ok = [(k, v) for k, v in res["torch"].items() if "samples_per_second" in v]
    return max(ok, key=lambda kv: kv[1]["samples_per_second"]) if ok else (None, None)


def ratios(res):
    out = {}
    for name, r in res["torch"].items():
        g = res["gsgd"].get(r["precision"], {})
        out[name] = ratio(g.get("samples_per_second"), r.get("samples_per_second"))
    for p in res["gsgd"]:
        same = [v for v in res["torch"].values()
                if v["precision"] == p and "samples_per_second" in v]
        if same:
            top = max(v["samples_per_second"] for v in same)
            out[f"gsgd_{p}_over_best_torch_{p}"] = ratio(res["gsgd"][p]["samples_per_second"],
                                                         top)
    return out


def throughput_table(res, a):
    lines = [f"| what | precision | samples/s, epochs 2-{a.epochs} | gsgd / it | "
             "first epoch s | test accuracy |", "|---|---|---|---|---|---|"]
    for p, g in res["gsgd"].items():
        lines.append(f"| gsgd train --device cuda | {p} | {g['samples_per_second']:,.0f} | 1.00 | "
                     f"{g['first_epoch_s']:.3f} | {g['test_accuracy']:.4f} |")
    for name, r in res["torch"].items():
        if "error" in r:
            lines.append(f"| torch {r['kind']} | {r['precision']} | failed: "
                         f"{r['error'][:90]} | | | |")
            continue
        q = res["ratios"].get(name)
        lines.append(f"| torch {r['kind']} | {r['precision']} | {r['samples_per_second']:,.0f} | "
                     f"{fmt(q, '.2f')} | {r['first_epoch_s']:.3f} | {r['test_accuracy']:.4f} |")
    return lines


def target_table(res, a):
    t = res.get("time_to_target")
    if not t:
        return []
    g, te = t["gsgd"], t["torch"]
    torch_s = te.get("seconds")
    lines = [f"| time to {a.target_acc} test accuracy (at most {a.target_epochs} epochs), "
             f"{t['precision']} | seconds | epochs | test accuracy | / torch |",
             "|---|---|---|---|---|"]
    ep = statistics.median_low(g["epochs"])
    for label, s in (("gsgd, whole process: exec to exit, CUDA init, data read and upload "
                      "included", g["process_s"]),
                     ("gsgd, training and evaluation (summary's time_to_target_s)",
                      g["train_s"])):
        lines.append(f"| {label} | {fmt(s, '.3f', 'not reached')} | {ep} | "
                     f"{g['test_accuracy']:.4f} | {fmt(ratio(s, torch_s), '.2f')} |")
    if "error" in te:
        lines.append(f"| torch {t['torch_setup']} | failed: {te['error'][:80]} | | | |")
    else:
        lines.append(f"| torch {t['torch_setup']}, warm, reset to target (+ upload "
                     f"{te['upload_s']:.3f} s apart) | {fmt(torch_s, '.3f', 'not reached')} | "
                     f"{statistics.median_low(te['epochs'])} | {te['test_accuracy']:.4f} | "
                     f"{'1.00' if torch_s else ''} |")
    if g.get("breakdown"):
        b = g["breakdown"]
        lines += ["", "gsgd's process, one run (seconds): " + ", ".join(
            f"{k[:-2]} {v:.3f}" for k, v in b.items() if isinstance(v, float))]
    return lines


def markdown(res, a):
    m = res["machine"]
    head = [
        f"# gsgd (CUDA) against PyTorch's setups: {a.model} on {a.data}", "",
        f"{m['gpu']} ({m['gpu_memory_bytes'] / 2**30:.0f} GiB, driver {m['driver']}), "
        f"PyTorch {m['torch']} (CUDA {m['cuda_torch']}), {m['cpu']}; {res['date']}. "
        f"Model {a.model}, batch {res['batch']}{' (B*, planned by gsgd)' if a.batch == 'auto' else ''}"
        f", lr {a.lr}, momentum {MOMENTUM}; medians of {a.repeats} runs. Command: "
        f"`{res['command']}`; gsgd: `{next(iter(res['gsgd'].values()))['command']}` "
        "(with each --precision).", ""]
    best = res["ratios"]
    goal = [f"gsgd / the fastest PyTorch setup of the same precision: " + ", ".join(
        f"{k.split('_')[1]} {fmt(v, '.2f')}" for k, v in best.items()
        if k.startswith("gsgd_") and "_over_best_torch_" in k) + " (goal: 1.5 or more).", ""]
    return "\n".join(head + throughput_table(res, a) + [""] + goal + target_table(res, a)
                     + ["", WARMUP, ""])


WARMUP = ("Warm-up is excluded: samples/s is the samples of epochs 2..E of each run over their "
          "summed times, epoch 1 (lazy loading, torch.compile's compilation and autotuning, "
          "once per process and setup) being the first-epoch column (gsgd: median over fresh "
          "processes; PyTorch: its first run; a graph setup captures before epoch 1), and every "
          "epoch is timed with one test evaluation, as gsgd's --log rates include one.")


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[1:]))
    ap.add_argument("--gsgd", default="build/gsgd")
    ap.add_argument("--model", default="softmax")
    ap.add_argument("--data", default="fashion-mnist", help="fashion-mnist or synth:N,D,K")
    ap.add_argument("--batch", default="1024", help="N, or auto: gsgd's planned B*")
    ap.add_argument("--lr", type=float, default=0.01)
    ap.add_argument("--precisions", default="fp32,tf32,bf16")
    ap.add_argument("--kinds", default=",".join(KINDS), help="PyTorch setups: " + ", ".join(KINDS))
    ap.add_argument("--epochs", type=int, default=5, help="per throughput run, 2 or more")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--target-acc", type=float, default=0.84, help="0: no time to target")
    ap.add_argument("--target-epochs", type=int, default=20, help="at most, to --target-acc")
    ap.add_argument("--setup-timeout", type=int, default=240,
                    help="seconds one PyTorch setup may take (compilation included); 0: none")
    ap.add_argument("--out", default="bench/results/gpu_vs_torch")
    a = ap.parse_args(argv)
    if a.epochs < 2:
        ap.error("--epochs must be 2 or more: epoch 1 is warm-up, left out of samples/s")
    if a.repeats < 1 or a.target_epochs < 1:
        ap.error("--repeats and --target-epochs must be 1 or more")
    if a.batch != "auto" and not a.batch.isdigit():
        ap.error("--batch: a positive integer or auto")
    a.precisions = a.precisions.split(",")
    a.kinds = a.kinds.split(",")
    for p in a.precisions:
        if p not in PRECISIONS:
            ap.error(f"--precisions: {p} is not one of {', '.join(PRECISIONS)}")
    for k in a.kinds:
        if k not in KINDS:
            ap.error(f"--kinds: {k} is not one of {', '.join(KINDS)}")
    if not (a.data == "fashion-mnist" or a.data.startswith("synth:")):
        ap.error("--data: fashion-mnist or synth:N,D,K")
    if a.data.startswith("synth:"):
        a.target_acc = 0.0  # random targets: nothing to reach
    hidden_widths(a.model)
    return a


def main(argv=None):
    a = parse_args(argv)
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
    if a.data == "fashion-mnist" and not os.path.isdir(DATA_DIR):
        print(f"compare_torch: skipped, {DATA_DIR} missing (apt-get install dataset-fashion-mnist)")
        return 0
    if a.batch == "auto":
        a.batch = str(planned_batch(a))
        print(f"compare_torch: B* = {a.batch}", flush=True)
    batch = int(a.batch)

    res = {"machine": machine(torch), "model": a.model, "data": a.data, "batch": batch,
           "lr": a.lr, "momentum": MOMENTUM, "epochs": a.epochs, "repeats": a.repeats,
           "target_acc": a.target_acc, "target_epochs": a.target_epochs,
           "date": time.strftime("%Y-%m-%d %H:%M"), "command": shlex.join(sys.argv),
           "warmup": WARMUP, "gsgd": {}, "torch": {}}
    # gsgd first, in fresh processes, before PyTorch takes the device's memory.
    for p in a.precisions:
        res["gsgd"][p] = gsgd_throughput(a, p)
        print("gsgd", p, res["gsgd"][p], flush=True)
        save(res, a)
    target_gsgd = {p: gsgd_time_to_target(a, p) for p in a.precisions} if a.target_acc else {}

    if a.data == "fashion-mnist":
        Xtr, ytr, Xte, yte = load_fashion()
        arrays = (Xtr, ytr.astype("int64"), Xte, yte.astype("int64"))  # torch's class indices
        data = upload(torch, arrays)
    else:
        arrays, data = None, synthetic(torch, synth_shape(a.data))
    setups = {}
    for p in a.precisions:
        for kind in a.kinds:
            name = f"{kind} {p}"

            def measure(kind=kind, p=p):
                s = TorchSetup(torch, kind, p, widths, data, batch, a.lr)
                r = torch_throughput(s, a)
                setups[f"{kind} {p}"] = s
                return r

            r = attempt("torch " + name, with_timeout, a.setup_timeout, measure)
            r.update(kind=kind, precision=p)
            res["torch"][name] = r
            save(res, a)  # what is measured so far survives a run cut short
            if name not in setups:
                torch.cuda.empty_cache()
    res["ratios"] = ratios(res)

    best, _ = best_torch(res)
    if a.target_acc and best:
        p = res["torch"][best]["precision"]
        res["time_to_target"] = {"precision": p, "torch_setup": best, "gsgd": target_gsgd[p]}
        res["time_to_target"]["torch"] = attempt(f"torch {best} time to target",
                                                 torch_time_to_target, setups[best], arrays, a)
    md = markdown(res, a)
    save(res, a)
    with open(a.out + ".md", "w") as f:
        f.write(md)
    print(md)
    return 0


def save(res, a):
    """res as it stands into <--out>.json."""
    os.makedirs(os.path.dirname(a.out) or ".", exist_ok=True)
    with open(a.out + ".json", "w") as f:
        json.dump(res, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
