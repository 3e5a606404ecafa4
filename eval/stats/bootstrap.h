// Bootstrap confidence intervals and the paired bootstrap significance test (Efron & Tibshirani;
// Koehn 2004 for MT), for corpus metrics of N aligned pairs. Invariants:
//   - a replicate draws N pair indices uniformly with replacement; it is passed to the statistic
//     as multiplicities (weights[i] = times pair i was drawn), so corpus sums become weighted sums;
//   - replicate b's draws depend only on (seed, b): results are identical across runs, machines
//     and thread counts;
//   - intervals are percentile intervals (numpy.percentile's linear interpolation);
//   - the paired test evaluates both systems on the same replicates; its p-value is the share of
//     replicates where B does not beat A, ties counting one half (identical systems give 0.5).
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace seller::eval {

// SplitMix64 (Steele, Lea, Flood 2014): small, fast, and fully specified, so a seed means the
// same draws everywhere (std::uniform_int_distribution is implementation-defined).
class SplitMix64 {
 public:
  explicit SplitMix64(uint64_t seed) : state_(seed) {}
  uint64_t next();
  // Uniform in [0, bound) without modulo bias; bound >= 1.
  uint64_t below(uint64_t bound);

 private:
  uint64_t state_;
};

struct BootstrapOptions {
  int64_t replicates = 1000;
  uint64_t seed = 0;
  double confidence = 0.95;
};

// The multiplicities of replicate `replicate` (0-based) of a corpus of n pairs.
std::vector<uint32_t> bootstrap_weights(size_t n, uint64_t seed, int64_t replicate);

// Values of M metrics on the corpus weighted by `weights` (all ones = the corpus itself).
using WeightedStatistic = std::function<std::vector<double>(const std::vector<uint32_t>& weights)>;

struct ConfidenceInterval {
  double estimate = 0;  // the statistic on the corpus itself
  double lower = 0;
  double upper = 0;
};

// q in [0, 1] of `values` (sorted in place), numpy's default linear interpolation.
double percentile(std::vector<double>& values, double q);

// One interval per metric. Throws ConfigError on n == 0, replicates < 1 or a confidence
// outside (0, 1).
std::vector<ConfidenceInterval> bootstrap_ci(size_t n, const WeightedStatistic& statistic,
                                             const BootstrapOptions& options);

struct PairedComparison {
  ConfidenceInterval a, b;
  ConfidenceInterval delta;  // B - A
  double p_value = 0;        // of "B is better than A"
};

// higher_is_better[m] says which direction counts as better for metric m.
std::vector<PairedComparison> paired_bootstrap(size_t n, const WeightedStatistic& a,
                                               const WeightedStatistic& b,
                                               const std::vector<bool>& higher_is_better,
                                               const BootstrapOptions& options);

}  // namespace seller::eval
