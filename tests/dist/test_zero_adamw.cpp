// ZeRO-1 AdamW at dp = 2 and 4 (in-process ranks): with the global batch split across ranks and
// gradients averaged by DistributedDataParallel, the optimizer state sharded over the ranks and
// the updated shards all-gathered, the parameters after every step equal plain torch AdamW on one
// process with the whole batch (weight decay on, a parameter count that does not divide by the
// number of ranks, so the padding path runs). Each rank holds only its 1/dp of the state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/ddp/ddp.h"
#include "dist/optim/zero_adamw.h"

namespace seller::dist {
namespace {

constexpr int kSteps = 4;
constexpr double kTol = 1e-6;

struct Net : torch::nn::Module {
  Net() {
    fc1 = register_module("fc1", torch::nn::Linear(5, 7));  // 42 parameters
    fc2 = register_module("fc2", torch::nn::Linear(7, 3));  // 24: 66 in all, not divisible by 4
  }
  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::tanh(fc1(x))); }
  torch::nn::Linear fc1{nullptr}, fc2{nullptr};
};

struct Data {
  std::vector<torch::Tensor> init, params_after;  // per parameter / per step (flattened)
  std::vector<torch::Tensor> x, y;
};

torch::Tensor flat(const std::vector<torch::Tensor>& ps) {
  std::vector<torch::Tensor> parts;
  for (const auto& p : ps) parts.push_back(p.detach().reshape(-1));
  return torch::cat(parts);
}

Data reference() {
  Data d;
  torch::manual_seed(3);
  auto net = std::make_shared<Net>();
  for (auto& p : net->parameters()) d.init.push_back(p.detach().clone());
  torch::optim::AdamW opt(net->parameters(), torch::optim::AdamWOptions(0.05).weight_decay(0.1));
  auto gen = at::make_generator<at::CPUGeneratorImpl>(9);
  for (int s = 0; s < kSteps; ++s) {
    d.x.push_back(torch::randn({8, 5}, gen, torch::kFloat32));
    d.y.push_back(torch::randn({8, 3}, gen, torch::kFloat32));
    opt.zero_grad();
    torch::mse_loss(net->forward(d.x.back()), d.y.back()).backward();
    opt.step();
    d.params_after.push_back(flat(net->parameters()));
  }
  return d;
}

// The test body over any backend's data-parallel group.
void zero_case(const CommunicatorPtr& dp, const Data& ref) {
  auto net = std::make_shared<Net>();
  auto params = net->parameters();
  {
    torch::NoGradGuard no_grad;
    for (size_t i = 0; i < params.size(); ++i) params[i].copy_(ref.init[i]);
  }
  std::vector<std::pair<std::string, torch::Tensor>> named;
  for (auto& p : net->named_parameters()) named.emplace_back(p.key(), p.value());
  DistributedDataParallel ddp(named, dp);
  ZeroAdamW opt(params, dp, ZeroAdamWOptions{.lr = 0.05, .weight_decay = 0.1});
  EXPECT_EQ(opt.exp_avg().numel(), (66 + dp->size() - 1) / dp->size());
  const int64_t local = 8 / dp->size(), begin = local * dp->rank();
  for (int s = 0; s < kSteps; ++s) {
    opt.zero_grad();
    torch::mse_loss(net->forward(ref.x[s].narrow(0, begin, local)),
                    ref.y[s].narrow(0, begin, local))
        .backward();
    ddp.finish();
    opt.step();
    const double diff = (flat(params) - ref.params_after[s]).abs().max().item<double>();
    EXPECT_LE(diff, kTol) << "step " << s << " rank " << dp->rank();
  }
  EXPECT_EQ(opt.step_count(), kSteps);
}

class ZeroTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

TEST_P(ZeroTest, ShardedAdamWEqualsPlainAdamW) {
  const auto ref = reference();
  run_world(GetParam(), [&](const CommunicatorPtr& world) { zero_case(world, ref); });
}

INSTANTIATE_TEST_SUITE_P(Ranks, ZeroTest, ::testing::Values(2, 4));

}  // namespace
}  // namespace seller::dist
