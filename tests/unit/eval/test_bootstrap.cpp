// Bootstrap intervals and the paired bootstrap test (eval/stats/bootstrap.h) on tiny cases whose
// answers follow by hand.
#include <gtest/gtest.h>

#include <numeric>

#include "eval/stats/bootstrap.h"
#include "trainer/core/error.h"

namespace {

using seller::eval::bootstrap_ci;
using seller::eval::bootstrap_weights;
using seller::eval::BootstrapOptions;
using seller::eval::paired_bootstrap;
using seller::eval::percentile;
using seller::eval::SplitMix64;
using seller::eval::WeightedStatistic;

// Weighted mean of fixed per-pair values.
WeightedStatistic mean_of(std::vector<double> values) {
  return [values](const std::vector<uint32_t>& w) {
    double s = 0, n = 0;
    for (size_t i = 0; i < values.size(); ++i) {
      s += w[i] * values[i];
      n += w[i];
    }
    return std::vector<double>{s / n};
  };
}

TEST(Bootstrap, SplitMix64ReferenceValues) {
  // First outputs of the reference splitmix64.c for seed 0.
  SplitMix64 rng(0);
  EXPECT_EQ(rng.next(), 0xe220a8397b1dcdafULL);
  EXPECT_EQ(rng.next(), 0x6e789e6aa1b965f4ULL);
  SplitMix64 b(7);
  for (int i = 0; i < 1000; ++i) EXPECT_LT(b.below(3), 3u);
}

TEST(Bootstrap, WeightsAreDeterministicAndSumToN) {
  const auto w = bootstrap_weights(50, 42, 3);
  EXPECT_EQ(std::accumulate(w.begin(), w.end(), 0u), 50u);
  EXPECT_EQ(w, bootstrap_weights(50, 42, 3));
  EXPECT_NE(w, bootstrap_weights(50, 42, 4));  // another replicate
  EXPECT_NE(w, bootstrap_weights(50, 43, 3));  // another seed
}

TEST(Bootstrap, PercentileInterpolatesLikeNumpy) {
  std::vector<double> v{4, 1, 3, 2};
  EXPECT_DOUBLE_EQ(percentile(v, 0.25), 1.75);  // position 0.75 between 1 and 2
  EXPECT_DOUBLE_EQ(percentile(v, 0.5), 2.5);
  EXPECT_DOUBLE_EQ(percentile(v, 0.0), 1.0);
  EXPECT_DOUBLE_EQ(percentile(v, 1.0), 4.0);
}

TEST(Bootstrap, OnePairHasADegenerateInterval) {
  const auto ci = bootstrap_ci(1, mean_of({0.7}), {});
  ASSERT_EQ(ci.size(), 1u);
  EXPECT_DOUBLE_EQ(ci[0].estimate, 0.7);
  EXPECT_DOUBLE_EQ(ci[0].lower, 0.7);
  EXPECT_DOUBLE_EQ(ci[0].upper, 0.7);
}

TEST(Bootstrap, TwoPairsSpanTheirRange) {
  // Replicate means of {0, 1} are 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4: the 2.5% and 97.5%
  // percentiles of 1000 of them are 0 and 1.
  BootstrapOptions o;
  o.seed = 5;
  const auto ci = bootstrap_ci(2, mean_of({0, 1}), o);
  EXPECT_DOUBLE_EQ(ci[0].estimate, 0.5);
  EXPECT_DOUBLE_EQ(ci[0].lower, 0.0);
  EXPECT_DOUBLE_EQ(ci[0].upper, 1.0);
}

TEST(Bootstrap, IntervalContainsEstimateAndIsDeterministic) {
  std::vector<double> v;
  for (int i = 0; i < 200; ++i) v.push_back((i * 37 % 101) / 100.0);
  BootstrapOptions o;
  o.seed = 11;
  o.replicates = 500;
  const auto a = bootstrap_ci(v.size(), mean_of(v), o);
  const auto b = bootstrap_ci(v.size(), mean_of(v), o);
  EXPECT_LT(a[0].lower, a[0].estimate);
  EXPECT_GT(a[0].upper, a[0].estimate);
  EXPECT_EQ(a[0].lower, b[0].lower);
  EXPECT_EQ(a[0].upper, b[0].upper);
  o.seed = 12;
  EXPECT_NE(bootstrap_ci(v.size(), mean_of(v), o)[0].lower, a[0].lower);
}

TEST(Bootstrap, PairedIdenticalSystemsGiveOneHalf) {
  std::vector<double> v{0.1, 0.5, 0.9, 0.3};
  const auto r = paired_bootstrap(v.size(), mean_of(v), mean_of(v), {true}, {});
  EXPECT_DOUBLE_EQ(r[0].p_value, 0.5);  // every replicate ties
  EXPECT_DOUBLE_EQ(r[0].delta.estimate, 0.0);
}

TEST(Bootstrap, PairedClearlyBetterSystemIsSignificant) {
  std::vector<double> a, b;
  for (int i = 0; i < 100; ++i) {
    a.push_back((i % 10) / 10.0);
    b.push_back((i % 10) / 10.0 + 0.05);  // B beats A on every pair
  }
  const auto better = paired_bootstrap(a.size(), mean_of(a), mean_of(b), {true}, {});
  EXPECT_DOUBLE_EQ(better[0].p_value, 0.0);
  EXPECT_NEAR(better[0].delta.estimate, 0.05, 1e-12);
  EXPECT_GT(better[0].delta.lower, 0.0);
  // Where lower is better, the same numbers make B worse.
  const auto worse = paired_bootstrap(a.size(), mean_of(a), mean_of(b), {false}, {});
  EXPECT_DOUBLE_EQ(worse[0].p_value, 1.0);
  // A noisy, slightly better B: p between the extremes, and reproducible.
  std::vector<double> c = a;
  for (size_t i = 0; i < c.size(); ++i) c[i] += (i % 2 == 0 ? 0.3 : -0.28);
  const auto p1 = paired_bootstrap(a.size(), mean_of(a), mean_of(c), {true}, {})[0].p_value;
  const auto p2 = paired_bootstrap(a.size(), mean_of(a), mean_of(c), {true}, {})[0].p_value;
  EXPECT_GT(p1, 0.05);
  EXPECT_LT(p1, 0.95);
  EXPECT_EQ(p1, p2);
}

TEST(Bootstrap, RejectsBadOptions) {
  BootstrapOptions o;
  EXPECT_THROW(bootstrap_ci(0, mean_of({}), o), seller::DataError);
  o.replicates = 0;
  EXPECT_THROW(bootstrap_ci(2, mean_of({1, 2}), o), seller::ConfigError);
  o.replicates = 10;
  o.confidence = 1.0;
  EXPECT_THROW(bootstrap_ci(2, mean_of({1, 2}), o), seller::ConfigError);
}

}  // namespace
