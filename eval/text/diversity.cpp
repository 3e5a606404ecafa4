// Implementation of USR, distinct-n and the feature metrics (see diversity.h).
#include "eval/text/diversity.h"

#include <algorithm>
#include <string_view>
#include <unordered_map>

#include "trainer/core/error.h"

namespace seller::eval {
namespace {

// An injective key for a token sequence: each token is length-prefixed, so no choice of token
// bytes can make two different sequences collide.
std::string sequence_key(const std::vector<std::string>& tokens, size_t begin, size_t end) {
  std::string key;
  for (size_t i = begin; i < end; ++i) {
    key += std::to_string(tokens[i].size());
    key.push_back(':');
    key += tokens[i];
  }
  return key;
}

}  // namespace

UniqueSentences unique_sentence_ratio(const TokenizedCorpus& texts) {
  SELLER_THROW_IF_NOT(!texts.empty(), DataError, "USR: empty corpus");
  std::unordered_set<std::string> seen;
  for (const auto& t : texts) seen.insert(sequence_key(t, 0, t.size()));
  UniqueSentences u;
  u.unique_count = static_cast<int64_t>(seen.size());
  u.ratio = static_cast<double>(u.unique_count) / static_cast<double>(texts.size());
  return u;
}

double distinct_n(const TokenizedCorpus& texts, int n) {
  SELLER_THROW_IF_NOT(n >= 1, ConfigError, "distinct-n: n must be >= 1, got ", n);
  std::unordered_set<std::string> seen;
  int64_t total = 0;
  const size_t un = static_cast<size_t>(n);
  for (const auto& t : texts) {
    for (size_t s = 0; s + un <= t.size(); ++s) {
      seen.insert(sequence_key(t, s, s + un));
      ++total;
    }
  }
  return total == 0 ? 0.0 : static_cast<double>(seen.size()) / static_cast<double>(total);
}

std::vector<FeatureSet> detect_features(const TokenizedCorpus& texts,
                                        const FeatureVocabulary& vocabulary) {
  std::vector<FeatureSet> out;
  out.reserve(texts.size());
  for (const auto& t : texts) {
    FeatureSet found;
    for (const auto& token : t) {
      if (vocabulary.count(token)) found.push_back(token);
    }
    std::sort(found.begin(), found.end());
    found.erase(std::unique(found.begin(), found.end()), found.end());
    out.push_back(std::move(found));
  }
  return out;
}

double feature_matching_ratio(const std::vector<FeatureSet>& detected,
                              const std::vector<std::vector<std::string>>& ground_truth) {
  SELLER_THROW_IF_NOT(detected.size() == ground_truth.size(), DataError, "FMR: ", detected.size(),
                      " texts but ", ground_truth.size(), " ground-truth feature lists");
  SELLER_THROW_IF_NOT(!detected.empty(), DataError, "FMR: empty corpus");
  int64_t count = 0;
  for (size_t i = 0; i < detected.size(); ++i) {
    const auto& found = detected[i];
    const bool hit = std::any_of(
        ground_truth[i].begin(), ground_truth[i].end(),
        [&](const std::string& f) { return std::binary_search(found.begin(), found.end(), f); });
    count += hit ? 1 : 0;
  }
  return static_cast<double>(count) / static_cast<double>(detected.size());
}

double feature_coverage_ratio(const std::vector<FeatureSet>& detected,
                              const FeatureVocabulary& vocabulary) {
  SELLER_THROW_IF_NOT(!vocabulary.empty(), DataError, "FCR: empty feature vocabulary");
  std::unordered_set<std::string_view> features;
  for (const auto& set : detected) features.insert(set.begin(), set.end());
  return static_cast<double>(features.size()) / static_cast<double>(vocabulary.size());
}

double feature_diversity(const std::vector<FeatureSet>& detected) {
  const size_t n = detected.size();
  SELLER_THROW_IF_NOT(n >= 2, DataError, "DIV: needs at least 2 samples, got ", n);
  std::unordered_map<std::string_view, int64_t> count;
  for (const auto& set : detected) {
    for (const auto& f : set) ++count[f];
  }
  int64_t total = 0;
  for (const auto& [feature, c] : count) total += c * (c - 1) / 2;
  // Python: total_count / (list_len * (list_len - 1) / 2), a float denominator.
  const double denominator = static_cast<double>(n * (n - 1)) / 2;
  return static_cast<double>(total) / denominator;
}

}  // namespace seller::eval
