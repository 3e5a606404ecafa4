// Implementation of the all-metrics call (see text_report.h). Each corpus is tokenised once per
// tokenizer and shared by the metrics that use it.
#include "eval/text/text_report.h"

#include "eval/text/bleu.h"
#include "eval/text/tokenize.h"
#include "trainer/core/error.h"

namespace seller::eval {

TextQualityReport evaluate_text_quality(const TextQualityInput& input) {
  SELLER_THROW_IF_NOT(input.hyps.size() == input.refs.size(), DataError,
                      "text metrics: ", input.hyps.size(), " predictions but ", input.refs.size(),
                      " references");
  SELLER_THROW_IF_NOT(!input.hyps.empty(), DataError, "text metrics: no predictions");
  TextQualityReport r;
  r.count = static_cast<int64_t>(input.hyps.size());

  const TokenizedCorpus hyp_peter = tokenize_corpus(input.hyps, Tokenizer::kPeter);
  const TokenizedCorpus ref_peter = tokenize_corpus(input.refs, Tokenizer::kPeter);
  const TokenizedCorpus hyp_13a = tokenize_corpus(input.hyps, Tokenizer::kSacre13a);
  const TokenizedCorpus ref_13a = tokenize_corpus(input.refs, Tokenizer::kSacre13a);
  const auto peter = peter_bleu_orders(hyp_peter, ref_peter, 4);
  const auto sacre = sacrebleu_bleu_orders(hyp_13a, ref_13a);
  for (size_t n = 0; n < 4; ++n) {
    r.bleu_peter[n] = peter[n].bleu;
    r.bleu_sacrebleu[n] = sacre[n].bleu;
  }
  r.rouge_peter = rouge_corpus_tokens(hyp_peter, ref_peter, RougeVariant::kPeter);
  r.rouge_score = rouge_corpus(input.hyps, input.refs, RougeVariant::kRougeScore);
  r.usr = unique_sentence_ratio(hyp_peter);
  r.distinct1 = distinct_n(hyp_peter, 1);
  r.distinct2 = distinct_n(hyp_peter, 2);
  r.hyp_length = length_stats(hyp_peter);
  r.ref_length = length_stats(ref_peter);
  if (!input.feature_vocabulary.empty()) {
    const auto detected = detect_features(hyp_peter, input.feature_vocabulary);
    r.fcr = feature_coverage_ratio(detected, input.feature_vocabulary);
    if (detected.size() >= 2) r.div = feature_diversity(detected);
    if (!input.ground_truth_features.empty()) {
      r.fmr = feature_matching_ratio(detected, input.ground_truth_features);
    }
  }
  return r;
}

nlohmann::json to_json(const TextQualityReport& report) {
  using nlohmann::json;
  const auto prf = [](const PrfScore& s) {
    return json{{"p", s.precision}, {"r", s.recall}, {"f", s.f}};
  };
  const auto rouge = [&](const RougeScores& s) {
    return json{{"rouge1", prf(s.rouge1)}, {"rouge2", prf(s.rouge2)}, {"rougeL", prf(s.rougeL)}};
  };
  const auto bleu = [](const std::array<double, 4>& b) {
    return json{{"bleu1", b[0]}, {"bleu2", b[1]}, {"bleu3", b[2]}, {"bleu4", b[3]}};
  };
  const auto lengths = [](const LengthStats& s) {
    return json{{"mean", s.mean}, {"median", s.median}, {"min", s.min}, {"max", s.max}};
  };
  json j{
      {"count", report.count},
      {"bleu", {{"peter", bleu(report.bleu_peter)}, {"sacrebleu", bleu(report.bleu_sacrebleu)}}},
      {"rouge", {{"peter", rouge(report.rouge_peter)}, {"rouge_score", rouge(report.rouge_score)}}},
      {"usr", report.usr.ratio},
      {"usn", report.usr.unique_count},
      {"distinct1", report.distinct1},
      {"distinct2", report.distinct2},
      {"length_tokens",
       {{"pred", lengths(report.hyp_length)}, {"ref", lengths(report.ref_length)}}},
      {"tokenization",
       {{"bleu_peter", "peter"},
        {"bleu_sacrebleu", "13a"},
        {"rouge_peter", "peter"},
        {"rouge_score", "rouge_score"},
        {"usr_distinct_length_features", "peter"}}}};
  if (report.fmr) j["fmr"] = *report.fmr;
  if (report.fcr) j["fcr"] = *report.fcr;
  if (report.div) j["div"] = *report.div;
  return j;
}

}  // namespace seller::eval
