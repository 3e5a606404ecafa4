#!/usr/bin/env python3
"""Oracle for seller's safetensors and config.json code: the reference `safetensors` package
(and, for `hfconfig`, Hugging Face `transformers`) describe, write and re-save files so that the
C++ tests can compare with them. Output is one JSON document on stdout.

  describe FILE             names, dtypes, shapes, byte counts, CRC-32 of each tensor's bytes
  write SPEC.json OUT       writes the tensors SPEC lists (seeded random bytes) with save_file,
                            then describes OUT
  resave IN OUT             load_file(IN) then save_file(..., OUT) with the same metadata
  sharded INDEX             loads every shard an index lists; describes all tensors
  hfconfig DIR...           AutoConfig.from_pretrained(DIR), selected fields (a list)
"""
import json
import sys
import zlib

import numpy as np
import torch
from safetensors import safe_open
from safetensors.torch import load_file, save_file

DTYPES = {
    "F64": torch.float64, "F32": torch.float32, "F16": torch.float16, "BF16": torch.bfloat16,
    "I64": torch.int64, "I32": torch.int32, "I16": torch.int16, "I8": torch.int8,
    "U64": torch.uint64, "U32": torch.uint32, "U16": torch.uint16, "U8": torch.uint8,
    "BOOL": torch.bool, "F8_E4M3": torch.float8_e4m3fn, "F8_E5M2": torch.float8_e5m2,
}


def raw_bytes(t):
    return t.contiguous().reshape(-1).view(torch.uint8).numpy().tobytes()


def describe(path):
    out = {"tensors": {}}
    with safe_open(path, framework="pt") as f:
        out["metadata"] = f.metadata()
        for name in f.keys():
            sl = f.get_slice(name)
            data = raw_bytes(f.get_tensor(name))
            out["tensors"][name] = {"dtype": sl.get_dtype(), "shape": list(sl.get_shape()),
                                    "nbytes": len(data), "crc32": zlib.crc32(data)}
    return out


def write(spec_path, out_path):
    spec = json.load(open(spec_path))
    rng = np.random.default_rng(spec.get("seed", 0))
    tensors = {}
    for t in spec["tensors"]:
        dtype = DTYPES[t["dtype"]]
        numel = int(np.prod(t["shape"], dtype=np.int64)) if t["shape"] else 1
        item = torch.empty((), dtype=dtype).element_size()
        data = rng.integers(0, 256, size=numel * item, dtype=np.uint8)
        if dtype == torch.bool:
            data = data % 2
        tensors[t["name"]] = torch.frombuffer(bytearray(data.tobytes()) or bytearray(1),
                                              dtype=torch.uint8)[: numel * item] \
            .view(dtype).reshape(t["shape"]).clone()
    save_file(tensors, out_path, metadata=spec.get("metadata"))
    return describe(out_path)


def resave(in_path, out_path):
    with safe_open(in_path, framework="pt") as f:
        metadata = f.metadata()
    save_file(load_file(in_path), out_path, metadata=metadata)
    return describe(out_path)


def sharded(index_path):
    import os
    index = json.load(open(index_path))
    folder = os.path.dirname(index_path)
    out = {"tensors": {}, "weight_map": index["weight_map"], "metadata": index.get("metadata")}
    for shard in sorted(set(index["weight_map"].values())):
        d = describe(os.path.join(folder, shard))
        listed = {k for k, v in index["weight_map"].items() if v == shard}
        if set(d["tensors"]) != listed:
            raise SystemExit(f"shard {shard} holds {sorted(d['tensors'])}, index says {sorted(listed)}")
        out["tensors"].update(d["tensors"])
    return out


def hfconfig(folder):
    from transformers import AutoConfig
    c = AutoConfig.from_pretrained(folder)
    keys = ["model_type", "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers",
            "num_attention_heads", "num_key_value_heads", "head_dim", "rms_norm_eps",
            "max_position_embeddings", "tie_word_embeddings", "attention_bias", "mlp_bias",
            "bos_token_id", "eos_token_id", "pad_token_id", "rope_parameters", "sliding_window",
            "layer_types", "hidden_act"]
    out = {k: getattr(c, k, None) for k in keys}
    if out["head_dim"] is None:
        out["head_dim"] = c.hidden_size // c.num_attention_heads
    out["dtype"] = str(c.dtype).replace("torch.", "") if getattr(c, "dtype", None) else None
    return out


def main(argv):
    cmd = argv[1]
    if cmd == "describe":
        result = describe(argv[2])
    elif cmd == "write":
        result = write(argv[2], argv[3])
    elif cmd == "resave":
        result = resave(argv[2], argv[3])
    elif cmd == "sharded":
        result = sharded(argv[2])
    elif cmd == "hfconfig":
        result = [hfconfig(d) for d in argv[2:]]
    else:
        raise SystemExit(f"unknown command {cmd}")
    json.dump(result, sys.stdout)


if __name__ == "__main__":
    main(sys.argv)
