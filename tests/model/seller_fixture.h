// A tiny SELLER model and a handful of hand-made examples, shared by the model tests on CPU
// (test_seller_model.cpp) and the GPU step test (tests/gpu/test_sync_free_step.cpp).
// Examples have hand-made token ids: prompt [1, 4 + item], explanation 3 tokens + EOS (2), odd
// rows one token longer (ragged lengths); every third row has no rating.
#pragma once

#include <torch/torch.h>

#include <cmath>
#include <functional>
#include <string>
#include <vector>

#include "trainer/core/config.h"
#include "trainer/model/llm/from_config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/seller_batch.h"

namespace seller::train {

inline constexpr int64_t kItems = 12;
inline constexpr int64_t kVocab = 40;

inline core::LlmConfig tiny_llm() {
  core::LlmConfig l;
  l.vocab_size = kVocab;
  l.hidden_size = 32;
  l.intermediate_size = 64;
  l.layers = 2;
  l.heads = 4;
  l.kv_heads = 2;
  l.head_dim = 8;
  l.max_positions = 128;
  return l;
}

// `tweak`, when given, edits the options before the model is built (e.g. the MoE's dispatch).
inline model::SellerModel tiny_model(
    const std::string& adapter_kind = "moe", bool learned = true, int64_t item_negatives = 0,
    const std::function<void(model::SellerModelOptions&)>& tweak = {}) {
  torch::manual_seed(3);
  model::SellerModelOptions o;
  o.sasrec.hidden = 16;
  o.sasrec.heads = 2;
  o.sasrec.layers = 1;
  o.sasrec.max_len = 8;
  o.sasrec.dropout = 0.0;
  o.adapter.kind = adapter_kind;
  o.adapter.model_dim = 24;
  o.adapter.expert_hidden = 32;
  o.adapter.num_prompts = 3;
  o.adapter.dropout = 0.0;
  o.adapter.moe.num_experts = 4;
  o.adapter.moe.dropless = true;
  o.learned_item_dim = learned ? 10 : 0;
  o.item_negatives = item_negatives;
  if (tweak) tweak(o);
  auto text = learned ? torch::Tensor() : torch::randn({kItems, 10});
  return model::SellerModel(o, model::build_decoder(tiny_llm(), 5, torch::kCPU, torch::kFloat32),
                            text, kItems);
}

// Examples with hand-made token ids: prompt [1, 4+item], explanation 3 tokens + EOS (2).
struct Fixture {
  std::vector<data::ExplainExample> examples;
  std::vector<TokenizedExample> tokens;
};

inline Fixture fixture(size_t n) {
  Fixture f;
  for (size_t i = 0; i < n; ++i) {
    data::ExplainExample e;
    e.item = static_cast<uint32_t>(i % kItems);
    for (size_t h = 0; h < 1 + i % 4; ++h)
      e.history.push_back(static_cast<uint32_t>((i + h + 3) % kItems));
    e.rating = i % 3 == 0 ? NAN : static_cast<float>(1 + i % 5);
    f.examples.push_back(e);
    TokenizedExample t;
    t.prompt = {1, 4 + static_cast<int64_t>(e.item)};
    // The explanation is a function of (item, last history item): learnable only through the
    // soft prompts, since the text prompt names the item alone.
    const int64_t a = 20 + static_cast<int64_t>(e.history.back() % 6);
    t.explanation = {a, 30 + static_cast<int64_t>(e.item % 5), a + 1, 2};
    if (i % 2) t.explanation.insert(t.explanation.begin(), 35);  // ragged lengths
    f.tokens.push_back(t);
  }
  return f;
}

inline std::vector<size_t> all_rows(size_t n) {
  std::vector<size_t> r(n);
  for (size_t i = 0; i < n; ++i) r[i] = i;
  return r;
}

}  // namespace seller::train
