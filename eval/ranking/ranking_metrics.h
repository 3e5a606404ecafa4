// Full-ranking next-item metrics (HR@k, NDCG@k, MRR) from one score per candidate item.
//
// Protocol (as SASRec-CE full ranking): the target is ranked against EVERY other candidate; by
// default nothing is excluded (the caller scores real items only, so the padding id never
// appears; when a score vector does include the padding slot, pass it in `excluded`). History
// items are NOT removed unless the caller lists them in `excluded` — report which was used.
// Ties are pessimistic: rank = 1 + #{i != target, i not excluded : score[i] >= score[target]},
// so a constant scorer ranks the target last, never first (tie-breaking by item id inflates NDCG).
// A NaN target score ranks last among the candidates. Plain C++: no LibTorch.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace seller::eval {

// The 1-based pessimistic rank of scores[target] among the non-excluded candidates. Excluded ids
// out of range are ignored, and so is the target itself if listed (it is always ranked).
// SELLER_CHECK: target < scores.size().
uint64_t pessimistic_rank(std::span<const float> scores, size_t target,
                          std::span<const uint32_t> excluded = {});

double hit_at_k(uint64_t rank, uint64_t k);   // 1 when rank <= k
double ndcg_at_k(uint64_t rank, uint64_t k);  // 1 / log2(rank + 1) when rank <= k (one relevant)
double reciprocal_rank(uint64_t rank);        // 1 / rank (MRR over all ranks, no cut-off)

struct RankingSummary {
  uint64_t count = 0;
  double hr5 = 0, ndcg5 = 0, hr10 = 0, ndcg10 = 0, hr20 = 0, ndcg20 = 0, mrr = 0;
};

// Averages the metrics over queries (one target per query).
class RankingAccumulator {
 public:
  void add_rank(uint64_t rank);
  void add(std::span<const float> scores, size_t target, std::span<const uint32_t> excluded = {}) {
    add_rank(pessimistic_rank(scores, target, excluded));
  }
  uint64_t count() const { return ranks_.size(); }
  double hr(uint64_t k) const;
  double ndcg(uint64_t k) const;
  double mrr() const;
  RankingSummary summary() const;
  const std::vector<uint64_t>& ranks() const { return ranks_; }

 private:
  std::vector<uint64_t> ranks_;
};

}  // namespace seller::eval
