// Grouped-query self-attention of the Llama/Qwen family: per-component q/k/v/o projections
// (kept separate so that tensor parallelism can swap them for column/row-parallel layers),
// optional q/k bias (Qwen2), optional per-head q/k RMSNorm before RoPE (Qwen3), rotary
// embeddings, and either LibTorch's fused scaled_dot_product_attention or a plain reference.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include "trainer/model/llm/decoder_config.h"
#include "trainer/model/llm/kv_cache.h"
#include "trainer/model/llm/lora.h"
#include "trainer/model/llm/rms_norm.h"

namespace seller::model {

class AttentionImpl : public torch::nn::Module {
 public:
  AttentionImpl(const DecoderConfig& config, int64_t layer_index);

  // x [B, T, hidden]; cos/sin [B, T, rot]; mask [B, 1, T, S] bool (true = may attend) or
  // undefined for plain causal attention without cache. With a cache, this layer's k/v for the
  // T new tokens are written at slots [cache.length, cache.length + T).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask, KvCache* cache);

  torch::nn::Linear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr}, o_proj{nullptr};
  RMSNorm q_norm{nullptr}, k_norm{nullptr};
  // LoRA adapters (lora.h): null unless apply_lora() targeted the projection.
  LoraDelta q_proj_lora{nullptr}, k_proj_lora{nullptr}, v_proj_lora{nullptr}, o_proj_lora{nullptr};

 private:
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask) const;

  int64_t num_heads_, num_kv_heads_, head_dim_, layer_index_;
  bool eager_;
};
TORCH_MODULE(Attention);

// Causal + padding mask [B, 1, T, past + T] for T new queries after `past` cached slots.
// key_valid [B, past + T] marks real tokens. A query always sees itself, so rows of padding
// queries stay finite (their outputs are ignored) instead of turning into NaN.
torch::Tensor build_attention_mask(const torch::Tensor& key_valid, int64_t past, int64_t t);

}  // namespace seller::model
