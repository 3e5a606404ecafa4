#!/usr/bin/env python3
"""HF transformers peer of bench/bench_llm: the same TinyLlama-shape model (random weights, bf16,
sdpa) on the same card: prefill/decode tokens/s of `generate` (greedy, no EOS) and
forward+backward+AdamW (fused) training tokens/s. Same arguments as the C++ bench."""
import argparse
import time

import torch
import transformers as tf


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--layers", type=int, default=22)
    ap.add_argument("--batches", default="1,16,64")
    ap.add_argument("--prompt", type=int, default=128)
    ap.add_argument("--new", type=int, default=128)
    ap.add_argument("--train-batch", type=int, default=8)
    ap.add_argument("--train-seq", type=int, default=1024)
    ap.add_argument("--train-steps", type=int, default=10)
    a = ap.parse_args()
    torch.manual_seed(0)
    cfg = tf.LlamaConfig(vocab_size=32000, hidden_size=2048, intermediate_size=5632,
                         num_hidden_layers=a.layers, num_attention_heads=32, num_key_value_heads=4,
                         max_position_embeddings=2048, rms_norm_eps=1e-5, tie_word_embeddings=False)
    model = tf.LlamaForCausalLM(cfg).to("cuda", torch.bfloat16).eval()
    model.config._attn_implementation = "sdpa"
    print(f"HF transformers {tf.__version__}, torch {torch.__version__}, {torch.cuda.get_device_name()}")
    print(f"{'batch':>6} {'prefill tok/s':>14} {'decode tok/s':>14}")
    for b in [int(x) for x in a.batches.split(",")]:
        ids = torch.randint(3, 32000, (b, a.prompt), device="cuda")
        mask = torch.ones_like(ids)
        kw = dict(attention_mask=mask, do_sample=False, pad_token_id=0, eos_token_id=None)
        with torch.no_grad():
            model.generate(ids, max_new_tokens=1, min_new_tokens=1, **kw)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            model.generate(ids, max_new_tokens=1, min_new_tokens=1, **kw)
            torch.cuda.synchronize()
            t_prefill = time.perf_counter() - t0
            t0 = time.perf_counter()
            model.generate(ids, max_new_tokens=a.new, min_new_tokens=a.new, **kw)
            torch.cuda.synchronize()
            t_decode = max(1e-9, time.perf_counter() - t0 - t_prefill)
        print(f"{b:>6} {b * a.prompt / t_prefill:>14.0f} {b * (a.new - 1) / t_decode:>14.1f}")
    if a.train_steps <= 0:
        return
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, fused=True)
    ids = torch.randint(0, 32000, (a.train_batch, a.train_seq + 1), device="cuda")

    def step():
        opt.zero_grad(set_to_none=True)
        out = model(input_ids=ids[:, :-1], labels=ids[:, 1:].contiguous())
        out.loss.backward()
        opt.step()

    for _ in range(2):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.train_steps):
        step()
    torch.cuda.synchronize()
    dt = (time.perf_counter() - t0) / a.train_steps
    print(f"training: step {dt * 1e3:.1f} ms, {a.train_batch * a.train_seq / dt:.0f} tokens/s, "
          f"peak memory {torch.cuda.max_memory_allocated() / 1e9:.1f} GB")


if __name__ == "__main__":
    main()
