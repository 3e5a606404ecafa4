// The utility blocks of `seller eval`: identification and rating consistency of a system's
// explanations beside their controls, with bootstrap intervals and paired tests, as JSON and
// Markdown. Invariants:
//   - every figure is computed in the same run on the same pairs for every condition: the
//     system(s), the real review (upper bound), a shuffled explanation (a seeded derangement:
//     pair i gets the explanation of pair pi(i) != i) and no text (empty: the lower bound);
//   - intervals and tests use eval/stats/bootstrap.h on per-pair values, all conditions on the
//     same replicates, so a paired test compares like with like; RMSE is the square root of the
//     (resampled) mean squared error;
//   - blocks are generic (named metrics x conditions), so a later "lift" block (NDCG@10 with and
//     without the explanation, behaviour path) is one more UtilityBlock with no format change.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "eval/stats/bootstrap.h"

namespace seller::eval {

struct UtilityMetric {
  std::string key;    // "hr10", "rmse"
  std::string label;  // "HR@10"
  bool higher_is_better = true;
  bool root_of_mean = false;  // the figure is sqrt(mean per-pair value) (RMSE)
  int decimals = 4;
};

// A paired comparison between two conditions: p = share of replicates where `b` does not beat
// `a` (bootstrap.h).
struct UtilityTest {
  size_t a = 0, b = 0;
};

struct UtilityBlock {
  std::string name;    // "identification", "rating"
  std::string method;  // what computed it, e.g. "tfidf cosine; target + 99 sampled negatives"
  // The text encoder behind the figures ("tfidf", "all-MiniLM-L6-v2"); when set, it is printed
  // beside every metric label in Markdown and stored as "encoder" in JSON.
  std::string encoder;
  std::vector<UtilityMetric> metrics;
  std::vector<std::string> conditions;  // "prediction", "real_review", "shuffled", "no_text"
  // values[c][i][m]: condition c, pair i, metric m.
  std::vector<std::vector<std::vector<double>>> values;
  std::vector<UtilityTest> tests;
};

struct UtilityFigure {
  double value = 0;
  ConfidenceInterval ci;
};

struct UtilitySummary {
  const UtilityBlock* block = nullptr;
  std::vector<std::vector<UtilityFigure>> figures;    // [condition][metric]
  std::vector<std::vector<PairedComparison>> tested;  // [test][metric]
};

// Sattolo's algorithm on SplitMix64(seed): a uniformly random cyclic permutation, hence a
// derangement (no i maps to itself). n must be >= 2.
std::vector<size_t> seeded_derangement(size_t n, uint64_t seed);

// Throws DataError when conditions disagree in size or are empty.
UtilitySummary summarize_utility(const UtilityBlock& block, const BootstrapOptions& options);

nlohmann::json utility_json(const std::vector<UtilitySummary>& blocks,
                            const std::vector<std::pair<std::string, std::string>>& skipped);
std::string utility_markdown(const std::vector<UtilitySummary>& blocks,
                             const std::vector<std::pair<std::string, std::string>>& skipped,
                             double confidence, const std::string& title = "Utility");

// The metric lists of the two blocks (HR@1/5/10, MRR; RMSE, MAE, like/dislike accuracy).
std::vector<UtilityMetric> identification_metrics();
std::vector<UtilityMetric> rating_metrics();

}  // namespace seller::eval
