// ParallelDims: the rank order (TP innermost, then EP, then DP), start-up validation messages,
// and make_groups at 2 and 4 in-process ranks checked against membership computed here from
// coordinates (an all_gather of world ranks in every group must list exactly its members).
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <mutex>
#include <string>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/topology/process_groups.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(ParallelDims, RankOrderIsTensorThenExpertThenData) {
  ParallelDims dims{.dp = 2, .tp = 2, .ep = 3};
  EXPECT_EQ(dims.world(), 12);
  // rank = (d*ep + e)*tp + t, written out for a few ranks.
  EXPECT_EQ(rank_of(dims, {0, 0, 1}), 1);
  EXPECT_EQ(rank_of(dims, {0, 1, 0}), 2);
  EXPECT_EQ(rank_of(dims, {1, 0, 0}), 6);
  EXPECT_EQ(rank_of(dims, {1, 2, 1}), 11);
  for (int r = 0; r < dims.world(); ++r) {
    RankCoord c = coord_of(dims, r);
    EXPECT_EQ(rank_of(dims, c), r);
    EXPECT_LT(c.d, 2);
    EXPECT_LT(c.e, 3);
    EXPECT_LT(c.t, 2);
  }
}

TEST(ParallelDims, GroupRanksOfTwoByTwoByTwo) {
  ParallelDims dims{.dp = 2, .tp = 2, .ep = 2};
  using G = std::vector<std::vector<int>>;
  EXPECT_EQ(group_ranks(dims, "tp"), (G{{0, 1}, {2, 3}, {4, 5}, {6, 7}}));
  EXPECT_EQ(group_ranks(dims, "ep"), (G{{0, 2}, {1, 3}, {4, 6}, {5, 7}}));
  EXPECT_EQ(group_ranks(dims, "dp"), (G{{0, 4}, {1, 5}, {2, 6}, {3, 7}}));
  EXPECT_EQ(group_ranks(dims, "edp"), (G{{0, 2, 4, 6}, {1, 3, 5, 7}}));
  EXPECT_EQ(group_ranks(dims, "mp"), (G{{0, 1, 2, 3}, {4, 5, 6, 7}}));
  EXPECT_THROW(group_ranks(dims, "pp"), Error);
}

TEST(ParallelDims, ValidationNamesTheBadCombination) {
  EXPECT_EQ(error_of([] { validate_dims({.dp = 2, .tp = 2, .ep = 2}, 6); }),
            "parallel: dp*tp*ep = 2*2*2 = 8 but the world has 6 ranks");
  EXPECT_EQ(error_of([] { validate_dims({.dp = 1, .tp = 0, .ep = 1}, 1); }),
            "parallel: tp = 0 must be >= 1");
  EXPECT_EQ(error_of([] { validate_dims({.dp = 3, .tp = 2, .ep = 1}, 6); }), "(no error)");
  EXPECT_EQ(error_of([] {
              validate_model_split({.dp = 1, .tp = 3, .ep = 1}, {.heads = 8, .kv_heads = 3});
            }),
            "parallel layout dp=1 tp=3 ep=1: tp = 3 does not divide llm.heads = 8");
  EXPECT_EQ(error_of([] {
              validate_model_split({.dp = 1, .tp = 4, .ep = 3},
                                   {.heads = 8, .kv_heads = 2, .experts = 8});
            }),
            "parallel layout dp=1 tp=4 ep=3: tp = 4 does not divide llm.kv_heads = 2; "
            "ep = 3 does not divide seller.adapter.experts = 8");
  EXPECT_EQ(error_of([] {
              validate_model_split(
                  {.dp = 2, .tp = 2, .ep = 2},
                  {.heads = 8, .kv_heads = 4, .intermediate = 688, .vocab = 8192, .experts = 8});
            }),
            "(no error)");
}

// For every layout of `n` ranks, each group's members (gathered world ranks) must be exactly
// the ranks that share the group's fixed coordinates.
void check_layout(int n, ParallelDims dims) {
  SCOPED_TRACE(to_string(dims));
  std::mutex mu;
  std::vector<ProcessGroups> all(n);
  std::vector<std::vector<std::vector<int64_t>>> members(n);
  run_world(n, [&](const CommunicatorPtr& world) {
    ProcessGroups g = make_groups(world, dims);
    std::vector<std::vector<int64_t>> mine;
    for (const auto& comm : {g.tp, g.ep, g.dp, g.edp, g.mp}) {
      torch::Tensor me = torch::tensor({int64_t(world->rank())});
      torch::Tensor out = torch::empty({comm->size()}, torch::kInt64);
      comm->all_gather(me, out);
      mine.emplace_back(out.data_ptr<int64_t>(), out.data_ptr<int64_t>() + out.numel());
    }
    std::lock_guard<std::mutex> lock(mu);
    members[world->rank()] = mine;
    all[world->rank()] = g;
  });
  for (int r = 0; r < n; ++r) {
    RankCoord c = coord_of(dims, r);
    EXPECT_EQ(all[r].coord.t, c.t);
    EXPECT_EQ(all[r].tp->name(), "tp");
    EXPECT_EQ(all[r].edp->name(), "edp");
    // Expected members from the coordinates, in new-rank order.
    std::vector<int64_t> tp, ep, dp, edp, mp;
    for (int q = 0; q < n; ++q) {
      RankCoord o = coord_of(dims, q);
      if (o.d == c.d && o.e == c.e) tp.push_back(q);
      if (o.d == c.d && o.t == c.t) ep.push_back(q);
      if (o.e == c.e && o.t == c.t) dp.push_back(q);
      if (o.t == c.t) edp.push_back(q);
      if (o.d == c.d) mp.push_back(q);
    }
    EXPECT_EQ(members[r][0], tp) << "rank " << r;
    EXPECT_EQ(members[r][1], ep) << "rank " << r;
    EXPECT_EQ(members[r][2], dp) << "rank " << r;
    EXPECT_EQ(members[r][3], edp) << "rank " << r;
    EXPECT_EQ(members[r][4], mp) << "rank " << r;
    EXPECT_EQ(all[r].tp->rank(), c.t);
    EXPECT_EQ(all[r].ep->rank(), c.e);
    EXPECT_EQ(all[r].dp->rank(), c.d);
  }
}

TEST(ProcessGroups, EveryLayoutOfTwoRanks) {
  check_layout(2, {.dp = 2, .tp = 1, .ep = 1});
  check_layout(2, {.dp = 1, .tp = 2, .ep = 1});
  check_layout(2, {.dp = 1, .tp = 1, .ep = 2});
}

TEST(ProcessGroups, EveryLayoutOfFourRanks) {
  check_layout(4, {.dp = 4, .tp = 1, .ep = 1});
  check_layout(4, {.dp = 2, .tp = 2, .ep = 1});
  check_layout(4, {.dp = 2, .tp = 1, .ep = 2});
  check_layout(4, {.dp = 1, .tp = 2, .ep = 2});
  check_layout(4, {.dp = 1, .tp = 4, .ep = 1});
  check_layout(4, {.dp = 1, .tp = 1, .ep = 4});
}

TEST(ProcessGroups, WrongWorldSizeFailsOnEveryRank) {
  try {
    run_world(4, [](const CommunicatorPtr& world) { make_groups(world, {.dp = 3}); });
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_EQ(std::string(e.what()), "parallel: dp*tp*ep = 3*1*1 = 3 but the world has 4 ranks");
  }
}

}  // namespace
}  // namespace seller::dist
