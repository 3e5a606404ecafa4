// Router (gating) of the Mixture-of-Experts layer and the options of the whole MoE.
//
// route(x) is the first of the four explicit phases (route -> permute -> run_experts -> combine,
// see moe_layer.h) that a later expert-parallel layer splits across GPUs with an all-to-all
// between permute and run_experts. It only looks at the tokens, never at the experts' weights,
// so every rank can route its own tokens.
//
// Invariants of a Routing of N tokens, E experts and top-k:
//   logits [N, E] float; probs [N, E] (softmax rows sum to 1; sigmoid scores lie in (0, 1));
//   expert_index [N, k] int64, distinct experts per row, ordered by decreasing score;
//   weight [N, k]: the top-k scores renormalised to sum to 1 per row (normalize_top_k), or the raw
//   scores. Gradients reach the router through weight (combine), aux_loss and z_loss.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>

namespace seller::model {

struct MoeOptions {
  int64_t num_experts = 8;
  int64_t top_k = 2;
  // softmax: softmax over all experts, then top-k, renormalised over the k.
  // sigmoid: independent per-expert sigmoid scores, top-k, renormalised over the k.
  std::string gating = "softmax";
  // Capacity per expert = ceil(capacity_factor * tokens * top_k / num_experts); assignments
  // beyond it are dropped (first come in token order; their weight contributes 0).
  double capacity_factor = 1.25;
  bool dropless = false;  // true: no capacity, nothing dropped
  // Switch/GShard load-balancing loss num_experts * sum_i f_i * P_i, times this weight.
  double aux_loss_weight = 0.01;
  // Router z-loss mean_n logsumexp(logits_n)^2, times this weight.
  double z_loss_weight = 0.001;
  // Multiplicative uniform noise U(1 - j, 1 + j) on the router's input in training (0 = off).
  double router_jitter = 0.0;
  // false: combine with the raw top-k scores (Switch-style for top_k = 1, where renormalising
  // would make every weight 1 and leave the router without a gradient from the output).
  bool normalize_top_k = true;
  // How tokens reach their experts (moe_layer.h): "sorted" groups the kept assignments by
  // expert and runs each expert on its rows (one host read of the counts per forward); "dense"
  // runs every expert on every token and keeps the routed outputs (dense_dispatch.h: no host
  // read, num_experts / top_k times the expert FLOPs); "auto" is dense on CUDA while
  // num_experts / top_k <= 8, sorted otherwise. All three give the same outputs, losses and
  // gradients up to summation order.
  std::string dispatch = "auto";

  // Throws seller::ConfigError naming the option, e.g.
  // "moe.top_k must be in [1, num_experts], got 9".
  void validate() const;
  // The same with another key prefix (e.g. "adapter.moe" when nested in the adapter's section).
  void validate_as(const std::string& prefix) const;
};

// Tokens per expert allowed by the options for `tokens` tokens; -1 when dropless (no limit).
int64_t expert_capacity(const MoeOptions& options, int64_t tokens);

struct Routing {
  torch::Tensor logits;        // [N, E] float
  torch::Tensor probs;         // [N, E] softmax probabilities or sigmoid scores
  torch::Tensor expert_index;  // [N, k] int64, global expert ids
  torch::Tensor weight;        // [N, k] combine weights
};

class RouterImpl : public torch::nn::Module {
 public:
  RouterImpl(int64_t d_in, const MoeOptions& options);

  // Phase 1: scores and top-k choice for x [N, d_in]. Jitter applies only in training mode.
  Routing route(const torch::Tensor& x);
  Routing forward(const torch::Tensor& x) { return route(x); }

  // Load-balancing loss E * sum_i f_i * P_i times aux_loss_weight: f_i = fraction of the N * k
  // routed assignments (before capacity drops) that chose expert i, P_i = mean over tokens of
  // the probability of i. With sigmoid gating the scores are first normalised to sum to 1 per
  // token, so a perfectly balanced router scores 1 in both modes. f carries no gradient.
  torch::Tensor aux_loss(const Routing& routing) const;
  // mean_n logsumexp(logits_n)^2 times z_loss_weight.
  torch::Tensor z_loss(const Routing& routing) const;

  const MoeOptions& options() const { return options_; }

  torch::nn::Linear gate{nullptr};  // d_in -> num_experts, no bias; weight [E, d_in]

 private:
  MoeOptions options_;
};
TORCH_MODULE(Router);

}  // namespace seller::model
