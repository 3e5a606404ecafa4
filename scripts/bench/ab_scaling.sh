#!/usr/bin/env bash
# A/B weak scaling on one GPU machine: builds `seller` (Release) in this tree and in a second
# source tree (e.g. `git archive REV | tar -x -C .gpu-snap`, carried to the device machine), then
# runs scripts/bench/bench_train_scaling.sh of each tree per model, alternately, so that both
# see the same machine in the same job. Usage:
#   scripts/bench/ab_scaling.sh OTHER_TREE [models=llm170m,llm170m-b128] [sizes=1,4] [layouts=dp]
# Honours SELLER_BENCH_STEPS and SELLER_BENCH_PROFILE (bench_train_scaling.sh). Output: stdout and,
# when $OUT is set, $OUT/ab-<model>.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
other=$(cd "${1:?other source tree}" && pwd)
models=${2:-llm170m,llm170m-b128}
sizes=${3:-1,4}
layouts=${4:-dp}
out=${OUT:-/tmp/seller-ab}
mkdir -p "$out"
nvidia-smi -L || true
configure() {
  cmake -S "$1" -B "$1/build-gpu" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSELLER_WITH_TORCH=ON \
    -DSELLER_WITH_CUDA=ON -DSELLER_WITH_NCCL=ON -DSELLER_WITH_MPI=ON > "$2/configure.log" 2>&1 &&
    cmake --build "$1/build-gpu" -j "$(( $(nproc) / 2 ))" --target seller > "$2/build.log" 2>&1 ||
    { echo "build of $1 failed:"; grep -m 20 -B2 -A8 "error" "$2/build.log" "$2/configure.log"; return 1; }
}
start=$(date +%s)
mkdir -p "$out/a" "$out/b"
configure "$PWD" "$out/a" & pa=$!
configure "$other" "$out/b" & pb=$!
wait $pa || exit 1
wait $pb || exit 1
echo "build seconds (both, side by side): $(( $(date +%s) - start ))"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 NCCL_DEBUG=WARN
for model in ${models//,/ }; do
  for side in other this; do
    tree=$PWD; [ $side = other ] && tree=$other
    echo "=== $model, $side tree ($tree)"
    SELLER_RUN_DIR=/tmp/seller-ab-runs timeout 400 \
      "$tree/scripts/bench/bench_train_scaling.sh" build-gpu "$layouts" "$sizes" "$model" 2>&1
  done | tee "$out/ab-$model.txt"
done
