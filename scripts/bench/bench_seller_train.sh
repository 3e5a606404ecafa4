#!/usr/bin/env bash
# SELLER training on one GPU: the main job's data and model (configs/main.yaml, learned item
# vectors so that no MiniLM package is needed) trained with bf16 autocast and without it, then
# the test explanations generated with each. Prints the machine, pairs/s and tokens/s of the last
# progress line, the test figures and the wall time of each run. Usage:
#   scripts/bench/bench_seller_train.sh BUILD_DIR [extra --set overrides...]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?build dir}; shift
bin=$build/seller
out=${SELLER_RUN_DIR:-runs/bench-seller}
rm -rf "$out"; mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
lscpu | grep -m1 "Model name" || true
sets=(--set semantic.encoder=learned --set train.device=cuda --set seller.max_train_examples=0)
for kv in "$@"; do sets+=(--set "$kv"); done
"$bin" data generate --config configs/main.yaml --output "$out/s.jsonl.gz" > /dev/null
"$bin" data prepare --config configs/main.yaml --format synthetic --input "$out/s.jsonl.gz" \
  --output "$out/data" > /dev/null
for ac in bf16 off; do
  start=$(date +%s.%N)
  "$bin" train --config configs/main.yaml "${sets[@]}" --set train.autocast=$ac \
    --set train.data="$out/data" --set run.output_dir="$out" --set run.name=$ac > "$out/$ac.log"
  end=$(date +%s.%N)
  echo "== autocast $ac: $(awk -v a="$start" -v b="$end" 'BEGIN{printf "%.1f", b - a}') s"
  grep -E "^seller train:|^step .*/.* epoch" "$out/$ac.log" | sed -n '1p;$p'
  grep -E "^valid epoch|^test \(" "$out/$ac.log" | tail -2
  "$bin" generate --run "$out/$ac" --output "$out/$ac-pred.jsonl" --refs "$out/ref.jsonl" \
    --samples 1 | head -4
done
"$bin" eval --no-plot --compare "$out/bf16-pred.jsonl" "$out/off-pred.jsonl" --ref "$out/ref.jsonl" \
  --out "$out/cmp" > /dev/null
grep -E "BLEU-4 \(PETER|ROUGE-L F \(rouge|FMR" "$out/cmp/report.md"
