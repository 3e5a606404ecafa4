#!/usr/bin/env python3
"""Oracle for seller's LoRA: Hugging Face transformers + peft on the same base weights and adapter.

  forward --model DIR --adapter FILE.safetensors --rank R --alpha A --targets q_proj,v_proj
          --request REQ.json --out OUT_PREFIX
      Loads the base model (CPU, float32, eager attention), wraps it with peft's LoraConfig
      (dropout 0), loads the adapter tensors under peft's saved names
      (base_model.model.model.layers.N.<module>.<proj>.lora_A.weight) and checks that they cover
      every LoRA parameter exactly; then writes the logits of REQ (same format as
      hf_decoder_oracle.py forward) to OUT_PREFIX.bin / OUT_PREFIX.json.
Exit status 3 when the adapter does not match peft's parameters one to one.
"""
import argparse
import json
import sys

import torch


def forward(args):
    import transformers as tf
    from peft import LoraConfig, get_peft_model, set_peft_model_state_dict
    from safetensors.torch import load_file

    base = tf.AutoModelForCausalLM.from_pretrained(args.model, dtype=torch.float32,
                                                   attn_implementation="eager")
    config = LoraConfig(r=args.rank, lora_alpha=args.alpha, lora_dropout=0.0, bias="none",
                        target_modules=args.targets.split(","), task_type="CAUSAL_LM")
    model = get_peft_model(base, config)
    adapter = load_file(args.adapter)
    result = set_peft_model_state_dict(model, adapter)
    unexpected = list(result.unexpected_keys)
    # Every LoRA parameter of the peft model must have been given a value by the file.
    lora_params = {n: p for n, p in model.named_parameters() if ".lora_" in n}
    if unexpected or len(lora_params) != len(adapter):
        sys.stderr.write(f"adapter mismatch: unexpected {unexpected[:5]}, "
                         f"{len(adapter)} tensors in file, {len(lora_params)} in peft\n")
        sys.exit(3)
    for name, p in lora_params.items():
        saved = name.replace(".default", "")
        if saved not in adapter or not torch.equal(p.detach(), adapter[saved]):
            sys.stderr.write(f"peft parameter {name} not loaded from the adapter\n")
            sys.exit(3)
    if abs(model.base_model.model.model.layers[0].self_attn.q_proj.scaling.get("default", 0)
           - args.alpha / args.rank) > 1e-12 and "q_proj" in args.targets:
        sys.exit("unexpected peft scaling")
    model.eval()
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


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("command", choices=["forward"])
    ap.add_argument("--model", required=True)
    ap.add_argument("--adapter", required=True)
    ap.add_argument("--rank", type=int, required=True)
    ap.add_argument("--alpha", type=float, required=True)
    ap.add_argument("--targets", required=True)
    ap.add_argument("--request", required=True)
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    forward(args)


if __name__ == "__main__":
    main()
