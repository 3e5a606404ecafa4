#!/usr/bin/env python3
"""WordPiece oracle for seller::text::WordPieceTokenizer (tests/unit/text/test_wordpiece.cpp).

usage: wordpiece_oracle.py TOKENIZER_JSON INPUT.jsonl OUTPUT.jsonl [--max-length N]

Loads a BERT tokenizer.json with the Hugging Face `tokenizers` library, switches off the padding
and truncation stored in the file (all-MiniLM-L6-v2's pads to 128), then, with --max-length,
truncates to N tokens as sentence-transformers does (longest_first, specials included).
Each input line is {"text": str}; each output line is {"ids": [...]}. Prints one JSON line to
stdout: {"library": "tokenizers", "version": ..., "texts": n, "tokens": n}.
"""
import json
import sys

import tokenizers
from tokenizers import Tokenizer


def main() -> None:
    args = sys.argv[1:]
    max_length = None
    if "--max-length" in args:
        i = args.index("--max-length")
        max_length = int(args[i + 1])
        del args[i:i + 2]
    path, inp, out = args
    tok = Tokenizer.from_file(path)
    tok.no_padding()
    if max_length:
        tok.enable_truncation(max_length=max_length, strategy="longest_first")
    else:
        tok.no_truncation()
    with open(inp, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    encodings = tok.encode_batch(texts, add_special_tokens=True)
    tokens = 0
    with open(out, "w", encoding="utf-8") as f:
        for e in encodings:
            tokens += len(e.ids)
            f.write(json.dumps({"ids": e.ids}) + "\n")
    print(json.dumps({"library": "tokenizers", "version": tokenizers.__version__,
                      "texts": len(texts), "tokens": tokens}))


if __name__ == "__main__":
    main()
