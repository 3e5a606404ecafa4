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
  const auto bool_opts = idx.options().dtype(torch::kBool);
  DenseDispatch d;
  d.routed = n * k;
  if (capacity < 0) {
    d.kept = torch::ones({n, k}, bool_opts);
    d.counts = routed_counts(idx, num_experts);
    return d;
  }
  // permute()'s capacity rule (experts.h), as a mask scattered back to assignment order.
  const auto q = expert_queue(idx, num_experts);
  d.kept =
      torch::zeros({n * k}, bool_opts).scatter_(0, q.order, q.position < capacity).view({n, k});
  d.counts = q.routed.clamp_max(capacity);
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
