// Full-ranking metrics; protocol and tie rule in ranking_metrics.h.
#include "eval/ranking/ranking_metrics.h"

#include <algorithm>
#include <cmath>

#include "trainer/core/error.h"

namespace seller::eval {

uint64_t pessimistic_rank(std::span<const float> scores, size_t target,
                          std::span<const uint32_t> excluded) {
  SELLER_CHECK(target < scores.size());
  const float t = scores[target];
  uint64_t better = 0;
  if (std::isnan(t)) {
    better = scores.size() - 1;  // NaN never wins: count every other candidate against it
  } else {
    for (size_t i = 0; i < scores.size(); ++i) better += (scores[i] >= t);
    better -= 1;  // the target itself
  }
  // Remove excluded candidates that were counted (each id once, the target never).
  std::vector<uint32_t> ex(excluded.begin(), excluded.end());
  std::sort(ex.begin(), ex.end());
  ex.erase(std::unique(ex.begin(), ex.end()), ex.end());
  for (uint32_t e : ex) {
    if (e >= scores.size() || e == target) continue;
    if (std::isnan(t) || scores[e] >= t) --better;
  }
  return better + 1;
}

double hit_at_k(uint64_t rank, uint64_t k) { return rank >= 1 && rank <= k ? 1.0 : 0.0; }

double ndcg_at_k(uint64_t rank, uint64_t k) {
  return rank >= 1 && rank <= k ? 1.0 / std::log2(static_cast<double>(rank) + 1.0) : 0.0;
}

double reciprocal_rank(uint64_t rank) { return rank >= 1 ? 1.0 / static_cast<double>(rank) : 0.0; }

void RankingAccumulator::add_rank(uint64_t rank) {
  SELLER_CHECK(rank >= 1);
  ranks_.push_back(rank);
}

namespace {
template <class F>
double mean_of(const std::vector<uint64_t>& ranks, F f) {
  if (ranks.empty()) return 0.0;
  double s = 0;
  for (uint64_t r : ranks) s += f(r);
  return s / static_cast<double>(ranks.size());
}
}  // namespace

double RankingAccumulator::hr(uint64_t k) const {
  return mean_of(ranks_, [k](uint64_t r) { return hit_at_k(r, k); });
}
double RankingAccumulator::ndcg(uint64_t k) const {
  return mean_of(ranks_, [k](uint64_t r) { return ndcg_at_k(r, k); });
}
double RankingAccumulator::mrr() const { return mean_of(ranks_, reciprocal_rank); }

RankingSummary RankingAccumulator::summary() const {
  RankingSummary s;
  s.count = count();
  s.hr5 = hr(5), s.ndcg5 = ndcg(5), s.hr10 = hr(10), s.ndcg10 = ndcg(10);
  s.hr20 = hr(20), s.ndcg20 = ndcg(20), s.mrr = mrr();
  return s;
}

}  // namespace seller::eval
