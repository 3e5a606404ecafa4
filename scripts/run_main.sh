#!/usr/bin/env bash
# The main job on the built-in default data: generate the synthetic dataset, prepare it into
# memory-mapped shards and print its statistics. Later issues extend it to train, explain and
# evaluate. Outputs go to ${SELLER_RUN_DIR:-runs/main}. Extra arguments are passed to every
# seller command as --set overrides (e.g. synthetic.users=5000).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SELLER_BUILD_DIR:-build}/seller
run=${SELLER_RUN_DIR:-runs/main}
config=configs/main.yaml
sets=()
for kv in "$@"; do sets+=(--set "$kv"); done
mkdir -p "$run"
echo "== seller data generate"
"$bin" data generate --config "$config" "${sets[@]}" --output "$run/synthetic.jsonl.gz"
echo "== seller data prepare"
"$bin" data prepare --config "$config" "${sets[@]}" --format synthetic \
  --input "$run/synthetic.jsonl.gz" --output "$run/data"
echo "== seller data stats"
"$bin" data stats "$run/data"
