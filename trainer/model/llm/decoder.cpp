// Decoder-only transformer (see decoder.h).
#include "trainer/model/llm/decoder.h"

#include <torch/torch.h>

#include <set>

#include "trainer/core/error.h"

namespace seller::model {

MlpImpl::MlpImpl(const DecoderConfig& c) {
  auto lin = [&](int64_t in, int64_t out) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(c.mlp_bias));
  };
  gate_proj = register_module("gate_proj", lin(c.hidden_size, c.intermediate_size));
  up_proj = register_module("up_proj", lin(c.hidden_size, c.intermediate_size));
  down_proj = register_module("down_proj", lin(c.intermediate_size, c.hidden_size));
}

torch::Tensor MlpImpl::forward(const torch::Tensor& x) {
  auto gate = lora_linear(gate_proj, gate_proj_lora, x);
  auto up = lora_linear(up_proj, up_proj_lora, x);
  return lora_linear(down_proj, down_proj_lora, torch::silu(gate) * up);
}

DecoderLayerImpl::DecoderLayerImpl(const DecoderConfig& c, int64_t index) {
  input_layernorm = register_module("input_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  self_attn = register_module("self_attn", Attention(c, index));
  post_attention_layernorm =
      register_module("post_attention_layernorm", RMSNorm(c.hidden_size, c.rms_norm_eps));
  mlp = register_module("mlp", Mlp(c));
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                        const torch::Tensor& sin, const torch::Tensor& mask,
                                        KvCache* cache) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, mask, cache);
  return h + mlp(post_attention_layernorm(h));
}

DecoderImpl::DecoderImpl(const DecoderConfig& config) : config_(config) {
  config_.validate();
  embed_tokens = register_module(
      "embed_tokens", torch::nn::Embedding(config.vocab_size, config.hidden_size));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config.num_layers; ++i) layers->push_back(DecoderLayer(config, i));
  norm = register_module("norm", RMSNorm(config.hidden_size, config.rms_norm_eps));
  if (!config.tie_word_embeddings) {
    lm_head = register_module(
        "lm_head",
        torch::nn::Linear(torch::nn::LinearOptions(config.hidden_size, config.vocab_size).bias(false)));
  }
  rotary_ = std::make_unique<RotaryEmbedding>(config.rope, config.head_dim, config.max_positions);
}

torch::Tensor DecoderImpl::hidden_states(const DecoderInput& in) {
  TORCH_CHECK(in.input_ids.defined() != in.inputs_embeds.defined(),
              "give exactly one of input_ids and inputs_embeds");
  torch::Tensor h = in.input_ids.defined() ? embed_tokens(in.input_ids) : in.inputs_embeds;
  const int64_t b = h.size(0), t = h.size(1);
  if (in.cache && in.cache->write_index.defined()) {
    // Static single-token step: fixed shapes, no host values (capturable in a CUDA graph).
    TORCH_CHECK(t == 1 && in.positions.defined(), "a static step takes one token and positions");
    in.cache->slot_valid.index_fill_(1, in.cache->write_index, true);
    auto mask = in.cache->slot_valid.view({b, 1, 1, in.cache->capacity()});
    auto [cos, sin] = rotary_->cos_sin(in.positions, h.scalar_type());
    for (const auto& layer : *layers) h = layer->as<DecoderLayer>()->forward(h, cos, sin, mask, in.cache);
    return norm(h);
  }
  const int64_t past = in.cache ? in.cache->length : 0;
  torch::Tensor mask;
  torch::Tensor key_valid;
  if (in.attention_mask.defined()) {
    TORCH_CHECK(in.attention_mask.size(1) == past + t, "attention_mask has ",
                in.attention_mask.size(1), " columns, expected past + T = ", past + t);
    key_valid = in.attention_mask.to(h.device()).to(torch::kBool);
  }
  if (in.cache) {
    auto new_valid = key_valid.defined()
                         ? key_valid.narrow(1, past, t)
                         : torch::ones({b, t}, torch::TensorOptions().dtype(torch::kBool).device(h.device()));
    in.cache->slot_valid.narrow(1, past, t).copy_(new_valid);
    key_valid = in.cache->slot_valid.narrow(1, 0, past + t);
  }
  if (key_valid.defined()) mask = build_attention_mask(key_valid, past, t);

  torch::Tensor positions = in.positions;
  if (!positions.defined()) {
    if (key_valid.defined()) {
      // Real tokens are numbered 0, 1, ... whatever padding precedes them (left padding).
      positions = (key_valid.to(torch::kLong).cumsum(1) - 1).clamp_min(0).narrow(1, past, t);
    } else {
      positions = torch::arange(past, past + t, torch::TensorOptions().dtype(torch::kLong).device(h.device()))
                      .unsqueeze(0)
                      .expand({b, t});
    }
  }
  auto [cos, sin] = rotary_->cos_sin(positions.to(h.device()), h.scalar_type());
  for (const auto& layer : *layers) {
    h = layer->as<DecoderLayer>()->forward(h, cos, sin, mask, in.cache);
  }
  if (in.cache) in.cache->length = past + t;
  return norm(h);
}

torch::Tensor DecoderImpl::logits(const torch::Tensor& hidden) {
  if (lm_head) return lm_head(hidden);
  return torch::nn::functional::linear(hidden, embed_tokens->weight);
}

void DecoderImpl::load_hf_state_dict(const std::map<std::string, torch::Tensor>& tensors) {
  auto params = named_parameters(/*recurse=*/true);
  std::set<std::string> loaded;
  std::vector<std::string> unexpected, mismatched;
  torch::NoGradGuard no_grad;
  for (const auto& [raw_name, value] : tensors) {
    std::string name = raw_name.rfind("model.", 0) == 0 ? raw_name.substr(6) : raw_name;
    if (name == "lm_head.weight" && config_.tie_word_embeddings) {
      // Tied checkpoints sometimes store the shared matrix twice; it must then be identical.
      continue;
    }
    auto* p = params.find(name);
    if (!p) {
      if (name.find("rotary_emb.inv_freq") != std::string::npos) continue;  // old HF buffers
      unexpected.push_back(raw_name);
      continue;
    }
    if (p->sizes() != value.sizes()) {
      mismatched.push_back(detail::concat(raw_name, " (file ", value.sizes(), ", model ",
                                          p->sizes(), ")"));
      continue;
    }
    p->copy_(value.to(p->device(), p->scalar_type()));
    loaded.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& item : params.items())
    if (!loaded.count(item.key()) && !is_lora_parameter(item.key())) missing.push_back(item.key());
  if (missing.empty() && unexpected.empty() && mismatched.empty()) return;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
    return s;
  };
  std::string msg = "checkpoint does not match the model:";
  if (!missing.empty()) msg += "\n  missing: " + join(missing);
  if (!unexpected.empty()) msg += "\n  unexpected: " + join(unexpected);
  if (!mismatched.empty()) msg += "\n  shape mismatch: " + join(mismatched);
  throw Error(msg);
}

std::map<std::string, torch::Tensor> DecoderImpl::hf_state_dict() {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : named_parameters(/*recurse=*/true)) {
    const std::string& n = item.key();
    if (is_lora_parameter(n)) continue;
    out[n.rfind("lm_head", 0) == 0 ? n : "model." + n] = item.value().detach();
  }
  return out;
}

void init_decoder_weights(Decoder& decoder, double std, uint64_t seed) {
  torch::NoGradGuard no_grad;
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  for (auto& item : decoder->named_parameters(true)) {
    auto& p = item.value();
    const std::string& n = item.key();
    if (is_lora_parameter(n)) continue;
    if (n.find("norm") != std::string::npos) {
      p.fill_(1.0);
    } else if (n.size() >= 4 && n.compare(n.size() - 4, 4, "bias") == 0) {
      p.zero_();
    } else {
      auto w = torch::empty(p.sizes(), torch::kFloat32);
      w.normal_(0.0, std, gen);
      p.copy_(w);
    }
  }
}

}  // namespace seller::model
