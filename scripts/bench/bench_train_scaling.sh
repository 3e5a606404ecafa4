#!/usr/bin/env bash
# Weak scaling of `seller train` on 1, 2 and 4 GPUs of one host: the same per-rank micro-batch
# (train.batch_size) at every size, ranks started by mpirun, NCCL between them. Layouts:
#   dp  data parallel (every rank a whole model);
#   ep  the adapter's experts split over all ranks (train.expert_parallel = N);
#   tp  the LLM split over all ranks (train.tensor_parallel = N; the data is then shared, so the
#       global batch stays one micro-batch: the figure is strong scaling of the LLM).
# Two model sizes: "main" (configs/main.yaml, ~1M parameters: launch-bound) and "llm170m" (the
# same with a 12-layer, 1024-wide decoder and vocabulary 8000: compute-bound; "llm170m-b128" the
# same with 128 rows per rank and micro-batch instead of the configs' 32, "llm170m-b512" with 512:
# enough work a step for the GPU, not the host, to set the pace). Throughput is the
# median examples/s of the progress windows in metrics.jsonl after the first (warm-up) window;
# weak-scaling efficiency = examples/s at N / (N x examples/s at 1).
# Usage: scripts/bench/bench_train_scaling.sh BUILD_DIR [layouts=dp,ep] [sizes=1,2,4] [models=main,llm170m]
# (layouts may differ per model: "main=dp,ep;llm170m=dp,tp")
# SELLER_BENCH_PROFILE=N also records a Kineto trace of N steps (from step 3 x log_every) on every
# rank and prints scripts/bench/trace_summary.py of rank 0's after each row.
# SELLER_BENCH_REPEAT=R runs every model's rows R times, interleaved (1 GPU, then the others, then
# again), and ends with each row's median examples/s and median efficiency (each repeat's
# efficiency against its own 1-GPU run) with their spread: identical host-bound runs on a shared
# VM vary by +-20% (docs/benchmarks.md), so one run per row says little.
# (layout dp-widepool: dp with OMP_NUM_THREADS = all cores on every rank, the behaviour before
# seller train shared the cores out among a node's ranks.)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:?build dir}
layouts=${2:-dp,ep}
sizes=${3:-1,2,4}
models=${4:-main,llm170m}
bin=$PWD/$build/seller
out=${SELLER_RUN_DIR:-$PWD/runs/bench-scaling}
# CPU smoke run: SELLER_BENCH_DEVICE=cpu SELLER_BENCH_STEPS=6 (autocast off, MPI between ranks).
device=${SELLER_BENCH_DEVICE:-cuda}
steps=${SELLER_BENCH_STEPS:-240}
log_every=$(( steps / 12 > 0 ? steps / 12 : 1 ))
profile=${SELLER_BENCH_PROFILE:-0}
repeat=${SELLER_BENCH_REPEAT:-1}
# 8,000 synthetic users with 64 interactions on average give ~490,000 training examples: one
# epoch holds every run's steps (240 steps x 512 rows x 4 ranks), so no epoch boundary puts a
# validation pass inside a timed window; the few users keep the final validation and test
# passes (one pair per user each) short.
autocast=bf16; [ "$device" = cpu ] && autocast=off
rm -rf "$out"; mkdir -p "$out"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
lscpu | grep -m1 "Model name" || true
"$bin" data generate --config configs/main.yaml --set synthetic.users=8000 \
  --set synthetic.mean_history=64 \
  --output "$out/s.jsonl.gz" > /dev/null
"$bin" data prepare --config configs/main.yaml --format synthetic --input "$out/s.jsonl.gz" \
  --output "$out/data" > /dev/null

model_sets() {
  case $1 in
    main) echo "--set adapter.experts=8" ;;
    llm170m*) echo "--set adapter.experts=8 --set llm.vocab_size=8000 --set llm.hidden_size=1024 \
--set llm.intermediate_size=4096 --set llm.layers=12 --set llm.heads=16 --set llm.kv_heads=4 \
--set llm.head_dim=64 --set adapter.model_dim=256 --set adapter.expert_hidden=512 \
$(case $1 in llm170m-b*) echo "--set train.batch_size=${1#llm170m-b}" ;; esac)" ;;
  esac
}

median_eps() {  # median examples/s of the train windows after the first
  python3 - "$1" <<'EOF'
import json, statistics, sys
v = [json.loads(l) for l in open(sys.argv[1])]
eps = [e["examples_per_s"] for e in v if e.get("event") == "train"][1:]
tps = [e["tokens_per_s"] for e in v if e.get("event") == "train"][1:]
print(f"{statistics.median(eps):.1f} {statistics.median(tps):.0f} {len(eps)}")
EOF
}

run_one() {  # model layout gpus -> prints a table row; the 1-GPU run of a model is its base
  local model=$1 layout=$2 n=$3 name=$1-$2-$3-r$r par="" env=()
  case $layout in
    ep) par="--set train.expert_parallel=$n" ;;
    tp) par="--set train.tensor_parallel=$n" ;;
    # the pre-fix behaviour, for comparison: every rank's intra-op pool as wide as the node
    dp-widepool) env=(-x OMP_NUM_THREADS="$(nproc)") ;;
  esac
  par="$par --set llm.vocab_multiple=64"  # the same vocabulary rows in every layout
  [ "$profile" -gt 0 ] &&
    par="$par --set train.profile_steps=$profile --set train.profile_from=$(( 3 * log_every ))"
  # shellcheck disable=SC2046
  if ! timeout 400 mpirun --oversubscribe --bind-to none "${env[@]}" -np "$n" "$bin" train \
      --config configs/main.yaml $(model_sets "$model") $par \
      --set semantic.encoder=learned --set train.device=$device --set train.autocast=$autocast \
      --set train.max_steps=$steps --set seller.max_train_examples=490000 \
      --set train.log_every=$log_every --set train.epochs=1 --set train.data="$out/data" \
      --set run.output_dir="$out" --set run.name="$name" --set checkpoint.save_at_end=false \
      > "$out/$name.log" 2>&1; then
    echo "$name FAILED:"; tail -n 15 "$out/$name.log"; return
  fi
  local eps tps windows eff
  read -r eps tps windows < <(median_eps "$out/$name/metrics.jsonl")
  [ "$n" = 1 ] && base[$model]=$eps
  # tp shares one micro-batch among its ranks: report the speed-up over 1 GPU instead.
  if [ "$layout" = tp ]; then
    eff=$(python3 -c "print(f'x{$eps / ${base[$model]}:.2f}')" 2>/dev/null || echo -)
  else
    eff=$(python3 -c "print(f'{$eps / ($n * ${base[$model]}) * 100:.1f}%')" 2>/dev/null || echo -)
  fi
  printf "%-8s %-12s %4s %12s %12s %8s %10s\n" "$model" "$layout" "$n" "$eps" "$tps" "$windows" "$eff"
  echo "$model $layout $n $eps $eff" >> "$out/rows.txt"
  if [ "$profile" -gt 0 ]; then
    python3 scripts/bench/trace_summary.py --top 10 "$out/$name/profile/rank-0.json" || true
    rm -rf "$out/$name/profile"  # traces are tens of MB a rank
  fi
}

declare -A base
r=1
printf "%-8s %-12s %4s %12s %12s %8s %10s\n" model layout gpus "examples/s" "tokens/s" windows efficiency
for (( r = 1; r <= repeat; ++r )); do
for model in ${models//,/ }; do
  run_one "$model" dp 1
  # layouts: one list for every model, or per model as "main=dp,ep;llm170m=dp,tp"
  mine=$layouts
  if [[ $layouts == *=* ]]; then
    mine=$(tr ';' '\n' <<< "$layouts" | sed -n "s/^$model=//p")
  fi
  for layout in ${mine//,/ }; do
    for n in ${sizes//,/ }; do
      [ "$n" = 1 ] || run_one "$model" "$layout" "$n"
    done
  done
done
done
if [ "$repeat" -gt 1 ]; then
  echo "median of $repeat runs (min - max):"
  python3 - "$out/rows.txt" <<'EOF'
import collections, statistics, sys
rows = collections.defaultdict(list)
for line in open(sys.argv[1]):
    model, layout, n, eps, eff = line.split()
    rows[(model, layout, int(n))].append((float(eps), eff))
for (model, layout, n), v in rows.items():
    eps = [e for e, _ in v]
    line = f"{model:8s} {layout:12s} {n:4d} {statistics.median(eps):10.1f} ({min(eps):.1f} - {max(eps):.1f})"
    effs = [float(f.strip('%x')) for _, f in v if f != "-"]
    if n > 1 and effs:
        unit = "x" if v[0][1].startswith("x") else "%"
        line += f"  efficiency {statistics.median(effs):.1f}{unit} ({min(effs):.1f} - {max(effs):.1f})"
    print(line)
EOF
fi
