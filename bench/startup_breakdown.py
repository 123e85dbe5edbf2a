#!/usr/bin/env python3
"""Where the time of a whole `gsgd train` process goes, exec to exit.

Runs `gsgd train ... --summary F` several times and reports, per setup, the
median of each part of the run's "breakdown" (process start, data read,
context, data wait, upload, model, plan, train, eval, other, total from
exec) and the process's wall time measured from outside (fork to exit:
what a user waits). Setups differ by environment (CUDA_MODULE_LOADING=LAZY
or EAGER, GSGD_... switches) or by program; runs are interleaved so that a
change in the machine's load hits every setup alike.

    python3 bench/startup_breakdown.py --gsgd build/gsgd --runs 9 \\
        --setup lazy:CUDA_MODULE_LOADING=LAZY --setup eager:CUDA_MODULE_LOADING=EAGER \\
        -- --data fashion-mnist --model softmax --target-acc 0.84 --epochs 20

Writes a markdown table to stdout and, with --json F, every run to F.
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

KEYS = ["process_start_s", "data_read_s", "context_s", "data_wait_s", "upload_s", "model_s",
        "plan_s", "train_s", "eval_s", "other_s", "total_s"]


def parse_setup(text):
    """'name:VAR=V,VAR2=W:--opt v' -> (name, ({VAR: V, ...}, ['--opt', 'v'])): the
    setup's environment changes and the options it adds to the command."""
    name, _, rest = text.partition(":")
    env, _, extra = rest.partition(":")
    changes = {}
    for item in filter(None, env.split(",")):
        var, _, value = item.partition("=")
        changes[var] = value
    return name, (changes, extra.split())


def run_once(gsgd, args, setup):
    env_changes, extra = setup
    with tempfile.TemporaryDirectory() as tmp:
        summary = os.path.join(tmp, "s.json")
        env = dict(os.environ, **env_changes)
        t0 = time.monotonic()
        p = subprocess.run([gsgd, "train", "--quiet", "--summary", summary] + args + extra,
                           env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        wall = time.monotonic() - t0
        if p.returncode != 0:
            sys.exit(f"gsgd failed ({p.returncode}): {p.stderr.strip()}")
        with open(summary) as f:
            s = json.load(f)
    b = s.get("breakdown") or {}
    return {"wall_s": wall, "test_accuracy": s.get("test_accuracy"),
            "time_to_target_s": s.get("time_to_target_s"), "epochs": s.get("epochs"),
            "device": s.get("device"), "overlapped": b.get("read_overlapped"),
            **{k: b.get(k) for k in KEYS}}


def median(vals):
    vals = [v for v in vals if v is not None]
    return statistics.median(vals) if vals else None


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--gsgd", default="build/gsgd", help="the program")
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--setup", action="append", default=[],
                    help="NAME:VAR=V,...:OPTIONS, one setup's environment and the options it "
                         "adds (repeatable); default one")
    ap.add_argument("--json", help="write every run here")
    ap.add_argument("args", nargs=argparse.REMAINDER, help="-- then gsgd train's options")
    a = ap.parse_args()
    args = a.args[1:] if a.args[:1] == ["--"] else a.args
    setups = [parse_setup(s) for s in (a.setup or ["default:"])]
    runs = {name: [] for name, _ in setups}
    run_once(a.gsgd, args, setups[0][1])  # page cache and disk warm for every setup alike
    for _ in range(a.runs):
        for name, env in setups:
            runs[name].append(run_once(a.gsgd, args, env))
    print(f"`gsgd train {' '.join(args)}`, medians of {a.runs} runs (seconds); "
          f"wall: fork to exit, measured outside\n")
    cols = ["wall_s"] + KEYS
    print("| setup | " + " | ".join(c[:-2] for c in cols) + " | acc |")
    print("|---" * (len(cols) + 2) + "|")
    for name, _ in setups:
        r = runs[name]
        cells = []
        for c in cols:
            m = median([x[c] for x in r])
            cells.append("-" if m is None else f"{m:.3f}")
        acc = median([x["test_accuracy"] for x in r])
        print(f"| {name} | " + " | ".join(cells) + f" | {acc:.4f} |")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"args": args, "setups": {n: {"env": e, "options": o} for n, (e, o) in setups},
                       "runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()
