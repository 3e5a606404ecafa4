#!/usr/bin/env bash
# Metric throughput of seller eval's text metrics vs sacreBLEU and rouge-score (docs/eval.md,
# "Throughput on 1M pairs"). Usage: scripts/bench/bench_eval_throughput.sh [BUILD_DIR] [PAIRS]
# [PEER_PAIRS]; needs .venv with the test oracles (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
# Shared checkouts serialise builds on one lock (set SELLER_BUILD_LOCK= to build without it).
lock=${SELLER_BUILD_LOCK-/tmp/seller-build.lock}
if [[ -n "$lock" ]] && command -v flock >/dev/null; then
  flock "$lock" cmake --build "$build" --target bench_eval_throughput
else
  cmake --build "$build" --target bench_eval_throughput
fi
echo "load before the run: $(uptime)"
exec "$build/bench/bench_eval_throughput" --pairs "${2:-1000000}" --peer-pairs "${3:-100000}" \
  --python "${SELLER_PYTHON:-.venv/bin/python}" --peer scripts/bench/eval_throughput_peer.py
