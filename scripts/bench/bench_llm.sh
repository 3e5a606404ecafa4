#!/usr/bin/env bash
# Runs bench_llm (ours) and the HF transformers peer on the same GPU, one after the other.
# Usage: scripts/bench/bench_llm.sh [build-dir] [args for both...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}; shift || true
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader || true
echo "== seller (LibTorch C++)"
"$build/bench/bench_llm" "$@"
echo "== HF transformers peer"
python3 scripts/bench/hf_llm_peer.py "$@"
