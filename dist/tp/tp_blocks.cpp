// Tensor-parallel attention, MLP and decoder layer (contract in tp_blocks.h). The attention
// arithmetic mirrors trainer/model/llm/attention.cpp (same RoPE, same GQA expansion, same fused
// or eager kernel), restricted to this rank's heads, so the two agree to rounding.
#include "dist/tp/tp_blocks.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "dist/tp/tp_ops.h"
#include "trainer/core/error.h"
#include "trainer/model/llm/rotary.h"

namespace seller::dist {

void validate_tp_config(const model::DecoderConfig& c, int64_t tp) {
  SELLER_THROW_IF_NOT(tp >= 1, ConfigError, "tp must be >= 1, got ", tp);
  SELLER_THROW_IF_NOT(c.num_heads % tp == 0, ConfigError, "tp=", tp,
                      " does not divide num_heads=", c.num_heads);
  SELLER_THROW_IF_NOT(c.num_kv_heads % tp == 0, ConfigError, "tp=", tp,
                      " does not divide num_kv_heads=", c.num_kv_heads);
  SELLER_THROW_IF_NOT(c.intermediate_size % tp == 0, ConfigError, "tp=", tp,
                      " does not divide intermediate_size=", c.intermediate_size);
  SELLER_THROW_IF_NOT(c.vocab_size % tp == 0, ConfigError, "tp=", tp,
                      " does not divide vocab_size=", c.vocab_size);
}

TpAttentionImpl::TpAttentionImpl(const model::DecoderConfig& c, CommunicatorPtr tp)
    : tp_(std::move(tp)),
      local_heads_(c.num_heads / tp_->size()),
      local_kv_heads_(c.num_kv_heads / tp_->size()),
      head_dim_(c.head_dim),
      eps_(c.rms_norm_eps),
      eager_(c.attention_impl == "eager") {
  validate_tp_config(c, tp_->size());
  const int64_t h = c.hidden_size, d = c.head_dim;
  q_proj = register_module("q_proj", ColumnParallelLinear(h, c.num_heads * d, c.qkv_bias, tp_));
  k_proj = register_module("k_proj", ColumnParallelLinear(h, c.num_kv_heads * d, c.qkv_bias, tp_));
  v_proj = register_module("v_proj", ColumnParallelLinear(h, c.num_kv_heads * d, c.qkv_bias, tp_));
  o_proj = register_module("o_proj", RowParallelLinear(c.num_heads * d, h, c.o_proj_bias, tp_));
  if (c.qk_norm) {
    q_norm = register_module("q_norm", model::RMSNorm(d, c.rms_norm_eps));
    k_norm = register_module("k_norm", model::RMSNorm(d, c.rms_norm_eps));
  }
}

torch::Tensor TpAttentionImpl::head_norm(model::RMSNorm& norm, const torch::Tensor& x) const {
  // RMSNormImpl's CPU arithmetic, with the weight routed through "f": each rank sees only its
  // heads, so the weight's true gradient is the sum over the group.
  auto w = copy_to_tp(norm->weight, *tp_);
  auto h = x.to(torch::kFloat32);
  h = h * torch::rsqrt(h.pow(2).mean(-1, true) + eps_);
  return w * h.to(x.scalar_type());
}

torch::Tensor TpAttentionImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                       const torch::Tensor& sin, const torch::Tensor& mask) {
  const int64_t b = x.size(0), t = x.size(1);
  auto xp = copy_to_tp(x, *tp_);  // one "f" for q, k and v
  auto q = q_proj->forward_local(xp).view({b, t, local_heads_, head_dim_});
  auto k = k_proj->forward_local(xp).view({b, t, local_kv_heads_, head_dim_});
  auto v = v_proj->forward_local(xp).view({b, t, local_kv_heads_, head_dim_}).transpose(1, 2);
  if (q_norm) {
    q = head_norm(q_norm, q);
    k = head_norm(k_norm, k);
  }
  q = model::RotaryEmbedding::apply(q.transpose(1, 2), cos, sin);
  k = model::RotaryEmbedding::apply(k.transpose(1, 2), cos, sin);
  auto out = attend(q, k, v, mask);  // [B, local heads, T, head_dim]
  return o_proj(out.transpose(1, 2).reshape({b, t, local_heads_ * head_dim_}));
}

torch::Tensor TpAttentionImpl::attend(const torch::Tensor& q, const torch::Tensor& k,
                                      const torch::Tensor& v, const torch::Tensor& mask) const {
  const int64_t groups = local_heads_ / local_kv_heads_;
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
  auto scores = torch::matmul(q, kf.transpose(2, 3)) * scale;
  torch::Tensor allowed = mask;
  if (!allowed.defined()) {
    const int64_t tq = q.size(2), s = kf.size(2);
    allowed = torch::ones({tq, s}, torch::TensorOptions().dtype(torch::kBool).device(q.device()))
                  .tril(s - tq);
  }
  scores = scores.masked_fill(allowed.logical_not(), -std::numeric_limits<float>::infinity());
  auto probs = torch::softmax(scores.to(torch::kFloat32), -1).to(q.scalar_type());
  return torch::matmul(probs, vf);
}

TpMlpImpl::TpMlpImpl(const model::DecoderConfig& c, CommunicatorPtr tp) : tp_(std::move(tp)) {
  validate_tp_config(c, tp_->size());
  const int64_t h = c.hidden_size, i = c.intermediate_size;
  gate_proj = register_module("gate_proj", ColumnParallelLinear(h, i, c.mlp_bias, tp_));
  up_proj = register_module("up_proj", ColumnParallelLinear(h, i, c.mlp_bias, tp_));
  down_proj = register_module("down_proj", RowParallelLinear(i, h, c.mlp_bias, tp_));
}

torch::Tensor TpMlpImpl::forward(const torch::Tensor& x) {
  auto xp = copy_to_tp(x, *tp_);  // one "f" for gate and up
  return down_proj(torch::silu(gate_proj->forward_local(xp)) * up_proj->forward_local(xp));
}

TpDecoderLayerImpl::TpDecoderLayerImpl(const model::DecoderConfig& c, CommunicatorPtr tp) {
  input_layernorm =
      register_module("input_layernorm", model::RMSNorm(c.hidden_size, c.rms_norm_eps));
  self_attn = register_module("self_attn", TpAttention(c, tp));
  post_attention_layernorm =
      register_module("post_attention_layernorm", model::RMSNorm(c.hidden_size, c.rms_norm_eps));
  mlp = register_module("mlp", TpMlp(c, tp));
}

torch::Tensor TpDecoderLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& cos,
                                          const torch::Tensor& sin, const torch::Tensor& mask) {
  auto h = x + self_attn(input_layernorm(x), cos, sin, mask);
  return h + mlp(post_attention_layernorm(h));
}

}  // namespace seller::dist
