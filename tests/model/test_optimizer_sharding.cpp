// ZeRO-1 by whole parameters (trainer/train/optimizer_sharding.h) on in-process ranks: the owner
// map is the same on every rank, covers every parameter once and balances the elements; each
// rank's AdamW over its own parameters followed by gather_parameters() gives every rank the
// parameters of one unsharded AdamW on the same gradients, bit for bit; all_steps() collects
// every parameter's step count; too few tensors for the ranks is a clear error.
// (End to end through `seller train` and its checkpoints: tests/integration/test_train_zero.cpp.)
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <mutex>
#include <numeric>
#include <string>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "trainer/core/error.h"
#include "trainer/train/optimizer_sharding.h"

namespace seller::train {
namespace {

const std::vector<std::vector<int64_t>> kShapes = {{40, 8}, {8}, {16, 16}, {3}, {64}, {5, 7}};

// Tensors of uneven sizes, the same values on every rank: each call draws from its own
// generator, since the ranks are threads and the global generator would be shared among them.
OptimizerSharding::NamedParams make_params() {
  auto gen = at::detail::createCPUGenerator(5);
  OptimizerSharding::NamedParams out;
  for (size_t i = 0; i < kShapes.size(); ++i)
    out.emplace_back("p" + std::to_string(i), torch::randn(kShapes[i], gen).requires_grad_(true));
  return out;
}

std::vector<torch::Tensor> gradients(int step) {
  auto gen = at::detail::createCPUGenerator(static_cast<uint64_t>(100 + step));
  std::vector<torch::Tensor> g;
  for (const auto& shape : kShapes) g.push_back(torch::randn(shape, gen));
  return g;
}

TEST(OptimizerSharding, OwnersStepAndGatherEqualsOneAdamWBitForBit) {
  // The reference: one AdamW over every parameter, three steps.
  auto ref = make_params();
  {
    std::vector<torch::Tensor> ps;
    for (auto& [n, p] : ref) ps.push_back(p);
    torch::optim::AdamW opt(ps, torch::optim::AdamWOptions(0.01).weight_decay(0.1));
    for (int s = 0; s < 3; ++s) {
      const auto g = gradients(s);
      for (size_t i = 0; i < ps.size(); ++i) ps[i].mutable_grad() = g[i].clone();
      opt.step();
    }
  }
  for (const int world : {2, 3}) {
    SCOPED_TRACE(world);
    std::mutex mu;
    std::vector<std::vector<std::string>> owned_by(static_cast<size_t>(world));
    std::vector<int64_t> loads(static_cast<size_t>(world));
    dist::run_world(world, [&](const dist::CommunicatorPtr& comm) {
      auto params = make_params();
      OptimizerSharding sharding(params, comm);
      std::vector<torch::Tensor> mine;
      for (auto& [n, p] : sharding.owned()) mine.push_back(p);
      torch::optim::AdamW opt(mine, torch::optim::AdamWOptions(0.01).weight_decay(0.1));
      for (int s = 0; s < 3; ++s) {
        const auto g = gradients(s);
        for (size_t i = 0; i < params.size(); ++i) params[i].second.mutable_grad() = g[i].clone();
        opt.step();
        sharding.gather_parameters();
      }
      const auto steps = sharding.all_steps(opt);
      std::lock_guard<std::mutex> lock(mu);
      for (size_t i = 0; i < params.size(); ++i) {
        EXPECT_TRUE(torch::equal(params[i].second, ref[i].second))
            << "rank " << comm->rank() << " " << params[i].first;
        EXPECT_EQ(steps.value(params[i].first, -1), 3) << params[i].first;
      }
      for (auto& [n, p] : sharding.owned())
        owned_by[static_cast<size_t>(comm->rank())].push_back(n);
      loads[static_cast<size_t>(comm->rank())] = sharding.owned_numel();
      EXPECT_EQ(opt.state().size(), sharding.owned().size());  // state for owned tensors only
    });
    // Every parameter has exactly one owner, every rank owns something, and the split is even
    // up to the largest tensor (320 elements).
    std::vector<std::string> all;
    for (const auto& v : owned_by) {
      EXPECT_FALSE(v.empty());
      all.insert(all.end(), v.begin(), v.end());
    }
    std::sort(all.begin(), all.end());
    EXPECT_EQ(all, (std::vector<std::string>{"p0", "p1", "p2", "p3", "p4", "p5"}));
    const auto [lo, hi] = std::minmax_element(loads.begin(), loads.end());
    EXPECT_LE(*hi - *lo, 320);
    EXPECT_EQ(std::accumulate(loads.begin(), loads.end(), int64_t{0}), 320 + 8 + 256 + 3 + 64 + 35);
  }
}

TEST(OptimizerSharding, MoreRanksThanTensorsIsAClearError) {
  dist::run_world(3, [&](const dist::CommunicatorPtr& comm) {
    OptimizerSharding::NamedParams two = {{"a", torch::zeros({4})}, {"b", torch::zeros({2})}};
    try {
      OptimizerSharding s(two, comm);
      ADD_FAILURE() << "3 ranks over 2 tensors were accepted";
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find("3 data-parallel ranks but only 2 trainable tensors"),
                std::string::npos)
          << e.what();
    }
  });
}

}  // namespace
}  // namespace seller::train
