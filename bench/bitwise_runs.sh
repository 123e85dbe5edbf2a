#!/usr/bin/env bash
# Trains a fixed matrix of CPU runs with a given gsgd binary and prints per
# run the hash of the training state in the checkpoint it saved
# (bench/ckpt_state.py: model, counters, optimizer state; not the format
# version, the options nor the label map): two binaries that print the same
# lines train bit-identically, whatever checkpoint format each writes.
# Usage: bench/bitwise_runs.sh GSGD_BINARY WORKDIR [REFERENCE]
# With REFERENCE (bench/results/bitwise_reference.txt), the lines are
# compared with it and any difference fails; `bench/ckpt_state.py --compare
# OLD_WORKDIR WORKDIR` then names the parts that differ.
# The reference holds the states of the build before the restructuring
# (its checkpoints, format version 1, hashed whole, are in the history of
# this file's reference). The runs spell out the defaults that issue 17
# changed (--schedule constant; --batch 64 where the small-data cap would
# now plan another batch), so that they train as they did before it.
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
here=$(dirname "$(realpath "$0")")
hashes() {
  printf '%-28s %s\n' "$1" "$(python3 "$here/ckpt_state.py" "$2")" | tee -a "$dir/runs.txt"
}
run() {
  local name=$1; shift
  "$bin" train --device cpu --quiet --save "$dir/$name.ckpt" "$@" >/dev/null
  hashes "$name" "$dir/$name.ckpt"
}
C="--schedule constant" # the default before issue 17
fm=fashion-mnist
run softmax_fm        --data $fm --model softmax --epochs 2 $C
run softmax_fm_b256   --data $fm --model softmax --epochs 1 --batch 256 $C
run mlp_fm_momentum   --data $fm --model mlp:64 --epochs 1 --optim momentum $C
run hinge_synth       --data synth:3000,30,4:seed=2 --model hinge --epochs 3 $C
run linear_synth_std  --data synth:3000,30,4:seed=2 --model linear --epochs 3 --standardize $C
run logistic_csv      --data csv:$csv:label=first --model logistic --epochs 5 --batch 64 $C
run adam_mlp          --data synth:4000,20,5:seed=3 --model mlp:32,16 --epochs 3 --optim adam $C
run adamw_mlp         --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim adamw $C
run nesterov_cos      --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim nesterov --schedule cosine --warmup 1
run lars_mlp          --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim lars $C
run lamb_mlp          --data synth:4000,20,5:seed=3 --model mlp:32 --epochs 3 --optim lamb $C
run adagrad_clip      --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --optim adagrad --clip-norm 0.5 $C
run rmsprop_mom       --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --optim rmsprop --momentum 0.5 $C
run sgd_l1_avg        --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --l1 1e-3 --average 10 $C
run sgd_invscaling    --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --schedule invscaling
run sgd_optimal       --data synth:4000,20,5:seed=3 --model softmax --epochs 3 --schedule optimal --weight-decay 1e-4
run sgd_adaptive_val  --data synth:4000,20,5:seed=3 --model softmax --epochs 6 --schedule adaptive --validation-fraction 0.2 --tol 1e-3
run sgd_step_sched    --data synth:4000,20,5:seed=3 --model softmax --epochs 4 --schedule step --lr-step 1 --lr-gamma 0.5
run sgd_exp_sched     --data synth:4000,20,5:seed=3 --model softmax --epochs 4 --schedule exponential --lr-gamma 0.7
run sgd_linear_scale  --data synth:4000,20,5:seed=3 --model softmax --epochs 2 --batch 256 --lr-scaling linear $C
run sgd_onnan_skip    --data synth:4000,20,5:seed=3 --model softmax --epochs 2 --on-nan skip --lr 90 $C
run sgd_tol           --data synth:4000,20,5:seed=3 --model softmax --epochs 30 --tol 1e-2 $C
# checkpoint and resume
"$bin" train --device cpu --quiet --data synth:4000,20,5:seed=3 --model mlp:32 --optim momentum --epochs 2 $C --save "$dir/half.ckpt" >/dev/null
"$bin" train --device cpu --quiet --data synth:4000,20,5:seed=3 --resume "$dir/half.ckpt" --epochs 2 --save "$dir/resumed.ckpt" >/dev/null
hashes resumed "$dir/resumed.ckpt"
if [[ -n $ref ]]; then
  diff "$ref" "$dir/runs.txt" >&2 && echo "bitwise_runs: all runs bit-identical in training state to $ref" >&2
fi
