#!/usr/bin/env python3
"""Plain-PyTorch oracle for seller's MoE layer (trainer/model/moe/). Written independently of the
C++ code and in a different style: every expert runs on every token (dense einsum), and the
top-k choice and the capacity rule become masks, so no gather/scatter dispatch is involved.

  moe_oracle.py IN.safetensors OUT.safetensors GATING TOP_K CAPACITY AUX_WEIGHT Z_WEIGHT

IN holds x [N, d_in], router [E, d_in], w1 [E, d_in, h], b1 [E, h], w2 [E, h, d_out],
b2 [E, d_out] and r [N, d_out]; CAPACITY < 0 means dropless. The oracle computes
loss = sum(out * r) + aux + z, backpropagates, and writes out, aux, z, kept [N, k] (as float)
and grad.<name> for every input but r.

Capacity rule (seller's): expert e keeps assignment (n, s) iff fewer than CAPACITY tokens with a
smaller index n' < n chose e (first come in token order).
"""
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file


def main():
    src, dst, gating = sys.argv[1], sys.argv[2], sys.argv[3]
    k, capacity = int(sys.argv[4]), int(sys.argv[5])
    aux_weight, z_weight = float(sys.argv[6]), float(sys.argv[7])
    t = {name: v.double().requires_grad_(name != "r") for name, v in load_file(src).items()}
    x, wr = t["x"], t["router"]
    n, e = x.shape[0], wr.shape[0]

    logits = x @ wr.T
    probs = logits.softmax(-1) if gating == "softmax" else logits.sigmoid()
    top_v, top_i = probs.topk(k, dim=-1)
    weight = top_v / top_v.sum(-1, keepdim=True)

    choice = F.one_hot(top_i, e)  # [N, k, E]
    chose = choice.sum(1)  # [N, E]: 0/1, a token picks an expert at most once
    # Tokens before n that chose e: exclusive cumulative sum over the token axis.
    earlier = chose.cumsum(0) - chose
    keep_ne = chose.bool() if capacity < 0 else chose.bool() & (earlier < capacity)
    kept = (choice.bool() & keep_ne.unsqueeze(1)).any(-1)  # [N, k]

    h = F.gelu(torch.einsum("nd,edh->neh", x, t["w1"]) + t["b1"])
    y = torch.einsum("neh,eho->neo", h, t["w2"]) + t["b2"]  # [N, E, d_out]: every expert
    picked = torch.gather(y, 1, top_i.unsqueeze(-1).expand(-1, -1, y.shape[-1]))  # [N, k, d]
    out = (picked * (weight * kept).unsqueeze(-1)).sum(1)

    f = chose.sum(0).double() / (n * k)
    p = probs if gating == "softmax" else probs / probs.sum(-1, keepdim=True)
    aux = aux_weight * e * (f * p.mean(0)).sum()
    z = z_weight * torch.logsumexp(logits, -1).pow(2).mean()
    ((out * t["r"]).sum() + aux + z).backward()

    result = {"out": out, "aux": aux.reshape(1), "z": z.reshape(1), "kept": kept.double()}
    for name, v in t.items():
        if name != "r":
            result["grad." + name] = v.grad
    save_file({name: v.detach().float().contiguous() for name, v in result.items()}, dst)


if __name__ == "__main__":
    main()
