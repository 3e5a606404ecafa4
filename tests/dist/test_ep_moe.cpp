// Expert-parallel MoE at ep = 2 and 4 (in-process ranks) against the single-process MoeLayer on
// the same weights and the union of all ranks' tokens (rank 0's first): outputs, aux and z
// losses, the kept/dropped assignments, the gradient of every rank's input, the router gradient
// summed over the group and the expert gradients gathered by global expert id. Cases: dropless,
// tight capacity (drops decided across ranks), sigmoid gating, a rank with zero tokens, and
// experts (a whole rank's) that receive no token at all.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <numeric>
#include <string>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/ep/ep_moe_layer.h"
#include "trainer/core/error.h"
#include "trainer/model/moe/moe_layer.h"

namespace seller::dist {
namespace {

constexpr double kTol = 1e-5;
constexpr int64_t kIn = 6, kHidden = 10, kOut = 5, kExperts = 8;

struct Case {
  std::string name;
  model::MoeOptions options;
  std::vector<int64_t> tokens_per_rank;  // sized for the largest ep; trimmed per run
  bool starve_last_rank = false;         // the last rank's experts never get a token
};

struct Reference {
  std::map<std::string, torch::Tensor> state, grads;
  torch::Tensor x, probe, out, aux, z, x_grad;
  model::MoeStats stats;
};

Reference make_reference(const Case& c, int ep) {
  Reference ref;
  model::MoeLayer full(kIn, kHidden, kOut, c.options);
  const int64_t n =
      std::accumulate(c.tokens_per_rank.begin(), c.tokens_per_rank.begin() + ep, int64_t{0});
  auto gen = at::make_generator<at::CPUGeneratorImpl>(5);
  ref.x = torch::randn({n, kIn}, gen, torch::kFloat32);
  if (c.starve_last_rank) {
    // Positive inputs and strongly negative gate rows: the last rank's experts never win.
    ref.x = ref.x.abs() + 0.1;
    torch::NoGradGuard no_grad;
    full->router->gate->weight.narrow(0, kExperts - kExperts / ep, kExperts / ep).fill_(-5.0);
  }
  ref.probe = torch::randn({n, kOut}, gen, torch::kFloat32);
  for (auto& p : full->named_parameters()) ref.state[p.key()] = p.value().detach().clone();
  auto x = ref.x.clone().requires_grad_(true);
  auto out = full->forward(x);
  ((out.output * ref.probe).sum() + out.aux_loss + out.z_loss).backward();
  ref.out = out.output.detach();
  ref.aux = out.aux_loss.detach();
  ref.z = out.z_loss.detach();
  ref.stats = out.stats;
  ref.x_grad = x.grad();
  for (auto& p : full->named_parameters()) ref.grads[p.key()] = p.value().grad().clone();
  return ref;
}

void expect_close(const torch::Tensor& a, const torch::Tensor& b, const std::string& what) {
  ASSERT_EQ(a.sizes(), b.sizes()) << what;
  if (a.numel() == 0) return;
  const double diff = (a - b).abs().max().item<double>();
  EXPECT_LE(diff, kTol) << what << ": max |diff| " << diff;
}

// The test body over any backend's expert-parallel group.
void ep_moe_case(const CommunicatorPtr& ep, const Case& c, const Reference& ref) {
  const int r = ep->rank();
  const int64_t begin =
      std::accumulate(c.tokens_per_rank.begin(), c.tokens_per_rank.begin() + r, int64_t{0});
  const int64_t n = c.tokens_per_rank[r];
  EpMoeLayer layer(kIn, kHidden, kOut, c.options, ep);
  layer->load_full_state(ref.state);
  auto x = ref.x.narrow(0, begin, n).clone().requires_grad_(true);
  auto out = layer->forward(x);
  expect_close(out.output, ref.out.narrow(0, begin, n), c.name + " output");
  EXPECT_NEAR(out.aux_loss.item<double>(), ref.aux.item<double>(), kTol) << c.name;
  EXPECT_NEAR(out.z_loss.item<double>(), ref.z.item<double>(), kTol) << c.name;
  ((out.output * ref.probe.narrow(0, begin, n)).sum() + out.aux_loss + out.z_loss).backward();
  expect_close(x.grad(), ref.x_grad.narrow(0, begin, n), c.name + " input gradient");

  // Router: replicated; each rank holds its tokens' share, the group's sum is the full gradient.
  auto router_grad = layer->router->gate->weight.grad().clone();
  ep->all_reduce(router_grad, ReduceOp::kSum);
  expect_close(router_grad, ref.grads.at("router.gate.weight"), c.name + " router gradient");
  // Experts: gathered by global expert id (rank q holds experts [q*E/P, (q+1)*E/P)).
  for (auto& p : layer->experts->named_parameters(/*recurse=*/false)) {
    auto g = p.value().grad();
    g = g.defined() ? g.contiguous() : torch::zeros_like(p.value());
    auto sizes = g.sizes().vec();
    sizes[0] *= ep->size();
    auto all = torch::empty(sizes, g.options());
    ep->all_gather(g, all);
    expect_close(all, ref.grads.at("experts." + p.key()), c.name + " experts." + p.key());
  }
  // Statistics summed over the group equal the single-process ones.
  auto kept = torch::tensor(out.stats.tokens_per_expert, torch::kLong);
  ep->all_reduce(kept, ReduceOp::kSum);
  EXPECT_TRUE(kept.equal(torch::tensor(ref.stats.tokens_per_expert, torch::kLong))) << c.name;
  auto dropped = torch::tensor({out.stats.dropped}, torch::kLong);
  ep->all_reduce(dropped, ReduceOp::kSum);
  EXPECT_EQ(dropped.item<int64_t>(), ref.stats.dropped) << c.name;
}

std::vector<Case> cases() {
  auto opts = [](std::string gating, bool dropless, double cf) {
    model::MoeOptions o;
    o.num_experts = kExperts, o.top_k = 2, o.gating = gating, o.dropless = dropless;
    o.capacity_factor = cf, o.aux_loss_weight = 0.5, o.z_loss_weight = 0.25;
    return o;
  };
  return {
      {"dropless", opts("softmax", true, 1.0), {7, 5, 9, 6}},
      {"tight_capacity", opts("softmax", false, 0.5), {9, 11, 8, 10}},
      {"sigmoid", opts("sigmoid", false, 1.25), {6, 8, 7, 5}},
      {"zero_token_rank", opts("softmax", false, 1.0), {0, 12, 0, 9}},
      {"zero_token_experts", opts("softmax", true, 1.0), {8, 6, 7, 9}, true},
  };
}

class EpMoeTest : public ::testing::TestWithParam<int> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

TEST_P(EpMoeTest, EqualsSingleProcessOnTheUnionOfTokens) {
  const int ep = GetParam();
  for (const auto& c : cases()) {
    SCOPED_TRACE(c.name);
    const auto ref = make_reference(c, ep);
    if (c.name == "tight_capacity") {
      ASSERT_GT(ref.stats.dropped, 0) << "the case must drop";
    }
    if (c.starve_last_rank) {
      for (int64_t g = kExperts - kExperts / ep; g < kExperts; ++g)
        ASSERT_EQ(ref.stats.tokens_per_expert[g], 0) << "expert " << g << " must get no token";
    }
    run_world(ep, [&](const CommunicatorPtr& world) { ep_moe_case(world, c, ref); });
  }
}

INSTANTIATE_TEST_SUITE_P(Ranks, EpMoeTest, ::testing::Values(2, 4));

TEST(EpMoeLayout, ExpertsMustSplitEvenly) {
  run_world(3, [](const CommunicatorPtr& ep) {
    model::MoeOptions o;
    o.num_experts = 8;
    EXPECT_THROW(EpMoeLayer(4, 4, 4, o, ep), ConfigError);
  });
  EXPECT_TRUE(EpMoeLayerImpl::is_expert_parameter("experts.w1"));
  EXPECT_TRUE(EpMoeLayerImpl::is_expert_parameter("adapter.moe.experts.b2"));
  EXPECT_FALSE(EpMoeLayerImpl::is_expert_parameter("router.gate.weight"));
}

}  // namespace
}  // namespace seller::dist
