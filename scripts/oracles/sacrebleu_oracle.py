#!/usr/bin/env python3
"""sacreBLEU oracle for the C++ text metrics (tests/unit/eval/test_text_oracles.cpp).

Reads a JSON file {"hyps": [...], "refs": [...], "orders": [1, 2, 3, 4],
"smooth": ["exp", "none"], "tokens": true} and prints JSON:
{"version": ..., "bleu": {"exp": {"1": score, ...}, ...}, "tokens": {"hyps": [...], "refs": [...]}}
where each score is sacrebleu.metrics.BLEU(max_ngram_order=n, smooth_method=s)
.corpus_score(hyps, [refs]).score (computed from the same statistics for the second and later
smoothing methods) and "tokens" holds the 13a-normalised segments.
"""
import json
import sys

import sacrebleu
from sacrebleu.metrics import BLEU
from sacrebleu.tokenizers.tokenizer_13a import Tokenizer13a


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    hyps, refs = spec["hyps"], spec["refs"]
    out = {"version": sacrebleu.__version__, "bleu": {}}
    smooths = spec.get("smooth", ["exp"])
    for smooth in smooths:
        out["bleu"][smooth] = {}
    for n in spec.get("orders", [1, 2, 3, 4]):
        # The first smoothing runs sacreBLEU's whole corpus_score; the others re-score the same
        # sufficient statistics with BLEU.compute_bleu (halves the oracle's run time).
        first = BLEU(max_ngram_order=n, smooth_method=smooths[0]).corpus_score(hyps, [refs])
        out["bleu"][smooths[0]][str(n)] = first.score
        for smooth in smooths[1:]:
            out["bleu"][smooth][str(n)] = BLEU.compute_bleu(
                list(first.counts), list(first.totals), first.sys_len, first.ref_len,
                smooth_method=smooth, max_ngram_order=n).score
    if spec.get("tokens"):
        tok = Tokenizer13a()
        # BLEU._preprocess_segment: tokenizer(sent.rstrip())
        out["tokens"] = {"hyps": [tok(h.rstrip()) for h in hyps],
                         "refs": [tok(r.rstrip()) for r in refs]}
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
