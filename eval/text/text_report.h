// All text-quality metrics of one system's outputs in one call, with the names and scales used
// in reports: BLEU-1..4 in both conventions (0..100), ROUGE-1/2/L P/R/F in both variants
// (fractions), USR/USN, distinct-1/2, length statistics, and FMR/FCR/DIV when features are given.
// USR, distinct-n, lengths and features use PETER tokens (tokenize_peter), as PETER does.
#pragma once

#include <array>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/text/diversity.h"
#include "eval/text/length_stats.h"
#include "eval/text/rouge.h"

namespace seller::eval {

struct TextQualityInput {
  std::vector<std::string> hyps;  // generated explanations
  std::vector<std::string> refs;  // references, aligned by index
  // Optional: the feature vocabulary (enables FCR and DIV) and each sample's ground-truth
  // feature(s) (enables FMR). Leave empty to skip.
  FeatureVocabulary feature_vocabulary;
  std::vector<std::vector<std::string>> ground_truth_features;
};

struct TextQualityReport {
  int64_t count = 0;
  std::array<double, 4> bleu_peter{};      // BLEU-1..4, PETER/PEPLER convention
  std::array<double, 4> bleu_sacrebleu{};  // BLEU-1..4, sacreBLEU 13a, default exp smoothing
  RougeScores rouge_peter;
  RougeScores rouge_score;
  UniqueSentences usr;
  double distinct1 = 0;
  double distinct2 = 0;
  LengthStats hyp_length;
  LengthStats ref_length;
  std::optional<double> fmr;
  std::optional<double> fcr;
  std::optional<double> div;
};

// Throws DataError on mismatched sizes or an empty corpus.
TextQualityReport evaluate_text_quality(const TextQualityInput& input);

// {"count":..,"bleu":{"peter":{"bleu1":..},"sacrebleu":{..}},"rouge":{"peter":{"rouge1":{"p":..,
// "r":..,"f":..},..},"rouge_score":{..}},"usr":..,"usn":..,"distinct1":..,...}
nlohmann::json to_json(const TextQualityReport& report);

}  // namespace seller::eval
