#!/usr/bin/env bash
# Metric throughput of seller eval's text metrics vs sacreBLEU and rouge-score (docs/eval.md,
# "Throughput on 1M pairs"). Usage: scripts/bench/bench_eval_throughput.sh [BUILD_DIR] [PAIRS]
# [PEER_PAIRS]; needs .venv with the test oracles (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
cmake --build "$build" --target bench_eval_throughput
exec "$build/bench/bench_eval_throughput" --pairs "${2:-1000000}" --peer-pairs "${3:-100000}" \
  --python "${SELLER_PYTHON:-.venv/bin/python}" --peer scripts/bench/eval_throughput_peer.py
