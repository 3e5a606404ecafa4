#!/usr/bin/env bash
# Builds seller on the GPU machine (Ubuntu 24.04, system torch 2.11 + CUDA 13, NCCL, OpenMPI;
# nothing is installed there) with the same CMakeLists as CI, then runs every test label,
# GPU tests included. Usage: scripts/gpu_check.sh [build-dir]. Prints the toolchain it found.
set -uo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-gpu}
nvidia-smi -L || true
python3 -c 'import torch;print("torch", torch.__version__, "cuda", torch.version.cuda)' || true
cmake --version | head -1
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DSELLER_WITH_TORCH=ON -DSELLER_WITH_CUDA=ON -DSELLER_WITH_NCCL=ON -DSELLER_WITH_MPI=ON \
  > "$build.configure.log" 2>&1 || { cat "$build.configure.log"; exit 1; }
grep -E "^-- seller:" "$build.configure.log"
start=$(date +%s)
cmake --build "$build" -j "$(nproc)" 2>&1 | tail -n 5
echo "build seconds: $(( $(date +%s) - start ))"
ctest --test-dir "$build" --output-on-failure -j 8 -L "unit|integration|gpu" 2>&1 | tail -n 60
