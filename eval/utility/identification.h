// Identification: can a reader tell which item an explanation is about? Each explanation is
// compared (TextEmbedder cosine) with the texts of a candidate set that holds its target item,
// and the target's rank gives HR@1/5/10 and MRR. Invariants:
//   - ranks are pessimistic (eval/ranking/ranking_metrics.h): every candidate scoring >= the
//     target is ranked ahead of it, so an empty text (all cosines 0) ranks last, never first;
//   - candidates are all items (negatives = 0) or the target plus `negatives` distinct other
//     items drawn for query i from SplitMix64(seed, i) alone, so a system and its controls, or
//     two systems under --compare, are ranked against the same candidates;
//   - queries are scored on up to `threads` threads; each query's rank depends only on its own
//     row, so results are identical for every thread count.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "eval/utility/text_embedding.h"

namespace seller::eval {

struct IdentificationOptions {
  int64_t negatives = 99;  // 0: rank against every item
  uint64_t seed = 0;
  size_t threads = 0;  // 0: all cores
};

// The candidate items of query i (target first, then the sampled negatives in draw order).
std::vector<uint32_t> identification_candidates(uint32_t target, uint32_t num_items, size_t query,
                                                const IdentificationOptions& o);

// Ranks of targets[i] for texts[i] among candidates of `items` (the embedded item texts).
// Throws DataError on a size mismatch or a target >= items.size().
std::vector<uint64_t> identification_ranks(const TextEmbedder& embedder,
                                           const std::vector<std::string>& texts,
                                           const std::vector<uint32_t>& targets,
                                           const CosineIndex& items,
                                           const IdentificationOptions& options);

// Per-query metric values from ranks: columns HR@1, HR@5, HR@10, MRR (reciprocal rank).
std::vector<std::vector<double>> identification_values(const std::vector<uint64_t>& ranks);

// "target + 99 sampled negatives (seed 0)" or "all 757 items".
std::string candidates_description(uint32_t num_items, const IdentificationOptions& options);

}  // namespace seller::eval
