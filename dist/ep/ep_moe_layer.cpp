// Expert-parallel MoE layer (contract in ep_moe_layer.h).
#include "dist/ep/ep_moe_layer.h"

#include <torch/torch.h>

#include <numeric>
#include <vector>

#include "dist/ep/ep_dispatch.h"
#include "dist/tp/tp_ops.h"
#include "trainer/core/error.h"

namespace seller::dist {

EpMoeLayerImpl::EpMoeLayerImpl(int64_t d_in, int64_t d_hidden, int64_t d_out,
                               const model::MoeOptions& options, CommunicatorPtr ep)
    : options_(options), ep_(std::move(ep)) {
  options_.validate();
  SELLER_CHECK(ep_ != nullptr);
  const int64_t p = ep_->size(), e = options_.num_experts;
  SELLER_THROW_IF_NOT(e % p == 0, ConfigError, "ep=", p, " does not divide moe.num_experts=", e);
  router = register_module("router", model::Router(d_in, options_));
  experts = register_module("experts",
                            model::Experts(d_in, d_hidden, d_out, e, ep_->rank() * (e / p), e / p));
}

bool EpMoeLayerImpl::is_expert_parameter(const std::string& name) {
  return name.rfind("experts.", 0) == 0 || name.find(".experts.") != std::string::npos;
}

model::MoeOutput EpMoeLayerImpl::forward(const torch::Tensor& x) {
  SELLER_CHECK(x.dim() == 2 && x.size(1) == experts->w1.size(1), "MoE input must be [N, ",
               experts->w1.size(1), "], got ", x.sizes());
  const int64_t n = x.size(0), k = options_.top_k, e = options_.num_experts;
  const int p = ep_->size(), me = ep_->rank();
  const int64_t local = e / p, first = experts->first_expert();

  // 1-2: route, then everybody learns everybody's routed counts.
  model::Routing r = router->route(x);
  auto routed_local = torch::bincount(r.expert_index.reshape(-1), {}, e).cpu();
  std::vector<int64_t> mine(routed_local.data_ptr<int64_t>(), routed_local.data_ptr<int64_t>() + e);
  const auto routed = exchange_counts(mine, *ep_, x.device());
  int64_t assignments = 0;
  for (const auto& row : routed) assignments = std::accumulate(row.begin(), row.end(), assignments);
  const int64_t n_total = assignments / k;
  const int64_t capacity = model::expert_capacity(options_, n_total);
  const auto kept = kept_counts(routed, capacity);

  // 3: permute with this rank's share of each expert's capacity.
  model::Dispatch d = permute_limited(x, r, capacity < 0 ? std::vector<int64_t>{} : kept[me]);

  // 4: rows to their experts' owners; rank q sends us kept[q][first + j] rows for local expert j.
  std::vector<int64_t> send(p, 0), recv(p, 0);
  for (int64_t g = 0; g < e; ++g) send[g / local] += d.counts_host[g];
  for (int q = 0; q < p; ++q)
    for (int64_t j = 0; j < local; ++j) recv[q] += kept[q][first + j];
  auto received = all_to_all_rows(d.tokens, send, recv, *ep_);

  // 5: received rows are ordered (source, local expert, token); Experts wants (local expert,
  // source, token), which is also the union order of the single-process layer.
  std::vector<int64_t> order, counts(local, 0);
  std::vector<std::vector<int64_t>> block_start(p, std::vector<int64_t>(local));
  int64_t offset = 0;
  for (int q = 0; q < p; ++q)
    for (int64_t j = 0; j < local; ++j) {
      block_start[q][j] = offset;
      offset += kept[q][first + j];
    }
  for (int64_t j = 0; j < local; ++j)
    for (int q = 0; q < p; ++q) {
      for (int64_t i = 0; i < kept[q][first + j]; ++i) order.push_back(block_start[q][j] + i);
      counts[j] += kept[q][first + j];
    }
  auto long_opts = torch::TensorOptions().dtype(torch::kLong).device(x.device());
  auto index = torch::tensor(order, torch::kLong).to(long_opts.device());
  auto y = experts->forward(received.index_select(0, index), counts);
  if (y.size(0) == 0) {
    // No rows for any local expert: keep the (empty) output attached to both the received rows
    // and the expert parameters, so that this rank's backward still runs the backward of both
    // all-to-alls and joins them (the peers would wait forever otherwise).
    y = experts->b2.narrow(0, 0, 0).to(received.scalar_type()) + received.sum();
  }
  auto inverse =
      torch::empty_like(index).scatter_(0, index, torch::arange(index.size(0), long_opts));
  auto back_rows = y.index_select(0, inverse);

  // 6-7: outputs back to the token owners, in the order they were sent, then combine.
  auto back = all_to_all_rows(back_rows, recv, send, *ep_);
  model::MoeOutput out;
  out.output = model::combine(back, d, r, n);

  // Losses over the union: global f (no gradient) and the all-reduced sums of this rank's
  // probabilities and squared log-partition functions (identity backward: each rank keeps its
  // own tokens' share of the gradient).
  if (n_total == 0) {
    out.aux_loss = torch::zeros({}, r.logits.options());
    out.z_loss = torch::zeros({}, r.logits.options());
  } else {
    std::vector<double> f(e, 0.0);
    for (const auto& row : routed)
      for (int64_t g = 0; g < e; ++g) f[g] += static_cast<double>(row[g]) / assignments;
    auto f_t = torch::tensor(f, torch::kDouble).to(r.logits.options());
    auto probs = options_.gating == "softmax" ? r.probs : r.probs / r.probs.sum(-1, true);
    auto p_sum = reduce_from_tp(probs.sum(0).contiguous(), *ep_);
    out.aux_loss = (f_t * p_sum / static_cast<double>(n_total)).sum() *
                   (static_cast<double>(e) * options_.aux_loss_weight);
    auto lse2 = torch::logsumexp(r.logits, -1).pow(2).sum().reshape({1}).contiguous();
    out.z_loss = (reduce_from_tp(lse2, *ep_) / static_cast<double>(n_total)).squeeze(0) *
                 options_.z_loss_weight;
  }
  out.stats.tokens_per_expert = d.counts_host;
  out.stats.assignments = d.routed;
  out.stats.dropped =
      d.routed - std::accumulate(d.counts_host.begin(), d.counts_host.end(), int64_t{0});
  return out;
}

void EpMoeLayerImpl::load_full_state(const std::map<std::string, torch::Tensor>& full) {
  torch::NoGradGuard no_grad;
  for (auto& item : named_parameters(/*recurse=*/true)) {
    auto it = full.find(item.key());
    SELLER_THROW_IF_NOT(it != full.end(), Error, "MoE state lacks ", item.key());
    auto src = it->second;
    if (is_expert_parameter(item.key())) {
      SELLER_THROW_IF_NOT(src.size(0) == options_.num_experts, Error, item.key(), " has ",
                          src.size(0), " experts, expected ", options_.num_experts);
      src = src.narrow(0, experts->first_expert(), experts->local_experts());
    }
    SELLER_THROW_IF_NOT(src.sizes() == item.value().sizes(), Error, item.key(), ": shape ",
                        src.sizes(), " does not fit ", item.value().sizes());
    item.value().copy_(src.to(item.value().device(), item.value().scalar_type()));
  }
}

}  // namespace seller::dist
