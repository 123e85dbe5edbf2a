#!/usr/bin/env bash
# Every update rule on Fashion-MNIST with the same model, epochs, batch and
# seed, each at its automatic (PyTorch-default) learning rate: the issue's
# "momentum, Nesterov and Adam beat plain SGD in the same epochs" check.
# Usage: bench/compare_rules.sh [GSGD] [EPOCHS] [MODEL] > table.md
set -euo pipefail
gsgd=${1:-build/gsgd}
epochs=${2:-10}
model=${3:-mlp:256,128}
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-passive}
echo "| rule | lr (automatic) | test accuracy | train loss | samples/s |"
echo "|---|---|---|---|---|"
for rule in sgd momentum nesterov adam adamw adagrad rmsprop lars lamb; do
    summary=$(mktemp)
    "$gsgd" train --data fashion-mnist --model "$model" --optim "$rule" --epochs "$epochs" \
        --batch 64 --seed 1 --device cpu --quiet --summary "$summary" >/dev/null
    python3 - "$rule" "$summary" <<'PY'
import json, sys
s = json.load(open(sys.argv[2]))
print(f"| {sys.argv[1]} | {s['lr']:g} | {s['test_accuracy']:.4f} | {s['train_loss']:.4f} | {s['samples_per_second']:.0f} |")
PY
    rm -f "$summary"
done
