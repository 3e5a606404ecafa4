// ParallelDims: the data x expert x tensor parallel layout of a run, its rank order, and the
// start-up validation that names a bad combination before any collective runs.
//
// Rank order: tensor-parallel innermost, then expert, then data:
//   rank = (d * ep + e) * tp + t,   0 <= d < dp, 0 <= e < ep, 0 <= t < tp,
// so the tp ranks of a (d, e) pair are consecutive (one node's NVLink domain), then the ep ranks.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace seller::dist {

struct ParallelDims {
  int dp = 1;
  int tp = 1;
  int ep = 1;
  int world() const { return dp * tp * ep; }
};

// A rank's coordinates in the layout.
struct RankCoord {
  int d = 0;
  int e = 0;
  int t = 0;
};

// Throws ConfigError when a size is < 1 or "dp*tp*ep = 8 but the world has 6 ranks".
void validate_dims(const ParallelDims& dims, int world_size);

// The model sizes the layout must divide. Zero means "not used by this run" and is not checked.
struct ShardedSizes {
  int64_t heads = 0;         // llm.heads: split across tp
  int64_t kv_heads = 0;      // llm.kv_heads: split across tp (GQA groups stay whole)
  int64_t intermediate = 0;  // llm.intermediate_size: the MLP's column split
  int64_t vocab = 0;         // llm.vocab_size: the vocab-parallel embedding and loss
  int64_t experts = 0;       // seller.adapter.experts: placed on ep ranks by global id
};

// Throws ConfigError naming the option and both values, e.g. "tp = 3 does not divide
// llm.heads = 8"; checks every size before throwing so the message lists all violations.
void validate_model_split(const ParallelDims& dims, const ShardedSizes& sizes);

RankCoord coord_of(const ParallelDims& dims, int rank);
int rank_of(const ParallelDims& dims, const RankCoord& c);

// The world ranks of each group kind, as lists in new-rank order (each list is one group):
//  tp:  same (d, e), t = 0..tp-1        -- activations of a tensor-parallel layer
//  ep:  same (d, t), e = 0..ep-1        -- the MoE all-to-all
//  dp:  same (e, t), d = 0..dp-1        -- gradients of expert parameters
//  edp: same t, (d, e) in rank order    -- gradients of non-expert parameters (dp x ep ranks)
//  mp:  same d, (e, t) in rank order    -- one model replica's tp x ep block (clipping norms)
std::vector<std::vector<int>> group_ranks(const ParallelDims& dims, const std::string& kind);

// "dp=2 tp=2 ep=1".
std::string to_string(const ParallelDims& dims);

}  // namespace seller::dist
