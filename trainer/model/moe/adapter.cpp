// Soft-prompt adapter (MoE or dense ablation); the design and invariants are in adapter.h.
#include "trainer/model/moe/adapter.h"

#include <torch/torch.h>

#include <cmath>

#include "trainer/core/error.h"

namespace seller::model {

void AdapterOptions::validate() const {
  auto positive = [](const char* key, int64_t v) {
    SELLER_THROW_IF_NOT(v >= 1, ConfigError, "adapter.", key, " must be >= 1, got ", v);
  };
  positive("user_dim", user_dim);
  positive("item_dim", item_dim);
  positive("out_dim", out_dim);
  positive("num_prompts", num_prompts);
  positive("model_dim", model_dim);
  positive("expert_hidden", expert_hidden);
  SELLER_THROW_IF_NOT(kind == "moe" || kind == "dense", ConfigError,
                      "adapter.kind must be 'moe' or 'dense', got '", kind, "'");
  SELLER_THROW_IF_NOT(dropout >= 0.0 && dropout < 1.0, ConfigError,
                      "adapter.dropout must be in [0, 1), got ", dropout);
  SELLER_THROW_IF_NOT(prompt_scale > 0.0 && std::isfinite(prompt_scale), ConfigError,
                      "adapter.prompt_scale must be a finite number > 0, got ", prompt_scale);
  // The MoE section is checked for the dense ablation too: a config that switches kind back
  // must not discover a bad moe value only then.
  moe.validate_as("adapter.moe");
}

SoftPromptAdapterImpl::SoftPromptAdapterImpl(const AdapterOptions& o) : options_(o) {
  options_.validate();
  fuse = register_module("fuse", torch::nn::Linear(o.user_dim + 2 * o.item_dim, o.model_dim));
  fuse_norm = register_module("fuse_norm",
                              torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.model_dim})));
  slots = register_parameter("slots", torch::randn({o.num_prompts, o.model_dim}));
  drop = register_module("drop", torch::nn::Dropout(o.dropout));
  if (o.kind == "moe") {
    moe = register_module("moe", MoeLayer(o.model_dim, o.expert_hidden, o.out_dim, o.moe));
  } else {
    dense_fc1 = register_module("dense_fc1", torch::nn::Linear(o.model_dim, o.expert_hidden));
    dense_fc2 = register_module("dense_fc2", torch::nn::Linear(o.expert_hidden, o.out_dim));
  }
  // No affine part: the learned `scale` is the only gain, so its init alone sets the prompt RMS.
  out_norm = register_module(
      "out_norm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.out_dim}).elementwise_affine(false)));
  scale = register_parameter("scale", torch::full({o.out_dim}, o.prompt_scale));
}

AdapterOutput SoftPromptAdapterImpl::forward(const torch::Tensor& user_state,
                                             const torch::Tensor& candidate,
                                             const torch::Tensor& history_mean) {
  const auto& o = options_;
  const int64_t b = user_state.size(0);
  SELLER_CHECK(user_state.dim() == 2 && user_state.size(1) == o.user_dim, "user_state must be [B, ",
               o.user_dim, "], got ", user_state.sizes());
  SELLER_CHECK(candidate.dim() == 2 && candidate.size(0) == b && candidate.size(1) == o.item_dim,
               "candidate must be [", b, ", ", o.item_dim, "], got ", candidate.sizes());
  SELLER_CHECK(history_mean.sizes() == candidate.sizes(), "history_mean must be [", b, ", ",
               o.item_dim, "], got ", history_mean.sizes());

  AdapterOutput out;
  out.fused = fuse_norm(torch::gelu(fuse(torch::cat({user_state, candidate, history_mean}, 1))));
  auto tokens =
      drop((out.fused.unsqueeze(1) + slots.unsqueeze(0)).reshape({b * o.num_prompts, o.model_dim}));
  torch::Tensor y;
  if (o.kind == "moe") {
    MoeOutput m = moe_forward_ ? moe_forward_(tokens) : moe->forward(tokens);
    y = m.output;
    out.aux_loss = m.aux_loss;
    out.z_loss = m.z_loss;
    out.stats = std::move(m.stats);
  } else {
    y = dense_fc2(torch::gelu(dense_fc1(tokens)));
    out.aux_loss = torch::zeros({}, y.options());
    out.z_loss = torch::zeros({}, y.options());
  }
  out.prompts = (out_norm(y) * scale).view({b, o.num_prompts, o.out_dim});
  return out;
}

void SoftPromptAdapterImpl::replace_moe(std::shared_ptr<torch::nn::Module> layer,
                                        MoeForward forward) {
  SELLER_THROW_IF_NOT(options_.kind == "moe", ConfigError, "adapter.kind = ", options_.kind,
                      ": there is no MoE layer to replace");
  replace_module("moe", std::move(layer));
  moe_forward_ = std::move(forward);
}

void SoftPromptAdapterImpl::restore_moe() {
  if (!moe_forward_) return;
  replace_module("moe", moe.ptr());
  moe_forward_ = nullptr;
}

}  // namespace seller::model
