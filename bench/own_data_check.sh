#!/usr/bin/env bash
# Your own data end to end (issue 15's done-when): scikit-learn's wine as a CSV with a
# header and string labels, predict with probabilities, an .npz with labels
# 3/7/9, diabetes regression against Ridge, and predict finding the columns by
# name. Usage: bench/own_data_check.sh GSGD_BINARY WORKDIR [PYTHON with
# scikit-learn; default python3]
set -euo pipefail
G=$(realpath "$1"); mkdir -p "$2"; cd "$2"; PY=${3:-python3}
"$PY" - <<'PY'
import numpy as np, csv
from sklearn.datasets import load_wine, load_diabetes
from sklearn.model_selection import train_test_split
from sklearn.linear_model import Ridge, LogisticRegression, SGDClassifier
from sklearn.metrics import r2_score, mean_squared_error, mean_absolute_error
w = load_wine(); names = np.array(["barolo", "grignolino", "barbera"])
Xtr, Xte, ytr, yte = train_test_split(w.data, w.target, test_size=0.3, random_state=0, stratify=w.target)
def write(path, X, y, label=True):
    with open(path, "w", newline="") as f:
        c = csv.writer(f); c.writerow((["cultivar"] if label else []) + list(w.feature_names))
        for xi, yi in zip(X, y): c.writerow(([names[yi]] if label else []) + [f"{v:g}" for v in xi])
write("wine.csv", Xtr, ytr); write("wine_test.csv", Xte, yte); write("new.csv", Xte, yte, label=False)
np.save("wine_test_labels.npy", yte)
lr = LogisticRegression(max_iter=5000).fit(Xtr, ytr).score(Xte, yte)
sg = SGDClassifier(random_state=0).fit(Xtr, ytr).score(Xte, yte)
print(f"sklearn wine (raw): LogisticRegression {lr:.4f}  SGDClassifier {sg:.4f}")
np.savez("labels379.npz", X=Xtr.astype(np.float32), y=np.array([3, 7, 9])[ytr])
d = load_diabetes(); Xtr, Xte, ytr, yte = train_test_split(d.data, d.target, test_size=0.25, random_state=0)
hdr = list(d.feature_names) + ["progression"]
for p, X, y in (("diab.csv", Xtr, ytr), ("diab_test.csv", Xte, yte)):
    with open(p, "w", newline="") as f:
        c = csv.writer(f); c.writerow(hdr); [c.writerow([f"{v:.6g}" for v in xi] + [f"{yi:g}"]) for xi, yi in zip(X, y)]
pr = Ridge(alpha=1.0).fit(Xtr, ytr).predict(Xte)
print(f"sklearn Ridge diabetes: r2 {r2_score(yte, pr):.4f} rmse {mean_squared_error(yte, pr) ** 0.5:.3f} mae {mean_absolute_error(yte, pr):.3f}")
PY
$G train --quiet --device cpu --data wine.csv --test wine_test.csv --label cultivar --model softmax --standardize --save m.gsgd --summary s.json
grep -o '"test_accuracy": [0-9.]*' s.json
$G predict --model-file m.gsgd --data new.csv --out p.csv
$G predict --model-file m.gsgd --data new.csv --out pp.csv --proba
head -3 p.csv pp.csv
"$PY" - <<'PY'
import csv, numpy as np, json
rows = list(csv.reader(open("p.csv")))[1:]
hdr, *prob_rows = list(csv.reader(open("pp.csv")))
names = np.array(["barolo", "grignolino", "barbera"]); y = np.load("wine_test_labels.npy")
pred = [r[0] for r in rows]; acc = np.mean([p == names[t] for p, t in zip(pred, y)])
probs = np.array([[float(v) for v in r] for r in prob_rows]); s = json.load(open("s.json"))
agree = sum(hdr[int(np.argmax(p))] == l for p, l in zip(probs, pred))
print(f"predict: {len(rows)} rows, accuracy {acc:.4f} vs train's {s['test_accuracy']:.4f}; "
      f"max |sum p - 1| {np.abs(probs.sum(1) - 1).max():.2e}; argmax = label on {agree}/{len(rows)}; columns {hdr}")
PY
$G train --quiet --device cpu --data labels379.npz --model softmax --epochs 5 --save m379.gsgd
$G info m379.gsgd | grep labels
$G train --device cpu --data diab.csv --test diab_test.csv --label progression --model linear --summary r.json 2>&1 | grep -iE "r2|rmse|stopped|data" | head -5
grep -oE '"(r2|rmse|mae)": [0-9.e+-]*' r.json
# Columns found by name: the target last (progression) and the columns reversed predict
# exactly as the features alone do.
$G train --quiet --device cpu --data diab.csv --label progression --model linear --save d.gsgd >/dev/null
"$PY" - <<'PY'
import csv
rows = [r for r in csv.reader(open("diab_test.csv"))]
csv.writer(open("diab_rev.csv", "w", newline="")).writerows([r[::-1] for r in rows])
csv.writer(open("diab_new.csv", "w", newline="")).writerows([r[:-1] for r in rows])
PY
for f in diab_test diab_rev diab_new; do $G predict --quiet --model-file d.gsgd --data $f.csv --out p_$f.csv; done
cmp p_diab_test.csv p_diab_new.csv && cmp p_diab_rev.csv p_diab_new.csv &&
    echo "predict by name: $(($(wc -l < p_diab_new.csv) - 1)) values, the same with the target last, the columns reversed and the features alone"
