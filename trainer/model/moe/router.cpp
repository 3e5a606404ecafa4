// Router of the MoE layer: option checks, capacity, top-k gating and the two router losses.
// The phase contract (shapes, ordering, what carries gradients) is in router.h.
#include "trainer/model/moe/router.h"

#include <torch/torch.h>

#include <cmath>

#include "trainer/core/error.h"

namespace seller::model {

void MoeOptions::validate() const { validate_as("moe"); }

void MoeOptions::validate_as(const std::string& p) const {
  SELLER_THROW_IF_NOT(num_experts >= 1, ConfigError, p, ".num_experts must be >= 1, got ",
                      num_experts);
  SELLER_THROW_IF_NOT(top_k >= 1 && top_k <= num_experts, ConfigError, p,
                      ".top_k must be in [1, num_experts], got ", top_k, " (num_experts is ",
                      num_experts, ")");
  SELLER_THROW_IF_NOT(gating == "softmax" || gating == "sigmoid", ConfigError, p,
                      ".gating must be 'softmax' or 'sigmoid', got '", gating, "'");
  // NaN fails every comparison, so the positive form of each check also rejects it.
  SELLER_THROW_IF_NOT(capacity_factor > 0.0 && std::isfinite(capacity_factor), ConfigError, p,
                      ".capacity_factor must be a finite number > 0, got ", capacity_factor);
  SELLER_THROW_IF_NOT(aux_loss_weight >= 0.0 && std::isfinite(aux_loss_weight), ConfigError, p,
                      ".aux_loss_weight must be >= 0, got ", aux_loss_weight);
  SELLER_THROW_IF_NOT(z_loss_weight >= 0.0 && std::isfinite(z_loss_weight), ConfigError, p,
                      ".z_loss_weight must be >= 0, got ", z_loss_weight);
  SELLER_THROW_IF_NOT(router_jitter >= 0.0 && router_jitter < 1.0, ConfigError, p,
                      ".router_jitter must be in [0, 1), got ", router_jitter);
  SELLER_THROW_IF_NOT(dispatch == "auto" || dispatch == "sorted" || dispatch == "dense",
                      ConfigError, p, ".dispatch must be 'auto', 'sorted' or 'dense', got '",
                      dispatch, "'");
}

int64_t expert_capacity(const MoeOptions& o, int64_t tokens) {
  if (o.dropless) return -1;
  // The tiny epsilon keeps an exact product (1.25 * 8 * 2 / 8 = 2.5 -> 3, 1.0 * 8 / 4 = 2 -> 2)
  // from being pushed up by rounding error in the double arithmetic.
  const double exact = o.capacity_factor * static_cast<double>(tokens * o.top_k) /
                       static_cast<double>(o.num_experts);
  return static_cast<int64_t>(std::ceil(exact - 1e-9));
}

RouterImpl::RouterImpl(int64_t d_in, const MoeOptions& options) : options_(options) {
  options_.validate();
  SELLER_CHECK(d_in >= 1);
  gate = register_module(
      "gate", torch::nn::Linear(torch::nn::LinearOptions(d_in, options_.num_experts).bias(false)));
}

Routing RouterImpl::route(const torch::Tensor& x) {
  SELLER_CHECK(x.dim() == 2, "router input must be [N, d_in], got ", x.sizes());
  auto in = x;
  if (is_training() && options_.router_jitter > 0.0) {
    const double j = options_.router_jitter;
    in = x * torch::empty_like(x).uniform_(1.0 - j, 1.0 + j);
  }
  Routing r;
  // Scores in float32 at least: a bf16 softmax over experts loses the small differences that
  // decide the top-k.
  r.logits = gate(in).to(torch::promote_types(x.scalar_type(), torch::kFloat));
  r.probs = options_.gating == "softmax" ? torch::softmax(r.logits, -1) : torch::sigmoid(r.logits);
  auto [top_v, top_i] = torch::topk(r.probs, options_.top_k, -1, /*largest=*/true, /*sorted=*/true);
  r.expert_index = top_i;
  r.weight = options_.normalize_top_k ? top_v / top_v.sum(-1, true) : top_v;
  return r;
}

torch::Tensor RouterImpl::aux_loss(const Routing& r) const {
  const int64_t e = options_.num_experts;
  const int64_t n = r.logits.size(0);
  if (n == 0) return torch::zeros({}, r.logits.options());
  auto counts = torch::zeros({e}, r.logits.options())
                    .index_add_(0, r.expert_index.reshape(-1),
                                torch::ones({r.expert_index.numel()}, r.logits.options()));
  auto f = counts / static_cast<double>(r.expert_index.numel());
  auto p = options_.gating == "softmax" ? r.probs : r.probs / r.probs.sum(-1, true);
  auto mean_p = p.mean(0);
  return (f * mean_p).sum() * (static_cast<double>(e) * options_.aux_loss_weight);
}

torch::Tensor RouterImpl::z_loss(const Routing& r) const {
  if (r.logits.size(0) == 0) return torch::zeros({}, r.logits.options());
  return torch::logsumexp(r.logits, -1).pow(2).mean() * options_.z_loss_weight;
}

}  // namespace seller::model
