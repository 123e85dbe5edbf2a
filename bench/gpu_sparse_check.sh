#!/usr/bin/env bash
# GPU checks of sparse data (issue 16), for a session that has a device:
#   1. tests/test_sparse_cuda.c, required to RUN (a "no CUDA device" skip
#      counts as a failure): every CSR op against the CPU's;
#   2. compute-sanitizer memcheck of a short sparse training run;
#   3. `gsgd bench` of the sparse softmax step on the same files on the
#      CPU (2 threads) and on CUDA: samples/s, nonzeros/s, x floor (the
#      issue asks CUDA >= 20x the CPU's samples/s);
#   4. training on the hashed 2^20-feature set and the TF-IDF set on CUDA
#      with default options (test accuracy, seconds).
# The data: bench/data/*.svm.gz made by bench/sparse_text.py on a machine
# with apt (carry bench/data along), else synth-sparse sets of the same
# shape. Usage: BUILD=build-gpu OUT=dir bench/gpu_sparse_check.sh
cd "$(dirname "$0")/.." || exit 1
BUILD=${BUILD:-build-gpu}
OUT=${OUT:-./gpu-out}
mkdir -p "$OUT"
GSGD=$BUILD/gsgd
LOG=$OUT/sparse.log
: >"$LOG"
FAILED=0
step() {
    local name=$1; shift
    echo "== $name: $*" >>"$LOG"
    if "$@" >>"$LOG" 2>&1; then echo "ok   $name" | tee -a "$LOG"
    else echo "FAIL $name" | tee -a "$LOG"; FAILED=$((FAILED + 1)); fi
}
runs_not_skips() {
    local out rc
    out=$("$@" 2>&1); rc=$?
    echo "$out"
    grep -q "no CUDA device" <<<"$out" && return 1
    return $rc
}
if [[ -f bench/data/tfidf_train.svm.gz ]]; then
    TF=(bench/data/tfidf_train.svm.gz bench/data/tfidf_test.svm.gz)
    HS=(bench/data/hash_train.svm.gz bench/data/hash_test.svm.gz)
    HS_BENCH=${HS[0]}
else
    TF=(synth-sparse:52000,226000,20,17:seed=1 "")
    HS=(synth-sparse:52000,1048576,20,17:seed=2 "")
    HS_BENCH=${HS[0]}
fi
test_arg() { [[ -n $1 ]] && echo "--test $1"; }
export OMP_NUM_THREADS=2 OMP_WAIT_POLICY=passive CRITERION_JOBS=1
step test_sparse_cuda runs_not_skips "$BUILD/tests/test_sparse_cuda" --verbose -j1
step memcheck compute-sanitizer --tool memcheck --error-exitcode 1 "$GSGD" train --device cuda \
    --quiet --data synth-sparse:4000,50000,5,30:seed=3 --model softmax --epochs 1
for dev in cpu cuda; do
    step "bench-$dev" "$GSGD" bench --device $dev --data "$HS_BENCH" --model softmax \
        --batches 64,1024,8192 --json "$OUT/sparse_bench_$dev.json"
done
step train-hash-cuda "$GSGD" train --device cuda --data "${HS[0]}" $(test_arg "${HS[1]}") \
    --model softmax --summary "$OUT/sparse_hash_cuda.json"
step train-tfidf-cuda "$GSGD" train --device cuda --data "${TF[0]}" $(test_arg "${TF[1]}") \
    --model softmax --summary "$OUT/sparse_tfidf_cuda.json"
echo "$FAILED failed" | tee -a "$LOG"
exit $FAILED
