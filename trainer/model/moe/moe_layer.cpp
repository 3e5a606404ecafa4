// MoE layer: forward as the explicit sequence route -> permute -> run_experts -> combine, plus
// losses and statistics (contract in moe_layer.h).
#include "trainer/model/moe/moe_layer.h"

#include <torch/torch.h>

#include <algorithm>

#include "trainer/core/error.h"
#include "trainer/model/moe/dense_dispatch.h"

namespace seller::model {

void MoeStats::add(const MoeStats& other) {
  if (tokens_per_expert.size() < other.tokens_per_expert.size())
    tokens_per_expert.resize(other.tokens_per_expert.size(), 0);
  for (size_t i = 0; i < other.tokens_per_expert.size(); ++i)
    tokens_per_expert[i] += other.tokens_per_expert[i];
  assignments += other.assignments;
  dropped += other.dropped;
  if (other.pending_counts.defined())
    pending_counts =
        pending_counts.defined() ? pending_counts + other.pending_counts : other.pending_counts;
  pending_assignments += other.pending_assignments;
}

void MoeStats::settle() {
  if (!pending_counts.defined()) return;
  const auto host = pending_counts.to(torch::kCPU, torch::kLong).contiguous();
  const int64_t* c = host.data_ptr<int64_t>();
  const auto e = static_cast<size_t>(host.numel());
  if (tokens_per_expert.size() < e) tokens_per_expert.resize(e, 0);
  int64_t kept = 0;
  for (size_t i = 0; i < e; ++i) {
    tokens_per_expert[i] += c[i];
    kept += c[i];
  }
  assignments += pending_assignments;
  dropped += pending_assignments - kept;
  pending_counts = torch::Tensor();
  pending_assignments = 0;
}

bool uses_dense_dispatch(const MoeOptions& o, const torch::Tensor& x) {
  if (o.dispatch == "dense") return true;
  return o.dispatch == "auto" && x.is_cuda() && o.num_experts <= 8 * o.top_k;
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
  MoeOutput out;
  out.aux_loss = router->aux_loss(r);
  out.z_loss = router->z_loss(r);
  if (uses_dense_dispatch(options_, x)) {
    DenseDispatch d = dense_dispatch(r, options_.num_experts, capacity(n));
    out.output = combine_dense(run_all_experts(experts, x), d, r);
    out.stats.pending_counts = d.counts;
    out.stats.pending_assignments = d.routed;
    return out;
  }
  Dispatch d = permute(x, r);
  out.output = combine(run_experts(d), d, r, n);
  out.stats = stats(d);
  return out;
}

}  // namespace seller::model
