// Dispatch (permute), stacked expert MLPs and combine of the MoE layer; the layout and the
// capacity rule are specified in experts.h.
#include "trainer/model/moe/experts.h"

#include <torch/torch.h>

#include <cmath>
#include <numeric>

#include "trainer/core/error.h"

namespace seller::model {

torch::Tensor routed_counts(const torch::Tensor& expert_index, int64_t num_experts) {
  const auto flat = expert_index.reshape(-1).to(torch::kLong);
  // index_add_ rather than bincount: CUDA's bincount reads the input's maximum on the host.
  return torch::zeros({num_experts}, flat.options()).index_add_(0, flat, torch::ones_like(flat));
}

ExpertQueue expert_queue(const torch::Tensor& expert_index, int64_t num_experts) {
  const auto flat = expert_index.reshape(-1).to(torch::kLong);
  ExpertQueue q;
  // Assignment a = n * k + s is token-major, so a STABLE sort by expert leaves each expert's
  // assignments in token order: the queue order that "first come in token order" refers to.
  std::tie(q.sorted_expert, q.order) = torch::sort(flat, /*stable=*/true, /*dim=*/0,
                                                   /*descending=*/false);
  q.routed = routed_counts(expert_index, num_experts);
  const auto starts = q.routed.cumsum(0) - q.routed;
  q.position =
      torch::arange(flat.size(0), flat.options()) - starts.index_select(0, q.sorted_expert);
  return q;
}

Dispatch permute(const torch::Tensor& x, const Routing& routing, int64_t capacity) {
  SELLER_CHECK(x.dim() == 2 && routing.expert_index.dim() == 2 &&
               routing.expert_index.size(0) == x.size(0));
  const int64_t n = x.size(0), k = routing.expert_index.size(1), e = routing.probs.size(1);
  const auto long_opts = routing.expert_index.options().dtype(torch::kLong);
  const auto q = expert_queue(routing.expert_index, e);

  Dispatch d;
  d.routed = n * k;
  torch::Tensor rows;  // assignment ids of the kept rows, in dispatch order
  if (capacity < 0) {
    rows = q.order;
    d.counts = q.routed;
  } else {
    rows = q.order.masked_select(q.position < capacity);
    d.counts = q.routed.clamp_max(capacity);
  }
  d.token_index = rows.div(k, "floor");
  d.slot_index = rows.remainder(k);
  d.kept =
      torch::zeros({n * k}, long_opts.dtype(torch::kBool)).index_fill_(0, rows, true).view({n, k});
  d.tokens = x.index_select(0, d.token_index);
  auto host = d.counts.cpu();  // one device sync: the expert loop needs the split sizes
  d.counts_host.assign(host.data_ptr<int64_t>(), host.data_ptr<int64_t>() + e);
  return d;
}

torch::Tensor combine(const torch::Tensor& expert_out, const Dispatch& d, const Routing& routing,
                      int64_t num_tokens) {
  SELLER_CHECK(expert_out.dim() == 2 && expert_out.size(0) == d.token_index.size(0),
               "expert output rows ", expert_out.sizes(), " do not match the dispatch (",
               d.token_index.size(0), " rows)");
  auto w = routing.weight.index({d.token_index, d.slot_index}).to(expert_out.scalar_type());
  auto out = torch::zeros({num_tokens, expert_out.size(1)}, expert_out.options());
  // Out-of-place index_add keeps autograd to both the expert outputs and the routing weights.
  return out.index_add(0, d.token_index, expert_out * w.unsqueeze(1));
}

ExpertsImpl::ExpertsImpl(int64_t d_in, int64_t d_hidden, int64_t d_out, int64_t num_experts,
                         int64_t first_expert, int64_t local_experts)
    : num_experts_(num_experts),
      first_expert_(first_expert),
      local_experts_(local_experts < 0 ? num_experts - first_expert : local_experts) {
  SELLER_CHECK(d_in >= 1 && d_hidden >= 1 && d_out >= 1 && num_experts >= 1);
  SELLER_CHECK(
      first_expert_ >= 0 && local_experts_ >= 1 && first_expert_ + local_experts_ <= num_experts_,
      "expert range [", first_expert_, ", ", first_expert_ + local_experts_, ") is not inside [0, ",
      num_experts_, ")");
  const int64_t l = local_experts_;
  w1 = register_parameter("w1", torch::empty({l, d_in, d_hidden}));
  b1 = register_parameter("b1", torch::empty({l, d_hidden}));
  w2 = register_parameter("w2", torch::empty({l, d_hidden, d_out}));
  b2 = register_parameter("b2", torch::empty({l, d_out}));
  // The distribution of torch.nn.Linear's default init (bound 1 / sqrt(fan_in) for weight and
  // bias), per expert, so a dense MLP and one expert start at the same scale.
  torch::NoGradGuard no_grad;
  const double bound1 = 1.0 / std::sqrt(static_cast<double>(d_in));
  const double bound2 = 1.0 / std::sqrt(static_cast<double>(d_hidden));
  w1.uniform_(-bound1, bound1);
  b1.uniform_(-bound1, bound1);
  w2.uniform_(-bound2, bound2);
  b2.uniform_(-bound2, bound2);
}

torch::Tensor ExpertsImpl::forward(const torch::Tensor& rows, const std::vector<int64_t>& counts) {
  SELLER_CHECK(static_cast<int64_t>(counts.size()) == local_experts_, "got ", counts.size(),
               " expert counts for ", local_experts_, " local experts");
  SELLER_CHECK(rows.dim() == 2 && rows.size(1) == w1.size(1));
  const int64_t total = std::accumulate(counts.begin(), counts.end(), int64_t{0});
  SELLER_CHECK(total == rows.size(0), "expert counts sum to ", total, " but there are ",
               rows.size(0), " rows");
  std::vector<torch::Tensor> outs;
  int64_t offset = 0;
  for (int64_t j = 0; j < local_experts_; ++j) {
    const int64_t c = counts[j];
    if (c == 0) continue;
    auto seg = rows.narrow(0, offset, c);
    auto h = torch::gelu(torch::addmm(b1[j], seg, w1[j]));
    outs.push_back(torch::addmm(b2[j], h, w2[j]));
    offset += c;
  }
  if (outs.empty()) return torch::zeros({0, w2.size(2)}, rows.options());
  return outs.size() == 1 ? outs[0] : torch::cat(outs, 0);
}

torch::Tensor ExpertsImpl::run_experts(const Dispatch& d) {
  SELLER_CHECK(static_cast<int64_t>(d.counts_host.size()) == num_experts_, "dispatch over ",
               d.counts_host.size(), " experts for a layer of ", num_experts_);
  const auto begin = d.counts_host.begin();
  const int64_t offset = std::accumulate(begin, begin + first_expert_, int64_t{0});
  std::vector<int64_t> local(begin + first_expert_, begin + first_expert_ + local_experts_);
  const int64_t count = std::accumulate(local.begin(), local.end(), int64_t{0});
  return forward(d.tokens.narrow(0, offset, count), local);
}

std::vector<std::pair<std::string, torch::Tensor>> ExpertsImpl::expert_named_parameters() const {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (int64_t j = 0; j < local_experts_; ++j) {
    const std::string g = std::to_string(first_expert_ + j);
    out.emplace_back(g + ".w1", w1.select(0, j));
    out.emplace_back(g + ".b1", b1.select(0, j));
    out.emplace_back(g + ".w2", w2.select(0, j));
    out.emplace_back(g + ".b2", b2.select(0, j));
  }
  return out;
}

}  // namespace seller::model
