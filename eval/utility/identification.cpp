// Implementation of the identification metric (see identification.h). Queries are embedded in
// blocks so that a large test set never holds one dense row per query at once.
#include "eval/utility/identification.h"

#include <algorithm>
#include <unordered_set>

#include "eval/ranking/ranking_metrics.h"
#include "eval/stats/bootstrap.h"
#include "eval/utility/parallel.h"
#include "trainer/core/error.h"

namespace seller::eval {
namespace {

constexpr size_t kBlock = 512;

}  // namespace

std::vector<uint32_t> identification_candidates(uint32_t target, uint32_t num_items, size_t query,
                                                const IdentificationOptions& o) {
  SELLER_CHECK(target < num_items);
  std::vector<uint32_t> out;
  if (o.negatives <= 0 || static_cast<uint64_t>(o.negatives) >= num_items - 1ull) {
    out.reserve(num_items);
    out.push_back(target);
    for (uint32_t j = 0; j < num_items; ++j)
      if (j != target) out.push_back(j);
    return out;
  }
  // The stream of query i: a SplitMix64 step of (seed, i) as in bootstrap_weights, so queries
  // draw independently of each other and of the thread that scores them.
  SplitMix64 seeder(o.seed ^ (0x9E3779B97F4A7C15ull * (query + 1)));
  SplitMix64 rng(seeder.next());
  std::unordered_set<uint32_t> taken{target};
  out.push_back(target);
  while (out.size() < static_cast<size_t>(o.negatives) + 1) {
    const auto j = static_cast<uint32_t>(rng.below(num_items));
    if (taken.insert(j).second) out.push_back(j);
  }
  return out;
}

std::vector<uint64_t> identification_ranks(const TextEmbedder& embedder,
                                           const std::vector<std::string>& texts,
                                           const std::vector<uint32_t>& targets,
                                           const CosineIndex& items,
                                           const IdentificationOptions& options) {
  SELLER_THROW_IF_NOT(texts.size() == targets.size(), DataError, "identification: ", texts.size(),
                      " texts but ", targets.size(), " targets");
  SELLER_THROW_IF_NOT(items.size() >= 2, DataError,
                      "identification: needs at least 2 candidate items, got ", items.size());
  for (size_t i = 0; i < targets.size(); ++i)
    SELLER_THROW_IF_NOT(targets[i] < items.size(), DataError, "identification: target item ",
                        targets[i], " of query ", i, " is not among the ", items.size(), " items");
  std::vector<uint64_t> ranks(texts.size());
  const auto num_items = static_cast<uint32_t>(items.size());
  for (size_t lo = 0; lo < texts.size(); lo += kBlock) {
    const size_t hi = std::min(texts.size(), lo + kBlock);
    const FloatMatrix q = embedder.embed(std::vector<std::string>(
        texts.begin() + static_cast<ptrdiff_t>(lo), texts.begin() + static_cast<ptrdiff_t>(hi)));
    SELLER_THROW_IF_NOT(q.rows == hi - lo && q.cols == items.dim(), DataError, "embedder ",
                        embedder.name, " returned a ", q.rows, "x", q.cols, " matrix for ", hi - lo,
                        " texts (item dim ", items.dim(), ")");
    parallel_chunks(hi - lo, options.threads, [&](size_t a, size_t b) {
      std::vector<float> scores;
      for (size_t i = a; i < b; ++i) {
        const size_t query = lo + i;
        const std::vector<uint32_t> cand =
            identification_candidates(targets[query], num_items, query, options);
        scores.resize(cand.size());
        items.scores(q.row(i), cand, scores);
        ranks[query] = pessimistic_rank(scores, 0);  // the target is candidate 0
      }
    });
  }
  return ranks;
}

std::vector<std::vector<double>> identification_values(const std::vector<uint64_t>& ranks) {
  std::vector<std::vector<double>> v;
  v.reserve(ranks.size());
  for (uint64_t r : ranks)
    v.push_back({hit_at_k(r, 1), hit_at_k(r, 5), hit_at_k(r, 10), reciprocal_rank(r)});
  return v;
}

std::string candidates_description(uint32_t num_items, const IdentificationOptions& options) {
  if (options.negatives <= 0 || static_cast<uint64_t>(options.negatives) >= num_items - 1ull)
    return "all " + std::to_string(num_items) + " items";
  return "target + " + std::to_string(options.negatives) + " sampled negatives (seed " +
         std::to_string(options.seed) + ")";
}

}  // namespace seller::eval
