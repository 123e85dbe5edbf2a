#!/usr/bin/env bash
# Trains a fixed matrix of CPU runs with a given gsgd binary and prints one
# sha256 per run of the checkpoint it saved (model, optimizer state,
# counters): two binaries that print the same lines train bit-identically.
# Usage: bench/bitwise_runs.sh GSGD_BINARY WORKDIR [REFERENCE]
# With REFERENCE (bench/results/bitwise_reference.txt: the runs of the
# binary before the restructuring of issue 20), the lines are compared
# with it and any difference fails.
set -euo pipefail
bin=$(realpath "$1"); dir=$2; ref=${3:-}; mkdir -p "$dir"; : >"$dir/runs.txt"
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive
csv=$dir/points.csv
if [[ ! -f $csv ]]; then
  python3 - "$csv" <<'PY'
import random, sys
r = random.Random(7)
with open(sys.argv[1], "w") as f:
    for i in range(600):
        x = [r.gauss(0, 1) for _ in range(5)]
        y = 1 if x[0] + 0.5 * x[1] - x[2] > 0 else 0
        f.write(",".join(["%d" % y] + ["%.5f" % v for v in x]) + "\n")
PY
fi
run() {
  local name=$1; shift
  "$bin" train --device cpu --quiet --save "$dir/$name.ckpt" "$@" >/dev/null
  printf '%-28s %s\n' "$name" "$(sha256sum < "$dir/$name.ckpt" | cut -c1-16)" | tee -a "$dir/runs.txt"
}
fm=fashion-mnist
run softmax_fm        --data $fm --model softmax --epochs 2
run softmax_fm_b256   --data $fm --model softmax --epochs 1 --batch 256
run mlp_fm_momentum   --data $fm --model mlp:64 --epochs 1 --optim momentum
run hinge_synth       --data synth:3000,30,4:seed=2 --model hinge --epochs 3
run linear_synth_std  --data synth:3000,30,4:seed=2 --model linear --epochs 3 --standardize
run logistic_csv      --data csv:$csv:label=first --model logistic --epochs 5
run adam_mlp          --data synth:4000,20,5:seed=3 --model mlp:32,16 --epochs 3 --optim adam
run adamw_mlp         --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim adamw
run nesterov_cos      --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim nesterov --schedule cosine --warmup 1
run lars_mlp          --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim lars
run lamb_mlp          --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim lamb
run adagrad_clip      --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --optim adagrad --clip-norm 0.5
run rmsprop_mom       --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --optim rmsprop --momentum 0.5
run sgd_l1_avg        --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --l1 1e-3 --average 10
run sgd_invscaling    --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --schedule invscaling
run sgd_optimal       --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --schedule optimal --weight-decay 1e-4
run sgd_adaptive_val  --data synth:4000,20,5:seed=3 --model softmax --epochs 6 --schedule adaptive --validation-fraction 0.2 --tol 1e-3
run sgd_step_sched    --data synth:4000,20,5:seed=3 --model softmax --epochs 4 --schedule step --lr-step 1 --lr-gamma 0.5
run sgd_exp_sched     --data synth:4000,20,5:seed=3 --model softmax --epochs 4 --schedule exponential --lr-gamma 0.7
run sgd_linear_scale  --data synth:4000,20,5:seed=3 --model softmax --epochs 2 --batch 256 --lr-scaling linear
run sgd_onnan_skip    --data synth:4000,20,5:seed=3 --model softmax --epochs 2 --on-nan skip --lr 90
run sgd_tol           --data synth:4000,20,5:seed=3 --model softmax --epochs 30 --tol 1e-2
# checkpoint and resume
"$bin" train --device cpu --quiet --data synth:4000,20,5:seed=3 --model mlp:32 --optim momentum --epochs 2 --save "$dir/half.ckpt" >/dev/null
"$bin" train --device cpu --quiet --data synth:4000,20,5:seed=3 --resume "$dir/half.ckpt" --epochs 2 --save "$dir/resumed.ckpt" >/dev/null
printf '%-28s %s\n' resumed "$(sha256sum < "$dir/resumed.ckpt" | cut -c1-16)" | tee -a "$dir/runs.txt"
if [[ -n $ref ]]; then
  diff "$ref" "$dir/runs.txt" >&2 && echo "bitwise_runs: all runs bit-identical to $ref" >&2
fi
