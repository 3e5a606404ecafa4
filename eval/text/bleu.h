// Corpus BLEU in the two conventions the field reports (docs/eval.md has the formulas):
//   peter_bleu      TF-NMT `compute_bleu` as PETER/PEPLER call it: token lists in, max_order =
//                   n for BLEU-n, uniform weights, no smoothing (or its add-one `smooth`),
//                   BP = exp(1 - 1/ratio) when hyp_len <= ref_len.
//   sacrebleu_bleu  sacreBLEU's corpus_bleu on raw strings: 13a tokenisation and its smoothing
//                   methods (default "exp"), max_ngram_order = n for BLEU-n.
// Both return BLEU on the 0..100 scale, as PETER's bleu_score and sacreBLEU print it, and keep
// the Python operation order so the results equal the originals to the last bit or nearly so.
// Inputs are aligned by index: hyps[i] is scored against refs[i] (one reference per segment).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace seller::eval {

using TokenizedCorpus = std::vector<std::vector<std::string>>;

struct BleuResult {
  double bleu = 0;               // 0..100
  std::vector<int64_t> matches;  // clipped n-gram matches per order 1..max_order
  std::vector<int64_t> totals;   // hypothesis n-grams per order
  std::vector<double>
      precisions;  // as the original reports them (fraction for PETER, % for sacreBLEU)
  double brevity_penalty = 0;
  int64_t hyp_length = 0;
  int64_t ref_length = 0;
};

// PETER/PEPLER BLEU-n. Throws DataError on size mismatch, an empty corpus, max_order < 1 or
// all-empty references (the Python original divides by zero there). An all-empty hypothesis
// side gives 0 (the original divides by zero too, but its geometric mean is already 0).
BleuResult peter_bleu(const TokenizedCorpus& hyps, const TokenizedCorpus& refs, int max_order,
                      bool smooth = false);

// BLEU-1..max_order from one pass over the corpus (element n-1 is BLEU-n, each with
// max_order = n): the same numbers as calling peter_bleu once per order.
std::vector<BleuResult> peter_bleu_orders(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                          int max_order, bool smooth = false);

enum class SacreBleuSmooth { kNone, kFloor, kAddK, kExp };

struct SacreBleuOptions {
  int max_ngram_order = 4;
  SacreBleuSmooth smooth = SacreBleuSmooth::kExp;  // sacreBLEU's default
  double smooth_value = -1;                        // < 0: sacreBLEU's default (floor 0.1, add-k 1)
};

// Summed n-gram statistics, per pair or per corpus (what both BLEU formulas start from). The
// bootstrap (eval/stats) resamples pairs and re-sums these instead of re-counting n-grams.
struct BleuCounts {
  std::vector<int64_t> matches, totals;  // orders 1..max_order
  int64_t hyp_length = 0, ref_length = 0;
};

// counts[i] = the statistics of pair i alone (any tokenisation; sizes checked as for BLEU).
std::vector<BleuCounts> bleu_pair_counts(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                         int max_order);

// BLEU-max_order from summed counts (which may hold more orders; the first max_order are used):
// the same formulas, in the same float order, as peter_bleu / sacrebleu_bleu_tokenized.
BleuResult peter_bleu_from_counts(const BleuCounts& counts, int max_order, bool smooth = false);
BleuResult sacrebleu_bleu_from_counts(const BleuCounts& counts,
                                      const SacreBleuOptions& options = {});

// sacreBLEU corpus BLEU on raw text (13a tokenisation, case-sensitive).
BleuResult sacrebleu_bleu(const std::vector<std::string>& hyps,
                          const std::vector<std::string>& refs,
                          const SacreBleuOptions& options = {});

// The same from 13a-tokenised segments (tokenize_13a), to tokenize once for BLEU-1..4.
BleuResult sacrebleu_bleu_tokenized(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                    const SacreBleuOptions& options = {});

// BLEU-1..options.max_ngram_order from one pass (element n-1 is BLEU-n with max_ngram_order n).
std::vector<BleuResult> sacrebleu_bleu_orders(const TokenizedCorpus& hyps,
                                              const TokenizedCorpus& refs,
                                              const SacreBleuOptions& options = {});

}  // namespace seller::eval
