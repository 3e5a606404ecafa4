// Rotary position embeddings (RoPE) with the scaling variants of transformers' rope utilities:
// default, linear, dynamic (NTK), llama3 and yarn. inv_freq is computed in fp32 exactly as
// transformers computes it, so cos/sin match bit for bit on CPU.
#pragma once

#include <torch/types.h>

#include <utility>

#include "trainer/model/llm/decoder_config.h"

namespace seller::model {

class RotaryEmbedding {
 public:
  RotaryEmbedding(const RopeConfig& rope, int64_t head_dim, int64_t max_positions);

  // cos and sin of shape [B, T, rotary_dim] for integer positions [B, T], in `dtype`.
  std::pair<torch::Tensor, torch::Tensor> cos_sin(const torch::Tensor& positions,
                                                  torch::ScalarType dtype) const;

  // x: [B, heads, T, head_dim]; rotates the first rotary_dim features (rotate_half convention).
  static torch::Tensor apply(const torch::Tensor& x, const torch::Tensor& cos,
                             const torch::Tensor& sin);

  int64_t rotary_dim() const { return rotary_dim_; }
  const torch::Tensor& inv_freq() const { return inv_freq_; }
  double attention_scaling() const { return attention_scaling_; }

 private:
  torch::Tensor base_inv_freq(double theta) const;

  RopeConfig rope_;
  int64_t rotary_dim_;
  int64_t max_positions_;
  // [rotary_dim / 2], fp32; moves to the positions' device on first use and stays there (so a
  // captured CUDA graph never copies it).
  mutable torch::Tensor inv_freq_;
  double attention_scaling_ = 1.0;
};

}  // namespace seller::model
