#!/usr/bin/python3
"""The grid behind gsgd's defaults for issue 17 ("Defaults that converge").

Every run goes through the built programs: `gsgd_train_params` (one
training run with any library parameter set by name, bench/train_params.c)
for the grid, and `gsgd train` itself for the "done when" checks, which use
no option but the data, the model and the epochs. Data: Fashion-MNIST
(Debian's dataset-fashion-mnist), scikit-learn's bundled iris, wine,
breast_cancer, digits and diabetes as raw CSV splits (bench/sklearn_sets.py),
and gsgd's synth: sets. scikit-learn's SGDClassifier (10 seeds) and
LogisticRegression run on the same splits, raw and standardised.

Groups (--only NAME[,NAME]):
  schedule  Fashion-MNIST softmax and mlp:256,128 at 20 epochs: constant
            (the old default), cosine, averaging from step 1, both
  auto      epochs auto on every set: cooldown 0.1 / 0.2 / 0.5, no cooldown
            (constant rate, stop at the plateau), constant with averaging
  minsteps  the small sets: min_steps 0 / 500 / 2000 / 5000
  batch     the small sets: the planner's min_epoch_steps 0 / 4 / 16 / 64
  scaling   standardize off / on (and auto's choice) on every set
  ttt       time to 0.84 on Fashion-MNIST softmax, default options and
            --epochs 20, one run at a time, with the load average
  sklearn   scikit-learn on the same splits
  done      the issue's "done when" runs through `gsgd train`

Runs are deterministic in their accuracies; every result is cached in
OUT/defaults_grid.jsonl while the grid runs (re-running skips what is there;
--fresh redoes; the cache is not kept in the repository), then
OUT/defaults_grid.json (every run, one a line) and OUT/defaults_grid.md are
written; --report rewrites the .md from the .json, and --only GROUPS re-runs
those groups into the .json (the time to target last: --only ttt).
At most --jobs runs at once (default 2), each on one OpenMP thread with
OMP_WAIT_POLICY=passive: the machine is shared.

Usage: bench/defaults_grid.py [--bin build-cpu] [--out bench/results]
                              [--sets DIR] [--only GROUPS] [--seeds 10]
"""
import argparse
import concurrent.futures as cf
import json
import os
import statistics
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import sklearn_sets  # noqa: E402

ENV = dict(os.environ, OMP_NUM_THREADS="1", OMP_WAIT_POLICY="passive")
COSINE, CONSTANT = 3, 0
STOP = {0: "epochs", 1: "converged", 2: "max_epochs", 3: "target", 4: "no_improvement",
        5: "lr_floor"}
# What the library did before issue 17, spelled out.
OLD = {"schedule": CONSTANT, "standardize": 0, "min_epoch_steps": 0}


def load():
    return os.popen("cut -d' ' -f1-3 /proc/loadavg").read().strip()


class Grid:
    def __init__(self, args):
        self.args = args
        self.cache_path = os.path.join(args.out, "defaults_grid.jsonl")
        self.cache = {}
        if os.path.exists(self.cache_path) and not args.fresh:
            with open(self.cache_path) as f:
                for line in f:
                    rec = json.loads(line)
                    self.cache[rec["key"]] = rec
        self.pool = cf.ThreadPoolExecutor(max_workers=args.jobs)

    def sets(self):
        d = self.args.sets
        csv = lambda n, real="": (f"csv:{d}/{n}_train.csv{real}", f"csv:{d}/{n}_test.csv{real}")
        return {
            "fashion-mnist": ("fashion-mnist", "-", "softmax"),
            "fashion-mnist mlp": ("fashion-mnist", "-", "mlp:256,128"),
            "iris": csv("iris") + ("softmax",),
            "wine": csv("wine") + ("softmax",),
            "breast_cancer": csv("breast_cancer") + ("softmax",),
            "digits": csv("digits") + ("softmax",),
            "diabetes": csv("diabetes", ":target=real") + ("linear",),
            "synth small": ("synth:2000,20,3:seed=1", "-", "softmax"),
            "synth medium": ("synth:50000,50,5:seed=2", "-", "softmax"),
        }

    def run(self, group, name, seed, params, timed=False):
        """One gsgd_train_params run; a future of its record."""
        data, test, model = self.sets()[name]
        params = dict(params, seed=seed)
        key = json.dumps([name, model, sorted(params.items())])
        if key in self.cache and not timed:
            return done_future(self.cache[key])
        argv = [os.path.join(self.args.bin, "gsgd_train_params"), data, test, model] + [
            f"{k}={v}" for k, v in sorted(params.items())]

        def go():
            before = load()
            p = subprocess.run(argv, capture_output=True, text=True, env=ENV)
            rec = {"key": key, "group": group, "set": name, "model": model, "seed": seed,
                   "params": params, "load_before": before, "load_after": load()}
            if p.returncode == 0:
                rec["result"] = json.loads(p.stdout)
            else:
                rec["error"] = p.stderr.strip().splitlines()[-1] if p.stderr else str(p.returncode)
            if not timed:
                self.remember(rec)
            return rec
        return self.pool.submit(go)

    def remember(self, rec):
        self.cache[rec["key"]] = rec
        with open(self.cache_path, "a") as f:
            f.write(json.dumps(rec) + "\n")

    def cli(self, name, seed, extra):
        """`gsgd train` with nothing but data, model and extra; a future."""
        data, test, model = self.sets()[name]
        argv = [os.path.join(self.args.bin, "gsgd"), "train", "--device", "cpu", "--quiet",
                "--data", data, "--model", model, "--seed", str(seed)] + extra
        if test != "-":
            argv += ["--test", test]
        key = json.dumps(["cli", name, model, seed] + extra)
        if key in self.cache:
            return done_future(self.cache[key])

        def go():
            summary = f"/tmp/gsgd-grid-{os.getpid()}-{abs(hash(key))}.json"
            before = load()
            p = subprocess.run(argv + ["--summary", summary], capture_output=True, text=True,
                               env=ENV)
            rec = {"key": key, "group": "done", "set": name, "model": model, "seed": seed,
                   "argv": " ".join(argv[1:]), "load_before": before, "load_after": load()}
            if p.returncode == 0:
                with open(summary) as f:
                    rec["result"] = json.load(f)
                os.unlink(summary)
            else:
                rec["error"] = p.stderr.strip()
            self.remember(rec)
            return rec
        return self.pool.submit(go)


def done_future(rec):
    f = cf.Future()
    f.set_result(rec)
    return f


def seeds_of(args, name):
    # The MLP costs about a minute a run on this machine's shared cores.
    return range(args.seeds if "mlp" not in name else args.mlp_seeds)


SMALL = ["iris", "wine", "breast_cancer", "digits", "diabetes", "synth small"]
ALL = ["fashion-mnist"] + SMALL + ["synth medium"]
AUTO_VARIANTS = {
    "cosine cooldown 0.2 (default)": {},
    "cosine cooldown 0.1": {"cooldown": 0.1},
    "cosine cooldown 0.5": {"cooldown": 0.5},
    "constant, stop at plateau": {"schedule": CONSTANT},
    "constant + average 1": {"schedule": CONSTANT, "average": 1},
}


def plan(args, g):
    """(group, variant, set, future) for every run asked for."""
    jobs = []
    want = set(args.only.split(",")) if args.only else None
    on = lambda grp: want is None or grp in want
    if on("schedule"):
        for name in ["fashion-mnist", "fashion-mnist mlp"]:
            for var, p in {"constant (old default)": {"schedule": CONSTANT},
                           "cosine": {"schedule": COSINE},
                           "constant + average 1": {"schedule": CONSTANT, "average": 1},
                           "cosine + average 1": {"schedule": COSINE, "average": 1}}.items():
                if "mlp" in name and "average" in var:
                    seeds = range(min(3, args.mlp_seeds))
                else:
                    seeds = seeds_of(args, name)
                for s in seeds:
                    jobs.append(("schedule", var, name,
                                 g.run("schedule", name, s, dict(p, epochs=20))))
    if on("auto"):
        for name in ALL + ["fashion-mnist mlp"]:
            for var, p in AUTO_VARIANTS.items():
                if "mlp" in name and var != "cosine cooldown 0.2 (default)":
                    continue
                for s in seeds_of(args, name):
                    jobs.append(("auto", var, name, g.run("auto", name, s, p)))
        for name in SMALL:  # the old defaults, for reference
            for s in seeds_of(args, name):
                jobs.append(("auto", "old defaults: 10 epochs, constant, raw", name,
                             g.run("auto", name, s, dict(OLD, epochs=10))))
    if on("minsteps"):
        for name in SMALL:
            for ms in [0, 500, 2000, 5000]:
                for s in seeds_of(args, name):
                    jobs.append(("minsteps", f"min_steps {ms}", name,
                                 g.run("minsteps", name, s, {"min_steps": ms})))
    if on("batch"):
        for name in SMALL:
            for k in [0, 4, 16, 64]:
                for s in seeds_of(args, name):
                    jobs.append(("batch", f"min_epoch_steps {k}", name,
                                 g.run("batch", name, s, {"min_epoch_steps": k})))
    if on("scaling"):
        for name in ALL:
            for var, v in [("off", 0), ("on", 1)]:
                for s in seeds_of(args, name):
                    jobs.append(("scaling", f"standardize {var}", name,
                                 g.run("scaling", name, s, {"standardize": v})))
    if on("done"):
        for s in range(10):
            jobs.append(("done", "gsgd train --epochs 20", "fashion-mnist",
                         g.cli("fashion-mnist", s, ["--epochs", "20"])))
        for s in range(3):
            jobs.append(("done", "gsgd train --epochs 20", "fashion-mnist mlp",
                         g.cli("fashion-mnist mlp", s, ["--epochs", "20"])))
        for name in ["iris", "wine", "breast_cancer", "digits"]:
            jobs.append(("done", "gsgd train (no option)", name, g.cli(name, 0, [])))
    return jobs


def time_to_target(args, g):
    """Time to 0.84 on Fashion-MNIST softmax, one run at a time (timings
    are not deterministic: the median over seeds is what counts)."""
    out = []
    for var, p in [("default (epochs auto)", {}), ("--epochs 20", {"epochs": 20}),
                   ("old defaults (--epochs 20, constant)", dict(OLD, epochs=20))]:
        for s in range(args.seeds):
            rec = g.run("ttt", "fashion-mnist", s, dict(p, target_acc=0.84), timed=True).result()
            rec["variant"] = var
            out.append(rec)
            print(f"ttt {var} seed {s}: {rec.get('result', {}).get('time_to_target_s')} "
                  f"(load {rec['load_before']})", flush=True)
    return out


def sklearn_rows(args):
    import warnings
    from sklearn.linear_model import LogisticRegression, SGDClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler
    warnings.filterwarnings("ignore")
    rows = []
    for name in ["iris", "wine", "breast_cancer", "digits"]:
        Xtr, ytr, Xte, yte = sklearn_sets.split(name)
        for scaled in (False, True):
            wrap = (lambda m: make_pipeline(StandardScaler(), m)) if scaled else (lambda m: m)
            sgd = []
            for s in range(args.seeds):
                m = wrap(SGDClassifier(random_state=s)).fit(Xtr, ytr)
                sgd.append(m.score(Xte, yte))
            lr = wrap(LogisticRegression()).fit(Xtr, ytr).score(Xte, yte)
            rows.append({"set": name, "scaled": scaled, "sgd": sgd, "logreg": lr})
    return rows


def summarize(recs):
    """variant -> set -> list of (seed, record)."""
    out = {}
    for r in recs:
        out.setdefault((r["group"], r["variant"]), {}).setdefault(r["set"], []).append(r)
    return out


def metric(rec):
    """Test accuracy, or for regression the test loss (half the MSE)."""
    res = rec.get("result")
    if not res:
        return None
    acc = res.get("test_accuracy")
    return acc if acc is not None else res.get("test_loss")


def fmt_stats(vals, reg=False):
    vals = [v for v in vals if v is not None]
    if not vals:
        return "diverged"
    f = "%.0f" if reg else "%.4f"
    return (f + " / " + f + " / " + f) % (min(vals), statistics.median(vals), max(vals))


def dump(data, f):
    """JSON with one record per line (readable, and diffs stay small)."""
    f.write("{\n")
    items = list(data.items())
    for i, (k, v) in enumerate(items):
        end = ",\n" if i + 1 < len(items) else "\n"
        if isinstance(v, list):
            f.write(json.dumps(k) + ": [\n" + ",\n".join(json.dumps(x) for x in v) + "\n]" + end)
        else:
            f.write(json.dumps(k) + ": " + json.dumps(v) + end)
    f.write("}\n")


def write(args, jobs, ttt, skl):
    recs = []
    for group, var, name, fut in jobs:
        rec = dict(fut.result(), variant=var)
        recs.append(rec)
    data = {"machine": {"cpu": os.popen("grep -m1 'model name' /proc/cpuinfo").read()
                        .split(":")[-1].strip(), "cores": os.cpu_count()},
            "date": time.strftime("%Y-%m-%d"), "command": " ".join(sys.argv),
            "commit": os.popen("git log -1 --format=%h 2>/dev/null").read().strip(),
            "runs": recs, "time_to_target": ttt, "sklearn": skl}
    path = os.path.join(args.out, "defaults_grid.json")
    if args.only and os.path.exists(path):
        # A partial run (--only) replaces its groups in the report, keeps the rest.
        with open(path) as f:
            old = json.load(f)
        groups = {r["group"] for r in recs}
        data["runs"] = [r for r in old["runs"] if r["group"] not in groups] + recs
        data["time_to_target"] = ttt or old.get("time_to_target", [])
        data["sklearn"] = skl or old.get("sklearn", [])
        data["grid"] = old.get("grid", {k: old.get(k) for k in ("date", "command", "commit")})
    with open(path, "w") as f:
        dump(data, f)
    print(f"wrote {len(recs)} runs to {args.out}/defaults_grid.json")
    with open(os.path.join(args.out, "defaults_grid.md"), "w") as f:
        f.write(render(data))


# ---- the report ---------------------------------------------------------------

def by_variant(runs, group):
    """variant -> set -> records sorted by seed."""
    out = {}
    for r in runs:
        if r["group"] == group:
            out.setdefault(r["variant"], {}).setdefault(r["set"], []).append(r)
    for v in out.values():
        for recs in v.values():
            recs.sort(key=lambda r: r["seed"])
    return out


def res(r, key):
    return (r.get("result") or {}).get(key)


def cell(recs):
    """min / median / max of the metric over seeds, and the median epochs."""
    reg = recs[0]["model"] == "linear"
    vals = [metric(r) for r in recs]
    if any(v is None for v in vals):
        bad = sum(v is None for v in vals)
        return f"diverged ({bad}/{len(vals)})"
    eps = statistics.median(res(r, "epochs") for r in recs)
    return f"{fmt_stats(vals, reg)} ({eps:.0f} ep)"


def table(variants, sets, note=""):
    lines = ["| variant | " + " | ".join(sets) + " |", "|---" * (len(sets) + 1) + "|"]
    for var, per_set in variants.items():
        lines.append(f"| {var} | " + " | ".join(
            cell(per_set[s]) if s in per_set else "" for s in sets) + " |")
    return "\n".join(lines + ([note] if note else []) + [""])


def per_seed(recs, key="test_accuracy"):
    return ", ".join("%.4f" % res(r, key) if res(r, key) is not None else "diverged"
                     for r in recs)


def render(data):
    runs = data["runs"]
    grid = data.get("grid", data)
    L = ["# Defaults that converge: the grid behind them (issue 17)", "",
         f"Made by `{grid.get('command') or 'bench/defaults_grid.py'}` at commit "
         f"{grid.get('commit') or '?'} on {grid['date']}: {data['machine']['cpu']}, "
         f"{data['machine']['cores']} cores shared with other builds (load averages beside "
         "each timing; accuracies are deterministic, timings are not). Every run: one "
         "OpenMP thread, OMP_WAIT_POLICY=passive, the CPU backend, through the built "
         "programs (`gsgd_train_params` for the grid, `gsgd train` for the checks). Raw "
         "records: defaults_grid.json, one run a line. Cells: test "
         "accuracy min / median / max over the seeds (diabetes, a regression: half the test "
         "MSE, lower is better), and the median number of epochs.", ""]
    L += ["## The defaults chosen", "",
          "| parameter | default | chosen on |", "|---|---|---|",
          "| epochs | 0 = auto: until the training loss (or validation accuracy) stops "
          "improving by tol for n_iter_no_change epochs | every set below ends `converged` |",
          "| tol | -1 = auto: 1e-3 under epochs auto (scikit-learn's), 0 with given epochs | "
          "scikit-learn |",
          "| n_iter_no_change | 5 (unchanged, scikit-learn's) | scikit-learn |",
          "| schedule | cosine; under epochs auto lr until the plateau at epoch E, then a "
          "cosine to lr_min over round(cooldown x E) epochs | the epochs-auto table: the "
          "plateau stop alone leaves the iterate where the noise put it |",
          "| cooldown | 0.2 | 0.1 / 0.2 / 0.5 within noise of each other; 0.2 the middle in "
          "epochs |",
          "| min_steps | 5000 | the min_steps table |",
          "| max_epochs | 1000 (scikit-learn's max_iter) | scikit-learn |",
          "| min_epoch_steps | 16 (the planner's batch <= floor(n / 16)) | the "
          "min_epoch_steps table |",
          "| standardize | auto: when the columns' root-mean-square scales span "
          "max(s_max, 1) / min(s_median, 1) > 10 | the scaling table |", ""]
    # Done-when checks.
    done = by_variant(runs, "done")
    L += ["## The issue's checks, through `gsgd train` and nothing else", ""]
    fm = done.get("gsgd train --epochs 20", {})
    if "fashion-mnist" in fm:
        recs = fm["fashion-mnist"]
        accs = [res(r, "test_accuracy") for r in recs]
        L += [f"- `gsgd train --data fashion-mnist --model softmax --epochs 20 --seed S`, "
              f"S = 0..{len(recs) - 1}: {per_seed(recs)} (all >= 0.84: "
              f"{all(a >= 0.84 for a in accs)})"]
    if "fashion-mnist mlp" in fm:
        recs = fm["fashion-mnist mlp"]
        accs = [res(r, "test_accuracy") for r in recs]
        L += [f"- `... --model mlp:256,128 --epochs 20`, seeds 0..{len(recs) - 1}: "
              f"{per_seed(recs)} (all >= 0.88: {all(a >= 0.88 for a in accs)})"]
    skl = {(r["set"], r["scaled"]): r for r in data.get("sklearn", [])}
    tab = done.get("gsgd train (no option)", {})
    if tab:
        L += ["", "Small tabular sets as distributed (raw CSV, bench/sklearn_sets.py), "
              "`gsgd train --data csv:NAME_train.csv --test csv:NAME_test.csv --model softmax` "
              "against scikit-learn on the same split: SGDClassifier() (seed 0, and the "
              "median of seeds 0-9) and LogisticRegression(), raw and in a StandardScaler "
              "pipeline. The bar: the lower of SGDClassifier (seed 0) and LogisticRegression "
              "on raw data, minus 0.02.", "",
              "| set | gsgd (epochs) | SGD raw s0 / median | LogReg raw | "
              "SGD scaled median | LogReg scaled | bar | met | within 0.02 of the best of the "
              "four |", "|---|---|---|---|---|---|---|---|---|"]
        for name, recs in tab.items():
            r = recs[0]
            raw, sc = skl.get((name, False)), skl.get((name, True))
            acc = res(r, "test_accuracy")
            if raw and sc and acc is not None:
                bar = min(raw["sgd"][0], raw["logreg"]) - 0.02
                best = max(statistics.median(raw["sgd"]), raw["logreg"],
                           statistics.median(sc["sgd"]), sc["logreg"])
                L.append(f"| {name} | {acc:.4f} ({res(r, 'epochs')}) | {raw['sgd'][0]:.4f} / "
                         f"{statistics.median(raw['sgd']):.4f} | {raw['logreg']:.4f} | "
                         f"{statistics.median(sc['sgd']):.4f} | {sc['logreg']:.4f} | "
                         f"{bar:.4f} | {acc >= bar} | {acc >= best - 0.02} ({best:.4f}) |")
    ttt = data.get("time_to_target", [])
    if ttt:
        when = data.get("date", "")
        L += ["", f"Time to 0.84 on Fashion-MNIST softmax (`--target-acc 0.84`; seconds from "
              "the start of training, evaluation after each epoch included), one run at a "
              f"time, one thread, measured last ({when}). The epochs it takes are "
              "deterministic; the seconds are not:", "",
              "| variant | median s | max s | epochs per seed | s per seed (load average "
              "before) |", "|---|---|---|---|---|"]
        variants = {}
        for r in ttt:
            variants.setdefault(r["variant"], []).append(r)
        for var, recs in variants.items():
            ts = [res(r, "time_to_target_s") for r in recs]
            ok = [t for t in ts if t is not None]
            eps = ", ".join(str(res(r, "epochs")) for r in recs)
            L.append(f"| {var} | {statistics.median(ok):.2f} | {max(ok):.2f} | {eps} | " +
                     ", ".join(("%.2f" % t if t is not None else "not reached") +
                               f" ({r['load_before']})" for t, r in zip(ts, recs)) + " |"
                     if ok else f"| {var} | not reached | | | |")
        L += ["", "Epochs auto holds the old default's constant rate until the plateau, so it "
              "reaches 0.84 at the same epoch as the old default, seed for seed (5 to 16 "
              "epochs): no slower, no faster. A given `--epochs 20` decays from the start and "
              "gets there in at most 11 (seed 3: 10 against 16). The seconds above were "
              "measured with the machine's 2 cores loaded by other builds (load ~3, an epoch "
              "with its evaluation 0.09-0.13 s); the issue's 0.35 s for seed 0 (5 epochs) "
              "puts a quiet epoch at 0.07 s, at which 11 epochs take 0.77 s and 16 take 1.12 "
              "s: `--epochs 20` meets the 1 s goal for every seed, epochs auto (like the old "
              "default) not for seed 3."]
    L += [""]
    # The grids.
    sched = by_variant(runs, "schedule")
    if sched:
        L += ["## Schedule at a given 20 epochs (Fashion-MNIST)", "",
              table(sched, ["fashion-mnist", "fashion-mnist mlp"],
                    "\nPer seed, softmax: " + "; ".join(
                        f"{v}: {per_seed(p['fashion-mnist'])}" for v, p in sched.items()
                        if "fashion-mnist" in p)),
              "Averaging from step 1 matches the cosine on softmax but not on the MLP, whose "
              "early iterates it keeps (and it doubles the MLP's CPU epoch, and rules out the "
              "CUDA Graph replay, whose update scalars must not change from step to step); the "
              "cosine needs only a table of rates per epoch.", ""]
    sets = ["fashion-mnist", "fashion-mnist mlp", "synth medium", "synth small", "digits",
            "breast_cancer", "wine", "iris", "diabetes"]
    auto = by_variant(runs, "auto")
    if auto:
        present = [s for s in sets if any(s in p for p in auto.values())]
        L += ["## Epochs auto: the schedule and its cooldown", "",
              table(auto, present),
              "Per seed, Fashion-MNIST softmax with the defaults: " + per_seed(
                  auto.get("cosine cooldown 0.2 (default)", {}).get("fashion-mnist", [])) + ".",
              ""]
    for group, title in [("minsteps", "min_steps (epochs auto's floor of steps)"),
                         ("batch", "min_epoch_steps (the planner's small-data cap)"),
                         ("scaling", "standardize (off, on; auto chose on where the ratio > 10)")]:
        g = by_variant(runs, group)
        if g:
            present = [s for s in sets if any(s in p for p in g.values())]
            L += [f"## {title}", "", table(g, present)]
            if group == "batch":
                L += ["Batches: " + "; ".join(
                    f"{v}: " + ", ".join(f"{s} {res(p[s][0], 'batch')}" for s in present if s in p)
                    for v, p in g.items()), ""]
            if group == "scaling":
                on = g.get("standardize on", {})
                L += ["Scale ratios r (gsgd_scale_ratio): " + ", ".join(
                    f"{s} {res(on[s][0], 'scale_ratio'):.3g}" for s in present
                    if s in on and res(on[s][0], "scale_ratio") is not None), ""]
    L += ["## Notes", "",
          "- The MLP ran 3 seeds (each 1 to 12 minutes on the shared cores), the rest 10.",
          "- The grid ran on the build of commit 18344c3; the shipped code differs only in "
          "that standardize auto decides on a sample of 8192 rows of larger sets (commit "
          "98df258): the same decisions (Fashion-MNIST's ratio 2.151 on the sample, 2.147 on "
          "all rows), the same standardiser.",
          "- Timings are of a machine shared with other builds; every accuracy is "
          "deterministic for its seed and was checked against the issue's own figures (the "
          "old default's 20 epochs: 0.8451, 0.8281, ... 0.8214 as the issue lists them).",
          "- synth small (a separable teacher) keeps improving with more steps (min_steps "
          "2000: 0.9775, 5000: 0.985, 10000: 0.99 in a side run): the logistic loss of "
          "separable data has no minimum; the real sets are flat past 5000.", ""]
    if data.get("sklearn"):
        L += ["## scikit-learn on the same splits", "",
              "| set | scaled | SGDClassifier seeds 0-9 | LogisticRegression |", "|---|---|---|---|"]
        for r in data["sklearn"]:
            L.append(f"| {r['set']} | {r['scaled']} | " + ", ".join("%.4f" % a for a in r["sgd"])
                     + f" | {r['logreg']:.4f} |")
        L.append("")
    return "\n".join(L) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--bin", default="build-cpu")
    ap.add_argument("--out", default="bench/results")
    ap.add_argument("--sets", default="/tmp/gsgd-sklearn-sets")
    ap.add_argument("--only", default="")
    ap.add_argument("--seeds", type=int, default=10)
    ap.add_argument("--mlp-seeds", type=int, default=10)
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--fresh", action="store_true")
    ap.add_argument("--report", action="store_true",
                    help="only write defaults_grid.md from defaults_grid.json")
    args = ap.parse_args()
    if args.report:
        with open(os.path.join(args.out, "defaults_grid.json")) as f:
            data = json.load(f)
        with open(os.path.join(args.out, "defaults_grid.md"), "w") as f:
            f.write(render(data))
        return
    os.makedirs(args.out, exist_ok=True)
    sklearn_sets.export(args.sets)
    g = Grid(args)
    jobs = plan(args, g)
    for i, (group, var, name, fut) in enumerate(jobs):
        rec = fut.result()
        res = rec.get("result", {})
        print(f"[{i + 1}/{len(jobs)}] {group} | {var} | {name} seed {rec['seed']}: "
              f"{metric(rec) if res else rec.get('error')} "
              f"({res.get('epochs')} epochs, {STOP.get(res.get('stop_reason'), '')})", flush=True)
    want = set(args.only.split(",")) if args.only else None
    ttt = time_to_target(args, g) if want is None or "ttt" in want else []
    skl = sklearn_rows(args) if want is None or "sklearn" in want else []
    write(args, jobs, ttt, skl)


if __name__ == "__main__":
    main()
