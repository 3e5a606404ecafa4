// Implementation of corpus BLEU (see bleu.h). Sufficient statistics are summed over the corpus
// with exact integer n-gram counts; the final formula mirrors each Python original's float
// operations in the same order.
#include "eval/text/bleu.h"

#include <cmath>

#include "eval/text/ngram_overlap.h"
#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

using CorpusStats = BleuCounts;

void check_inputs(size_t hyps, size_t refs, int max_order, const char* who) {
  SELLER_THROW_IF_NOT(hyps == refs, DataError, who, ": ", hyps, " hypotheses but ", refs,
                      " references (they are aligned by index)");
  SELLER_THROW_IF_NOT(hyps > 0, DataError, who, ": empty corpus");
  SELLER_THROW_IF_NOT(max_order >= 1, ConfigError, who, ": n-gram order must be >= 1, got ",
                      max_order);
}

CorpusStats corpus_stats(const TokenizedCorpus& hyps, const TokenizedCorpus& refs, int max_order) {
  CorpusStats s;
  s.matches.assign(static_cast<size_t>(max_order), 0);
  s.totals.assign(static_cast<size_t>(max_order), 0);
  PairIds ids;
  NgramCounter counter;
  for (size_t i = 0; i < hyps.size(); ++i) {
    ids.assign(hyps[i], refs[i]);
    s.hyp_length += static_cast<int64_t>(hyps[i].size());
    s.ref_length += static_cast<int64_t>(refs[i].size());
    for (int n = 1; n <= max_order; ++n) {
      if (hyps[i].size() < static_cast<size_t>(n)) break;
      const NgramOverlap o = counter.overlap(ids.hyp(), ids.ref(), n, ids.vocab_size());
      s.matches[static_cast<size_t>(n - 1)] += o.clipped_matches;
      s.totals[static_cast<size_t>(n - 1)] += o.hyp_count;
    }
  }
  return s;
}

// The first `order` orders of corpus statistics gathered for a higher order: per-order counts do
// not depend on the maximum order, so BLEU-1..4 share one pass over the corpus.
CorpusStats truncated(const CorpusStats& s, int order) {
  CorpusStats t = s;
  t.matches.resize(static_cast<size_t>(order));
  t.totals.resize(static_cast<size_t>(order));
  return t;
}

BleuResult finish_peter(CorpusStats s, int max_order, bool smooth) {
  SELLER_THROW_IF_NOT(s.ref_length > 0, DataError,
                      "peter_bleu: every reference is empty (reference length 0)");
  BleuResult r;
  r.hyp_length = s.hyp_length;
  r.ref_length = s.ref_length;
  r.precisions.assign(static_cast<size_t>(max_order), 0.0);
  for (size_t i = 0; i < r.precisions.size(); ++i) {
    if (smooth) {
      r.precisions[i] =
          (static_cast<double>(s.matches[i]) + 1.) / (static_cast<double>(s.totals[i]) + 1.);
    } else if (s.totals[i] > 0) {
      r.precisions[i] = static_cast<double>(s.matches[i]) / static_cast<double>(s.totals[i]);
    }
  }
  double geo_mean = 0;
  bool all_positive = true;
  for (double p : r.precisions) all_positive = all_positive && p > 0;
  if (all_positive) {
    double p_log_sum = 0;
    for (double p : r.precisions) p_log_sum += (1. / max_order) * std::log(p);
    geo_mean = std::exp(p_log_sum);
  }
  const double ratio = static_cast<double>(s.hyp_length) / static_cast<double>(s.ref_length);
  if (ratio > 1.0) {
    r.brevity_penalty = 1.;
  } else if (s.hyp_length > 0) {
    r.brevity_penalty = std::exp(1 - 1. / ratio);
  }
  r.bleu = geo_mean * r.brevity_penalty * 100;
  r.matches = std::move(s.matches);
  r.totals = std::move(s.totals);
  return r;
}

BleuResult finish_sacrebleu(const CorpusStats& s, const SacreBleuOptions& options) {
  const int order = options.max_ngram_order;
  BleuResult r;
  r.hyp_length = s.hyp_length;
  r.ref_length = s.ref_length;
  r.matches = s.matches;
  r.totals = s.totals;
  r.precisions.assign(static_cast<size_t>(order), 0.0);

  // BLEU.compute_bleu
  r.brevity_penalty = 1.0;
  if (s.hyp_length < s.ref_length) {
    r.brevity_penalty =
        s.hyp_length > 0
            ? std::exp(1 - static_cast<double>(s.ref_length) / static_cast<double>(s.hyp_length))
            : 0.0;
  }
  bool any_correct = false;
  for (int64_t m : s.matches) any_correct = any_correct || m != 0;
  if (!any_correct) return r;  // score 0 (sacreBLEU #141 early stop)

  double smooth_value = options.smooth_value;
  if (smooth_value < 0) smooth_value = options.smooth == SacreBleuSmooth::kFloor ? 0.1 : 1.0;
  std::vector<double> correct(s.matches.begin(), s.matches.end());
  std::vector<double> total(s.totals.begin(), s.totals.end());
  double smooth_mteval = 1.;
  for (size_t n = 1; n <= r.precisions.size(); ++n) {
    if (options.smooth == SacreBleuSmooth::kAddK && n > 1) {
      correct[n - 1] += smooth_value;
      total[n - 1] += smooth_value;
    }
    if (total[n - 1] == 0) break;
    if (correct[n - 1] == 0) {
      if (options.smooth == SacreBleuSmooth::kExp) {
        smooth_mteval *= 2;
        r.precisions[n - 1] = 100. / (smooth_mteval * total[n - 1]);
      } else if (options.smooth == SacreBleuSmooth::kFloor) {
        r.precisions[n - 1] = 100. * smooth_value / total[n - 1];
      }
    } else {
      r.precisions[n - 1] = 100. * correct[n - 1] / total[n - 1];
    }
  }
  double log_sum = 0;  // Python's sum([...]) adds from 0 left to right
  for (double p : r.precisions) log_sum += p == 0.0 ? -9999999999.0 : std::log(p);  // my_log
  r.bleu = r.brevity_penalty * std::exp(log_sum / order);
  return r;
}

}  // namespace

BleuResult peter_bleu(const TokenizedCorpus& hyps, const TokenizedCorpus& refs, int max_order,
                      bool smooth) {
  check_inputs(hyps.size(), refs.size(), max_order, "peter_bleu");
  return finish_peter(corpus_stats(hyps, refs, max_order), max_order, smooth);
}

std::vector<BleuResult> peter_bleu_orders(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                          int max_order, bool smooth) {
  check_inputs(hyps.size(), refs.size(), max_order, "peter_bleu");
  const CorpusStats all = corpus_stats(hyps, refs, max_order);
  std::vector<BleuResult> out;
  for (int n = 1; n <= max_order; ++n) out.push_back(finish_peter(truncated(all, n), n, smooth));
  return out;
}

BleuResult sacrebleu_bleu_tokenized(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                    const SacreBleuOptions& options) {
  check_inputs(hyps.size(), refs.size(), options.max_ngram_order, "sacrebleu_bleu");
  return finish_sacrebleu(corpus_stats(hyps, refs, options.max_ngram_order), options);
}

std::vector<BleuResult> sacrebleu_bleu_orders(const TokenizedCorpus& hyps,
                                              const TokenizedCorpus& refs,
                                              const SacreBleuOptions& options) {
  check_inputs(hyps.size(), refs.size(), options.max_ngram_order, "sacrebleu_bleu");
  const CorpusStats all = corpus_stats(hyps, refs, options.max_ngram_order);
  std::vector<BleuResult> out;
  for (int n = 1; n <= options.max_ngram_order; ++n) {
    SacreBleuOptions o = options;
    o.max_ngram_order = n;
    out.push_back(finish_sacrebleu(truncated(all, n), o));
  }
  return out;
}

BleuResult sacrebleu_bleu(const std::vector<std::string>& hyps,
                          const std::vector<std::string>& refs, const SacreBleuOptions& options) {
  check_inputs(hyps.size(), refs.size(), options.max_ngram_order, "sacrebleu_bleu");
  return sacrebleu_bleu_tokenized(tokenize_corpus(hyps, Tokenizer::kSacre13a),
                                  tokenize_corpus(refs, Tokenizer::kSacre13a), options);
}

std::vector<BleuCounts> bleu_pair_counts(const TokenizedCorpus& hyps, const TokenizedCorpus& refs,
                                         int max_order) {
  check_inputs(hyps.size(), refs.size(), max_order, "bleu_pair_counts");
  std::vector<BleuCounts> out(hyps.size());
  PairIds ids;
  NgramCounter counter;
  for (size_t i = 0; i < hyps.size(); ++i) {
    BleuCounts& c = out[i];
    c.matches.assign(static_cast<size_t>(max_order), 0);
    c.totals.assign(static_cast<size_t>(max_order), 0);
    c.hyp_length = static_cast<int64_t>(hyps[i].size());
    c.ref_length = static_cast<int64_t>(refs[i].size());
    ids.assign(hyps[i], refs[i]);
    for (int n = 1; n <= max_order; ++n) {
      if (hyps[i].size() < static_cast<size_t>(n)) break;
      const NgramOverlap o = counter.overlap(ids.hyp(), ids.ref(), n, ids.vocab_size());
      c.matches[static_cast<size_t>(n - 1)] = o.clipped_matches;
      c.totals[static_cast<size_t>(n - 1)] = o.hyp_count;
    }
  }
  return out;
}

BleuResult peter_bleu_from_counts(const BleuCounts& counts, int max_order, bool smooth) {
  SELLER_THROW_IF_NOT(max_order >= 1 && counts.matches.size() >= static_cast<size_t>(max_order) &&
                          counts.totals.size() >= static_cast<size_t>(max_order),
                      ConfigError, "peter_bleu_from_counts: counts hold fewer than ", max_order,
                      " orders");
  return finish_peter(truncated(counts, max_order), max_order, smooth);
}

BleuResult sacrebleu_bleu_from_counts(const BleuCounts& counts, const SacreBleuOptions& options) {
  const int n = options.max_ngram_order;
  SELLER_THROW_IF_NOT(n >= 1 && counts.matches.size() >= static_cast<size_t>(n) &&
                          counts.totals.size() >= static_cast<size_t>(n),
                      ConfigError, "sacrebleu_bleu_from_counts: counts hold fewer than ", n,
                      " orders");
  return finish_sacrebleu(truncated(counts, n), options);
}

}  // namespace seller::eval
