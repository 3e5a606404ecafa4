#!/usr/bin/env bash
# One device-tool call's worth of GPU evidence, on a machine with 4 GPUs of one host (nothing is
# installed there; see docs/gpu.md). Builds only the targets it runs (Release), then, by part:
#   nccl    the NCCL equivalence tests (tests/gpu), 2 and 4 GPUs
#   a2a     all-to-all and all-reduce at the MoE adapter's message sizes (16 KB .. 4 MB)
#   ckpt    bench_checkpoint for a ~1B decoder on GPU 0 beside torch.save
#   scaling bench_train_scaling.sh (SCALING_LAYOUTS, default dp,ep; SCALING_MODELS)
#   sync    tests/gpu/test_sync_free_step (a training step under CUDA's sync-debug "error" mode)
# Usage: scripts/bench/gpu_session.sh BUILD_DIR part[,part...]
# Output goes to stdout and, when $OUT is set (device tool), to $OUT/<part>.txt.
set -uo pipefail
cd "$(dirname "$0")/../.."
build=${1:?build dir}
parts=${2:-nccl,a2a,ckpt,scaling}
out=${OUT:-/tmp/seller-gpu-session}
mkdir -p "$out"
nvidia-smi -L || true
start=$(date +%s)
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DSELLER_WITH_TORCH=ON \
  -DSELLER_WITH_CUDA=ON -DSELLER_WITH_NCCL=ON -DSELLER_WITH_MPI=ON > "$out/configure.log" 2>&1 ||
  { tail -n 30 "$out/configure.log"; exit 1; }
targets=(seller)
[[ $parts == *nccl* ]] && targets+=(test_nccl_comm test_nccl_parallel)
[[ $parts == *a2a* ]] && targets+=(bench_collectives)
[[ $parts == *ckpt* ]] && targets+=(bench_checkpoint)
[[ $parts == *tptrain* ]] && targets+=(test_cli_train_layouts)
[[ $parts == *sync* ]] && targets+=(test_sync_free_step)
cmake --build "$build" -j "$(nproc)" --target "${targets[@]}" > "$out/build.log" 2>&1 ||
  { grep -m 20 -B2 -A8 "error" "$out/build.log"; exit 1; }
echo "build seconds: $(( $(date +%s) - start ))"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 NCCL_DEBUG=WARN
for part in ${parts//,/ }; do
  t=$(date +%s)
  echo "=== $part"
  case $part in
    nccl)
      for b in test_nccl_comm test_nccl_parallel; do
        SELLER_NCCL_CASE_TIMEOUT_S=45 timeout 200 "$build/tests/$b" 2>&1 | grep -E "MAXDIFF|OK|FAILED|PASSED|SKIP|rror" ; done ;;
    a2a)
      timeout 150 "$build/bench/bench_collectives" --backend nccl --threads 4 --min 16K --max 4M \
        --ops all_to_all,all_reduce
      timeout 100 "$build/bench/bench_collectives" --backend nccl --threads 2 --min 16K --max 4M \
        --ops all_to_all,all_reduce ;;
    ckpt)
      timeout 300 "$build/bench/bench_checkpoint" --hidden 2048 --layers 16 --device cuda \
        --tokens 512 --steps 6 --python python3 --dir /tmp/seller-bench-ckpt ;;
    scaling)
      timeout 500 scripts/bench/bench_train_scaling.sh "$build" "${SCALING_LAYOUTS:-dp,ep}" \
        "${SCALING_SIZES:-1,2,4}" "${SCALING_MODELS:-main,llm170m}" ;;
    sync)
      timeout 120 "$build/tests/test_sync_free_step" 2>&1 | grep -E "OK|FAILED|PASSED|SKIP|rror|Failure|Expected|synchronis" ;;
    tptrain)
      timeout 300 "$build/tests/test_cli_train_layouts" 2>&1 | grep -E "MAXDIFF|OK|FAILED|PASSED|SKIP|rror|Failure|Expected" ;;
  esac 2>&1 | tee "$out/$part.txt"
  echo "($part: $(( $(date +%s) - t )) s)"
done
