#!/usr/bin/env python3
"""Sums up the Kineto traces that `seller train` writes with train.profile_steps > 0.

For each trace (one per rank: <run>/profile/rank-R.json) it prints, per optimizer step:
  - the wall time of the profiled window divided by its steps;
  - host time in each of the trainer's phases (the "seller.<phase>" user scopes);
  - GPU busy time: the union of kernel, memcpy and memset intervals over all streams, and the
    same for NCCL kernels alone and for everything else (compute);
  - host time blocked in synchronising CUDA calls (stream/device/event synchronise, blocking
    memcpy), and the number of kernel launches;
  - the heaviest GPU kernels and host operators.
A step whose GPU busy time is far below its wall time is host-bound (launches, synchronisation,
batch building); one whose NCCL time is not hidden under compute is communication-bound.
Usage: trace_summary.py TRACE.json [TRACE.json ...] [--top N]
"""
import argparse
import collections
import json
import sys

SYNC_CALLS = ("cudaStreamSynchronize", "cudaDeviceSynchronize", "cudaEventSynchronize",
              "cudaMemcpy", "cudaStreamWaitEvent")
GPU_CATS = ("kernel", "gpu_memcpy", "gpu_memset")


def union_length(intervals):
    """Total length covered by [start, end) intervals (overlaps counted once)."""
    total, cur_s, cur_e = 0.0, None, None
    for s, e in sorted(intervals):
        if cur_e is None or s > cur_e:
            if cur_e is not None:
                total += cur_e - cur_s
            cur_s, cur_e = s, e
        else:
            cur_e = max(cur_e, e)
    if cur_e is not None:
        total += cur_e - cur_s
    return total


def summarise(path, top):
    with open(path) as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X"]
    scopes = [e for e in events if e.get("cat") == "user_annotation"
              and e["name"].startswith("seller.")]
    steps = sum(1 for e in scopes if e["name"] == "seller.optimizer")
    if not scopes or steps == 0:
        sys.exit(f"{path}: no seller.* scopes or no optimizer step in the trace")
    t0 = min(e["ts"] for e in scopes)
    t1 = max(e["ts"] + e["dur"] for e in scopes)
    wall = (t1 - t0) / steps
    print(f"== {path}: {steps} steps, {wall / 1000:.2f} ms a step (wall)")

    phase = collections.defaultdict(float)
    for e in scopes:
        phase[e["name"]] += e["dur"]
    for name, d in sorted(phase.items(), key=lambda kv: -kv[1]):
        print(f"  host {name:22s} {d / steps / 1000:8.2f} ms")

    gpu = [e for e in events if e.get("cat") in GPU_CATS and t0 <= e["ts"] <= t1]
    nccl = [(e["ts"], e["ts"] + e["dur"]) for e in gpu if "nccl" in e["name"].lower()]
    comp = [(e["ts"], e["ts"] + e["dur"]) for e in gpu if "nccl" not in e["name"].lower()]
    busy = union_length(nccl + comp)
    print(f"  gpu busy (any)              {busy / steps / 1000:8.2f} ms "
          f"({100 * busy / (t1 - t0):.0f}% of wall)")
    print(f"  gpu busy (compute, memcpy)  {union_length(comp) / steps / 1000:8.2f} ms")
    print(f"  gpu busy (nccl)             {union_length(nccl) / steps / 1000:8.2f} ms")

    rt = [e for e in events if e.get("cat") == "cuda_runtime" and t0 <= e["ts"] <= t1]
    blocked = sum(e["dur"] for e in rt if e["name"] in SYNC_CALLS)
    launches = sum(1 for e in rt if "LaunchKernel" in e["name"])
    n_sync = sum(1 for e in rt if e["name"] in SYNC_CALLS)
    print(f"  host blocked in syncs       {blocked / steps / 1000:8.2f} ms "
          f"({n_sync / steps:.1f} calls a step)")
    print(f"  kernel launches             {launches / steps:8.0f} a step")

    kern = collections.Counter()
    for e in gpu:
        kern[e["name"][:70]] += e["dur"]
    print("  top GPU kernels (ms a step):")
    for name, d in kern.most_common(top):
        print(f"    {d / steps / 1000:7.2f}  {name}")
    ops = collections.Counter()
    count = collections.Counter()
    for e in events:
        if e.get("cat") == "cpu_op" and t0 <= e["ts"] <= t1:
            ops[e["name"]] += e["dur"]
            count[e["name"]] += 1
    print("  top host operators (inclusive ms a step, calls a step):")
    for name, d in ops.most_common(top):
        print(f"    {d / steps / 1000:7.2f}  {count[name] / steps:6.0f}  {name}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("traces", nargs="+")
    ap.add_argument("--top", type=int, default=12)
    args = ap.parse_args()
    for path in args.traces:
        summarise(path, args.top)


if __name__ == "__main__":
    main()
