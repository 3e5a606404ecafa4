// RoPE frequency computation per scaling type (see rotary.h). Formulas follow transformers'
// modeling_rope_utils so that imported checkpoints see exactly the angles they were trained with.
#include "trainer/model/llm/rotary.h"

#include <torch/torch.h>

#include <cmath>

#include "trainer/core/error.h"

namespace seller::model {
namespace {

double yarn_mscale(double scale) { return scale <= 1.0 ? 1.0 : 0.1 * std::log(scale) + 1.0; }

double yarn_correction_dim(double rotations, int64_t dim, double base, double max_pos) {
  return (static_cast<double>(dim) * std::log(max_pos / (rotations * 2.0 * M_PI))) /
         (2.0 * std::log(base));
}

}  // namespace

RotaryEmbedding::RotaryEmbedding(const RopeConfig& rope, int64_t head_dim, int64_t max_positions)
    : rope_(rope), max_positions_(max_positions) {
  rotary_dim_ = static_cast<int64_t>(static_cast<double>(head_dim) * rope.partial_rotary_factor);
  SELLER_THROW_IF_NOT(rotary_dim_ > 0 && rotary_dim_ % 2 == 0, ConfigError,
                      "rope: rotary dimension ", rotary_dim_, " (head_dim ", head_dim,
                      " x partial_rotary_factor ", rope.partial_rotary_factor,
                      ") must be positive and even");
  const int64_t original =
      rope.original_max_positions > 0 ? rope.original_max_positions : max_positions;
  torch::Tensor inv_freq = base_inv_freq(rope.theta);
  if (rope.type == "default" || rope.type == "dynamic") {
    // dynamic rescales per call in cos_sin, only beyond the original context
  } else if (rope.type == "linear") {
    inv_freq = inv_freq / rope.factor;
  } else if (rope.type == "llama3") {
    const double old_len = static_cast<double>(original);
    const double low_wavelen = old_len / rope.low_freq_factor;
    const double high_wavelen = old_len / rope.high_freq_factor;
    auto wavelen = 2 * M_PI / inv_freq;
    auto scaled = torch::where(wavelen > low_wavelen, inv_freq / rope.factor, inv_freq);
    auto smooth = (old_len / wavelen - rope.low_freq_factor) /
                  (rope.high_freq_factor - rope.low_freq_factor);
    auto smoothed = (1 - smooth) * scaled / rope.factor + smooth * scaled;
    auto medium = (wavelen >= high_wavelen).logical_and(wavelen <= low_wavelen);
    inv_freq = torch::where(medium, smoothed, scaled);
  } else if (rope.type == "yarn") {
    const int64_t dim = rotary_dim_;
    attention_scaling_ = rope.attention_factor > 0 ? rope.attention_factor
                                                   : yarn_mscale(rope.factor);
    double low = std::floor(yarn_correction_dim(rope.beta_fast, dim, rope.theta, original));
    double high = std::ceil(yarn_correction_dim(rope.beta_slow, dim, rope.theta, original));
    low = std::max(low, 0.0);
    high = std::min(high, static_cast<double>(dim - 1));
    if (low == high) high += 0.001;
    auto ramp = ((torch::arange(dim / 2, torch::kFloat32) - low) / (high - low)).clamp(0, 1);
    auto extrapolation_factor = 1 - ramp;
    auto pos_freqs = torch::pow(rope.theta, torch::arange(0, dim, 2, torch::kInt64)
                                                    .to(torch::kFloat32) / static_cast<double>(dim));
    auto extrapolation = 1.0 / pos_freqs;
    auto interpolation = 1.0 / (rope.factor * pos_freqs);
    inv_freq = interpolation * (1 - extrapolation_factor) + extrapolation * extrapolation_factor;
  } else {
    throw ConfigError("rope: unsupported rope type '" + rope.type +
                      "' (supported: default, linear, dynamic, llama3, yarn)");
  }
  inv_freq_ = inv_freq.to(torch::kFloat32).contiguous();
}

torch::Tensor RotaryEmbedding::base_inv_freq(double theta) const {
  auto exponents =
      torch::arange(0, rotary_dim_, 2, torch::kInt64).to(torch::kFloat32) /
      static_cast<double>(rotary_dim_);
  return 1.0 / torch::pow(theta, exponents);
}

std::pair<torch::Tensor, torch::Tensor> RotaryEmbedding::cos_sin(const torch::Tensor& positions,
                                                                 torch::ScalarType dtype) const {
  if (inv_freq_.device() != positions.device()) inv_freq_ = inv_freq_.to(positions.device());
  torch::Tensor inv_freq = inv_freq_;
  if (rope_.type == "dynamic") {
    const int64_t original =
        rope_.original_max_positions > 0 ? rope_.original_max_positions : max_positions_;
    const int64_t seq_len = positions.numel() ? positions.max().item<int64_t>() + 1 : 0;
    if (seq_len > original) {
      const double d = static_cast<double>(rotary_dim_);
      double base = rope_.theta * std::pow(rope_.factor * static_cast<double>(seq_len) /
                                                   static_cast<double>(original) -
                                               (rope_.factor - 1),
                                           d / (d - 2));
      inv_freq = base_inv_freq(base);
    }
  }
  inv_freq = inv_freq.to(positions.device());
  // [B, T, 1] * [1, 1, D/2]: a product per element, identical to transformers' k=1 matmul.
  auto freqs = positions.to(torch::kFloat32).unsqueeze(-1) * inv_freq.view({1, 1, -1});
  auto emb = torch::cat({freqs, freqs}, -1);
  auto cos = emb.cos() * attention_scaling_;
  auto sin = emb.sin() * attention_scaling_;
  return {cos.to(dtype), sin.to(dtype)};
}

torch::Tensor RotaryEmbedding::apply(const torch::Tensor& x, const torch::Tensor& cos,
                                     const torch::Tensor& sin) {
  const int64_t rot = cos.size(-1);
  auto c = cos.unsqueeze(1);  // [B, 1, T, rot]
  auto s = sin.unsqueeze(1);
  auto rotate_half = [](const torch::Tensor& t) {
    auto halves = t.chunk(2, -1);
    return torch::cat({-halves[1], halves[0]}, -1);
  };
  if (rot == x.size(-1)) return x * c + rotate_half(x) * s;
  auto x_rot = x.narrow(-1, 0, rot);
  auto x_pass = x.narrow(-1, rot, x.size(-1) - rot);
  return torch::cat({x_rot * c + rotate_half(x_rot) * s, x_pass}, -1);
}

}  // namespace seller::model
