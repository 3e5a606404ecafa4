// Decoder-only transformer of the Llama / Qwen2 / Qwen3 family in the LibTorch C++ frontend.
// Parameter names equal transformers' names without the "model." prefix (layers.3.mlp.up_proj.
// weight, ...), so a Hugging Face state dict loads by name and exports back the same way.
// Inputs are token ids or embeddings (soft prompts from the MoE adapter come in as embeddings),
// with an optional padding mask and an optional KV cache for generation.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <string>

#include "trainer/model/llm/attention.h"
#include "trainer/model/llm/decoder_config.h"
#include "trainer/model/llm/kv_cache.h"
#include "trainer/model/llm/rms_norm.h"
#include "trainer/model/llm/rotary.h"

namespace seller::model {

class MlpImpl : public torch::nn::Module {
 public:
  explicit MlpImpl(const DecoderConfig& config);
  torch::Tensor forward(const torch::Tensor& x);
  torch::nn::Linear gate_proj{nullptr}, up_proj{nullptr}, down_proj{nullptr};
  // LoRA adapters (lora.h): null unless apply_lora() targeted the projection.
  LoraDelta gate_proj_lora{nullptr}, up_proj_lora{nullptr}, down_proj_lora{nullptr};
};
TORCH_MODULE(Mlp);

class DecoderLayerImpl : public torch::nn::Module {
 public:
  DecoderLayerImpl(const DecoderConfig& config, int64_t index);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, KvCache* cache);
  RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  Attention self_attn{nullptr};
  Mlp mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

struct DecoderInput {
  torch::Tensor input_ids;       // [B, T] int64, or
  torch::Tensor inputs_embeds;   // [B, T, hidden]
  torch::Tensor attention_mask;  // optional [B, past + T], 1 = real token, 0 = padding
  torch::Tensor positions;       // optional [B, T]; default from the mask (cumsum - 1) or arange
  KvCache* cache = nullptr;      // optional; advanced by T after the call
};

class DecoderImpl : public torch::nn::Module {
 public:
  explicit DecoderImpl(const DecoderConfig& config);

  // Final hidden states [B, T, hidden] (after the last norm).
  torch::Tensor hidden_states(const DecoderInput& in);
  // Logits [B, T, vocab] over the hidden states given.
  torch::Tensor logits(const torch::Tensor& hidden);
  torch::Tensor forward(const DecoderInput& in) { return logits(hidden_states(in)); }
  torch::Tensor embed(const torch::Tensor& ids) { return embed_tokens(ids); }

  // Copies a Hugging Face state dict (names with or without "model.") into the parameters,
  // converting dtype. Missing or unexpected tensors and shape mismatches throw seller::Error
  // listing them; lm_head.weight may be absent when embeddings are tied.
  void load_hf_state_dict(const std::map<std::string, torch::Tensor>& tensors);
  // The parameters under transformers' names ("model." prefix, lm_head when untied); LoRA
  // adapters are not part of it (lora_state_dict, or merge_lora first). load_hf_state_dict
  // likewise leaves adapters alone and does not report them missing.
  std::map<std::string, torch::Tensor> hf_state_dict();

  const DecoderConfig& config() const { return config_; }

  torch::nn::Embedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  RMSNorm norm{nullptr};
  torch::nn::Linear lm_head{nullptr};  // null when tied to embed_tokens

 private:
  DecoderConfig config_;
  std::unique_ptr<RotaryEmbedding> rotary_;
};
TORCH_MODULE(Decoder);

// Random initialisation for training from scratch: normal(0, std) weights, zero biases, unit
// norms (transformers' LlamaPreTrainedModel._init_weights with initializer_range = std).
// LoRA adapters keep their own initialisation.
void init_decoder_weights(Decoder& decoder, double std, uint64_t seed);

}  // namespace seller::model
