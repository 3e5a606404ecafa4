// Full-ranking metrics against hand-computed values, including the pessimistic tie rule and the
// exclusion list (by default nothing is excluded).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <vector>

#include "eval/ranking/ranking_metrics.h"

namespace seller::eval {
namespace {

TEST(RankingMetrics, RankCountsStrictlyBetterItems) {
  const std::vector<float> s = {0.1f, 0.9f, 0.5f, 0.3f, 0.7f};
  EXPECT_EQ(pessimistic_rank(s, 1), 1u);
  EXPECT_EQ(pessimistic_rank(s, 4), 2u);
  EXPECT_EQ(pessimistic_rank(s, 2), 3u);
  EXPECT_EQ(pessimistic_rank(s, 0), 5u);
}

TEST(RankingMetrics, TiesArePessimistic) {
  // Target 2 ties with items 0 and 3; item 1 is better: rank = 1 + 1 + 2 = 4.
  const std::vector<float> s = {0.5f, 0.8f, 0.5f, 0.5f, 0.1f};
  EXPECT_EQ(pessimistic_rank(s, 2), 4u);
  // A constant scorer puts the target last, whatever its id.
  const std::vector<float> flat(10, 1.0f);
  EXPECT_EQ(pessimistic_rank(flat, 0), 10u);
  EXPECT_EQ(pessimistic_rank(flat, 9), 10u);
  EXPECT_DOUBLE_EQ(hit_at_k(pessimistic_rank(flat, 0), 5), 0.0);
}

TEST(RankingMetrics, ExclusionListRemovesOnlyListedItems) {
  const std::vector<float> s = {9.0f, 0.8f, 0.5f, 0.5f, 0.1f};  // slot 0 plays the padding id
  EXPECT_EQ(pessimistic_rank(s, 2), 4u);                        // nothing excluded by default
  const std::vector<uint32_t> pad = {0};
  EXPECT_EQ(pessimistic_rank(s, 2, pad), 3u);
  const std::vector<uint32_t> many = {0, 3, 3,
                                      2, 4, 77};  // dup, the target, worse item, out of range
  EXPECT_EQ(pessimistic_rank(s, 2, many), 2u);
}

TEST(RankingMetrics, NanTargetRanksLast) {
  const std::vector<float> s = {0.1f, std::numeric_limits<float>::quiet_NaN(), 0.2f};
  EXPECT_EQ(pessimistic_rank(s, 1), 3u);
}

TEST(RankingMetrics, PerQueryValues) {
  EXPECT_DOUBLE_EQ(ndcg_at_k(1, 10), 1.0);
  EXPECT_DOUBLE_EQ(ndcg_at_k(3, 10), 0.5);  // 1 / log2(4)
  EXPECT_NEAR(ndcg_at_k(10, 10), 1.0 / std::log2(11.0), 1e-12);
  EXPECT_DOUBLE_EQ(ndcg_at_k(11, 10), 0.0);
  EXPECT_DOUBLE_EQ(hit_at_k(10, 10), 1.0);
  EXPECT_DOUBLE_EQ(hit_at_k(11, 10), 0.0);
  EXPECT_DOUBLE_EQ(reciprocal_rank(4), 0.25);
}

TEST(RankingMetrics, AccumulatorAverages) {
  RankingAccumulator acc;
  for (uint64_t r : {1u, 3u, 12u, 100u}) acc.add_rank(r);
  EXPECT_EQ(acc.count(), 4u);
  EXPECT_DOUBLE_EQ(acc.hr(10), 0.5);
  EXPECT_DOUBLE_EQ(acc.ndcg(10), (1.0 + 0.5) / 4);
  EXPECT_DOUBLE_EQ(acc.mrr(), (1.0 + 1.0 / 3 + 1.0 / 12 + 0.01) / 4);
  const auto s = acc.summary();
  EXPECT_DOUBLE_EQ(s.hr20, 0.75);
  EXPECT_DOUBLE_EQ(s.hr5, 0.5);
  RankingAccumulator ties;
  const std::vector<float> scores = {0.5f, 0.5f, 0.5f, 0.5f};  // target ties with 3 others
  ties.add(scores, 0);
  EXPECT_DOUBLE_EQ(ties.mrr(), 0.25);
  EXPECT_DOUBLE_EQ(ties.ndcg(3), 0.0);
}

}  // namespace
}  // namespace seller::eval
