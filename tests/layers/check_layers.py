#!/usr/bin/env python3
"""The architecture's rules, checked on the sources and the built objects.

1. No circle of calls between source files: file A depends on file B when an
   object of A uses a global symbol B's object defines (nm), so a change to
   a lower layer never needs the layers above it.
2. No circle of includes between headers.
3. Only the backend reaches CUDA: `#ifdef GSGD_HAVE_CUDA`, CUDA headers and
   the kernels' header appear in src/backend/ (and kernels/) alone, besides
   the command line's device reporting (src/cli/).
4. The layers call downwards: a file in a folder of the list below calls
   nothing in a folder further right, except the exceptions named.

Usage: check_layers.py SOURCE_DIR OBJECT_DIR...   (exit 1 naming each breach)
"""
import os
import re
import subprocess
import sys

# Bottom to top. A folder may call its own and those before it.
LAYERS = ["core", "backend", "data", "model", "optim", "train", "plan", "io", "bench", "cli"]
# The one step driver sits below the planner (plan.c verifies a batch by
# running it); the trainer built on a plan sits above it.
ABOVE_PLAN = {"src/train/trainer.c", "src/train/loop.c"}
# Calls up a layer that are the design, with the reason.
ALLOWED_UP = {
    ("src/core/context.c", "src/backend/registry.c"): "a context takes its backend from the registry",
}


def layer_of(path):
    parts = path.split("/")
    if parts[0] == "kernels":
        return "backend"
    if parts[0] == "src" and len(parts) > 2:
        return parts[1]
    return None


def rank(path):
    if path in ABOVE_PLAN:
        return LAYERS.index("plan") + 0.5
    lay = layer_of(path)
    return LAYERS.index(lay) if lay in LAYERS else None


def symbols(obj):
    out = subprocess.run(["nm", "--defined-only", "-g", obj], capture_output=True, text=True).stdout
    defined = {l.split()[-1] for l in out.splitlines() if len(l.split()) == 3}
    out = subprocess.run(["nm", "-u", obj], capture_output=True, text=True).stdout
    used = {l.split()[-1] for l in out.splitlines() if l.strip()}
    return defined, used


def source_of(obj, src_dir):
    # CMake names objects <target>.dir/<path relative to the source dir>.o
    m = re.search(r"\.dir/(.*)\.o$", obj)
    rel = m.group(1) if m else obj
    return rel if os.path.exists(os.path.join(src_dir, rel)) else None


def cycles(graph):
    """Strongly connected components of more than one node (Tarjan)."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def main():
    src_dir, obj_dirs = sys.argv[1], sys.argv[2:]
    problems = []

    # 1, 4: calls between files.
    objs = []
    for d in obj_dirs:
        for root, _, files in os.walk(d):
            objs += [os.path.join(root, f) for f in files if f.endswith(".o")]
    owner, uses = {}, {}
    for o in objs:
        src = source_of(o, src_dir)
        if not src:
            continue
        defined, used = symbols(o)
        for s in defined:
            owner[s] = src
        uses[src] = used
    calls = {f: sorted({owner[s] for s in u if s in owner and owner[s] != f}) for f, u in uses.items()}
    for comp in cycles(calls):
        problems.append("call circle between " + " <-> ".join(comp))
    for f, deps in calls.items():
        for g in deps:
            rf, rg = rank(f), rank(g)
            if rf is not None and rg is not None and rg > rf and (f, g) not in ALLOWED_UP:
                problems.append(f"{f} ({layer_of(f)}) calls up into {g} ({layer_of(g)})")

    # 2, 3: includes.
    includes = {}
    for root, _, files in os.walk(src_dir):
        rel_root = os.path.relpath(root, src_dir)
        if rel_root.split(os.sep)[0] not in ("src", "kernels"):
            continue
        for name in files:
            if not re.search(r"\.(c|h|cu|cuh)$", name):
                continue
            path = os.path.normpath(os.path.join(rel_root, name))
            text = open(os.path.join(src_dir, path), encoding="utf-8").read()
            incs = re.findall(r'#include "([^"]+)"', text)
            includes[path] = sorted(
                {("src/" + i) if os.path.exists(os.path.join(src_dir, "src", i)) else i for i in incs})
            in_backend = path.startswith(("src/backend/", "kernels/"))
            if not in_backend and not path.startswith("src/cli/"):
                if re.search(r"#\s*if(def)?\s*\(?\s*(defined\s*\(?\s*)?GSGD_HAVE_CUDA", text):
                    problems.append(f"{path}: #ifdef GSGD_HAVE_CUDA outside the backend")
            if not in_backend:
                for i in incs + re.findall(r"#include <([^>]+)>", text):
                    if re.match(r"(cuda|cublas|curand|cusparse|nccl)", i) and not path.startswith("src/cli/"):
                        problems.append(f"{path}: includes the CUDA header {i}")
                    if i in ("backend/cuda.h", "backend/cuda_check.h", "kernels.h"):
                        problems.append(f"{path}: includes the CUDA backend's {i}")
    headers = {f: [i for i in incs if i.endswith((".h", ".cuh"))] for f, incs in includes.items()
               if f.endswith((".h", ".cuh"))}
    for comp in cycles(headers):
        problems.append("include circle between " + " <-> ".join(comp))

    n_edges = sum(len(v) for v in calls.values())
    if problems:
        print("\n".join(sorted(set(problems))))
        print(f"check_layers: {len(set(problems))} problem(s) in {len(calls)} files, {n_edges} call edges")
        return 1
    print(f"check_layers: {len(calls)} files, {n_edges} call edges between them, "
          f"{len(headers)} headers: no circle, no call up a layer, CUDA in the backend alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
