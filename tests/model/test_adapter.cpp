// Soft-prompt adapter on CPU, MoE and dense ablation: output shapes and losses, both kinds fit a
// tiny regression target with AdamW, every parameter receives a gradient, each prompt row depends
// on each of its own inputs (and on no other row's), and bad options name "adapter.<key>".
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <string>
#include <vector>

#include "trainer/core/error.h"
#include "trainer/model/moe/adapter.h"

namespace seller::model {
namespace {

AdapterOptions tiny(const std::string& kind) {
  AdapterOptions o;
  o.user_dim = 8, o.item_dim = 12, o.out_dim = 16, o.num_prompts = 3, o.model_dim = 32;
  o.expert_hidden = 48, o.kind = kind, o.dropout = 0.0;
  o.moe.num_experts = 4, o.moe.top_k = 2, o.moe.dropless = true;
  return o;
}

struct Inputs {
  torch::Tensor user, cand, hist;
};
Inputs random_inputs(int64_t b, const AdapterOptions& o) {
  return {torch::randn({b, o.user_dim}), torch::randn({b, o.item_dim}),
          torch::randn({b, o.item_dim})};
}

class AdapterKind : public ::testing::TestWithParam<std::string> {};

TEST_P(AdapterKind, ShapesAndLosses) {
  torch::manual_seed(1);
  auto o = tiny(GetParam());
  SoftPromptAdapter a(o);
  auto in = random_inputs(5, o);
  AdapterOutput out = a->forward(in.user, in.cand, in.hist);
  EXPECT_EQ(out.prompts.sizes(), (std::vector<int64_t>{5, 3, 16}));
  EXPECT_EQ(out.fused.sizes(), (std::vector<int64_t>{5, 32}));
  ASSERT_EQ(out.aux_loss.dim(), 0);
  ASSERT_EQ(out.z_loss.dim(), 0);
  // The output normalisation fixes each prompt's RMS to the scale (1.0 at init).
  auto rms = out.prompts.pow(2).mean(-1).sqrt();
  EXPECT_TRUE(torch::allclose(rms, torch::ones_like(rms), 1e-3, 1e-3));
  if (GetParam() == "dense") {
    EXPECT_EQ(out.aux_loss.item<float>(), 0.0f);
    EXPECT_EQ(out.z_loss.item<float>(), 0.0f);
    EXPECT_TRUE(out.stats.tokens_per_expert.empty());
    EXPECT_EQ(out.stats.assignments, 0);
  } else {
    EXPECT_GT(out.aux_loss.item<float>(), 0.0f);
    EXPECT_GT(out.z_loss.item<float>(), 0.0f);
    EXPECT_EQ(out.stats.assignments, 5 * 3 * 2);
    EXPECT_EQ(out.stats.tokens_per_expert.size(), 4u);
  }
}

TEST_P(AdapterKind, FitsTinyRegressionTarget) {
  // Tensors this small run ~20x slower on an intra-op thread pool competing for busy cores.
  torch::set_num_threads(1);
  torch::manual_seed(2);
  auto o = tiny(GetParam());
  SoftPromptAdapter a(o);
  auto in = random_inputs(32, o);
  // A target the adapter can represent: per-prompt normalised, a fixed random function of all
  // three inputs.
  auto proj = torch::randn({o.user_dim + 2 * o.item_dim, o.num_prompts * o.out_dim});
  auto target = torch::tanh(torch::cat({in.user, in.cand, in.hist}, 1).matmul(proj) / 4.0)
                    .view({32, o.num_prompts, o.out_dim});
  target = torch::layer_norm(target, {o.out_dim}) * 0.5;
  torch::optim::AdamW opt(a->parameters(), torch::optim::AdamWOptions(3e-3).weight_decay(0.0));
  double first = 0, last = 0;
  for (int step = 0; step < 300; ++step) {
    opt.zero_grad();
    AdapterOutput out = a->forward(in.user, in.cand, in.hist);
    auto mse = torch::mse_loss(out.prompts, target);
    (mse + out.aux_loss + out.z_loss).backward();
    opt.step();
    if (step == 0) first = mse.item<double>();
    last = mse.item<double>();
  }
  EXPECT_LT(last, 0.1 * first) << GetParam() << ": " << first << " -> " << last;
}

TEST_P(AdapterKind, EveryParameterGetsAGradient) {
  torch::manual_seed(3);
  auto o = tiny(GetParam());
  SoftPromptAdapter a(o);
  auto in = random_inputs(64, o);  // 192 tokens: every one of the 4 experts gets some
  AdapterOutput out = a->forward(in.user, in.cand, in.hist);
  if (GetParam() == "moe") {
    for (int64_t c : out.stats.tokens_per_expert) ASSERT_GT(c, 0);
  }
  (out.prompts * torch::randn_like(out.prompts)).sum().backward();
  for (const auto& p : a->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    EXPECT_GT(p.value().grad().abs().sum().item<double>(), 0.0) << p.key();
    EXPECT_TRUE(torch::isfinite(p.value().grad()).all().item<bool>()) << p.key();
  }
}

TEST_P(AdapterKind, PromptsDependOnEachOwnInputOnly) {
  torch::manual_seed(4);
  auto o = tiny(GetParam());
  SoftPromptAdapter a(o);
  a->eval();
  torch::NoGradGuard no_grad;
  auto in = random_inputs(4, o);
  auto base = a->forward(in.user, in.cand, in.hist).prompts;
  for (int which = 0; which < 3; ++which) {
    Inputs changed{in.user.clone(), in.cand.clone(), in.hist.clone()};
    auto& t = which == 0 ? changed.user : which == 1 ? changed.cand : changed.hist;
    t[1] += torch::randn_like(t[1]);
    auto p = a->forward(changed.user, changed.cand, changed.hist).prompts;
    EXPECT_GT((p[1] - base[1]).abs().max().item<float>(), 1e-3) << "input " << which;
    // Not bit-equal for the MoE: another row's change resizes the experts' row groups, and a
    // matmul over a different number of rows may round differently.
    for (int64_t b : {0, 2, 3}) {
      EXPECT_TRUE(torch::allclose(p[b], base[b], 1e-5, 1e-6)) << "input " << which;
    }
  }
  // The K prompts of one row differ from each other (slot embeddings).
  EXPECT_GT((base[0][0] - base[0][1]).abs().max().item<float>(), 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Kinds, AdapterKind, ::testing::Values("moe", "dense"));

TEST(Adapter, DenseAblationHasNoExperts) {
  SoftPromptAdapter dense(tiny("dense"));
  SoftPromptAdapter moe(tiny("moe"));
  for (const auto& p : dense->named_parameters()) EXPECT_EQ(p.key().find("moe"), std::string::npos);
  EXPECT_NE(moe->named_parameters().find("moe.experts.w1"), nullptr);
  EXPECT_EQ(moe->moe->experts->w1.sizes(), (std::vector<int64_t>{4, 32, 48}));
  EXPECT_EQ(dense->dense_fc1->weight.sizes(), (std::vector<int64_t>{48, 32}));
}

TEST(Adapter, ValidateNamesAdapterKeys) {
  auto message = [](const AdapterOptions& o) -> std::string {
    try {
      o.validate();
    } catch (const ConfigError& e) {
      return e.what();
    }
    return "";
  };
  AdapterOptions o;
  EXPECT_EQ(message(o), "");
  o.kind = "sparse";
  EXPECT_NE(message(o).find("adapter.kind must be 'moe' or 'dense', got 'sparse'"),
            std::string::npos);
  o = {}, o.num_prompts = 0;
  EXPECT_NE(message(o).find("adapter.num_prompts"), std::string::npos);
  o = {}, o.dropout = 1.0;
  EXPECT_NE(message(o).find("adapter.dropout"), std::string::npos);
  o = {}, o.moe.top_k = 9;
  EXPECT_NE(message(o).find("adapter.moe.top_k must be in [1, num_experts], got 9"),
            std::string::npos);
  EXPECT_THROW(SoftPromptAdapter{o}, ConfigError);
}

}  // namespace
}  // namespace seller::model
