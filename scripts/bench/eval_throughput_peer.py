"""Python peers of bench_eval_throughput: sacreBLEU corpus_bleu and rouge-score on the pairs the
C++ bench wrote (JSONL {"h": hypothesis, "r": reference}); prints one JSON object with the
values and the seconds each took (tokenisation included, as in the C++ figures).

    python eval_throughput_peer.py PAIRS.jsonl
"""
import json
import sys
import time

import sacrebleu
from rouge_score import rouge_scorer


def main() -> None:
    hyps, refs = [], []
    with open(sys.argv[1], encoding="utf-8") as f:
        for line in f:
            o = json.loads(line)
            hyps.append(o["h"])
            refs.append(o["r"])
    t0 = time.perf_counter()
    bleu = sacrebleu.corpus_bleu(hyps, [refs]).score
    t1 = time.perf_counter()
    scorer = rouge_scorer.RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)
    sums = {k: [0.0, 0.0, 0.0] for k in ("rouge1", "rouge2", "rougeL")}
    for h, r in zip(hyps, refs):
        s = scorer.score(r, h)
        for k, v in s.items():
            sums[k][0] += v.precision
            sums[k][1] += v.recall
            sums[k][2] += v.fmeasure
    t2 = time.perf_counter()
    n = len(hyps)
    print(json.dumps({
        "pairs": n,
        "sacrebleu_bleu4": bleu,
        "sacrebleu_seconds": t1 - t0,
        "rouge": {k: [x / n for x in v] for k, v in sums.items()},
        "rouge_seconds": t2 - t1,
    }))


if __name__ == "__main__":
    main()
