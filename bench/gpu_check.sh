#!/usr/bin/env bash
# GPU checks of the CUDA backend (issue 4), in one go, for a session that
# has a device:
#   1. configure for sm_90 into build-gpu and build;
#   2. the whole test suite, the GPU suites verbose and required to RUN
#      (a "no CUDA device" skip there counts as a failure);
#   3. compute-sanitizer memcheck and racecheck on a short training run;
#   4. the update kernel's GB/s against a device-to-device copy at 100M
#      parameters, and Fashion-MNIST softmax / mlp:256,128 samples/s at
#      batch 4096;
#   5. the adaptive rules' update, `gsgd bench` (sweep, time to 0.84),
#      every rule with a cosine schedule and warmup, and compare_torch.py;
#   6. `train --distributed` through NCCL with one rank, when mpirun exists.
# Every step runs even when an earlier one failed. Logs, figures and a
# summary with each step's exit code go to $OUT (default ./gpu-out), six
# files at most:
#   summary.txt build.log ctest.log sanitizer.log bench.log results.jsonl
# Usage: OUT=dir bench/gpu_check.sh      (exit status: failed step count)
set -x
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=build-gpu
JOBS=$(nproc 2>/dev/null || echo 4)
export PATH=/usr/local/cuda/bin:$PATH
SUMMARY=$OUT/summary.txt
for f in summary.txt build.log ctest.log sanitizer.log bench.log results.jsonl; do
    : >"$OUT/$f"
done
FAILED=0

# step NAME LOG TIMEOUT_S CMD...: runs CMD, appends its output to LOG and
# its exit code to the summary.
step() {
    local name=$1 log=$2 limit=$3
    shift 3
    echo "=== $name: $*" >>"$OUT/$log"
    timeout "$limit" "$@" >>"$OUT/$log" 2>&1
    local rc=$?
    echo "$name: exit $rc" >>"$SUMMARY"
    [ "$rc" -eq 0 ] || FAILED=$((FAILED + 1))
    return "$rc"
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | wc -l) files changed"
    nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1 | sed 's/^/device: /'
    nvcc --version 2>&1 | tail -1 | sed 's/^/nvcc: /'
} >>"$SUMMARY"

# 1. build
step configure build.log 300 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_CUDA_ARCHITECTURES=90
step build build.log 600 cmake --build "$BUILD" -j"$JOBS"
grep -iE "warning|error" "$OUT/build.log" | grep -v "^=== " | head -20 | sed 's/^/build diagnostic: /' >>"$SUMMARY"

# 2. tests: CPU suites in parallel, GPU suites one at a time and verbose
step ctest-cpu ctest.log 600 ctest --test-dir "$BUILD" -LE gpu -j"$JOBS" --output-on-failure
step ctest-gpu ctest.log 600 ctest --test-dir "$BUILD" -L gpu -V
nodev=$(grep -c "SKIP.*no CUDA device" "$OUT/ctest.log")
echo "gpu suites skipped for lack of a device: $nodev (must be 0)" >>"$SUMMARY"
[ "$nodev" -eq 0 ] || FAILED=$((FAILED + 1))
grep -E "\[(SKIP|FAIL)\]|\[----\] (one epoch|fashion)|Synthesis|tests passed|Failed" \
    "$OUT/ctest.log" | head -60 | sed 's/^/ctest: /' >>"$SUMMARY"

# 3. sanitizers on one short run: gather with standardisation, every GEMM
# shape, ReLU, softmax loss, column sums, permutation, momentum update; and
# memcheck on the byte gather
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null)
RUN=("$BUILD/gsgd" train --device cuda --data synth:20000,100,10 --model mlp:64 --epochs 1
     --batch 256 --optim momentum --standardize --quiet)
if [ -n "$SAN" ]; then
    step memcheck sanitizer.log 300 "$SAN" --tool memcheck --leak-check full --error-exitcode 3 "${RUN[@]}"
    step racecheck sanitizer.log 300 "$SAN" --tool racecheck --error-exitcode 3 "${RUN[@]}"
    # Fashion-MNIST is stored as bytes: the four-bytes-a-thread gather.
    step memcheck-u8 sanitizer.log 300 "$SAN" --tool memcheck --error-exitcode 3 \
        "$BUILD/gsgd" train --device cuda --data fashion-mnist --model softmax --epochs 1 \
        --batch 4096 --standardize --quiet
    grep -E "ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY" "$OUT/sanitizer.log" | sed 's/^/sanitizer: /' >>"$SUMMARY"
else
    echo "sanitizer: compute-sanitizer not found" >>"$SUMMARY"
    FAILED=$((FAILED + 1))
fi

# 4. figures (ratios measured in the same run, as design.md asks)
step bench-update bench.log 300 "$BUILD/gsgd_bench_update" 100000000 "$OUT/update.json.tmp"
[ -f "$OUT/update.json.tmp" ] && { printf '{"bench": "update", "result": '; tr -d '\n' <"$OUT/update.json.tmp"; echo '}'; } >>"$OUT/results.jsonl"
rm -f "$OUT/update.json.tmp"
grep -E "^(device-to-device|update )" "$OUT/bench.log" | sed 's/^/bench: /' >>"$SUMMARY"
for model in softmax mlp:256,128; do
    tmp=$OUT/train.json.tmp
    rm -f "$tmp"
    step "train-$model" bench.log 300 "$BUILD/gsgd" train --device cuda --data fashion-mnist \
        --model "$model" --batch 4096 --epochs 3 --summary "$tmp"
    if [ -f "$tmp" ]; then
        { printf '{"bench": "fashion-mnist %s batch 4096", "result": ' "$model"; tr -d '\n' <"$tmp"; echo '}'; } >>"$OUT/results.jsonl"
        echo "train $model batch 4096: $(tr -d '\n' <"$tmp")" >>"$SUMMARY"
    fi
    rm -f "$tmp"
done

# 5. issue 6 and 7 on the device: the update of the adaptive rules, the
# bench harness's sweep with time to target, every rule with a schedule,
# and the PyTorch comparison (it skips, exit 0, without torch)
for rule in adam lamb; do
    step "bench-update-$rule" bench.log 300 "$BUILD/gsgd_bench_update" 100000000 /dev/null --optim "$rule"
done
grep -E "^update " "$OUT/bench.log" | sed 's/^/bench: /' >>"$SUMMARY"
tmp=$OUT/bench.json.tmp
step gsgd-bench bench.log 600 "$BUILD/gsgd" bench --device cuda --data fashion-mnist \
    --batches sweep --target-acc 0.84 --json "$tmp"
[ -f "$tmp" ] && { printf '{"bench": "gsgd bench sweep", "result": '; tr -d '\n' <"$tmp"; echo '}'; } >>"$OUT/results.jsonl"
rm -f "$tmp"
for rule in sgd momentum nesterov adam adamw adagrad rmsprop lars lamb; do
    step "train-$rule" bench.log 300 "$BUILD/gsgd" train --device cuda --data fashion-mnist \
        --model mlp:256,128 --optim "$rule" --schedule cosine --warmup 1 --epochs 5 --quiet
done
grep -E "^test accuracy" "$OUT/bench.log" | sed 's/^/train: /' >>"$SUMMARY"
step compare-torch bench.log 600 python3 bench/compare_torch.py --gsgd "$BUILD/gsgd"
grep -iE "samples/s|skip" "$OUT/bench.log" | tail -12 | sed 's/^/torch: /' >>"$SUMMARY"

# 6. issue 8: the NCCL path with one rank (needs mpirun on the machine)
if command -v mpirun >/dev/null; then
    step nccl-1-rank bench.log 300 mpirun -np 1 --allow-run-as-root --oversubscribe \
        "$BUILD/gsgd" train --distributed --batch 256 --device cuda --data fashion-mnist \
        --model softmax --epochs 2 --quiet
    grep -E "^test accuracy" "$OUT/bench.log" | tail -1 | sed 's/^/nccl 1 rank: /' >>"$SUMMARY"
else
    echo "nccl 1 rank: mpirun not found, not run" >>"$SUMMARY"
fi

echo "failed steps: $FAILED" >>"$SUMMARY"
cat "$SUMMARY"
exit "$FAILED"
