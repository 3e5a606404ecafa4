#!/usr/bin/env bash
# Data-preparation benchmark (bench/bench_prepare.cpp): generation, reading and the whole
# `seller data prepare` on synthetic datasets of 1M, 3M and 10M interactions and on the largest
# real JSON file in ../shared/data, with the machine, MB/s, records/s and peak RSS per phase.
# Needs ~4 GB free under $SELLER_BENCH_WORK (default: the system temp dir) for the 10M JSONL;
# everything it writes there is removed at the end. Takes several minutes on 2 cores.
#   scripts/bench_prepare.sh [bench_prepare options, e.g. --sizes 1000000 --sort-mb 64]
set -euo pipefail
cd "$(dirname "$0")/.."
build=${SELLER_BUILD_DIR:-build}
shared=${SELLER_SHARED_DIR:-$(cd .. && pwd)/shared}
if [[ ! -f "$build/build.ninja" ]]; then
  cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo > "$build.configure.log" 2>&1 ||
    { cat "$build.configure.log"; exit 1; }
fi
cmake --build "$build" --target bench_prepare -j "${SELLER_JOBS:-$(nproc)}" > /dev/null

# The largest real review file by uncompressed JSON size, among the formats that hold one file of
# JSON records: Amazon 2014/2018 (amazon), Amazon 2023 histories (amazon2023), XRec (xrec).
real=()
best=0
while IFS=' ' read -r format path; do
  [[ -f "$path" ]] || continue
  if [[ "$path" == *.gz ]]; then size=$(gzip -dc "$path" | wc -c); else size=$(wc -c < "$path"); fi
  if (( size > best )); then best=$size; real=("$format:$path"); fi
done < <(
  for f in "$shared"/data/amazon2018-5core-small/*.json.gz; do echo "amazon $f"; done
  for f in "$shared"/data/amazon2023-mini-histories/*.jsonl; do echo "amazon2023 $f"; done
  for f in "$shared"/data/xrec-test/*/tst.jsonl; do echo "xrec $f"; done
)
if (( ${#real[@]} == 0 )); then echo "note: no real data under $shared/data; synthetic only"; fi

args=()
if [[ -n "${SELLER_BENCH_WORK:-}" ]]; then args=(--work "$SELLER_BENCH_WORK/seller-bench-prepare-$$"); fi
echo "command: $0 $*"
exec "$build/bench/bench_prepare" "${args[@]}" "$@" "${real[@]}"
