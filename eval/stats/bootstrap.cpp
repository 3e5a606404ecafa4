// Implementation of the bootstrap (see bootstrap.h).
#include "eval/stats/bootstrap.h"

#include <algorithm>
#include <cmath>

#include "trainer/core/error.h"

namespace seller::eval {
namespace {

void check_options(size_t n, const BootstrapOptions& o) {
  SELLER_THROW_IF_NOT(n > 0, DataError, "bootstrap: empty corpus");
  SELLER_THROW_IF_NOT(o.replicates >= 1, ConfigError, "bootstrap: replicates must be >= 1, got ",
                      o.replicates);
  SELLER_THROW_IF_NOT(o.confidence > 0 && o.confidence < 1, ConfigError,
                      "bootstrap: confidence must be in (0, 1), got ", o.confidence);
}

ConfidenceInterval interval(double estimate, std::vector<double>& samples, double confidence) {
  const double alpha = 1 - confidence;
  ConfidenceInterval ci;
  ci.estimate = estimate;
  ci.lower = percentile(samples, alpha / 2);
  ci.upper = percentile(samples, 1 - alpha / 2);
  return ci;
}

}  // namespace

uint64_t SplitMix64::next() {
  uint64_t z = (state_ += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t SplitMix64::below(uint64_t bound) {
  // Reject the top partial block so every residue is equally likely.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % bound;
  uint64_t x = next();
  while (x >= limit) x = next();
  return x % bound;
}

std::vector<uint32_t> bootstrap_weights(size_t n, uint64_t seed, int64_t replicate) {
  // Each replicate gets its own stream, derived from (seed, replicate) by one SplitMix64 step.
  SplitMix64 seeder(seed ^ (0xd1b54a32d192ed03ULL * (static_cast<uint64_t>(replicate) + 1)));
  SplitMix64 rng(seeder.next());
  std::vector<uint32_t> w(n, 0);
  for (size_t i = 0; i < n; ++i) ++w[rng.below(n)];
  return w;
}

double percentile(std::vector<double>& values, double q) {
  SELLER_CHECK(!values.empty());
  std::sort(values.begin(), values.end());
  const double pos = q * static_cast<double>(values.size() - 1);
  const size_t lo = static_cast<size_t>(std::floor(pos));
  const size_t hi = std::min(lo + 1, values.size() - 1);
  const double frac = pos - static_cast<double>(lo);
  return values[lo] + (values[hi] - values[lo]) * frac;
}

std::vector<ConfidenceInterval> bootstrap_ci(size_t n, const WeightedStatistic& statistic,
                                             const BootstrapOptions& options) {
  check_options(n, options);
  const std::vector<double> estimate = statistic(std::vector<uint32_t>(n, 1));
  std::vector<std::vector<double>> samples(estimate.size());
  for (int64_t r = 0; r < options.replicates; ++r) {
    const std::vector<double> v = statistic(bootstrap_weights(n, options.seed, r));
    SELLER_CHECK(v.size() == estimate.size());
    for (size_t m = 0; m < v.size(); ++m) samples[m].push_back(v[m]);
  }
  std::vector<ConfidenceInterval> out;
  for (size_t m = 0; m < estimate.size(); ++m)
    out.push_back(interval(estimate[m], samples[m], options.confidence));
  return out;
}

std::vector<PairedComparison> paired_bootstrap(size_t n, const WeightedStatistic& a,
                                               const WeightedStatistic& b,
                                               const std::vector<bool>& higher_is_better,
                                               const BootstrapOptions& options) {
  check_options(n, options);
  const std::vector<uint32_t> ones(n, 1);
  const std::vector<double> est_a = a(ones), est_b = b(ones);
  const size_t m_count = est_a.size();
  SELLER_CHECK(est_b.size() == m_count && higher_is_better.size() == m_count);
  std::vector<std::vector<double>> sa(m_count), sb(m_count), sd(m_count);
  std::vector<double> not_better(m_count, 0.0);
  for (int64_t r = 0; r < options.replicates; ++r) {
    const std::vector<uint32_t> w = bootstrap_weights(n, options.seed, r);
    const std::vector<double> va = a(w), vb = b(w);
    SELLER_CHECK(va.size() == m_count && vb.size() == m_count);
    for (size_t m = 0; m < m_count; ++m) {
      sa[m].push_back(va[m]);
      sb[m].push_back(vb[m]);
      sd[m].push_back(vb[m] - va[m]);
      const double gain = higher_is_better[m] ? vb[m] - va[m] : va[m] - vb[m];
      if (gain < 0) not_better[m] += 1;
      if (gain == 0) not_better[m] += 0.5;
    }
  }
  std::vector<PairedComparison> out(m_count);
  for (size_t m = 0; m < m_count; ++m) {
    out[m].a = interval(est_a[m], sa[m], options.confidence);
    out[m].b = interval(est_b[m], sb[m], options.confidence);
    out[m].delta = interval(est_b[m] - est_a[m], sd[m], options.confidence);
    out[m].p_value = not_better[m] / static_cast<double>(options.replicates);
  }
  return out;
}

}  // namespace seller::eval
