// Grouped-query attention (see attention.h). Shapes follow transformers' LlamaAttention so that
// a Hugging Face checkpoint's projections load without any permutation.
#include "trainer/model/llm/attention.h"

#include <torch/torch.h>

#include <cmath>

#include "trainer/model/llm/rotary.h"

namespace seller::model {

AttentionImpl::AttentionImpl(const DecoderConfig& c, int64_t layer_index)
    : num_heads_(c.num_heads),
      num_kv_heads_(c.num_kv_heads),
      head_dim_(c.head_dim),
      layer_index_(layer_index),
      eager_(c.attention_impl == "eager") {
  auto lin = [&](int64_t in, int64_t out, bool bias) {
    return torch::nn::Linear(torch::nn::LinearOptions(in, out).bias(bias));
  };
  q_proj = register_module("q_proj", lin(c.hidden_size, c.num_heads * c.head_dim, c.qkv_bias));
  k_proj = register_module("k_proj", lin(c.hidden_size, c.num_kv_heads * c.head_dim, c.qkv_bias));
  v_proj = register_module("v_proj", lin(c.hidden_size, c.num_kv_heads * c.head_dim, c.qkv_bias));
  o_proj = register_module("o_proj", lin(c.num_heads * c.head_dim, c.hidden_size, c.o_proj_bias));
  if (c.qk_norm) {
    q_norm = register_module("q_norm", RMSNorm(c.head_dim, c.rms_norm_eps));
    k_norm = register_module("k_norm", RMSNorm(c.head_dim, c.rms_norm_eps));
  }
}

torch::Tensor AttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin, const torch::Tensor& mask,
                                     KvCache* cache) {
  const int64_t b = x.size(0), t = x.size(1);
  auto q = lora_linear(q_proj, q_proj_lora, x).view({b, t, -1, head_dim_});
  auto k = lora_linear(k_proj, k_proj_lora, x).view({b, t, -1, head_dim_});
  auto v = lora_linear(v_proj, v_proj_lora, x).view({b, t, -1, head_dim_}).transpose(1, 2);
  if (q_norm) {
    q = q_norm(q);
    k = k_norm(k);
  }
  q = RotaryEmbedding::apply(q.transpose(1, 2), cos, sin);
  k = RotaryEmbedding::apply(k.transpose(1, 2), cos, sin);
  if (cache && cache->write_index.defined()) {
    cache->keys[layer_index_].index_copy_(2, cache->write_index, k);
    cache->values[layer_index_].index_copy_(2, cache->write_index, v);
    k = cache->keys[layer_index_];
    v = cache->values[layer_index_];
  } else if (cache) {
    const int64_t start = cache->length;
    TORCH_CHECK(start + t <= cache->capacity(), "KV cache overflow: ", start + t, " > ",
                cache->capacity());
    cache->keys[layer_index_].narrow(2, start, t).copy_(k);
    cache->values[layer_index_].narrow(2, start, t).copy_(v);
    k = cache->keys[layer_index_].narrow(2, 0, start + t);
    v = cache->values[layer_index_].narrow(2, 0, start + t);
  }
  auto out = attend(q, k, v, mask);  // [B, heads, T, head_dim]
  return lora_linear(o_proj, o_proj_lora,
                     out.transpose(1, 2).reshape({b, t, num_heads_ * head_dim_}));
}

torch::Tensor AttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k,
                                    const torch::Tensor& v, const torch::Tensor& mask) const {
  const int64_t groups = num_heads_ / num_kv_heads_;
  auto repeat_kv = [&](const torch::Tensor& kv) {
    if (groups == 1) return kv;
    auto s = kv.sizes();
    return kv.unsqueeze(2)
        .expand({s[0], s[1], groups, s[2], s[3]})
        .reshape({s[0], s[1] * groups, s[2], s[3]});
  };
  auto kf = repeat_kv(k), vf = repeat_kv(v);
  const double scale = 1.0 / std::sqrt(static_cast<double>(head_dim_));
  if (!eager_) {
    if (mask.defined()) return at::scaled_dot_product_attention(q, kf, vf, mask, 0.0, false, scale);
    return at::scaled_dot_product_attention(q, kf, vf, {}, 0.0, /*is_causal=*/true, scale);
  }
  // Plain reference: softmax in fp32, as transformers' eager attention does.
  auto scores = torch::matmul(q, kf.transpose(2, 3)) * scale;
  torch::Tensor allowed = mask;
  if (!allowed.defined()) {
    const int64_t t = q.size(2), s = kf.size(2);
    allowed = torch::ones({t, s}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                  .tril(s - t);
  }
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
  return torch::matmul(probs, vf);
}

torch::Tensor build_attention_mask(const torch::Tensor& key_valid, int64_t past, int64_t t) {
  const int64_t s = key_valid.size(1);
  TORCH_CHECK(s == past + t, "attention mask covers ", s, " positions, expected ", past + t);
  auto opts = torch::TensorOptions().dtype(torch::kLong).device(key_valid.device());
  auto q_pos = torch::arange(past, past + t, opts).view({t, 1});
  auto k_pos = torch::arange(0, s, opts).view({1, s});
  auto causal = (k_pos <= q_pos).view({1, 1, t, s});
  auto self = (k_pos == q_pos).view({1, 1, t, s});
  auto valid = key_valid.to(torch::kBool).view({key_valid.size(0), 1, 1, s});
  return causal.logical_and(valid).logical_or(self);
}

}  // namespace seller::model
