// MoE layer on CPU against an independent naive reference written as per-token loops on the same
// weights (outputs and gradients, softmax and sigmoid gating, dropless, roomy and tight capacity),
// plus hand-constructed cases: which assignments capacity drops, aux/z-loss values from known
// logits, an expert that receives no token, phases called one by one, expert ranges, options.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <numeric>
#include <string>
#include <tuple>
#include <vector>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/model/moe/dense_dispatch.h"
#include "trainer/model/moe/moe_layer.h"
#include "trainer/model/state_io.h"

namespace seller::model {
namespace {

MoeStats settled_stats(std::vector<int64_t> per_expert, int64_t assignments, int64_t dropped) {
  MoeStats s;
  s.tokens_per_expert = std::move(per_expert);
  s.assignments = assignments;
  s.dropped = dropped;
  return s;
}

MoeOptions small_options(const std::string& gating, bool dropless, double capacity_factor) {
  MoeOptions o;
  o.num_experts = 4, o.top_k = 2, o.gating = gating, o.dropless = dropless;
  o.capacity_factor = capacity_factor, o.aux_loss_weight = 0.5, o.z_loss_weight = 0.25;
  return o;
}

torch::Tensor gelu_ref(const torch::Tensor& h) {
  return 0.5 * h * (1.0 + torch::erf(h / std::sqrt(2.0)));
}

// The reference: token by token, router scores, host-side top-k, each picked expert's MLP on
// the token alone, weighted sum. Capacity: per-expert counters in token order. The kept mask is
// returned through `kept` ([n][slot]) in the order of decreasing score.
torch::Tensor naive_moe(MoeLayer& layer, const torch::Tensor& x, int64_t capacity,
                        std::vector<std::vector<bool>>* kept = nullptr) {
  const auto& o = layer->options();
  const auto& wr = layer->router->gate->weight;  // [E, d_in]
  const auto& ex = layer->experts;
  std::vector<int64_t> used(o.num_experts, 0);
  std::vector<torch::Tensor> rows;
  if (kept) kept->clear();
  for (int64_t n = 0; n < x.size(0); ++n) {
    auto xn = x[n];
    std::vector<torch::Tensor> logit;
    for (int64_t e = 0; e < o.num_experts; ++e) logit.push_back((xn * wr[e]).sum());
    auto l = torch::stack(logit);
    auto p = o.gating == "softmax" ? torch::exp(l - l.max()) / torch::exp(l - l.max()).sum()
                                   : 1.0 / (1.0 + torch::exp(-l));
    std::vector<double> pv(o.num_experts);
    for (int64_t e = 0; e < o.num_experts; ++e) pv[e] = p[e].item<double>();
    std::vector<int64_t> idx(o.num_experts);
    std::iota(idx.begin(), idx.end(), 0);
    std::stable_sort(idx.begin(), idx.end(), [&](int64_t a, int64_t b) { return pv[a] > pv[b]; });
    auto denom =
        p.index_select(0, torch::tensor(std::vector<int64_t>(idx.begin(), idx.begin() + o.top_k)))
            .sum();
    auto acc = torch::zeros({ex->w2.size(2)}, x.options());
    std::vector<bool> kept_row;
    for (int64_t s = 0; s < o.top_k; ++s) {
      const int64_t e = idx[s];
      const bool keep = capacity < 0 || used[e] < capacity;
      kept_row.push_back(keep);
      if (!keep) continue;
      ++used[e];
      auto h = gelu_ref(torch::matmul(xn, ex->w1[e]) + ex->b1[e]);
      acc = acc + (p[e] / denom) * (torch::matmul(h, ex->w2[e]) + ex->b2[e]);
    }
    if (kept) kept->push_back(kept_row);
    rows.push_back(acc);
  }
  return torch::stack(rows);
}

std::vector<torch::Tensor> grads_of(MoeLayer& layer, const torch::Tensor& x) {
  std::vector<torch::Tensor> g{x.grad().clone()};
  for (const auto& p : layer->parameters()) g.push_back(p.grad().clone());
  return g;
}

void zero_grads(MoeLayer& layer, torch::Tensor& x) {
  x.mutable_grad() = torch::Tensor();
  for (auto& p : layer->parameters()) p.mutable_grad() = torch::Tensor();
}

class MoeReference
    : public ::testing::TestWithParam<std::tuple<std::string, bool, double, bool, std::string>> {};

TEST_P(MoeReference, OutputAndGradientsMatchPerTokenLoop) {
  const auto [gating, dropless, cf, expect_drops, dispatch] = GetParam();
  torch::manual_seed(7);
  MoeOptions o = small_options(gating, dropless, cf);
  o.dispatch = dispatch;
  MoeLayer layer(6, 10, 5, o);
  auto x = torch::randn({16, 6}).requires_grad_(true);
  auto r = torch::randn({16, 5});

  MoeOutput out = layer->forward(x);
  // The dense dispatch leaves its counts on the device until settled; the sorted one never.
  EXPECT_EQ(out.stats.settled(), dispatch == "sorted");
  out.stats.settle();
  (out.output * r).sum().backward();
  auto got = grads_of(layer, x);
  zero_grads(layer, x);

  const int64_t cap = layer->capacity(16);
  std::vector<std::vector<bool>> kept;
  auto ref = naive_moe(layer, x, cap, &kept);
  (ref * r).sum().backward();
  auto want = grads_of(layer, x);

  int64_t ref_dropped = 0;
  for (const auto& row : kept) ref_dropped += std::count(row.begin(), row.end(), false);
  EXPECT_EQ(out.stats.dropped, ref_dropped);
  EXPECT_EQ(out.stats.assignments, 32);
  EXPECT_EQ(ref_dropped > 0, expect_drops) << "the case does not test what it claims";
  EXPECT_TRUE(torch::allclose(out.output, ref, 1e-5, 1e-5))
      << (out.output - ref).abs().max().item<double>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) {
    EXPECT_GT(want[i].abs().sum().item<double>(), 0.0) << "gradient " << i << " is all zero";
    EXPECT_TRUE(torch::allclose(got[i], want[i], 1e-4, 1e-5))
        << "gradient " << i << " differs by " << (got[i] - want[i]).abs().max().item<double>();
  }
}

std::vector<std::tuple<std::string, bool, double, bool, std::string>> reference_cases() {
  std::vector<std::tuple<std::string, bool, double, bool, std::string>> out;
  for (const char* dispatch : {"sorted", "dense"}) {
    for (const char* gating : {"softmax", "sigmoid"}) {
      out.emplace_back(gating, true, 1.0, false, dispatch);   // dropless
      out.emplace_back(gating, false, 4.0, false, dispatch);  // capacity 32 >= N
      out.emplace_back(gating, false, 0.5, true, dispatch);   // capacity 4: drops
    }
  }
  return out;
}

INSTANTIATE_TEST_SUITE_P(Gating, MoeReference, ::testing::ValuesIn(reference_cases()));

// Router weight 10 * I and x = 2 e_a + e_b: token picks expert a first, then b.
TEST(MoeCapacity, DropsLaterTokensFirstComeInTokenOrder) {
  MoeOptions o = small_options("softmax", false, 1.0);
  torch::manual_seed(3);
  MoeLayer layer(4, 8, 3, o);
  {
    torch::NoGradGuard g;
    layer->router->gate->weight.copy_(10.0 * torch::eye(4));
  }
  auto x = torch::tensor({{2.f, 1.f, 0.f, 0.f},    // t0 -> experts 0, 1
                          {2.f, 0.f, 1.f, 0.f},    // t1 -> 0, 2
                          {2.f, 1.f, 0.f, 0.f},    // t2 -> 0, 1
                          {1.f, 2.f, 0.f, 0.f}});  // t3 -> 1, 0
  ASSERT_EQ(layer->capacity(4), 2);                // ceil(1.0 * 4 * 2 / 4)
  Routing r = layer->route(x);
  Dispatch d = layer->permute(x, r);
  // Expert 0 queue t0 t1 t2 t3 keeps t0 t1; expert 1 queue t0 t2 t3 keeps t0 t2; expert 2: t1.
  auto want_kept = torch::tensor({{true, true}, {true, true}, {false, true}, {false, false}});
  EXPECT_TRUE(torch::equal(d.kept, want_kept)) << d.kept;
  EXPECT_TRUE(torch::equal(d.token_index, torch::tensor({0, 1, 0, 2, 1}, torch::kLong)));
  EXPECT_TRUE(torch::equal(d.slot_index, torch::tensor({0, 0, 1, 1, 1}, torch::kLong)));
  MoeOutput out = layer->forward(x);
  EXPECT_EQ(out.stats.dropped, 3);
  EXPECT_EQ(out.stats.tokens_per_expert, (std::vector<int64_t>{2, 2, 1, 0}));
  EXPECT_EQ(out.output[3].abs().max().item<float>(), 0.0f);  // every assignment dropped
  std::vector<std::vector<bool>> kept;
  auto ref = naive_moe(layer, x, 2, &kept);
  EXPECT_TRUE(torch::allclose(out.output, ref, 1e-5, 1e-5));
  EXPECT_EQ(kept[2], (std::vector<bool>{false, true}));

  o.dropless = true;
  MoeLayer free_layer(4, 8, 3, o);
  MoeOutput all = free_layer->forward(x);
  EXPECT_EQ(all.stats.dropped, 0);
  EXPECT_EQ(free_layer->capacity(4), -1);
  EXPECT_EQ(std::accumulate(all.stats.tokens_per_expert.begin(), all.stats.tokens_per_expert.end(),
                            int64_t{0}),
            8);
}

TEST(MoeCapacity, FormulaRoundsUp) {
  MoeOptions o;                               // 8 experts, top-2, factor 1.25
  EXPECT_EQ(expert_capacity(o, 8), 3);        // 2.5 -> 3
  EXPECT_EQ(expert_capacity(o, 4096), 1280);  // exact
  o.capacity_factor = 1.0;
  EXPECT_EQ(expert_capacity(o, 12), 3);  // exact: not pushed to 4 by rounding
  o.dropless = true;
  EXPECT_EQ(expert_capacity(o, 12), -1);
}

// Known logits through x = I and router weight = logitsᵀ; the losses by hand in doubles.
TEST(MoeLosses, AuxAndZLossEqualHandComputedValues) {
  const double lg[2][3] = {{1.0, 2.0, 0.5}, {0.3, -1.0, 2.5}};
  for (const std::string gating : {"softmax", "sigmoid"}) {
    MoeOptions o = small_options(gating, true, 1.0);
    o.num_experts = 3;
    MoeLayer layer(2, 4, 2, o);
    {
      torch::NoGradGuard g;
      layer->router->gate->weight.copy_(torch::tensor({{1.0f, 0.3f}, {2.0f, -1.0f}, {0.5f, 2.5f}}));
    }
    MoeOutput out = layer->forward(torch::eye(2));
    // Top-2 is {1, 0} for token 0 and {2, 0} for token 1 under both gatings.
    const double f[3] = {2.0 / 4, 1.0 / 4, 1.0 / 4};
    double mean_p[3] = {0, 0, 0}, z = 0;
    for (const auto& row : lg) {
      double p[3], sum = 0, sum_exp = 0;
      for (int e = 0; e < 3; ++e) {
        p[e] = gating == "softmax" ? std::exp(row[e]) : 1.0 / (1.0 + std::exp(-row[e]));
        sum += p[e];
        sum_exp += std::exp(row[e]);
      }
      for (int e = 0; e < 3; ++e) mean_p[e] += p[e] / sum / 2.0;
      z += std::pow(std::log(sum_exp), 2) / 2.0;
    }
    double aux = 0;
    for (int e = 0; e < 3; ++e) aux += f[e] * mean_p[e];
    aux *= 3 * 0.5;
    EXPECT_NEAR(out.aux_loss.item<double>(), aux, 1e-6) << gating;
    EXPECT_NEAR(out.z_loss.item<double>(), z * 0.25, 1e-5) << gating;
    EXPECT_EQ(out.stats.tokens_per_expert, (std::vector<int64_t>{2, 1, 1})) << gating;
  }
}

TEST(MoeLayer, ExpertWithoutTokensGetsZeroGradAndNoNaN) {
  for (bool dropless : {true, false}) {
    torch::manual_seed(11);
    MoeLayer layer(6, 10, 5, small_options("softmax", dropless, 1.25));
    {
      torch::NoGradGuard g;
      layer->router->gate->weight[3].fill_(-5.0);  // x > 0, so expert 3 always scores lowest
    }
    auto x = (torch::rand({12, 6}) + 0.1).requires_grad_(true);
    MoeOutput out = layer->forward(x);
    ASSERT_EQ(out.stats.tokens_per_expert[3], 0);
    (out.output.pow(2).sum() + out.aux_loss + out.z_loss).backward();
    for (const auto& p : layer->named_parameters()) {
      ASSERT_TRUE(p.value().grad().defined()) << p.key();
      EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
    }
    EXPECT_TRUE(torch::isfinite(x.grad()).all().item<bool>());
    const auto& ex = layer->experts;
    for (const auto& w : {ex->w1, ex->b1, ex->w2, ex->b2}) {
      EXPECT_EQ(w.grad()[3].abs().max().item<float>(), 0.0f);
      EXPECT_GT(w.grad()[0].abs().max().item<float>(), 0.0f);
    }
    // The router still learns about expert 3 through the probabilities (aux and z-loss).
    EXPECT_GT(layer->router->gate->weight.grad()[3].abs().max().item<float>(), 0.0f);
  }
}

TEST(MoeLayer, PhasesOneByOneEqualForwardAndEmptyInputWorks) {
  torch::manual_seed(5);
  MoeLayer layer(6, 10, 5, small_options("sigmoid", false, 1.0));
  auto x = torch::randn({20, 6});
  MoeOutput whole = layer->forward(x);
  Routing r = layer->route(x);
  Dispatch d = permute(x, r, expert_capacity(layer->options(), 20));
  EXPECT_EQ(d.counts.scalar_type(), torch::kLong);
  EXPECT_EQ(d.tokens.size(0), d.counts.sum().item<int64_t>());
  auto y = layer->run_experts(d);
  EXPECT_EQ(y.sizes(), (std::vector<int64_t>{d.tokens.size(0), 5}));
  auto out = combine(y, d, r, 20);
  EXPECT_TRUE(torch::equal(out, whole.output));
  EXPECT_GT(whole.stats.dropped, 0);  // capacity 10 for 40 assignments on 4 experts

  MoeOutput empty = layer->forward(torch::zeros({0, 6}));
  EXPECT_EQ(empty.output.sizes(), (std::vector<int64_t>{0, 5}));
  EXPECT_EQ(empty.aux_loss.item<float>(), 0.0f);
}

// Two modules owning experts [0, 1) and [1, 4) with the full module's weights reproduce its
// output rows: the layout an expert-parallel layer uses, without the all-to-all.
TEST(MoeLayer, ExpertRangesTogetherEqualAllExperts) {
  torch::manual_seed(9);
  MoeLayer layer(6, 10, 5, small_options("softmax", true, 1.0));
  Experts lo(6, 10, 5, 4, 0, 1), hi(6, 10, 5, 4, 1, 3);
  {
    torch::NoGradGuard g;
    for (auto [part, a, n] : {std::tuple{lo, 0, 1}, std::tuple{hi, 1, 3}}) {
      part->w1.copy_(layer->experts->w1.narrow(0, a, n));
      part->b1.copy_(layer->experts->b1.narrow(0, a, n));
      part->w2.copy_(layer->experts->w2.narrow(0, a, n));
      part->b2.copy_(layer->experts->b2.narrow(0, a, n));
    }
  }
  auto x = torch::randn({10, 6});
  Routing r = layer->route(x);
  Dispatch d = layer->permute(x, r);
  auto joined = torch::cat({lo->run_experts(d), hi->run_experts(d)}, 0);
  EXPECT_TRUE(torch::allclose(joined, layer->run_experts(d), 1e-6, 1e-6));
  auto named = hi->expert_named_parameters();
  ASSERT_EQ(named.size(), 12u);
  EXPECT_EQ(named[0].first, "1.w1");
  EXPECT_EQ(named[11].first, "3.b2");
  EXPECT_TRUE(torch::equal(named[4].second, layer->experts->w1[2]));
}

TEST(MoeLayer, JitterOnlyInTraining) {
  torch::manual_seed(4);
  MoeOptions o = small_options("softmax", true, 1.0);
  o.router_jitter = 0.3;
  MoeLayer layer(6, 10, 5, o);
  auto x = torch::randn({8, 6});
  EXPECT_FALSE(torch::equal(layer->route(x).logits, layer->route(x).logits));
  layer->eval();
  EXPECT_TRUE(torch::equal(layer->route(x).logits, layer->route(x).logits));
}

TEST(MoeOptions, ValidateNamesOptionAndValue) {
  auto message = [](MoeOptions o) -> std::string {
    try {
      o.validate();
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  MoeOptions o;
  EXPECT_EQ(message(o), "");
  o.top_k = 9;
  EXPECT_NE(message(o).find("moe.top_k must be in [1, num_experts], got 9"), std::string::npos);
  o = {}, o.gating = "relu";
  EXPECT_NE(message(o).find("moe.gating"), std::string::npos);
  EXPECT_NE(message(o).find("relu"), std::string::npos);
  o = {}, o.capacity_factor = 0.0;
  EXPECT_NE(message(o).find("moe.capacity_factor"), std::string::npos);
  o = {}, o.num_experts = 0;
  EXPECT_NE(message(o).find("moe.num_experts"), std::string::npos);
  o = {}, o.router_jitter = 1.0;
  EXPECT_NE(message(o).find("moe.router_jitter"), std::string::npos);
  o = {}, o.aux_loss_weight = -1;
  EXPECT_NE(message(o).find("moe.aux_loss_weight"), std::string::npos);
  EXPECT_THROW(MoeLayer(4, 4, 4, o), ConfigError);
}

TEST(MoeStats, AddSumsElementwise) {
  MoeStats total;
  total.add(settled_stats({1, 2, 3}, 8, 2));
  total.add(settled_stats({0, 4, 1}, 6, 1));
  EXPECT_EQ(total.tokens_per_expert, (std::vector<int64_t>{1, 6, 4}));
  EXPECT_EQ(total.assignments, 14);
  EXPECT_EQ(total.dropped, 3);
  EXPECT_NEAR(total.drop_fraction(), 3.0 / 14, 1e-12);
}

TEST(MoeDenseDispatch, SameCountsOutputsAndLossesAsSortedIncludingEmptyInput) {
  torch::manual_seed(11);
  for (const double cf : {0.5, 1.0, 4.0}) {
    MoeOptions o = small_options("softmax", false, cf);
    MoeLayer sorted(6, 10, 5, o);
    o.dispatch = "dense";
    MoeLayer dense(6, 10, 5, o);
    {
      torch::NoGradGuard no_grad;
      auto from = sorted->parameters(), to = dense->parameters();
      ASSERT_EQ(from.size(), to.size());
      for (size_t i = 0; i < from.size(); ++i) to[i].copy_(from[i]);
    }
    for (const int64_t n : {int64_t{0}, int64_t{1}, int64_t{24}}) {
      const auto x = torch::randn({n, 6});
      MoeOutput a = sorted->forward(x), b = dense->forward(x);
      ASSERT_FALSE(b.stats.settled());
      EXPECT_EQ(b.stats.assignments, 0);  // nothing counted before settle()
      b.stats.settle();
      EXPECT_EQ(b.stats.tokens_per_expert, a.stats.tokens_per_expert) << cf << " " << n;
      EXPECT_EQ(b.stats.dropped, a.stats.dropped);
      EXPECT_EQ(b.stats.assignments, n * 2);
      EXPECT_TRUE(torch::allclose(a.output, b.output, 1e-6, 1e-6)) << cf << " " << n;
      EXPECT_TRUE(torch::equal(a.aux_loss, b.aux_loss));
      EXPECT_TRUE(torch::equal(a.z_loss, b.z_loss));
      // The kept mask is permute()'s.
      const Routing r = dense->route(x);
      EXPECT_TRUE(
          torch::equal(dense_dispatch(r, 4, dense->capacity(n)).kept, sorted->permute(x, r).kept));
    }
  }
}

TEST(MoeStats, PendingCountsAddOnTheDeviceAndSettleOnce) {
  MoeStats total;
  total.add(settled_stats({1, 2, 3}, 8, 2));
  MoeStats p;
  p.pending_counts = torch::tensor({2, 0, 1}, torch::kLong);
  p.pending_assignments = 4;  // one of four dropped
  total.add(p);
  total.add(p);
  EXPECT_EQ(total.assignments, 8);  // the pending ones are not counted yet
  total.settle();
  EXPECT_TRUE(total.settled());
  EXPECT_EQ(total.tokens_per_expert, (std::vector<int64_t>{5, 2, 5}));
  EXPECT_EQ(total.assignments, 16);
  EXPECT_EQ(total.dropped, 4);
  total.settle();  // nothing pending: unchanged
  EXPECT_EQ(total.assignments, 16);
}

TEST(MoeOptions, AutoDispatchIsDenseOnlyOnCudaWithFewExpertsPerSlot) {
  MoeOptions o;  // 8 experts, top-2: auto
  EXPECT_FALSE(uses_dense_dispatch(o, torch::zeros({2, 2})));
  const auto meta = torch::empty({2, 2}, torch::TensorOptions().device(torch::kMeta));
  EXPECT_FALSE(uses_dense_dispatch(o, meta));
  o.dispatch = "dense";
  EXPECT_TRUE(uses_dense_dispatch(o, torch::zeros({2, 2})));
  o.dispatch = "sorted";
  EXPECT_FALSE(uses_dense_dispatch(o, torch::zeros({2, 2})));
  o.dispatch = "fast";
  try {
    o.validate();
    ADD_FAILURE() << "dispatch 'fast' was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(
        std::string(e.what()).find("moe.dispatch must be 'auto', 'sorted' or 'dense', got 'fast'"),
        std::string::npos)
        << e.what();
  }
}

// Plain-PyTorch oracle (scripts/oracles/moe_oracle.py: dense einsum over all experts, top-k and
// capacity as masks, float64) on the same weights, exchanged through safetensors files.
TEST(MoeOracle, MatchesPlainPyTorchWithDropsAndLosses) {
  SELLER_PYTHON_OR_SKIP(py, "torch, safetensors");
  torch::manual_seed(21);
  MoeOptions o = small_options("softmax", false, 1.0);  // capacity 16 for 64 assignments
  MoeLayer layer(6, 10, 5, o);
  auto x = torch::randn({32, 6}).requires_grad_(true);
  auto r = torch::randn({32, 5});
  MoeOutput out = layer->forward(x);
  ASSERT_GT(out.stats.dropped, 0);
  ((out.output * r).sum() + out.aux_loss + out.z_loss).backward();

  const auto& ex = layer->experts;
  std::map<std::string, torch::Tensor> params{
      {"x", x},       {"router", layer->router->gate->weight},
      {"w1", ex->w1}, {"b1", ex->b1},
      {"w2", ex->w2}, {"b2", ex->b2}};
  std::map<std::string, torch::Tensor> inputs{{"r", r}};
  for (const auto& [name, v] : params) inputs[name] = v.detach();
  seller::testing::TempDir dir;
  save_tensors(dir / "in.safetensors", inputs);
  const std::string script = std::string(SELLER_SOURCE_DIR) + "/scripts/oracles/moe_oracle.py";
  auto run =
      seller::testing::run_command(py + " " + script + " " + (dir / "in.safetensors").string() +
                                   " " + (dir / "out.safetensors").string() + " softmax 2 " +
                                   std::to_string(layer->capacity(32)) + " 0.5 0.25 2>&1");
  ASSERT_EQ(run.exit_code, 0) << run.output;
  auto want = load_tensors(dir / "out.safetensors");

  EXPECT_TRUE(torch::allclose(out.output, want.at("out"), 1e-5, 1e-5));
  EXPECT_NEAR(out.aux_loss.item<double>(), want.at("aux").item<double>(), 1e-6);
  EXPECT_NEAR(out.z_loss.item<double>(), want.at("z").item<double>(), 1e-6);
  Dispatch d = layer->permute(x, layer->route(x));
  EXPECT_TRUE(torch::equal(d.kept, want.at("kept").to(torch::kBool)));
  for (const auto& [name, v] : params) {
    EXPECT_TRUE(torch::allclose(v.grad(), want.at("grad." + name), 1e-4, 1e-5))
        << name << " differs by "
        << (v.grad() - want.at("grad." + name)).abs().max().item<double>();
  }
}

// Not a benchmark: a one-off timing printout (run with --gtest_also_run_disabled_tests).
TEST(MoeLayer, DISABLED_TimeForwardBackward4096Tokens) {
  torch::manual_seed(0);
  MoeLayer layer(256, 512, 256, MoeOptions{});  // 8 experts, top-2, capacity factor 1.25
  auto x = torch::randn({4096, 256}).requires_grad_(true);
  for (int rep = 0; rep < 4; ++rep) {
    const auto t0 = std::chrono::steady_clock::now();
    MoeOutput out = layer->forward(x);
    (out.output.sum() + out.aux_loss + out.z_loss).backward();
    std::chrono::duration<double, std::milli> ms = std::chrono::steady_clock::now() - t0;
    std::printf("forward+backward N=4096 d=256 h=512 E=8 k=2: %.1f ms\n", ms.count());
  }
}

}  // namespace
}  // namespace seller::model
