#!/usr/bin/env python3
"""Google rouge-score oracle for the C++ text metrics (test_text_oracles.cpp).

Reads {"hyps": [...], "refs": [...], "tokens": true, "per_pair": false} and prints
{"version": ..., "mean": {"rouge1": {"p","r","f"}, "rouge2": ..., "rougeL": ...},
 "tokens": {"hyps": [[...]], "refs": [[...]]}, "per_pair": [{"rouge1": [p, r, f], ...}]}.
Scores come from RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
.score(target=ref, prediction=hyp); "mean" is the plain average over pairs.
"""
import json
import sys
from importlib import metadata

from rouge_score import rouge_scorer, tokenize

TYPES = ["rouge1", "rouge2", "rougeL"]


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    hyps, refs = spec["hyps"], spec["refs"]
    scorer = rouge_scorer.RougeScorer(TYPES, use_stemmer=False)
    sums = {t: [0.0, 0.0, 0.0] for t in TYPES}
    per_pair = []
    for hyp, ref in zip(hyps, refs):
        scores = scorer.score(ref, hyp)
        row = {}
        for t in TYPES:
            s = scores[t]
            row[t] = [s.precision, s.recall, s.fmeasure]
            for k in range(3):
                sums[t][k] += row[t][k]
        per_pair.append(row)
    n = len(hyps)
    out = {"version": metadata.version("rouge-score"),
           "mean": {t: {"p": sums[t][0] / n, "r": sums[t][1] / n, "f": sums[t][2] / n}
                    for t in TYPES}}
    if spec.get("per_pair"):
        out["per_pair"] = per_pair
    if spec.get("tokens"):
        out["tokens"] = {"hyps": [tokenize.tokenize(h, None) for h in hyps],
                         "refs": [tokenize.tokenize(r, None) for r in refs]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
