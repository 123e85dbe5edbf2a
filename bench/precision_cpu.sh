#!/usr/bin/env bash
# Test accuracy of Fashion-MNIST training in each precision (--precision
# fp32|tf32|bf16) on the CPU backend, the reference of what the GPU's
# tensor cores compute: softmax and mlp:256,128, 20 epochs, the same seed
# and defaults otherwise, one markdown table on stdout (issue 19's goal:
# within 0.003 of FP32). The samples/s column is the CPU's own (it has no
# TF32 or BF16 units: the rounding costs time there).
# Usage: bench/precision_cpu.sh [GSGD_BINARY] > bench/results/precision_cpu.md
set -euo pipefail
bin=${1:-build-cpu/gsgd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
echo "# Fashion-MNIST in each precision, CPU backend"
echo
echo "\`$bin train --device cpu --data fashion-mnist --model MODEL --epochs 20 --seed 1"
echo "--precision P\` on $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 |"
echo "sed 's/^ //'), OMP_NUM_THREADS=${OMP_NUM_THREADS:-unset}); $(date -u +%Y-%m-%d)."
echo
echo "| model | precision | test accuracy | - fp32 | train loss | samples/s |"
echo "|---|---|---|---|---|---|"
for model in softmax mlp:256,128; do
    base=
    for p in fp32 tf32 bf16; do
        "$bin" train --device cpu --data fashion-mnist --model "$model" --epochs 20 --seed 1 \
            --precision "$p" --quiet --summary "$tmp/s.json" >/dev/null
        read -r acc loss sps < <(python3 -c 'import json,sys; s=json.load(open(sys.argv[1]))
print(s["test_accuracy"], s["train_loss"], s["samples_per_second"])' "$tmp/s.json")
        [ -z "$base" ] && base=$acc
        diff=$(python3 -c "print(f'{$acc - $base:+.4f}')")
        printf '| %s | %s | %.4f | %s | %.4f | %.0f |\n' "$model" "$p" "$acc" "$diff" "$loss" "$sps"
    done
done
