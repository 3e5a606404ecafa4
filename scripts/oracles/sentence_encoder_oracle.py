#!/usr/bin/env python3
"""Sentence-embedding oracle for seller::model::SentenceEncoder (tests/model/test_text_encoder.cpp).

usage: sentence_encoder_oracle.py MODEL_DIR INPUT.jsonl OUTPUT.f32

Loads MODEL_DIR with sentence-transformers on the CPU (its module list decides pooling and
normalisation, as SentenceEncoder reads it) and writes the embeddings of every input line's
"text" as raw little-endian float32, row-major [N, dim]. Prints one JSON line to stdout:
{"library": "sentence-transformers", "version": ..., "texts": n, "dim": d, "seconds": s}
where seconds is the wall time of encode() alone (batch size 64, torch's default threads).
"""
import json
import sys
import time

import numpy as np
import sentence_transformers
from sentence_transformers import SentenceTransformer


def main() -> None:
    model_dir, inp, out = sys.argv[1:4]
    model = SentenceTransformer(model_dir, device="cpu")
    with open(inp, encoding="utf-8") as f:
        texts = [json.loads(line)["text"] for line in f]
    start = time.perf_counter()
    emb = model.encode(texts, batch_size=64, convert_to_numpy=True)
    seconds = time.perf_counter() - start
    np.ascontiguousarray(emb, dtype="<f4").tofile(out)
    print(json.dumps({"library": "sentence-transformers", "version": sentence_transformers.__version__,
                      "texts": len(texts), "dim": int(emb.shape[1]), "seconds": seconds,
                      "max_seq_length": model.max_seq_length}))


if __name__ == "__main__":
    main()
