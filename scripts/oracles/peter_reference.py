#!/usr/bin/env python3
"""Independent Python re-statement of the PETER/PEPLER text metrics, for cross-checking the C++
implementation on real texts. It is written from the definitions in docs/eval.md (PEPLER's
punctuation post-processing + str.split(), TF-NMT compute_bleu, the tf_seq2seq ROUGE copy with
n-gram sets and the beta = P/R sentence-level ROUGE-L, PETER's USR/FMR/FCR/DIV); it is not the
field's code, so agreement shows the C++ matches the definitions, not a package.

Reads {"hyps": [...], "refs": [...], "features": [...] (optional vocabulary),
"ground_truth": [[...], ...] (optional)} and prints JSON with "tokens", "bleu" {"1".."4"},
"rouge" {"rouge1": {"p","r","f"}, ...}, "usr", "usn", "distinct1", "distinct2" and, with
features, "fmr", "fcr", "div".
"""
import json
import math
import re
import sys
from collections import Counter


def tokenize(text):
    for pat, rep in [("'s", " 's"), ("'m", " 'm"), ("'ve", " 've"), ("n't", " n't"),
                     ("'re", " 're"), ("'d", " 'd"), ("'ll", " 'll"), (r"\(", " ( "),
                     (r"\)", " ) "), (",+", " , "), (":+", " , "), (";+", " . "),
                     (r"\.+", " . "), ("!+", " ! "), (r"\?+", " ? ")]:
        text = re.sub(pat, rep, text)
    return text.split()


def ngram_counter(tokens, n):
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def bleu(hyps, refs, max_order):
    matches = [0] * max_order
    possible = [0] * max_order
    hyp_len = sum(len(h) for h in hyps)
    ref_len = sum(len(r) for r in refs)
    for h, r in zip(hyps, refs):
        for n in range(1, max_order + 1):
            hc, rc = ngram_counter(h, n), ngram_counter(r, n)
            matches[n - 1] += sum(min(c, rc[g]) for g, c in hc.items())
            possible[n - 1] += max(len(h) - n + 1, 0)
    precisions = [matches[i] / possible[i] if possible[i] > 0 else 0.0 for i in range(max_order)]
    geo = math.exp(sum((1.0 / max_order) * math.log(p) for p in precisions)) \
        if min(precisions) > 0 else 0.0
    ratio = hyp_len / ref_len
    bp = 1.0 if ratio > 1.0 else (math.exp(1 - 1.0 / ratio) if hyp_len > 0 else 0.0)
    return geo * bp * 100


def lcs(a, b):
    row = [0] * (len(b) + 1)
    for x in a:
        diag = 0
        for j, y in enumerate(b, 1):
            up = row[j]
            row[j] = diag + 1 if x == y else max(up, row[j - 1])
            diag = up
    return row[len(b)]


def rouge(hyps, refs):
    sums = {k: [0.0, 0.0, 0.0] for k in ("rouge1", "rouge2", "rougeL")}
    for h, r in zip(hyps, refs):
        h = h if h else [""]  # ' '.join([]).split(' ') == ['']
        r = r if r else [""]
        for n, key in ((1, "rouge1"), (2, "rouge2")):
            hs, rs = set(ngram_counter(h, n)), set(ngram_counter(r, n))
            both = len(hs & rs)
            p = both / len(hs) if hs else 0.0
            rec = both / len(rs) if rs else 0.0
            f = 2.0 * ((p * rec) / (p + rec + 1e-8))
            for k, v in enumerate((p, rec, f)):
                sums[key][k] += v
        ll = lcs(h, r)
        rec, p = ll / len(r), ll / len(h)
        beta = p / (rec + 1e-12)
        f = ((1 + beta ** 2) * rec * p) / ((rec + (beta ** 2) * p) + 1e-12)
        for k, v in enumerate((p, rec, f)):
            sums["rougeL"][k] += v
    n = len(hyps)
    return {k: {"p": v[0] / n, "r": v[1] / n, "f": v[2] / n} for k, v in sums.items()}


def distinct(texts, n):
    grams = [g for t in texts for g in ngram_counter(t, n).elements()]
    return len(set(grams)) / len(grams) if grams else 0.0


def main() -> None:
    with open(sys.argv[1], encoding="utf-8") as f:
        spec = json.load(f)
    hyps = [tokenize(h) for h in spec["hyps"]]
    refs = [tokenize(r) for r in spec["refs"]]
    unique = {tuple(h) for h in hyps}
    out = {"tokens": {"hyps": hyps, "refs": refs},
           "bleu": {str(n): bleu(hyps, refs, n) for n in range(1, 5)},
           "rouge": rouge(hyps, refs),
           "usr": len(unique) / len(hyps), "usn": len(unique),
           "distinct1": distinct(hyps, 1), "distinct2": distinct(hyps, 2)}
    if "features" in spec:
        vocab = set(spec["features"])
        found = [set(t for t in h if t in vocab) for h in hyps]
        covered = set().union(*found)
        out["fcr"] = len(covered) / len(vocab)
        pairs = sum(len(found[i] & found[j]) for i in range(len(found))
                    for j in range(i + 1, len(found)))
        out["div"] = pairs / (len(found) * (len(found) - 1) / 2)
        if "ground_truth" in spec:
            hits = sum(1 for s, gt in zip(found, spec["ground_truth"]) if any(g in s for g in gt))
            out["fmr"] = hits / len(found)
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
