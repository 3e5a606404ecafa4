// LoRA on the decoder (trainer/model/llm/lora.h): a fresh adapter changes nothing, training modes
// select exactly the intended parameters, merging keeps the function (checked against W + s B A
// computed here) and exports plain weights, a few AdamW steps learn through the adapters only,
// generation with adapters equals generation with the merged model, adapters round-trip under
// peft's names, and bad options name the config key. Parity with transformers + peft:
// test_lora_peft.cpp.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <cmath>
#include <set>

#include "tests/support/test_support.h"
#include "trainer/core/error.h"
#include "trainer/generate/generator.h"
#include "trainer/model/llm/lora.h"

namespace seller::model {
namespace {

DecoderConfig small_config() {
  DecoderConfig c;
  c.vocab_size = 61;
  c.hidden_size = 32;
  c.intermediate_size = 48;
  c.num_layers = 2;
  c.num_heads = 4;
  c.num_kv_heads = 2;
  c.head_dim = 8;
  c.qkv_bias = true;
  c.tie_word_embeddings = false;
  return c;
}

Decoder small_decoder(uint64_t seed = 3) {
  Decoder d(small_config());
  init_decoder_weights(d, 0.2, seed);
  return d;
}

LoraOptions options(int64_t rank, double alpha, std::vector<std::string> targets) {
  LoraOptions o;
  o.rank = rank;
  o.alpha = alpha;
  o.targets = std::move(targets);
  return o;
}

// Overwrites every adapter tensor (B included) with N(0, std) so that the deltas matter.
void randomize_adapters(Decoder& d, double std, uint64_t seed) {
  torch::NoGradGuard g;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& [name, t] : lora_state_dict(d)) {
    auto r = torch::empty(t.sizes(), torch::kFloat32);
    r.normal_(0.0, std, gen);
    t.copy_(r);
  }
}

std::pair<torch::Tensor, torch::Tensor> padded_batch(int64_t vocab) {
  auto ids = torch::tensor({0, 0, 0, 5, 9, 14, 3, 7, 22, 8, 1, 30, 2, 44, 11, 6, 19, 25, 3, 12},
                           torch::kLong)
                 .view({2, 10})
                 .remainder(vocab);
  auto mask = torch::ones({2, 10}, torch::kLong);
  mask[0].narrow(0, 0, 3).zero_();
  return {ids, mask};
}

torch::Tensor logits_of(Decoder& d, const torch::Tensor& ids, const torch::Tensor& mask) {
  torch::NoGradGuard g;
  DecoderInput in;
  in.input_ids = ids;
  in.attention_mask = mask;
  return d->forward(in);
}

double max_diff_on_mask(const torch::Tensor& a, const torch::Tensor& b, const torch::Tensor& mask) {
  auto m = mask.to(torch::kBool).unsqueeze(-1).expand_as(a);
  return (a - b).abs().masked_select(m).max().item<double>();
}

// Next-token cross-entropy of the whole (unpadded) batch.
torch::Tensor lm_loss(Decoder& d, const torch::Tensor& ids) {
  DecoderInput in;
  in.input_ids = ids.narrow(1, 0, ids.size(1) - 1);
  auto logits = d->forward(in);
  auto target = ids.narrow(1, 1, ids.size(1) - 1);
  return torch::nn::functional::cross_entropy(logits.reshape({-1, logits.size(-1)}),
                                              target.reshape({-1}));
}

TEST(Lora, FreshAdapterLeavesOutputUnchanged) {
  auto d = small_decoder();
  auto [ids, mask] = padded_batch(61);
  auto before = logits_of(d, ids, mask);
  EXPECT_FALSE(has_lora(d));
  apply_lora(d, options(4, 8.0, {"q_proj", "v_proj", "down_proj"}), 7);
  EXPECT_TRUE(has_lora(d));
  EXPECT_TRUE(torch::equal(logits_of(d, ids, mask), before));  // B = 0: exactly the base model

  auto params = d->named_parameters();
  ASSERT_NE(params.find("layers.1.self_attn.q_proj_lora.lora_A"), nullptr);
  EXPECT_EQ(params["layers.1.self_attn.q_proj_lora.lora_A"].sizes(), torch::IntArrayRef({4, 32}));
  EXPECT_EQ(params["layers.1.self_attn.v_proj_lora.lora_B"].sizes(), torch::IntArrayRef({16, 4}));
  EXPECT_EQ(params["layers.0.mlp.down_proj_lora.lora_A"].sizes(), torch::IntArrayRef({4, 48}));
  EXPECT_EQ(params.find("layers.0.self_attn.k_proj_lora.lora_A"), nullptr);
  auto sd = lora_state_dict(d);
  EXPECT_EQ(sd.size(), 2u * 3u * 2u);
  for (auto& [name, t] : sd) {
    const double in = static_cast<double>(t.size(1));
    if (name.back() == 'B') {
      EXPECT_EQ(t.abs().max().item<double>(), 0.0) << name;
    }
    // peft's kaiming_uniform(a = sqrt(5)) bound is 1 / sqrt(fan_in); the draw nearly reaches it.
    if (name.back() == 'A') {
      EXPECT_LE(t.abs().max().item<double>(), 1.0 / std::sqrt(in)) << name;
      EXPECT_GT(t.abs().max().item<double>(), 0.8 / std::sqrt(in)) << name;
    }
  }
  // Deterministic given the seed, different for another seed.
  auto same = small_decoder(), other = small_decoder();
  apply_lora(same, options(4, 8.0, {"q_proj", "v_proj", "down_proj"}), 7);
  apply_lora(other, options(4, 8.0, {"q_proj", "v_proj", "down_proj"}), 8);
  const std::string a = "layers.1.mlp.down_proj_lora.lora_A";
  EXPECT_TRUE(torch::equal(lora_state_dict(same)[a], sd[a]));
  EXPECT_FALSE(torch::equal(lora_state_dict(other)[a], sd[a]));
  EXPECT_THROW(apply_lora(d, options(4, 8.0, {"q_proj"}), 1), Error);  // already applied
}

TEST(Lora, DropoutOnlyWhileTraining) {
  auto d = small_decoder();
  auto o = options(4, 8.0, {"q_proj", "up_proj"});
  o.dropout = 0.5;
  apply_lora(d, o, 1);
  randomize_adapters(d, 0.5, 2);
  auto ids = torch::tensor({{1, 2, 3, 4, 5, 6}}, torch::kLong);
  DecoderInput in;
  in.input_ids = ids;
  d->train();
  auto a = d->forward(in), b = d->forward(in);  // grad enabled: dropout on the LoRA input
  EXPECT_FALSE(torch::allclose(a, b));
  torch::NoGradGuard g;  // generation / evaluation: no dropout even in train()
  EXPECT_TRUE(torch::equal(d->forward(in), d->forward(in)));
  d->eval();
  EXPECT_TRUE(torch::equal(d->forward(in), d->forward(in)));
}

// Expected adapter sizes of small_config() with rank 4 on q_proj and v_proj: per layer
// q: A 4x32 + B 32x4, v: A 4x32 + B 16x4.
constexpr int64_t kQvRank4Params = 2 * ((4 * 32 + 32 * 4) + (4 * 32 + 16 * 4));

TEST(Lora, TrainingModesSelectTheParameters) {
  auto d = small_decoder();
  EXPECT_THROW(set_llm_training_mode(d, "lora"), ConfigError);  // no adapters yet
  apply_lora(d, options(4, 8.0, {"q_proj", "v_proj"}), 5);
  int64_t total = 0;
  for (const auto& p : d->parameters()) total += p.numel();
  auto ids = torch::tensor({{3, 1, 4, 1, 5, 9, 2, 6}, {5, 3, 5, 8, 9, 7, 9, 3}}, torch::kLong);

  EXPECT_EQ(set_llm_training_mode(d, "lora"), kQvRank4Params);
  lm_loss(d, ids).backward();
  for (const auto& item : d->named_parameters()) {
    if (is_lora_parameter(item.key()))
      EXPECT_TRUE(item.value().grad().defined()) << item.key();
    else
      EXPECT_FALSE(item.value().grad().defined()) << item.key();
  }
  // With B = 0 only B gets a non-zero gradient (dL/dA = B^T ...), as in peft.
  EXPECT_GT(d->named_parameters()["layers.0.self_attn.q_proj_lora.lora_B"]
                .grad()
                .abs()
                .sum()
                .item<double>(),
            0.0);

  EXPECT_EQ(set_llm_training_mode(d, "full"), total);
  lm_loss(d, ids).backward();
  for (const auto& item : d->named_parameters())
    EXPECT_TRUE(item.value().grad().defined()) << item.key();

  // Frozen: the stale gradients of the full step are dropped, so an optimizer over all the
  // parameters (weight decay included) changes nothing.
  EXPECT_EQ(set_llm_training_mode(d, "frozen"), 0);
  EXPECT_FALSE(lm_loss(d, ids).requires_grad());
  std::vector<torch::Tensor> before;
  for (const auto& p : d->parameters()) {
    EXPECT_FALSE(p.requires_grad());
    EXPECT_FALSE(p.grad().defined());
    before.push_back(p.detach().clone());
  }
  torch::optim::AdamW opt(d->parameters(), torch::optim::AdamWOptions(1e-2).weight_decay(0.1));
  opt.step();
  auto after = d->parameters();
  for (size_t i = 0; i < before.size(); ++i) EXPECT_TRUE(torch::equal(before[i], after[i]));

  try {
    set_llm_training_mode(d, "partial");
    FAIL() << "expected a ConfigError";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("seller.llm_mode: unknown mode \"partial\""),
              std::string::npos)
        << e.what();
  }
}

TEST(Lora, MergeKeepsLogitsAndExportsPlainWeights) {
  auto d = small_decoder();
  auto hf_names = [](Decoder& m) {
    std::set<std::string> s;
    for (auto& [n, t] : m->hf_state_dict()) s.insert(n);
    return s;
  };
  const auto base_names = hf_names(d);
  auto base_q = d->named_parameters()["layers.1.self_attn.q_proj.weight"].detach().clone();
  apply_lora(d, options(4, 12.0, {"q_proj", "o_proj", "gate_proj", "down_proj"}), 9);
  randomize_adapters(d, 0.3, 10);
  auto [ids, mask] = padded_batch(61);
  auto unmerged = logits_of(d, ids, mask);
  // The adapters do not leak into the HF state dict, and an HF dict loads into an adapted model.
  EXPECT_EQ(hf_names(d), base_names);
  EXPECT_NO_THROW(d->load_hf_state_dict(d->hf_state_dict()));
  auto sd = lora_state_dict(d);
  // Independent merge of one projection: W + (alpha / r) B A.
  auto expected_q = base_q + 3.0 * torch::matmul(sd["layers.1.self_attn.q_proj_lora.lora_B"],
                                                 sd["layers.1.self_attn.q_proj_lora.lora_A"]);

  merge_lora(d);
  EXPECT_FALSE(has_lora(d));
  EXPECT_TRUE(lora_state_dict(d).empty());
  EXPECT_LT(max_diff_on_mask(logits_of(d, ids, mask), unmerged, mask), 1e-5);
  EXPECT_LT((d->named_parameters()["layers.1.self_attn.q_proj.weight"] - expected_q)
                .abs()
                .max()
                .item<double>(),
            1e-6);
  EXPECT_EQ(hf_names(d), base_names);
  EXPECT_EQ(d->named_parameters().size(), small_decoder()->named_parameters().size());
  // A merged model can take a new adapter.
  EXPECT_NO_THROW(apply_lora(d, options(2, 2.0, {"k_proj"}), 1));
}

TEST(Lora, AdamWLearnsThroughAdaptersOnly) {
  auto d = small_decoder();
  apply_lora(d, options(4, 8.0, {"q_proj", "v_proj", "up_proj"}), 5);
  set_llm_training_mode(d, "lora");
  auto base_before = d->hf_state_dict();
  for (auto& [n, t] : base_before) t = t.clone();
  auto ids =
      torch::tensor({{3, 1, 4, 1, 5, 9, 2, 6, 5, 3}, {5, 8, 9, 7, 9, 3, 2, 3, 8, 4}}, torch::kLong);
  // All parameters go to the optimizer, as a careless trainer would do: frozen ones have no
  // gradient and must be skipped, weight decay included.
  torch::optim::AdamW opt(d->parameters(), torch::optim::AdamWOptions(2e-2).weight_decay(0.1));
  const double first = lm_loss(d, ids).item<double>();
  for (int step = 0; step < 20; ++step) {
    opt.zero_grad();
    lm_loss(d, ids).backward();
    opt.step();
  }
  const double last = lm_loss(d, ids).item<double>();
  EXPECT_LT(last, 0.8 * first) << "first " << first << ", last " << last;
  for (auto& [n, t] : d->hf_state_dict()) EXPECT_TRUE(torch::equal(t, base_before[n])) << n;
}

TEST(Lora, GenerationEqualsMergedModel) {
  auto base = small_decoder(4);
  auto d = small_decoder(4);
  apply_lora(d, options(4, 8.0, {"q_proj", "k_proj", "v_proj", "o_proj", "down_proj"}), 6);
  randomize_adapters(d, 0.4, 7);
  std::vector<generate::GenerationRequest> reqs = {
      {{1, 2, 3, 4, 5}, {}}, {{7}, {}}, {{9, 8, 7}, {}}};
  generate::SamplingOptions dynamic;
  dynamic.max_new_tokens = 16;
  dynamic.static_decode = false;
  generate::SamplingOptions fixed = dynamic;
  fixed.static_decode = true;
  auto lora_dynamic = generate::generate(d, reqs, dynamic);
  auto lora_static = generate::generate(d, reqs, fixed);
  auto plain = generate::generate(base, reqs, dynamic);
  merge_lora(d);
  auto merged = generate::generate(d, reqs, dynamic);
  bool differs_from_base = false;
  for (size_t i = 0; i < reqs.size(); ++i) {
    EXPECT_EQ(lora_dynamic[i].tokens, merged[i].tokens) << "row " << i;
    EXPECT_EQ(lora_static[i].tokens, merged[i].tokens) << "row " << i;
    differs_from_base = differs_from_base || plain[i].tokens != merged[i].tokens;
  }
  EXPECT_TRUE(differs_from_base) << "the adapters should change the greedy tokens";
}

TEST(Lora, AdapterRoundTripsUnderPeftNames) {
  EXPECT_EQ(lora_name_to_peft("layers.3.self_attn.q_proj_lora.lora_A"),
            "base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight");
  EXPECT_EQ(lora_name_from_peft("base_model.model.model.layers.0.mlp.down_proj.lora_B.weight"),
            "layers.0.mlp.down_proj_lora.lora_B");
  EXPECT_THROW(lora_name_to_peft("layers.0.mlp.down_proj.weight"), Error);
  auto a = small_decoder(), b = small_decoder();
  apply_lora(a, options(2, 4.0, {"v_proj", "gate_proj"}), 1);
  apply_lora(b, options(2, 4.0, {"v_proj", "gate_proj"}), 2);
  randomize_adapters(a, 0.3, 3);
  std::map<std::string, torch::Tensor> peft;
  for (auto& [n, t] : lora_state_dict(a)) peft[lora_name_to_peft(n)] = t.clone();
  load_lora_state_dict(b, peft);
  auto [ids, mask] = padded_batch(61);
  EXPECT_TRUE(torch::equal(logits_of(a, ids, mask), logits_of(b, ids, mask)));
  peft.erase(peft.begin());
  EXPECT_THROW(load_lora_state_dict(b, peft), Error);  // missing tensor
}

TEST(Lora, BadOptionsNameTheKey) {
  auto expect_message = [](const LoraOptions& o, const std::string& text) {
    try {
      o.validate();
      ADD_FAILURE() << "expected a ConfigError containing " << text;
    } catch (const ConfigError& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_message(options(0, 16.0, {"q_proj"}), "lora.rank: must be >= 1, got 0");
  expect_message(options(8, 0.0, {"q_proj"}), "lora.alpha: must be > 0");
  expect_message(options(8, 16.0, {"q_proj", "x"}), "lora.targets: unknown projection \"x\"");
  expect_message(options(8, 16.0, {"lm_head"}), "lora.targets: unknown projection \"lm_head\"");
  expect_message(options(8, 16.0, {}), "lora.targets: empty");
  expect_message(options(8, 16.0, {"v_proj", "v_proj"}),
                 "lora.targets: projection \"v_proj\" listed twice");
  auto o = options(8, 16.0, {"q_proj"});
  o.dropout = 1.0;
  expect_message(o, "lora.dropout: must be in [0, 1), got 1");
  EXPECT_NO_THROW(LoraOptions().validate());
  auto d = small_decoder();
  EXPECT_THROW(apply_lora(d, options(8, 16.0, {"x"}), 1), ConfigError);
  EXPECT_FALSE(has_lora(d));
}

}  // namespace
}  // namespace seller::model
