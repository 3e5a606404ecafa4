#!/usr/bin/env python3
"""Tokenizer oracle for the C++ tokenizers (tests/unit/text/test_tokenizer_parity.cpp,
bench/bench_tokenizer.cpp).

usage: tokenizer_oracle.py TOKENIZER INPUT.jsonl OUTPUT.jsonl [--no-special] [--time]

TOKENIZER is a tokenizer.json file or a directory holding one (Hugging Face `tokenizers`), a
directory with vocab.json + merges.txt (built as transformers' GPT2TokenizerFast: byte-level BPE,
ByteLevel pre-tokenizer without prefix space, ByteLevel decoder, <|endoftext|> special), or a
SentencePiece *.model file (`sentencepiece`; add_special_tokens = add_bos).
Each input line is {"text": str}; each output line is {"ids": [...], "decoded": str} where
decoded = decode(ids, skip_special_tokens=False). Prints one JSON line to stdout:
{"library": name, "version": ..., "texts": n, "tokens": n, "seconds": s, "cpu_seconds": c} where
seconds (wall) and cpu_seconds (process CPU) time a single-threaded loop of encode() over all
texts (with --time; otherwise the batch API is used and both are null).
"""
import json
import os
import sys
import time


def load(path):
    if path.endswith(".model"):
        import sentencepiece as spm
        sp = spm.SentencePieceProcessor(model_file=path)
        return ("sentencepiece", spm.__version__,
                lambda texts, special: [sp.encode(t, add_bos=special) for t in texts],
                lambda ids: sp.decode(ids))
    import tokenizers
    from tokenizers import Tokenizer, decoders, pre_tokenizers
    from tokenizers.models import BPE
    if os.path.isdir(path) and not os.path.exists(os.path.join(path, "tokenizer.json")):
        tok = Tokenizer(BPE.from_file(os.path.join(path, "vocab.json"),
                                      os.path.join(path, "merges.txt")))
        tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens(["<|endoftext|>"])
    else:
        file = os.path.join(path, "tokenizer.json") if os.path.isdir(path) else path
        tok = Tokenizer.from_file(file)

    def encode(texts, special):
        return [e.ids for e in tok.encode_batch(texts, add_special_tokens=special)]

    encode.single = lambda t, special: tok.encode(t, add_special_tokens=special).ids
    return ("tokenizers", tokenizers.__version__, encode,
            lambda ids: tok.decode(ids, skip_special_tokens=False))


def main() -> None:
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    special = "--no-special" not in sys.argv
    timed = "--time" in sys.argv
    path, inp, out = args
    library, version, encode, decode = load(path)
    with open(inp, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    seconds = cpu_seconds = None
    if timed:
        single = getattr(encode, "single", None) or (lambda t, s: encode([t], s)[0])
        start, cpu_start = time.perf_counter(), time.process_time()
        all_ids = [single(t, special) for t in texts]
        seconds = time.perf_counter() - start
        cpu_seconds = time.process_time() - cpu_start
    else:
        all_ids = encode(texts, special)
    with open(out, "w", encoding="utf-8") as f:
        for ids in all_ids:
            f.write(json.dumps({"ids": ids, "decoded": decode(ids)}, ensure_ascii=False) + "\n")
    print(json.dumps({"library": library, "version": version, "texts": len(texts),
                      "tokens": sum(len(i) for i in all_ids), "seconds": seconds,
                      "cpu_seconds": cpu_seconds}))


if __name__ == "__main__":
    main()
