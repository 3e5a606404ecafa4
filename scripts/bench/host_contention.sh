#!/usr/bin/env bash
# Is a multi-GPU seller train run host-bound because its ranks compete for the host? Runs the
# llm170m model (bench_train_scaling.sh's, 128 rows a rank) on one GPU alone, then on all N GPUs
# as N independent single-GPU processes started together (no communication at all), then as one
# N-rank data-parallel job under different mpirun placements. If the independent processes are
# each as fast as the lone one, the host is not the shared bottleneck.
# Usage: scripts/bench/host_contention.sh BUILD_DIR [steps=60]
set -uo pipefail
cd "$(dirname "$0")/../.."
bin=$PWD/${1:?build dir}/seller
steps=${2:-60}
n=$(nvidia-smi -L | wc -l)
d=/tmp/seller-contention; rm -rf "$d"; mkdir -p "$d"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
lscpu | grep -E "Model name|^CPU\(s\)|NUMA node|Thread\(s\) per core" || true
nvidia-smi topo -m 2>/dev/null | head -8 || true
"$bin" data generate --config configs/main.yaml --set synthetic.users=8000 --output "$d/s.jsonl.gz" >/dev/null
"$bin" data prepare --config configs/main.yaml --format synthetic --input "$d/s.jsonl.gz" --output "$d/data" >/dev/null
sets=(--config configs/main.yaml --set adapter.experts=8 --set llm.vocab_size=8000
  --set llm.hidden_size=1024 --set llm.intermediate_size=4096 --set llm.layers=12 --set llm.heads=16
  --set llm.kv_heads=4 --set llm.head_dim=64 --set adapter.model_dim=256 --set adapter.expert_hidden=512
  --set train.batch_size=128 --set semantic.encoder=learned --set train.device=cuda
  --set train.autocast=bf16 --set train.max_steps="$steps" --set seller.max_train_examples=40000
  --set train.log_every=$(( steps / 6 )) --set train.epochs=1 --set train.data="$d/data"
  --set run.output_dir="$d" --set checkpoint.save_at_end=false --set llm.vocab_multiple=64)
eps() {  # median examples/s after the first window, of each run named
  python3 - "$@" <<'PY'
import json, statistics, sys
for name in sys.argv[1:]:
    v = [json.loads(l) for l in open(f"/tmp/seller-contention/{name}/metrics.jsonl")]
    e = [x["examples_per_s"] for x in v if x.get("event") == "train"][1:]
    print(f"  {name:12s} {statistics.median(e):9.1f} examples/s ({len(e)} windows)")
PY
}
echo "== one GPU alone"
CUDA_VISIBLE_DEVICES=0 "$bin" train "${sets[@]}" --set run.name=alone > "$d/alone.log" 2>&1
eps alone
echo "== $n independent one-GPU processes at once ($(( $(nproc) / n )) CPU threads each)"
names=()
for (( i = 0; i < n; ++i )); do
  CUDA_VISIBLE_DEVICES=$i OMP_NUM_THREADS=$(( $(nproc) / n )) "$bin" train "${sets[@]}" \
    --set run.name=ind$i > "$d/ind$i.log" 2>&1 &
  names+=("ind$i")
done
wait
eps "${names[@]}"
for place in "--bind-to none" "--bind-to numa --map-by numa" "--bind-to core --map-by slot:PE=$(( $(nproc) / n ))"; do
  name=dp$n-$(echo "$place" | tr -cd 'a-z0-9' | cut -c1-20)
  echo "== mpirun -np $n $place (the job's examples/s; per rank = / $n)"
  # shellcheck disable=SC2086
  timeout 300 mpirun $place -np "$n" "$bin" train "${sets[@]}" --set run.name="$name" > "$d/$name.log" 2>&1 ||
    { echo "  failed:"; tail -n 5 "$d/$name.log"; continue; }
  eps "$name"
done
