#!/usr/bin/env python3
"""Peer for bench/bench_collectives: the same collectives through torch.distributed's NCCL
backend (PyTorch's own NCCL process group), timed the same way (warmup, then the mean of
back-to-back calls, slowest rank), with nccl-tests bus-bandwidth factors. One process per GPU.

    python3 scripts/bench/torch_collectives_peer.py --gpus 4 --min 64M --max 1G
"""
import argparse
import os
import time

import torch
import torch.distributed as dist
import torch.multiprocessing as mp


def size(s):
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(s[:-1]) * mult[s[-1]] if s[-1] in mult else int(s)


def worker(rank, args):
    os.environ.setdefault("MASTER_ADDR", "127.0.0.1")
    os.environ.setdefault("MASTER_PORT", "29533")
    torch.cuda.set_device(rank)
    dist.init_process_group("nccl", rank=rank, world_size=args.gpus, device_id=torch.device("cuda", rank))
    n = args.gpus
    nbytes = size(args.min)
    while nbytes <= size(args.max):
        elems = nbytes // 4
        for op in ("all_reduce", "all_to_all"):
            x = torch.ones(elems, device="cuda")
            y = torch.empty_like(x)

            def call():
                if op == "all_reduce":
                    dist.all_reduce(x)
                else:
                    dist.all_to_all_single(y, x)

            for _ in range(args.warmup):
                call()
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            for _ in range(args.iters):
                call()
            torch.cuda.synchronize()
            t = torch.tensor([(time.perf_counter() - t0) / args.iters], device="cuda")
            dist.all_reduce(t, op=dist.ReduceOp.MAX)
            algbw = nbytes / t.item() / 1e9
            factor = 2 * (n - 1) / n if op == "all_reduce" else (n - 1) / n
            if rank == 0:
                print(f"torch.distributed nccl {op:10s} ranks {n} size {nbytes:>12d} B  time {t.item()*1e6:10.1f} us"
                      f"  algbw {algbw:7.2f} GB/s  busbw {algbw*factor:7.2f} GB/s", flush=True)
        nbytes *= 4
    dist.destroy_process_group()


if __name__ == "__main__":
    p = argparse.ArgumentParser()
    p.add_argument("--gpus", type=int, default=torch.cuda.device_count())
    p.add_argument("--min", default="64M")
    p.add_argument("--max", default="1G")
    p.add_argument("--iters", type=int, default=20)
    p.add_argument("--warmup", type=int, default=5)
    args = p.parse_args()
    print(f"torch {torch.__version__}, NCCL {'.'.join(map(str, torch.cuda.nccl.version()))}, "
          f"{args.gpus} x {torch.cuda.get_device_name(0)}")
    mp.spawn(worker, args=(args,), nprocs=args.gpus)
