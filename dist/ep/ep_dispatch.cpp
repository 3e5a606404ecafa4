// Count exchange, capacity-limited permute and the differentiable all-to-all of the
// expert-parallel MoE layer (contract in ep_dispatch.h).
#include "dist/ep/ep_dispatch.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "trainer/core/error.h"

namespace seller::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

torch::Tensor exchange(const torch::Tensor& input, const std::vector<int64_t>& send,
                       const std::vector<int64_t>& recv, Communicator& comm) {
  auto in = input.contiguous();
  auto sizes = in.sizes().vec();
  sizes[0] = std::accumulate(recv.begin(), recv.end(), int64_t{0});
  auto out = torch::empty(sizes, in.options());
  comm.all_to_all_v(in, send, out, recv, /*async=*/false);
  return out;
}

struct AllToAllRows : torch::autograd::Function<AllToAllRows> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& input,
                               std::vector<int64_t> send, std::vector<int64_t> recv,
                               Communicator* comm) {
    ctx->saved_data["send"] = send;
    ctx->saved_data["recv"] = recv;
    ctx->saved_data["comm"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(comm));
    return exchange(input, send, recv, *comm);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto& comm =
        *reinterpret_cast<Communicator*>(static_cast<intptr_t>(ctx->saved_data["comm"].toInt()));
    // The gradient of each received row goes back to the rank that sent the row.
    auto grad = exchange(grads[0], ctx->saved_data["recv"].toIntVector(),
                         ctx->saved_data["send"].toIntVector(), comm);
    return {grad, torch::Tensor(), torch::Tensor(), torch::Tensor()};
  }
};

}  // namespace

std::vector<std::vector<int64_t>> exchange_counts(const std::vector<int64_t>& local_routed,
                                                  Communicator& ep, torch::Device device) {
  const int64_t e = static_cast<int64_t>(local_routed.size());
  auto local = torch::tensor(local_routed, torch::kLong).to(device);
  auto all = torch::empty({ep.size() * e}, local.options());
  ep.all_gather(local, all, /*async=*/false);
  all = all.cpu();
  std::vector<std::vector<int64_t>> out(ep.size(), std::vector<int64_t>(e));
  const int64_t* p = all.data_ptr<int64_t>();
  for (int q = 0; q < ep.size(); ++q) std::copy(p + q * e, p + (q + 1) * e, out[q].begin());
  return out;
}

std::vector<std::vector<int64_t>> kept_counts(const std::vector<std::vector<int64_t>>& routed,
                                              int64_t capacity) {
  if (capacity < 0) return routed;
  auto kept = routed;
  const size_t e = routed.empty() ? 0 : routed[0].size();
  for (size_t j = 0; j < e; ++j) {
    int64_t before = 0;  // assignments of expert j on lower ranks (union token order)
    for (size_t q = 0; q < routed.size(); ++q) {
      kept[q][j] = std::clamp<int64_t>(capacity - before, 0, routed[q][j]);
      before += routed[q][j];
    }
  }
  return kept;
}

model::Dispatch permute_limited(const torch::Tensor& x, const model::Routing& routing,
                                const std::vector<int64_t>& limits) {
  SELLER_CHECK(x.dim() == 2 && routing.expert_index.dim() == 2 &&
               routing.expert_index.size(0) == x.size(0));
  const int64_t n = x.size(0), k = routing.expert_index.size(1), e = routing.probs.size(1);
  const auto long_opts = routing.expert_index.options().dtype(torch::kLong);
  // As model::permute: a stable sort of the token-major assignments by expert keeps each
  // expert's assignments in token order, so "the first limit[e]" means first in token order.
  auto flat = routing.expert_index.reshape(-1).to(torch::kLong);
  auto [sorted_e, order] = torch::sort(flat, /*stable=*/true, /*dim=*/0, /*descending=*/false);
  auto routed_counts = torch::bincount(flat, /*weights=*/{}, e);
  auto starts = routed_counts.cumsum(0) - routed_counts;
  auto position = torch::arange(n * k, long_opts) - starts.index_select(0, sorted_e);

  model::Dispatch d;
  d.routed = n * k;
  torch::Tensor rows;
  if (limits.empty()) {
    rows = order;
    d.counts = routed_counts;
  } else {
    SELLER_CHECK(static_cast<int64_t>(limits.size()) == e);
    auto limit = torch::tensor(limits, long_opts);
    rows = order.masked_select(position < limit.index_select(0, sorted_e));
    d.counts = torch::minimum(routed_counts, limit);
  }
  d.token_index = rows.div(k, "floor");
  d.slot_index = rows.remainder(k);
  d.kept =
      torch::zeros({n * k}, long_opts.dtype(torch::kBool)).index_fill_(0, rows, true).view({n, k});
  d.tokens = x.index_select(0, d.token_index);
  auto host = d.counts.cpu();
  d.counts_host.assign(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + e);
  return d;
}

torch::Tensor all_to_all_rows(const torch::Tensor& input, const std::vector<int64_t>& send_counts,
                              const std::vector<int64_t>& recv_counts, Communicator& ep) {
  SELLER_CHECK(static_cast<int>(send_counts.size()) == ep.size() &&
               static_cast<int>(recv_counts.size()) == ep.size());
  return AllToAllRows::apply(input, send_counts, recv_counts, &ep);
}

}  // namespace seller::dist
