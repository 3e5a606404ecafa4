// Implementation of the two ROUGE variants (see rouge.h). Each formula keeps the original's
// float operation order; n-gram and LCS counts are exact integers.
#include "eval/text/rouge.h"

#include <algorithm>
#include <cmath>

#include "eval/text/ngram_overlap.h"
#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

double ratio(int64_t num, int64_t den) {
  return static_cast<double>(num) / static_cast<double>(den);
}

// tf_seq2seq rouge_n on sets of n-grams.
PrfScore peter_rouge_n(const NgramOverlap& o) {
  PrfScore s;
  s.precision = o.hyp_distinct == 0 ? 0.0 : ratio(o.distinct_matches, o.hyp_distinct);
  s.recall = o.ref_distinct == 0 ? 0.0 : ratio(o.distinct_matches, o.ref_distinct);
  s.f = 2.0 * ((s.precision * s.recall) / (s.precision + s.recall + 1e-8));
  return s;
}

// tf_seq2seq _f_p_r_lcs(llcs, m = reference words, n = evaluated words).
PrfScore peter_rouge_l(int64_t llcs, int64_t m, int64_t n) {
  PrfScore s;
  s.recall = ratio(llcs, m);
  s.precision = ratio(llcs, n);
  const double beta = s.precision / (s.recall + 1e-12);
  const double num = (1 + std::pow(beta, 2.0)) * s.recall * s.precision;
  const double denom = s.recall + (std::pow(beta, 2.0) * s.precision);
  s.f = num / (denom + 1e-12);
  return s;
}

double fmeasure(double p, double r) { return p + r > 0 ? 2 * p * r / (p + r) : 0.0; }

PrfScore rouge_score_n(const NgramOverlap& o) {
  PrfScore s;
  s.precision = ratio(o.clipped_matches, std::max<int64_t>(o.hyp_count, 1));
  s.recall = ratio(o.clipped_matches, std::max<int64_t>(o.ref_count, 1));
  s.f = fmeasure(s.precision, s.recall);
  return s;
}

// Scores one pair whose tokens already have pair-local ids.
RougeScores score_ids(const PairIds& ids, RougeVariant variant, NgramCounter& counter) {
  RougeScores out;
  const auto& h = ids.hyp();
  const auto& r = ids.ref();
  const NgramOverlap o1 = counter.overlap(h, r, 1, ids.vocab_size());
  const NgramOverlap o2 = counter.overlap(h, r, 2, ids.vocab_size());
  if (variant == RougeVariant::kPeter) {
    out.rouge1 = peter_rouge_n(o1);
    out.rouge2 = peter_rouge_n(o2);
    out.rougeL = peter_rouge_l(lcs_length(h, r), static_cast<int64_t>(r.size()),
                               static_cast<int64_t>(h.size()));
  } else {
    out.rouge1 = rouge_score_n(o1);
    out.rouge2 = rouge_score_n(o2);
    if (!h.empty() && !r.empty()) {
      const int64_t lcs = lcs_length(r, h);
      out.rougeL.precision = ratio(lcs, static_cast<int64_t>(h.size()));
      out.rougeL.recall = ratio(lcs, static_cast<int64_t>(r.size()));
      out.rougeL.f = fmeasure(out.rougeL.precision, out.rougeL.recall);
    }
  }
  return out;
}

// PETER's rouge() receives ' '.join(tokens) and splits it on ' ': no tokens means one "" word.
const std::vector<std::string>& peter_words(const std::vector<std::string>& tokens) {
  static const std::vector<std::string> kOneEmptyWord{std::string()};
  return tokens.empty() ? kOneEmptyWord : tokens;
}

void add(PrfScore& sum, const PrfScore& s) {
  sum.precision += s.precision;
  sum.recall += s.recall;
  sum.f += s.f;
}

void divide(PrfScore& s, double n) {
  s.precision /= n;
  s.recall /= n;
  s.f /= n;
}

}  // namespace

std::string_view rouge_variant_name(RougeVariant variant) {
  return variant == RougeVariant::kPeter ? "peter" : "rouge_score";
}

RougeScores rouge_pair_tokens(const std::vector<std::string>& hyp,
                              const std::vector<std::string>& ref, RougeVariant variant) {
  PairIds ids;
  NgramCounter counter;
  if (variant == RougeVariant::kPeter) {
    ids.assign(peter_words(hyp), peter_words(ref));
  } else {
    ids.assign(hyp, ref);
  }
  return score_ids(ids, variant, counter);
}

RougeScores rouge_corpus_tokens(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                RougeVariant variant) {
  SELLER_THROW_IF_NOT(hyps.size() == refs.size(), DataError, "rouge: ", hyps.size(),
                      " hypotheses but ", refs.size(), " references (aligned by index)");
  SELLER_THROW_IF_NOT(!hyps.empty(), DataError, "rouge: empty corpus");
  PairIds ids;
  NgramCounter counter;
  RougeScores sum;
  for (size_t i = 0; i < hyps.size(); ++i) {
    if (variant == RougeVariant::kPeter) {
      ids.assign(peter_words(hyps[i]), peter_words(refs[i]));
    } else {
      ids.assign(hyps[i], refs[i]);
    }
    const RougeScores s = score_ids(ids, variant, counter);
    add(sum.rouge1, s.rouge1);
    add(sum.rouge2, s.rouge2);
    add(sum.rougeL, s.rougeL);
  }
  const double n = static_cast<double>(hyps.size());
  divide(sum.rouge1, n);
  divide(sum.rouge2, n);
  divide(sum.rougeL, n);
  return sum;
}

RougeScores rouge_corpus(const std::vector<std::string>& hyps, const std::vector<std::string>& refs,
                         RougeVariant variant) {
  const Tokenizer t = variant == RougeVariant::kPeter ? Tokenizer::kPeter : Tokenizer::kRougeScore;
  return rouge_corpus_tokens(tokenize_corpus(hyps, t), tokenize_corpus(refs, t), variant);
}

RougeScores rouge_pair(std::string_view hyp, std::string_view ref, RougeVariant variant) {
  const Tokenizer t = variant == RougeVariant::kPeter ? Tokenizer::kPeter : Tokenizer::kRougeScore;
  return rouge_pair_tokens(tokenize(hyp, t), tokenize(ref, t), variant);
}

}  // namespace seller::eval
