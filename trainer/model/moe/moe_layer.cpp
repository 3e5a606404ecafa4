// MoE layer: forward as the explicit sequence route -> permute -> run_experts -> combine, plus
// losses and statistics (contract in moe_layer.h).
#include "trainer/model/moe/moe_layer.h"

#include <torch/torch.h>

#include <algorithm>

#include "trainer/core/error.h"

namespace seller::model {

void MoeStats::add(const MoeStats& other) {
  if (tokens_per_expert.size() < other.tokens_per_expert.size())
    tokens_per_expert.resize(other.tokens_per_expert.size(), 0);
  for (size_t i = 0; i < other.tokens_per_expert.size(); ++i)
    tokens_per_expert[i] += other.tokens_per_expert[i];
  assignments += other.assignments;
  dropped += other.dropped;
}

MoeLayerImpl::MoeLayerImpl(int64_t d_in, int64_t d_hidden, int64_t d_out, const MoeOptions& options)
    : options_(options) {
  options_.validate();
  router = register_module("router", Router(d_in, options_));
  experts = register_module("experts", Experts(d_in, d_hidden, d_out, options_.num_experts));
}

Dispatch MoeLayerImpl::permute(const torch::Tensor& x, const Routing& routing) const {
  return model::permute(x, routing, capacity(x.size(0)));
}

torch::Tensor MoeLayerImpl::combine(const torch::Tensor& expert_out, const Dispatch& dispatch,
                                    const Routing& routing, int64_t num_tokens) const {
  return model::combine(expert_out, dispatch, routing, num_tokens);
}

MoeStats MoeLayerImpl::stats(const Dispatch& d) const {
  MoeStats s;
  s.tokens_per_expert = d.counts_host;
  s.assignments = d.routed;
  int64_t kept = 0;
  for (int64_t c : d.counts_host) kept += c;
  s.dropped = d.routed - kept;
  return s;
}

MoeOutput MoeLayerImpl::forward(const torch::Tensor& x) {
  SELLER_CHECK(x.dim() == 2 && x.size(1) == experts->w1.size(1), "MoE input must be [N, ",
               experts->w1.size(1), "], got ", x.sizes());
  const int64_t n = x.size(0);
  Routing r = route(x);
  Dispatch d = permute(x, r);
  auto y = run_experts(d);
  MoeOutput out;
  out.output = combine(y, d, r, n);
  out.aux_loss = router->aux_loss(r);
  out.z_loss = router->z_loss(r);
  out.stats = stats(d);
  return out;
}

}  // namespace seller::model
