#!/usr/bin/env bash
# Bounded libFuzzer run: fuzz_binary seed_corpus work_corpus seconds.
# Fails on any crash, sanitizer report or leak; prints the execution count for docs/fuzzing.md.
# The seed is fixed (SELLER_FUZZ_SEED, default 1) so that a CI verdict is reproducible: a random
# seed made the gate depend on luck. Exploratory long runs (scripts/fuzz.sh) pick their own.
set -euo pipefail
bin=$1 seed=$2 work=$3 secs=$4
mkdir -p "$work"
args=("$work")
[ -d "$seed" ] && args+=("$seed")
"$bin" -seed="${SELLER_FUZZ_SEED:-1}" -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -artifact_prefix="$work/" "${args[@]}" 2>&1 | tail -n 25
