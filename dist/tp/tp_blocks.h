// The tensor-parallel building blocks of the decoder (trainer/model/llm/decoder.h) over a
// tensor-parallel group of size P:
//
//   TpAttention  q/k/v column-parallel: rank r owns query heads [r*H/P, (r+1)*H/P) and key/value
//                heads [r*KV/P, (r+1)*KV/P). Because H/P : KV/P = H : KV, each local query head
//                finds its GQA key/value head locally and attention needs no communication.
//                o_proj is row-parallel (one all-reduce per layer in forward).
//   TpMlp        gate/up column-parallel on the intermediate dim, down_proj row-parallel.
//
// Invariants: P divides num_heads, num_kv_heads and intermediate_size (ConfigError naming the
// combination, e.g. "tp=4 does not divide num_kv_heads=2": replicating key/value heads would make
// their gradients partial sums across ranks; it is not supported). Sub-module and parameter names
// equal the unsharded Decoder's, so "layers.3.self_attn.q_proj.weight" addresses this rank's
// slice. qk-norm weights (Qwen3) act on local heads only, so they pass through copy_to_tp: their
// gradient is summed over the group and stays identical on every rank, like every other
// replicated parameter. No KV cache and no LoRA here (training only).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include "dist/comm/communicator.h"
#include "dist/tp/tp_linear.h"
#include "trainer/model/llm/decoder_config.h"
#include "trainer/model/llm/rms_norm.h"

namespace seller::dist {

// Throws ConfigError naming the first dimension of `config` that tp does not divide.
void validate_tp_config(const model::DecoderConfig& config, int64_t tp);

class TpAttentionImpl : public torch::nn::Module {
 public:
  TpAttentionImpl(const model::DecoderConfig& config, CommunicatorPtr tp);
  // x [B, T, hidden] (replicated), cos/sin [B, T, rot], mask as in model::Attention.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask);

  ColumnParallelLinear q_proj{nullptr}, k_proj{nullptr}, v_proj{nullptr};
  RowParallelLinear o_proj{nullptr};
  model::RMSNorm q_norm{nullptr}, k_norm{nullptr};

 private:
  torch::Tensor head_norm(model::RMSNorm& norm, const torch::Tensor& x) const;
  torch::Tensor attend(const torch::Tensor& q, const torch::Tensor& k, const torch::Tensor& v,
                       const torch::Tensor& mask) const;

  CommunicatorPtr tp_;
  int64_t local_heads_, local_kv_heads_, head_dim_;
  double eps_;
  bool eager_;
};
TORCH_MODULE(TpAttention);

class TpMlpImpl : public torch::nn::Module {
 public:
  TpMlpImpl(const model::DecoderConfig& config, CommunicatorPtr tp);
  torch::Tensor forward(const torch::Tensor& x);

  ColumnParallelLinear gate_proj{nullptr}, up_proj{nullptr};
  RowParallelLinear down_proj{nullptr};

 private:
  CommunicatorPtr tp_;
};
TORCH_MODULE(TpMlp);

class TpDecoderLayerImpl : public torch::nn::Module {
 public:
  TpDecoderLayerImpl(const model::DecoderConfig& config, CommunicatorPtr tp);
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& cos, const torch::Tensor& sin,
                        const torch::Tensor& mask);

  model::RMSNorm input_layernorm{nullptr}, post_attention_layernorm{nullptr};
  TpAttention self_attn{nullptr};
  TpMlp mlp{nullptr};
};
TORCH_MODULE(TpDecoderLayer);

}  // namespace seller::dist
