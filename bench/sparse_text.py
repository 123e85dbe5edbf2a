#!/usr/bin/python3
"""Real text, sparse: gsgd's whole process against scikit-learn's on the same files.

Builds a text classification set from Debian's package descriptions on this
machine (`apt-cache dumpavail`: the Description of every package, labelled
by its Section, the K most common sections), split 80/20 (seeded), as
svmlight .svm.gz files in two encodings:
  tfidf_{train,test}.svm.gz  TfidfVectorizer(ngram_range=(1, 3)) fitted on the
                             training part
  hash_{train,test}.svm.gz   HashingVectorizer(n_features=2**20, ngram_range=(1, 3))
(the data files stay out of git: bench/data/ is ignored).

Then, with OMP_NUM_THREADS=2 and OMP_WAIT_POLICY=passive:
  scikit-learn: load_svmlight_files + SGDClassifier(alpha).fit + predict,
    for a grid of alpha (n_jobs=2, its one-vs-rest classes on 2 threads); the
    best test accuracy and the time of that alpha's whole run;
  gsgd: `gsgd train --data TRAIN --test TEST --model softmax` with default
    options, the whole process timed (reading the .svm.gz files included).
Each timing is the median of --repeats runs; the load average is printed
beside them. Usage: bench/sparse_text.py GSGD_BINARY [--repeats 3] [--json F]
"""
import argparse, gzip, json, os, random, re, resource, statistics, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, "data")


def descriptions():
    out = subprocess.run(["apt-cache", "dumpavail"], capture_output=True, text=True).stdout
    docs, seen = [], set()
    for block in out.split("\n\n"):
        pkg = sec = None
        desc = []
        lines = block.split("\n")
        for i, l in enumerate(lines):
            if l.startswith("Package: "):
                pkg = l[9:]
            elif l.startswith("Section: "):
                sec = l[9:].split("/")[-1]
            elif l.startswith("Description: "):
                desc.append(l[13:])
                for c in lines[i + 1:]:
                    if not c.startswith(" "):
                        break
                    desc.append(c.strip().strip("."))
        if pkg and sec and desc and pkg not in seen:
            seen.add(pkg)
            docs.append((sec, " ".join(desc)))
    return docs


def build(k):
    from sklearn.datasets import dump_svmlight_file
    from sklearn.feature_extraction.text import HashingVectorizer, TfidfVectorizer
    os.makedirs(DATA, exist_ok=True)
    docs = descriptions()
    counts = {}
    for s, _ in docs:
        counts[s] = counts.get(s, 0) + 1
    top = sorted(counts, key=lambda s: -counts[s])[:k]
    cls = {s: i for i, s in enumerate(sorted(top))}
    docs = [(cls[s], t) for s, t in docs if s in cls]
    random.Random(0).shuffle(docs)
    cut = int(0.8 * len(docs))
    tr, te = docs[:cut], docs[cut:]
    ytr, yte = [y for y, _ in tr], [y for y, _ in te]
    info = {"documents": len(docs), "train": len(tr), "test": len(te), "classes": k,
            "sections": sorted(top)}
    # Word 1- to 3-grams: the short descriptions make ~260k TF-IDF terms.
    for name, vec in (("tfidf", TfidfVectorizer(ngram_range=(1, 3))),
                      ("hash", HashingVectorizer(n_features=2**20, ngram_range=(1, 3)))):
        Xtr = vec.fit_transform([t for _, t in tr])
        Xte = vec.transform([t for _, t in te])
        info[name] = {"features": Xtr.shape[1], "nnz_train": int(Xtr.nnz), "nnz_test": int(Xte.nnz)}
        for part, X, y in (("train", Xtr, ytr), ("test", Xte, yte)):
            with gzip.open(os.path.join(DATA, "%s_%s.svm.gz" % (name, part)), "wb") as f:
                dump_svmlight_file(X, y, f, zero_based=False)
    with open(os.path.join(DATA, "info.json"), "w") as f:
        json.dump(info, f, indent=1)
    return info


def sklearn_run(train, test, alpha):
    from sklearn.datasets import load_svmlight_files
    from sklearn.linear_model import SGDClassifier
    t0, c0 = time.perf_counter(), time.process_time()
    Xtr, ytr, Xte, yte = load_svmlight_files([train, test])
    t1 = time.perf_counter()
    clf = SGDClassifier(alpha=alpha, n_jobs=2, random_state=0).fit(Xtr, ytr)
    t2 = time.perf_counter()
    acc = float((clf.predict(Xte) == yte).mean())
    t3, c3 = time.perf_counter(), time.process_time()
    return {"alpha": alpha, "accuracy": acc, "load_s": t1 - t0, "fit_s": t2 - t1,
            "predict_s": t3 - t2, "seconds": t3 - t0, "cpu_seconds": c3 - c0}


def gsgd_run(binary, train, test, extra):
    summary = os.path.join(DATA, "gsgd_summary.json")
    cmd = [binary, "train", "--device", "cpu", "--quiet", "--data", train, "--test", test,
           "--model", "softmax", "--summary", summary] + extra
    t0 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    subprocess.run(cmd, check=True)
    s = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    with open(summary) as f:
        r = json.load(f)
    return {"accuracy": r["test_accuracy"], "seconds": s, "cpu_seconds": cpu, "epochs": r["epochs"],
            "batch": r["batch"], "train_seconds": r.get("seconds")}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("gsgd")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--classes", type=int, default=20)
    ap.add_argument("--json")
    ap.add_argument("--alphas", default="1e-4,3e-5,1e-5,3e-6,1e-6")
    ap.add_argument("--sets", default="tfidf,hash")
    ap.add_argument("--gsgd-args", default="")
    a = ap.parse_args()
    os.environ.update(OMP_NUM_THREADS="2", OMP_WAIT_POLICY="passive")
    info_path = os.path.join(DATA, "info.json")
    if os.path.exists(info_path):
        info = json.load(open(info_path))
    else:
        info = build(a.classes)
    print("data:", json.dumps(info))
    result = {"data": info, "sets": {}}
    for name in a.sets.split(","):
        train = os.path.join(DATA, name + "_train.svm.gz")
        test = os.path.join(DATA, name + "_test.svm.gz")
        grid = [sklearn_run(train, test, float(x)) for x in a.alphas.split(",")]
        best = max(grid, key=lambda r: r["accuracy"])
        sk = [sklearn_run(train, test, best["alpha"]) for _ in range(a.repeats)]
        gs = [gsgd_run(a.gsgd, train, test, a.gsgd_args.split()) for _ in range(a.repeats)]
        row = {
            "load_average": os.getloadavg(),
            "sklearn_grid": grid,
            "sklearn_best_alpha": best["alpha"],
            "sklearn_accuracy": best["accuracy"],
            "sklearn_seconds": statistics.median(r["seconds"] for r in sk),
            "sklearn_load_s": statistics.median(r["load_s"] for r in sk),
            "sklearn_fit_s": statistics.median(r["fit_s"] for r in sk),
            "sklearn_cpu_seconds": statistics.median(r["cpu_seconds"] for r in sk),
            "gsgd_cpu_seconds": statistics.median(r["cpu_seconds"] for r in gs),
            "gsgd_accuracy": statistics.median(r["accuracy"] for r in gs),
            "gsgd_seconds": statistics.median(r["seconds"] for r in gs),
            "gsgd_runs": gs,
        }
        row["time_ratio"] = row["gsgd_seconds"] / row["sklearn_seconds"]
        row["cpu_time_ratio"] = row["gsgd_cpu_seconds"] / row["sklearn_cpu_seconds"]
        row["accuracy_gap"] = row["sklearn_accuracy"] - row["gsgd_accuracy"]
        result["sets"][name] = row
        print("%-6s sklearn %.4f in %.2f s wall, %.2f s cpu (alpha %g; load %.2f s, fit %.2f s) "
              "| gsgd %.4f in %.2f s wall, %.2f s cpu | time ratio %.2f wall, %.2f cpu, "
              "accuracy gap %+.4f | load avg %.1f" %
              (name, row["sklearn_accuracy"], row["sklearn_seconds"], row["sklearn_cpu_seconds"],
               best["alpha"], row["sklearn_load_s"], row["sklearn_fit_s"], row["gsgd_accuracy"],
               row["gsgd_seconds"], row["gsgd_cpu_seconds"], row["time_ratio"],
               row["cpu_time_ratio"], row["accuracy_gap"], row["load_average"][0]), flush=True)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(result, f, indent=1)


if __name__ == "__main__":
    main()
