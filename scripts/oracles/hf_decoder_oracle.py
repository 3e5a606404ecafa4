#!/usr/bin/env python3
"""Oracle for the LibTorch decoder: Hugging Face transformers on the same weights.

Commands (all on CPU, float32):
  make  --type {llama,llama3,qwen2,qwen3} --out DIR [--seed N]
        writes a tiny random-weight model in Hugging Face layout (save_pretrained).
  forward --model DIR --request REQ.json --out OUT_PREFIX
        REQ = {"input_ids": [[...]], "attention_mask": [[...]], "position_ids": [[...]] (optional)}
        writes OUT_PREFIX.bin (float32 logits, C order) and OUT_PREFIX.json ({"shape": [...]}).
  greedy --model DIR --request REQ.json --out OUT.json
        REQ = {"prompts": [[ids...], ...], "max_new_tokens": N[, "min_new_tokens": M]}; each prompt alone, greedy;
        writes {"outputs": [[new ids...], ...]} (generation stops at eos like generate does).
"""
import argparse
import json
import sys

import torch


def make(args):
    import transformers as tf
    torch.manual_seed(args.seed)
    common = dict(vocab_size=97, hidden_size=48, intermediate_size=80, num_hidden_layers=3,
                  num_attention_heads=6, num_key_value_heads=2, max_position_embeddings=256,
                  rms_norm_eps=1e-6, tie_word_embeddings=False, bos_token_id=1, eos_token_id=2)
    if args.type == "llama":
        cfg = tf.LlamaConfig(**common, attention_bias=True, rope_theta=500000.0)
        model = tf.LlamaForCausalLM(cfg)
    elif args.type == "llama3":
        cfg = tf.LlamaConfig(**common, rope_scaling={"rope_type": "llama3", "factor": 8.0,
                                                     "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                                                     "original_max_position_embeddings": 32},
                             rope_theta=500000.0)
        model = tf.LlamaForCausalLM(cfg)
    elif args.type == "qwen2":
        cfg = tf.Qwen2Config(**common)
        model = tf.Qwen2ForCausalLM(cfg)
    elif args.type == "qwen3":
        cfg = tf.Qwen3Config(**{**common, "tie_word_embeddings": True}, head_dim=16)
        model = tf.Qwen3ForCausalLM(cfg)
    else:
        sys.exit("unknown type " + args.type)
    with torch.no_grad():  # random biases/norms so that every parameter matters
        for name, p in model.named_parameters():
            if name.endswith("bias") or "norm" in name:
                p.normal_(0.0 if name.endswith("bias") else 1.0, 0.1)
    model.save_pretrained(args.out, safe_serialization=True)


def load(path):
    import transformers as tf
    model = tf.AutoModelForCausalLM.from_pretrained(path, dtype=torch.float32,
                                                    attn_implementation="eager")
    model.eval()
    return model


def forward(args):
    model = load(args.model)
    req = json.load(open(args.request))
    kwargs = {"input_ids": torch.tensor(req["input_ids"], dtype=torch.long)}
    if "attention_mask" in req:
        kwargs["attention_mask"] = torch.tensor(req["attention_mask"], dtype=torch.long)
    if "position_ids" in req:
        kwargs["position_ids"] = torch.tensor(req["position_ids"], dtype=torch.long)
    with torch.no_grad():
        logits = model(**kwargs).logits.float().contiguous()
    logits.numpy().tofile(args.out + ".bin")
    json.dump({"shape": list(logits.shape)}, open(args.out + ".json", "w"))


def greedy(args):
    model = load(args.model)
    req = json.load(open(args.request))
    outs = []
    for prompt in req["prompts"]:
        ids = torch.tensor([prompt], dtype=torch.long)
        with torch.no_grad():
            out = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                 max_new_tokens=req["max_new_tokens"],
                                 min_new_tokens=req.get("min_new_tokens", 0),
                                 pad_token_id=model.config.eos_token_id)
        outs.append(out[0, ids.shape[1]:].tolist())
    json.dump({"outputs": outs}, open(args.out, "w"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["make", "forward", "greedy"])
    ap.add_argument("--type")
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--model")
    ap.add_argument("--request")
    args = ap.parse_args()
    {"make": make, "forward": forward, "greedy": greedy}[args.command](args)


if __name__ == "__main__":
    main()
