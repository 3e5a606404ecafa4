// ParallelDims validation and the rank lists of the tp/ep/dp/edp groups (see the header for the
// rank order; every list below is derived from rank_of so the order is written once).
#include "dist/topology/parallel_dims.h"

#include <sstream>

#include "trainer/core/error.h"

namespace seller::dist {

std::string to_string(const ParallelDims& dims) {
  std::ostringstream os;
  os << "dp=" << dims.dp << " tp=" << dims.tp << " ep=" << dims.ep;
  return os.str();
}

void validate_dims(const ParallelDims& dims, int world_size) {
  SELLER_THROW_IF_NOT(dims.dp >= 1, ConfigError, "parallel: dp = ", dims.dp, " must be >= 1");
  SELLER_THROW_IF_NOT(dims.tp >= 1, ConfigError, "parallel: tp = ", dims.tp, " must be >= 1");
  SELLER_THROW_IF_NOT(dims.ep >= 1, ConfigError, "parallel: ep = ", dims.ep, " must be >= 1");
  SELLER_THROW_IF_NOT(dims.world() == world_size, ConfigError, "parallel: dp*tp*ep = ", dims.dp,
                      "*", dims.tp, "*", dims.ep, " = ", dims.world(), " but the world has ",
                      world_size, " ranks");
}

void validate_model_split(const ParallelDims& dims, const ShardedSizes& sizes) {
  std::ostringstream problems;
  int count = 0;
  auto check = [&](const char* dim_name, int dim, const char* key, int64_t value) {
    if (value <= 0 || value % dim == 0) return;
    problems << (count++ ? "; " : "") << dim_name << " = " << dim << " does not divide " << key
             << " = " << value;
  };
  check("tp", dims.tp, "llm.heads", sizes.heads);
  check("tp", dims.tp, "llm.kv_heads", sizes.kv_heads);
  check("tp", dims.tp, "llm.intermediate_size", sizes.intermediate);
  check("tp", dims.tp, "llm.vocab_size", sizes.vocab);
  check("ep", dims.ep, "seller.adapter.experts", sizes.experts);
  SELLER_THROW_IF_NOT(count == 0, ConfigError, "parallel layout ", to_string(dims), ": ",
                      problems.str());
}

RankCoord coord_of(const ParallelDims& dims, int rank) {
  SELLER_CHECK(rank >= 0 && rank < dims.world(), "rank ", rank, " outside ", to_string(dims));
  RankCoord c;
  c.t = rank % dims.tp;
  c.e = (rank / dims.tp) % dims.ep;
  c.d = rank / (dims.tp * dims.ep);
  return c;
}

int rank_of(const ParallelDims& dims, const RankCoord& c) {
  return (c.d * dims.ep + c.e) * dims.tp + c.t;
}

std::vector<std::vector<int>> group_ranks(const ParallelDims& dims, const std::string& kind) {
  std::vector<std::vector<int>> groups;
  if (kind == "tp") {
    for (int d = 0; d < dims.dp; ++d) {
      for (int e = 0; e < dims.ep; ++e) {
        std::vector<int> g;
        for (int t = 0; t < dims.tp; ++t) g.push_back(rank_of(dims, {d, e, t}));
        groups.push_back(g);
      }
    }
  } else if (kind == "ep") {
    for (int d = 0; d < dims.dp; ++d) {
      for (int t = 0; t < dims.tp; ++t) {
        std::vector<int> g;
        for (int e = 0; e < dims.ep; ++e) g.push_back(rank_of(dims, {d, e, t}));
        groups.push_back(g);
      }
    }
  } else if (kind == "dp") {
    for (int e = 0; e < dims.ep; ++e) {
      for (int t = 0; t < dims.tp; ++t) {
        std::vector<int> g;
        for (int d = 0; d < dims.dp; ++d) g.push_back(rank_of(dims, {d, e, t}));
        groups.push_back(g);
      }
    }
  } else if (kind == "edp") {
    for (int t = 0; t < dims.tp; ++t) {
      std::vector<int> g;
      for (int d = 0; d < dims.dp; ++d) {
        for (int e = 0; e < dims.ep; ++e) g.push_back(rank_of(dims, {d, e, t}));
      }
      groups.push_back(g);
    }
  } else if (kind == "mp") {
    for (int d = 0; d < dims.dp; ++d) {
      std::vector<int> g;
      for (int e = 0; e < dims.ep; ++e) {
        for (int t = 0; t < dims.tp; ++t) g.push_back(rank_of(dims, {d, e, t}));
      }
      groups.push_back(g);
    }
  } else {
    throw Error(::seller::detail::concat("parallel: unknown group kind '", kind,
                                         "' (tp, ep, dp, edp or mp)"));
  }
  return groups;
}

}  // namespace seller::dist
