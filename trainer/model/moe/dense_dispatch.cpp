// Dense dispatch of the MoE layer (contract and trade-off in dense_dispatch.h). Nothing here
// reads a device tensor on the host: sizes come from shapes, counts stay on the device.
#include "trainer/model/moe/dense_dispatch.h"

#include <torch/torch.h>

#include "trainer/core/error.h"

namespace seller::model {

DenseDispatch dense_dispatch(const Routing& routing, int64_t num_experts, int64_t capacity) {
  const auto& idx = routing.expert_index;
  SELLER_CHECK(idx.dim() == 2, "expert_index must be [N, k], got ", idx.sizes());
  const int64_t n = idx.size(0), k = idx.size(1);
  const auto long_opts = idx.options().dtype(torch::kLong);
  auto flat = idx.reshape(-1).to(torch::kLong);
  // index_add_ rather than bincount: CUDA's bincount reads the input's maximum on the host.
  auto routed = torch::zeros({num_experts}, long_opts).index_add_(0, flat, torch::ones_like(flat));
  DenseDispatch d;
  d.routed = n * k;
  if (capacity < 0) {
    d.kept = torch::ones({n, k}, long_opts.dtype(torch::kBool));
    d.counts = routed;
    return d;
  }
  // The capacity rule of permute(): a stable sort by expert keeps each expert's assignments in
  // token order (assignment a = n * k + s is token-major); an assignment is kept while its place
  // in its expert's queue is below the capacity.
  auto [sorted_e, order] = torch::sort(flat, /*stable=*/true, /*dim=*/0, /*descending=*/false);
  auto starts = routed.cumsum(0) - routed;
  auto position = torch::arange(n * k, long_opts) - starts.index_select(0, sorted_e);
  d.kept = torch::zeros({n * k}, long_opts.dtype(torch::kBool))
               .scatter_(0, order, position < capacity)
               .view({n, k});
  d.counts = routed.clamp_max(capacity);
  return d;
}

torch::Tensor run_all_experts(const Experts& experts, const torch::Tensor& x) {
  SELLER_CHECK(experts->first_expert() == 0 && experts->local_experts() == experts->num_experts(),
               "the dense dispatch needs every expert on this rank (experts [",
               experts->first_expert(), ", ", experts->first_expert() + experts->local_experts(),
               ") of ", experts->num_experts(), ")");
  SELLER_CHECK(x.dim() == 2 && x.size(1) == experts->w1.size(1));
  const int64_t e = experts->num_experts();
  auto xe = x.unsqueeze(0).expand({e, x.size(0), x.size(1)});
  auto h = torch::gelu(torch::baddbmm(experts->b1.unsqueeze(1), xe, experts->w1));
  return torch::baddbmm(experts->b2.unsqueeze(1), h, experts->w2);
}

torch::Tensor combine_dense(const torch::Tensor& all_out, const DenseDispatch& d,
                            const Routing& routing) {
  SELLER_CHECK(all_out.dim() == 3 && all_out.size(1) == routing.expert_index.size(0),
               "expert outputs ", all_out.sizes(), " do not match ", routing.expert_index.size(0),
               " tokens");
  const int64_t n = all_out.size(1), k = routing.expert_index.size(1), out = all_out.size(2);
  // Row expert * N + token of the flattened [E * N, d_out] outputs for each (token, slot). The
  // k experts of a token are distinct, so no row is picked twice and the backward scatter has
  // no colliding additions (deterministic on a GPU).
  auto tokens = torch::arange(n, routing.expert_index.options().dtype(torch::kLong));
  auto rows = routing.expert_index.to(torch::kLong) * n + tokens.unsqueeze(1);
  auto picked = all_out.reshape({-1, out}).index_select(0, rows.reshape(-1)).view({n, k, out});
  auto w = (routing.weight * d.kept.to(routing.weight.scalar_type())).to(all_out.scalar_type());
  return (picked * w.unsqueeze(-1)).sum(1);
}

}  // namespace seller::model
