// Soft-prompt adapter of SELLER: maps the behaviour-path state of a user, the semantic embedding
// of the candidate item and the mean semantic embedding of the history into K soft-prompt
// vectors in the LLM's hidden size, prepended to the LLM input.
//
//   fused_b  = LayerNorm(GELU(W [user_state_b; candidate_b; history_mean_b] + c))  [B, model_dim]
//   t_{b,k}  = Dropout(fused_b + slot_k)          slot: learned [K, model_dim], N(0, 1) init
//   y        = MoE(t) (token-wise, N = B * K)     or the dense ablation: one MLP of the same
//                                                 d_in/d_hidden/d_out (kind = "dense")
//   prompts  = LayerNorm_noaffine(y) * scale      scale: learned [out_dim], init prompt_scale
//
// Why this shape: the K prompts share one fused user-item representation (also handed to a
// rating head) and differ by their slot embedding, so different prompt positions can be routed
// to different experts; slots start at unit scale, like the LayerNorm'd fused vector, so the K
// tokens differ from the first step. The final normalisation pins every prompt to an RMS of
// |scale| regardless of what the experts output, so the prompts enter the LLM at the scale of
// its token embeddings (set prompt_scale to the embedding table's RMS) and cannot blow up the
// first decoder layer while the adapter is untrained.
//
// Invariants: inputs are float [B, user_dim], [B, item_dim], [B, item_dim]; prompts [B, K,
// out_dim]; fused [B, model_dim]; aux_loss and z_loss are scalars (zeros for dense); stats are
// empty for dense. Prompt b depends only on row b of the inputs unless capacity drops (MoE,
// dropless = false) couple the rows of a batch.
#pragma once

#include <functional>
#include <memory>

#include <torch/nn/module.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>

#include "trainer/model/moe/moe_layer.h"

namespace seller::model {

struct AdapterOptions {
  int64_t user_dim = 64;    // behaviour-path state size
  int64_t item_dim = 384;   // semantic embedding size
  int64_t out_dim = 256;    // LLM hidden size
  int64_t num_prompts = 4;  // K soft-prompt vectors
  int64_t model_dim = 256;  // adapter width
  int64_t expert_hidden = 512;
  std::string kind = "moe";  // moe | dense (a single MLP of the same shape: the ablation)
  double dropout = 0.1;
  double prompt_scale = 1.0;  // initial per-dim output scale (RMS of the prompts at init)
  MoeOptions moe;
  // Throws seller::ConfigError naming "adapter.<key>" (and "adapter.moe.<key>").
  void validate() const;
};

struct AdapterOutput {
  torch::Tensor prompts;           // [B, K, out_dim]
  torch::Tensor fused;             // [B, model_dim]: fused user-item representation
  torch::Tensor aux_loss, z_loss;  // scalars (zeros for dense)
  MoeStats stats;                  // empty for dense
};

class SoftPromptAdapterImpl : public torch::nn::Module {
 public:
  explicit SoftPromptAdapterImpl(const AdapterOptions& options);

  // user_state [B, user_dim], candidate [B, item_dim], history_mean [B, item_dim] (all float).
  AdapterOutput forward(const torch::Tensor& user_state, const torch::Tensor& candidate,
                        const torch::Tensor& history_mean);

  const AdapterOptions& options() const { return options_; }

  // Replaces the MoE layer (kind == "moe") by another implementation of the same phases, e.g.
  // the expert-parallel dist::EpMoeLayer: `layer` is registered as "moe" in its place (parameter
  // names stay "moe.router...", "moe.experts..."), `forward` is called instead of moe->forward,
  // and `moe` keeps the single-process layer it replaced. restore_moe() puts that one back.
  using MoeForward = std::function<MoeOutput(const torch::Tensor&)>;
  void replace_moe(std::shared_ptr<torch::nn::Module> layer, MoeForward forward);
  void restore_moe();
  bool moe_replaced() const { return static_cast<bool>(moe_forward_); }

  torch::nn::Linear fuse{nullptr};
  torch::nn::LayerNorm fuse_norm{nullptr}, out_norm{nullptr};
  torch::Tensor slots;                                       // [K, model_dim]
  torch::Tensor scale;                                       // [out_dim]
  MoeLayer moe{nullptr};                                     // kind == "moe"
  torch::nn::Linear dense_fc1{nullptr}, dense_fc2{nullptr};  // kind == "dense"
  torch::nn::Dropout drop{nullptr};

 private:
  AdapterOptions options_;
  MoeForward moe_forward_;  // set by replace_moe
};
TORCH_MODULE(SoftPromptAdapter);

}  // namespace seller::model
