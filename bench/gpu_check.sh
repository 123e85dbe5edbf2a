#!/usr/bin/env bash
# GPU checks of the CUDA backend (issues 4-8), in one go, for a session that
# has a device, in order of importance, so that a deadline cuts the least:
#   1. configure for sm_90 into build-gpu and build, or, with
#      GSGD_BUNDLE=.gpu/bundle.tar.xz (bench/gpu_bundle.sh), unpack the
#      build made on the developer's machine with its libraries and data;
#   2. the GPU suites, verbose and required to RUN (a "no CUDA device" skip
#      there counts as a failure);
#   3. the update kernel's GB/s against a device-to-device copy at 100M
#      parameters (SGD, Adam, LAMB), the fused gradient's kernel versions
#      checked against the CPU and timed side by side
#      (gsgd_bench_linear_grad), and Fashion-MNIST softmax / mlp:256,128
#      samples/s at batch 4096;
#   4. compute-sanitizer memcheck on a short training run and on the byte
#      gather at batch 16384;
#   5. `gsgd bench` (sweep, time to 0.84), compare_torch.py for softmax
#      and mlp:256,128, every rule with a cosine schedule and warmup;
#   6. racecheck, the CPU suites, and `train --distributed` through NCCL
#      with one rank when mpirun exists.
# Every step runs even when an earlier one failed; with DEADLINE_S set, a
# step starts only while time is left and is cut at the deadline. Logs,
# figures and a summary with each step's exit code go to $OUT (default
# ./gpu-out), six files at most (seven with build.log):
#   summary.txt ctest.log sanitizer.log bench.log results.jsonl profile.log
# Issue 19's figures (precision, cuBLASLt epilogues, the first result,
# PyTorch at its strongest) come first after the build, as steps named
# i19-*, in order of importance; bench/results/issue19_pending.md lists
# them. Within a 15-minute device allowance run them alone:
#   GSGD_BUNDLE=.gpu/bundle.tar.xz ONLY='^i19-' DEADLINE_S=660 OUT=... bench/gpu_check.sh
# Usage: [GSGD_BUNDLE=F] [DEADLINE_S=N] [SKIP=REGEX] [ONLY=REGEX] OUT=dir bench/gpu_check.sh
# (SKIP: steps whose names match are not run, e.g. SKIP='^train-|ctest-cpu';
# ONLY: only steps whose names match run, the build's always)
# (exit status: failed step count)
cd "$(dirname "$0")/.." || exit 1
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
BUILD=build-gpu
GSGD=$BUILD/gsgd
JOBS=$(nproc 2>/dev/null || echo 4)
export PATH=/usr/local/cuda/bin:$PATH
SUMMARY=$OUT/summary.txt
for f in summary.txt ctest.log sanitizer.log bench.log results.jsonl profile.log; do
    : >"$OUT/$f"
done
FAILED=0
START=$SECONDS

# step NAME LOG TIMEOUT_S CMD...: runs CMD, appends its output to LOG and
# its exit code and seconds to the summary; past DEADLINE_S it does not run.
step() {
    local name=$1 log=$2 limit=$3
    shift 3
    if [ -n "${SKIP:-}" ] && [[ $name =~ $SKIP ]]; then
        echo "$name: not run, SKIP" >>"$SUMMARY"
        return 125
    fi
    if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY || $name =~ ^(configure|build)$ ]]; then
        echo "$name: not run, ONLY" >>"$SUMMARY"
        return 125
    fi
    if [ -n "${DEADLINE_S:-}" ]; then
        local left=$((DEADLINE_S - (SECONDS - START)))
        if [ "$left" -le 5 ]; then
            echo "$name: not run, deadline" >>"$SUMMARY"
            return 125
        fi
        [ "$left" -lt "$limit" ] && limit=$left
    fi
    local t0=$SECONDS
    echo "=== $name: $*" >>"$OUT/$log"
    echo "=== $name" >&2
    timeout "$limit" "$@" >>"$OUT/$log" 2>&1
    local rc=$?
    echo "$name: exit $rc ($((SECONDS - t0)) s)" >>"$SUMMARY"
    [ "$rc" -eq 0 ] || FAILED=$((FAILED + 1))
    return "$rc"
}

# json_line LABEL FILE: FILE's JSON object as one line of results.jsonl.
json_line() {
    [ -s "$2" ] || return 0
    { printf '{"bench": "%s", "result": ' "$1"; tr -d '\n' <"$2"; echo '}'; } >>"$OUT/results.jsonl"
    rm -f "$2"
}

{
    echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
    echo "commit: $(git rev-parse --short HEAD 2>/dev/null) $(git status --porcelain 2>/dev/null | wc -l) files changed"
    nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.mem --format=csv,noheader 2>&1 | sed 's/^/device: /'
    nvcc --version 2>&1 | tail -1 | sed 's/^/nvcc: /'
} >>"$SUMMARY"

# 1. the build: made here, or unpacked with what the image lacks
if [ -n "${GSGD_BUNDLE:-}" ]; then
    mkdir -p .gpu/unpacked && tar -xJf "$GSGD_BUNDLE" -C .gpu/unpacked && tar -xf .gpu/unpacked/build.tar
    # The CTest files name the tree by the path it was built at.
    src=$(sed -n 's/^# Source directory: //p' "$BUILD/CTestTestfile.cmake")
    if [ "$src" != "$PWD" ] && [ ! -e "$src" ]; then
        mkdir -p "$(dirname "$src")" && ln -s "$PWD" "$src"
    fi
    [ "$(cd "$src" && pwd -P)" = "$(pwd -P)" ] || echo "bundle: $src is another tree" >>"$SUMMARY"
    if [ ! -e /usr/share/datasets/fashion-mnist ]; then
        mkdir -p /usr/share/datasets && ln -s "$PWD/.gpu/fashion-mnist" /usr/share/datasets/fashion-mnist
    fi
    libs=$PWD/.gpu/unpacked/lib
    for l in libcudart.so.13 libcublas.so.13 libcublasLt.so.13 libcurand.so.10; do
        ldconfig -p | grep -q "$l" && continue
        f=$(find /usr/local/cuda/ /usr/local/ /usr/lib/ /opt/ -name "$l" -print -quit 2>/dev/null)
        [ -n "$f" ] && libs=$libs:$(dirname "$f")
    done
    export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
    echo "bundle: LD_LIBRARY_PATH=$LD_LIBRARY_PATH" >>"$SUMMARY"
    ldd "$GSGD" "$BUILD/tests/test_train_cuda" | grep "not found" | sed 's/^/bundle: /' >>"$SUMMARY"
else
    : >"$OUT/build.log"
    step configure build.log 300 cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release \
        -DCMAKE_CUDA_ARCHITECTURES=90
    step build build.log 600 cmake --build "$BUILD" -j"$JOBS"
    grep -iE "warning|error" "$OUT/build.log" | grep -v "^=== " | head -20 | sed 's/^/build diagnostic: /' >>"$SUMMARY"
fi
# The peer scripts run gsgd with these libraries, python without them.
printf '#!/bin/sh\nLD_LIBRARY_PATH=%s exec %s "$@"\n' "${LD_LIBRARY_PATH:-}" "$PWD/$GSGD" >.gpu-gsgd
chmod +x .gpu-gsgd

# 1b. issue 19 (see bench/results/issue19_pending.md), most important first
i19=$OUT/i19.tmp
# The suites of its code: the epilogues against the composed ops, the GEMM
# in TF32/BF16 against the precision's bound, training through both paths.
step i19-ctest ctest.log 240 ctest --test-dir "$BUILD" -L gpu -V \
    -R '^(test_dense_cuda|test_backend_cuda|test_train_cuda|test_train_cuda_composed)$'
grep -E "\[(SKIP|FAIL)\]|cuBLASLt took|Synthesis|tests passed|Failed" "$OUT/ctest.log" |
    head -40 | sed 's/^/i19 ctest: /' >>"$SUMMARY"
# Accuracy in each precision, Fashion-MNIST 20 epochs (within 0.003 of FP32).
for model in softmax mlp:256,128; do
    for p in fp32 tf32 bf16; do
        step "i19-accuracy-$model-$p" bench.log 60 "$GSGD" train --device cuda --data fashion-mnist \
            --model "$model" --epochs 20 --precision "$p" --seed 1 --quiet --summary "$i19"
        [ -s "$i19" ] && echo "i19 accuracy $model $p: $(grep -oE '"(test_accuracy|samples_per_second_warm)": [0-9.e-]*' "$i19" | tr '\n' ' ')" >>"$SUMMARY"
        json_line "i19 accuracy $model $p" "$i19"
    done
done
# The first result: exec to exit, softmax to 0.84, the breakdown, CUDA's
# lazy loading both ways, the read in line instead of beside the context
# (medians of 5, interleaved).
step i19-startup bench.log 120 env -u LD_LIBRARY_PATH python3 bench/startup_breakdown.py \
    --gsgd "$PWD/.gpu-gsgd" --runs 5 --setup lazy:CUDA_MODULE_LOADING=LAZY \
    --setup eager:CUDA_MODULE_LOADING=EAGER --setup in-line:GSGD_READ_AHEAD=0 --json "$i19" \
    -- --device cuda --data fashion-mnist --model softmax --target-acc 0.84 --epochs 20 --lr 0.1
json_line "i19 startup" "$i19"
grep -A4 "^| setup" "$OUT/bench.log" | tail -5 | sed 's/^/i19 startup: /' >>"$SUMMARY"
# gsgd bench in each precision: softmax at 1024 and B* (the fused step
# against its roofline for the precision), mlp:1024,1024 at B* with the
# epilogues and without (step / its GEMMs alone: goal 0.6 or more).
for p in fp32 tf32 bf16; do
    step "i19-bench-softmax-$p" bench.log 60 "$GSGD" bench --device cuda --data fashion-mnist \
        --batches 1024,60000 --noise-samples 0 --precision "$p" --json "$i19"
    json_line "i19 bench softmax $p" "$i19"
    grep -E "^ +(1024|60000) " "$OUT/bench.log" | tail -2 | sed "s/^/i19 bench softmax $p: /" >>"$SUMMARY"
    for epi in 1 0; do
        GSGD_EPILOGUES=$epi step "i19-bench-mlp1024-$p-epi$epi" bench.log 90 "$GSGD" bench \
            --device cuda --data fashion-mnist --model mlp:1024,1024 --batches 1024,60000 \
            --noise-samples 0 --steps 10 --precision "$p" --json "$i19"
        json_line "i19 bench mlp:1024,1024 $p GSGD_EPILOGUES=$epi" "$i19"
        grep -E "^ +(1024|60000) " "$OUT/bench.log" | tail -2 |
            sed "s/^/i19 bench mlp1024 $p epilogues $epi: /" >>"$SUMMARY"
    done
done
# PyTorch at its strongest beside gsgd, cheapest setups first: eager and the
# captured step in every precision; then torch.compile's two modes (each
# compiles and autotunes in its first epoch: --setup-timeout caps them).
torch_cmp() { # NAME TIMEOUT ARGS...
    local name=$1 limit=$2
    shift 2
    local d
    d=$(mktemp -d)
    step "i19-torch-$name" bench.log "$limit" env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 \
        python3 bench/compare_torch.py --gsgd "$PWD/.gpu-gsgd" --out "$d/r" "$@"
    json_line "i19 compare_torch $name" "$d/r.json"
    [ -f "$d/r.md" ] && cat "$d/r.md" >>"$OUT/bench.log" &&
        grep -E "^\| (gsgd|torch)|^gsgd / the fastest" "$d/r.md" | sed "s/^/i19 torch $name: /" >>"$SUMMARY"
    rm -rf "$d"
}
torch_cmp softmax-1024 150 --model softmax --lr 0.1 --batch 1024 --kinds eager,graph \
    --epochs 4 --repeats 3
torch_cmp mlp-1024 150 --model mlp:256,128 --lr 0.01 --batch 1024 --kinds eager,graph \
    --epochs 4 --repeats 3
torch_cmp softmax-bstar 120 --model softmax --lr 0.1 --batch auto --kinds eager,graph \
    --epochs 4 --repeats 3 --target-acc 0
torch_cmp mlp-bstar 120 --model mlp:256,128 --lr 0.01 --batch auto --kinds eager,graph \
    --epochs 4 --repeats 3 --target-acc 0
# gsgd regenerates the synthetic set (2.5 GB) per run: two precisions.
torch_cmp big-mlp 300 --model mlp:2048,2048 --data synth:1250000,512,100 --lr 0.01 \
    --batch 1024 --precisions fp32,bf16 --kinds eager,graph --epochs 3 --repeats 2
# Each compile setup compiles (and autotunes) in its first epoch: one
# precision per step, each setup capped, the JSON written as it goes.
for p in fp32 bf16; do
    torch_cmp "softmax-compile-$p" 420 --model softmax --lr 0.1 --batch 1024 --precisions "$p" \
        --kinds compile-reduce-overhead,compile-max-autotune --epochs 3 --repeats 2 \
        --setup-timeout 180 --target-acc 0
    torch_cmp "mlp-compile-$p" 420 --model mlp:256,128 --lr 0.01 --batch 1024 --precisions "$p" \
        --kinds compile-reduce-overhead,compile-max-autotune --epochs 3 --repeats 2 \
        --setup-timeout 180 --target-acc 0
done

# 2. the GPU suites, one at a time and verbose
step ctest-gpu ctest.log 300 ctest --test-dir "$BUILD" -L gpu -V
nodev=$(grep -c "SKIP.*no CUDA device" "$OUT/ctest.log")
echo "gpu suites skipped for lack of a device: $nodev (must be 0)" >>"$SUMMARY"
[ "$nodev" -eq 0 ] || FAILED=$((FAILED + 1))
grep -E "\[(SKIP|FAIL)\]|\[----\] (one epoch|fashion|softmax|mlp)|Synthesis|tests passed|Failed" \
    "$OUT/ctest.log" | head -60 | sed 's/^/ctest: /' >>"$SUMMARY"

# 3. figures (ratios measured in the same run, as design.md asks)
tmp=$OUT/update.json.tmp
step bench-update bench.log 90 "$BUILD/gsgd_bench_update" 100000000 "$tmp" # SGD, momentum, Nesterov
json_line "update" "$tmp"
for rule in adam lamb; do
    step "bench-update-$rule" bench.log 90 "$BUILD/gsgd_bench_update" 100000000 "$tmp" --optim "$rule"
    json_line "update $rule" "$tmp"
done
grep -E "^(device-to-device|update )" "$OUT/bench.log" | sed 's/^/bench: /' >>"$SUMMARY"
# The fused gradient's kernel versions (kernels/linear_grad.cu): each against
# the CPU reference, then timed at Fashion-MNIST's shapes, in the same run.
tmp=$OUT/linear_grad.json.tmp
step bench-linear-grad bench.log 120 "$BUILD/gsgd_bench_linear_grad" --json "$tmp"
json_line "linear_grad versions" "$tmp"
grep -E "^(check .*FAILED|(u8|f32) +[0-9]+ +v[0-9]|checks failed)" "$OUT/bench.log" |
    sed 's/^/linear_grad: /' >>"$SUMMARY"
for model in softmax mlp:256,128; do
    tmp=$OUT/train.json.tmp
    step "train-$model" bench.log 90 "$GSGD" train --device cuda --data fashion-mnist \
        --model "$model" --batch 4096 --epochs 3 --summary "$tmp"
    [ -s "$tmp" ] && echo "train $model batch 4096: $(tr -d '\n' <"$tmp")" >>"$SUMMARY"
    json_line "fashion-mnist $model batch 4096" "$tmp"
done

# Steps replayed from CUDA Graphs against steps issued one by one: the
# last of 5 epochs' samples/s (evaluation included), softmax, small batches.
for batch in 64 1024; do
    for graphs in 1 0; do
        GSGD_CUDA_GRAPHS=$graphs step "graphs-$graphs-batch-$batch" bench.log 60 "$GSGD" train \
            --device cuda --data fashion-mnist --model softmax --batch "$batch" --epochs 5
        echo "graphs $graphs batch $batch: $(grep '^epoch 5/5' "$OUT/bench.log" | tail -1)" >>"$SUMMARY"
    done
done

# The fused one-layer gradient (kernels/linear_grad.cu, its default version;
# CUDA takes it from backend_cuda.c's linear_grad_min_batch): the step
# composed and fused, in the same run, then training through it, and the
# sanitizers on it.
for fused in 1 0; do
    tmp=$OUT/fused.json.tmp
    GSGD_FUSED_GRADIENT=$fused step "bench-fused-$fused" bench.log 90 "$GSGD" bench --device cuda \
        --data fashion-mnist --batches 64,256,1024,4096,60000 --noise-samples 0 --json "$tmp"
    json_line "gsgd bench GSGD_FUSED_GRADIENT=$fused" "$tmp"
    grep -E "^ +(64|256|1024|4096|60000) " "$OUT/bench.log" | tail -5 |
        sed "s/^/fused $fused: /" >>"$SUMMARY"
done
# Float features (synthetic, 784 of them: one stage of rows in shared memory).
for fused in 1 0; do
    GSGD_FUSED_GRADIENT=$fused step "bench-fused-f32-$fused" bench.log 60 "$GSGD" bench \
        --device cuda --data synth:60000,784,10 --batches 4096,48000 --noise-samples 0
    grep -E "^ +(4096|48000) " "$OUT/bench.log" | tail -2 | sed "s/^/fused f32 $fused: /" >>"$SUMMARY"
done
# Nsight Compute on the fused kernel and its reduction (one step's pair,
# after a warm-up step), at B* and at 4096: what bounds it.
NCU=$(command -v ncu || ls /opt/nvidia/nsight-compute/*/ncu 2>/dev/null | head -1)
for batch in 60000 4096; do
    [ -n "$NCU" ] || break
    GSGD_FUSED_GRADIENT=1 step "ncu-fused-$batch" profile.log 90 "$NCU" --clock-control none \
        --kernel-name regex:linear_grad --launch-skip 2 --launch-count 2 \
        --section SpeedOfLight --section MemoryWorkloadAnalysis --section ComputeWorkloadAnalysis \
        --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
        "$GSGD" bench --device cuda --data fashion-mnist --batches "$batch" --steps 3 \
        --warmup-steps 1 --noise-samples 0
done
[ -n "$NCU" ] || echo "ncu: not found" >>"$SUMMARY"
grep -E "^  [a-z_]+.*\(|Duration|Memory Throughput|DRAM Throughput|Compute \(SM\) Throughput|Achieved Occupancy|Registers Per" \
    "$OUT/profile.log" | head -40 | sed 's/^/ncu: /' >>"$SUMMARY"
tmp=$OUT/train.json.tmp
GSGD_FUSED_GRADIENT=1 step train-softmax-fused bench.log 90 "$GSGD" train --device cuda \
    --data fashion-mnist --model softmax --batch 4096 --epochs 3 --summary "$tmp"
[ -s "$tmp" ] && echo "train softmax fused batch 4096: $(tr -d '\n' <"$tmp")" >>"$SUMMARY"
json_line "fashion-mnist softmax fused batch 4096" "$tmp"
# Where the fused gradient starts to pay in training (CUDA Graphs replaying
# steps, as by default): samples/s after the first epoch, forced on and off.
for batch in 64 128 256 512 1024; do
    for fused in 1 0; do
        tmp=$OUT/train.json.tmp
        GSGD_FUSED_GRADIENT=$fused step "fused-$fused-batch-$batch" bench.log 60 "$GSGD" train \
            --device cuda --data fashion-mnist --model softmax --batch "$batch" --epochs 5 \
            --summary "$tmp"
        [ -s "$tmp" ] && echo "fused $fused batch $batch: $(grep -o '"samples_per_second_warm": [0-9.]*' "$tmp")" >>"$SUMMARY"
        json_line "fashion-mnist softmax GSGD_FUSED_GRADIENT=$fused batch $batch" "$tmp"
    done
done

# 4. memcheck on one short run: gather with standardisation, every GEMM
# shape, ReLU, softmax loss, column sums, permutation, momentum update; and
# on the byte gather (Fashion-MNIST is stored as bytes on the device)
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/compute-sanitizer/compute-sanitizer 2>/dev/null)
RUN=("$GSGD" train --device cuda --data synth:20000,100,10 --model mlp:64 --epochs 1
     --batch 256 --optim momentum --standardize --quiet)
if [ -n "$SAN" ]; then
    step memcheck sanitizer.log 150 "$SAN" --tool memcheck --leak-check full --error-exitcode 3 "${RUN[@]}"
    # Batch 16384: the gather's threads loop past the grid cap.
    step memcheck-u8 sanitizer.log 150 "$SAN" --tool memcheck --error-exitcode 3 \
        "$GSGD" train --device cuda --data fashion-mnist --model softmax --epochs 1 \
        --batch 16384 --standardize --optim adam --quiet
    GSGD_FUSED_GRADIENT=1 step memcheck-fused sanitizer.log 150 "$SAN" --tool memcheck \
        --error-exitcode 3 "$GSGD" train --device cuda --data fashion-mnist --model softmax \
        --epochs 1 --batch 4000 --standardize --quiet
    GSGD_FUSED_GRADIENT=1 step memcheck-fused-f32 sanitizer.log 150 "$SAN" --tool memcheck \
        --error-exitcode 3 "$GSGD" train --device cuda --data synth:20000,100,10 --model softmax \
        --epochs 1 --batch 1000 --quiet
    GSGD_FUSED_GRADIENT=1 step racecheck-fused sanitizer.log 150 "$SAN" --tool racecheck \
        --error-exitcode 3 "$GSGD" train --device cuda --data fashion-mnist --model softmax \
        --epochs 1 --batch 4000 --standardize --quiet
else
    echo "sanitizer: compute-sanitizer not found" >>"$SUMMARY"
    FAILED=$((FAILED + 1))
fi

# 5. the bench harness, PyTorch, every rule
tmp=$OUT/bench.json.tmp
step gsgd-bench bench.log 180 "$GSGD" bench --device cuda --data fashion-mnist \
    --batches sweep --target-acc 0.84 --json "$tmp"
json_line "gsgd bench sweep" "$tmp"
for model in softmax mlp:256,128; do
    lr=0.01 # softmax reaches 0.84 at batch 1024 only at a larger rate
    [ "$model" = softmax ] && lr=0.1
    tmpd=$(mktemp -d)
    step "compare-torch-$model" bench.log 180 env -u LD_LIBRARY_PATH PYTHONUNBUFFERED=1 \
        python3 bench/compare_torch.py --gsgd "$PWD/.gpu-gsgd" --model "$model" --lr "$lr" \
        --out "$tmpd/r"
    json_line "compare_torch $model" "$tmpd/r.json"
    [ -f "$tmpd/r.md" ] && cat "$tmpd/r.md" >>"$OUT/bench.log"
    rm -rf "$tmpd"
done
grep -E "^\| (gsgd|torch)|skip|failed" "$OUT/bench.log" | tail -16 | sed 's/^/torch: /' >>"$SUMMARY"
for rule in sgd momentum nesterov adam adamw adagrad rmsprop lars lamb; do
    step "train-$rule" bench.log 60 "$GSGD" train --device cuda --data fashion-mnist \
        --model mlp:256,128 --optim "$rule" --schedule cosine --warmup 1 --epochs 5 --quiet
done
grep -E "^test accuracy" "$OUT/bench.log" | sed 's/^/train: /' >>"$SUMMARY"

# 6. racecheck, the CPU suites, NCCL
[ -n "$SAN" ] && step racecheck sanitizer.log 150 "$SAN" --tool racecheck --error-exitcode 3 "${RUN[@]}"
[ -n "$SAN" ] && step racecheck-u8 sanitizer.log 150 "$SAN" --tool racecheck --error-exitcode 3 \
    "$GSGD" train --device cuda --data fashion-mnist --model softmax --epochs 1 --batch 16384 --quiet
grep -E "ERROR SUMMARY|RACECHECK SUMMARY|LEAK SUMMARY" "$OUT/sanitizer.log" | sed 's/^/sanitizer: /' >>"$SUMMARY"
step ctest-cpu ctest.log 300 ctest --test-dir "$BUILD" -LE gpu -j"$JOBS" --output-on-failure
grep -E "tests passed|Failed|\(Failed\)" "$OUT/ctest.log" | tail -8 | sed 's/^/ctest: /' >>"$SUMMARY"
# The NCCL path needs an MPI build: the tree's own, or the bundle's mpi/gsgd,
# which takes MPI and NCCL from the machine (it says what it misses).
MPI_GSGD=$GSGD
[ -n "${GSGD_BUNDLE:-}" ] && MPI_GSGD=.gpu/unpacked/mpi/gsgd
if command -v mpirun >/dev/null && [ -x "$MPI_GSGD" ]; then
    nccl=$(find /usr/local/cuda/ /usr/local/ /usr/lib/ /opt/ -name libnccl.so.2 -print -quit 2>/dev/null)
    echo "nccl 1 rank: mpirun $(mpirun --version 2>&1 | head -1); libnccl ${nccl:-not found}" >>"$SUMMARY"
    LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}${nccl:+:$(dirname "$nccl")} ldd "$MPI_GSGD" | grep "not found" |
        sed 's/^/nccl 1 rank: /' >>"$SUMMARY"
    LD_LIBRARY_PATH=${LD_LIBRARY_PATH:-}${nccl:+:$(dirname "$nccl")} \
        step nccl-1-rank bench.log 120 mpirun -np 1 --allow-run-as-root --oversubscribe \
        "$MPI_GSGD" train --distributed --batch 256 --device cuda --data fashion-mnist \
        --model softmax --epochs 2
    grep -E "^test accuracy" "$OUT/bench.log" | tail -1 | sed 's/^/nccl 1 rank: /' >>"$SUMMARY"
else
    echo "nccl 1 rank: not run (mpirun: $(command -v mpirun || echo none); MPI build: $MPI_GSGD)" >>"$SUMMARY"
fi

echo "failed steps: $FAILED; $((SECONDS - START)) s" >>"$SUMMARY"
cat "$SUMMARY"
exit "$FAILED"
