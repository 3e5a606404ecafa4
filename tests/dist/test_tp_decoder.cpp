// Tensor-parallel decoder at tp = 2 and 4 (in-process ranks) against the unsharded Decoder on
// the same random weights (fp32): the sliced Hugging Face import gives the same logits, the
// vocab-parallel loss equals torch's cross_entropy on the full logits, and after backward every
// parameter's gradient, gathered over the group along its split dimension, equals the full
// model's gradient. Two configurations: tied embeddings + GQA + padding mask + fused attention,
// and untied head + all biases + Qwen3 qk-norm + eager attention. Plus the layout errors.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <map>
#include <string>

#include "dist/comm/inproc_communicator.h"
#include "dist/tp/tp_decoder.h"
#include "dist/tp/tp_ops.h"
#include "trainer/core/error.h"
#include "trainer/model/llm/decoder.h"

namespace seller::dist {
namespace {

constexpr double kTol = 1e-5;

model::DecoderConfig small_config(bool variant) {
  model::DecoderConfig c;
  c.vocab_size = 64, c.hidden_size = 32, c.intermediate_size = 48, c.num_layers = 2;
  c.num_heads = 8, c.num_kv_heads = 4, c.head_dim = 4, c.max_positions = 64;
  c.tie_word_embeddings = !variant;
  c.qkv_bias = c.o_proj_bias = c.mlp_bias = c.qk_norm = variant;
  c.attention_impl = variant ? "eager" : "sdpa";
  return c;
}

struct Reference {
  std::map<std::string, torch::Tensor> state;  // HF names
  std::map<std::string, torch::Tensor> grads;  // parameter names (no "model.")
  torch::Tensor ids, mask, targets, logits, loss;
};

Reference make_reference(const model::DecoderConfig& c, bool padded) {
  torch::NoGradGuard outer;  // re-enabled below for the one backward
  Reference ref;
  model::Decoder full(c);
  model::init_decoder_weights(full, 0.2, 42);
  {
    torch::NoGradGuard no_grad;  // non-trivial norm weights, so their gradients matter
    auto gen = at::make_generator<at::CPUGeneratorImpl>(7);
    for (auto& p : full->named_parameters())
      if (p.key().find("norm") != std::string::npos)
        p.value().copy_(1.0 + 0.3 * torch::randn(p.value().sizes(), gen));
  }
  ref.state = full->hf_state_dict();
  for (auto& [k, v] : ref.state) v = v.clone();
  auto gen = at::make_generator<at::CPUGeneratorImpl>(3);
  ref.ids = torch::randint(0, c.vocab_size, {3, 7}, gen, torch::kLong);
  ref.targets = torch::randint(0, c.vocab_size, {3, 7}, gen, torch::kLong);
  ref.targets.index_put_({0, 2}, -100);
  if (padded) {
    ref.mask = torch::ones({3, 7}, torch::kLong);
    ref.mask.index_put_({1, torch::indexing::Slice(0, 2)}, 0);  // left padding on row 1
    ref.targets.index_put_({1, torch::indexing::Slice(0, 2)}, -100);
  }
  torch::GradMode::set_enabled(true);
  model::DecoderInput in;
  in.input_ids = ref.ids;
  in.attention_mask = ref.mask;
  auto logits = full->forward(in);
  auto loss = torch::nn::functional::cross_entropy(
      logits.view({-1, c.vocab_size}), ref.targets.view({-1}),
      torch::nn::functional::CrossEntropyFuncOptions().ignore_index(-100));
  loss.backward();
  ref.logits = logits.detach();
  ref.loss = loss.detach();
  for (auto& p : full->named_parameters()) ref.grads[p.key()] = p.value().grad().clone();
  return ref;
}

// The shards of `local` over the group, put back together along the parameter's split dim.
torch::Tensor gather_shards(const std::string& name, const torch::Tensor& local, Communicator& tp) {
  switch (tp_split_of(name)) {
    case TpSplit::kRows: {
      auto sizes = local.sizes().vec();
      sizes[0] *= tp.size();
      auto out = torch::empty(sizes, local.options());
      tp.all_gather(local.contiguous(), out);
      return out;
    }
    case TpSplit::kColumns:
      return all_gather_last_dim(local, tp);
    case TpSplit::kReplicated:
      return local;
  }
  return local;
}

// The test body: any backend's world communicator is the tensor-parallel group.
void tp_decoder_case(const CommunicatorPtr& tp, const model::DecoderConfig& c,
                     const Reference& ref) {
  TpDecoder dec(c, tp);
  dec->load_hf_state_dict_sliced(ref.state, tp->rank(), tp->size());
  model::DecoderInput in;
  in.input_ids = ref.ids;
  in.attention_mask = ref.mask;
  auto local_logits = dec->forward(in);
  ASSERT_EQ(local_logits.size(-1), c.vocab_size / tp->size());
  auto logits = dec->gather_logits(local_logits);
  const double logit_diff = (logits - ref.logits).abs().max().item<double>();
  EXPECT_LE(logit_diff, kTol) << "logits, rank " << tp->rank();
  auto loss = dec->loss(local_logits, ref.targets);
  EXPECT_NEAR(loss.item<double>(), ref.loss.item<double>(), kTol);
  loss.backward();
  int checked = 0;
  for (auto& p : dec->named_parameters()) {
    ASSERT_TRUE(p.value().grad().defined()) << p.key();
    auto full_grad = gather_shards(p.key(), p.value().grad(), *tp);
    const auto& expected = ref.grads.at(p.key());
    ASSERT_EQ(full_grad.sizes(), expected.sizes()) << p.key();
    const double diff = (full_grad - expected).abs().max().item<double>();
    EXPECT_LE(diff, kTol) << p.key() << " gradient, rank " << tp->rank();
    ++checked;
  }
  EXPECT_EQ(checked, static_cast<int>(ref.grads.size()));
}

class TpDecoderTest : public ::testing::TestWithParam<std::tuple<int, bool>> {
 protected:
  void SetUp() override { torch::set_num_threads(1); }
};

TEST_P(TpDecoderTest, SlicedImportLogitsLossAndGradientsEqualFullDecoder) {
  const auto [tp_size, variant] = GetParam();
  const auto config = small_config(variant);
  const auto ref = make_reference(config, /*padded=*/!variant);
  run_world(tp_size, [&](const CommunicatorPtr& world) { tp_decoder_case(world, config, ref); });
}

INSTANTIATE_TEST_SUITE_P(Layouts, TpDecoderTest,
                         ::testing::Combine(::testing::Values(2, 4), ::testing::Bool()));

TEST(TpDecoderLayout, IndivisibleHeadsAreNamed) {
  auto c = small_config(false);
  c.num_kv_heads = 2;
  try {
    validate_tp_config(c, 4);
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(), "tp=4 does not divide num_kv_heads=2");
  }
  c = small_config(false);
  c.num_heads = 6, c.num_kv_heads = 3;
  EXPECT_THROW(validate_tp_config(c, 4), ConfigError);
  EXPECT_NO_THROW(validate_tp_config(small_config(true), 4));
}

TEST(TpDecoderLayout, SliceRulesFollowMegatron) {
  EXPECT_EQ(tp_split_of("model.embed_tokens.weight"), TpSplit::kRows);
  EXPECT_EQ(tp_split_of("lm_head.weight"), TpSplit::kRows);
  EXPECT_EQ(tp_split_of("model.layers.0.self_attn.k_proj.bias"), TpSplit::kRows);
  EXPECT_EQ(tp_split_of("model.layers.1.self_attn.o_proj.weight"), TpSplit::kColumns);
  EXPECT_EQ(tp_split_of("model.layers.1.self_attn.o_proj.bias"), TpSplit::kReplicated);
  EXPECT_EQ(tp_split_of("model.layers.1.mlp.down_proj.weight"), TpSplit::kColumns);
  EXPECT_EQ(tp_split_of("model.layers.1.self_attn.q_norm.weight"), TpSplit::kReplicated);
  EXPECT_EQ(tp_split_of("model.norm.weight"), TpSplit::kReplicated);
}

TEST(TpDecoderLayout, WrongStateDictIsRejected) {
  const auto c = small_config(false);
  auto ref = make_reference(c, false);
  ref.state.erase("model.layers.0.mlp.up_proj.weight");
  run_world(2, [&](const CommunicatorPtr& tp) {
    TpDecoder dec(c, tp);
    EXPECT_THROW(dec->load_hf_state_dict_sliced(ref.state, tp->rank(), tp->size()), Error);
    EXPECT_THROW(dec->load_hf_state_dict_sliced(ref.state, 1 - tp->rank(), 2), Error);
  });
}

}  // namespace
}  // namespace seller::dist
