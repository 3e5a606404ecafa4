// ZeRO-1 by whole parameters for `seller train` (contract in optimizer_sharding.h).
#include "trainer/train/optimizer_sharding.h"

#include <torch/torch.h>

#include <algorithm>
#include <numeric>

#include "trainer/core/error.h"

namespace seller::train {

OptimizerSharding::OptimizerSharding(NamedParams params, dist::CommunicatorPtr group)
    : params_(std::move(params)), group_(std::move(group)) {
  SELLER_CHECK(group_ != nullptr);
  rank_ = group_->rank();
  size_ = group_->size();
  SELLER_CHECK(!params_.empty());
  const auto dtype = params_.front().second.scalar_type();
  const auto device = params_.front().second.device();
  for (const auto& [n, p] : params_) {
    SELLER_CHECK(p.scalar_type() == dtype && p.device() == device && p.is_contiguous(),
                 "train.zero_stage = 1 needs every trainable parameter contiguous, of one dtype "
                 "and on one device; ",
                 n, " is ", p.scalar_type(), " on ", p.device());
    total_ += p.numel();
  }
  // Largest first to the least-loaded rank: a deterministic, near-even split of the elements.
  std::vector<size_t> order(params_.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return params_[a].second.numel() > params_[b].second.numel();
  });
  owner_.assign(params_.size(), 0);
  load_.assign(static_cast<size_t>(size_), 0);
  std::vector<int64_t> count(static_cast<size_t>(size_), 0);
  for (size_t i : order) {
    const auto r =
        static_cast<size_t>(std::min_element(load_.begin(), load_.end()) - load_.begin());
    owner_[i] = static_cast<int>(r);
    load_[r] += params_[i].second.numel();
    ++count[r];
    owner_of_[params_[i].first] = static_cast<int>(r);
  }
  for (int r = 0; r < size_; ++r)
    SELLER_THROW_IF_NOT(count[static_cast<size_t>(r)] > 0, ConfigError,
                        "train.zero_stage = 1: ", size_, " data-parallel ranks but only ",
                        params_.size(), " trainable tensors; every rank must own one");
  max_load_ = *std::max_element(load_.begin(), load_.end());
}

bool OptimizerSharding::owns(const std::string& name) const {
  const auto it = owner_of_.find(name);
  return it != owner_of_.end() && it->second == rank_;
}

OptimizerSharding::NamedParams OptimizerSharding::owned() const {
  NamedParams out;
  for (size_t i = 0; i < params_.size(); ++i)
    if (owner_[i] == rank_) out.push_back(params_[i]);
  return out;
}

void OptimizerSharding::gather_parameters() {
  if (size_ == 1) return;
  torch::NoGradGuard no_grad;
  const auto opts = params_.front().second.options();
  // This rank's parameters packed in order, padded to the largest rank's load: all_gather
  // needs equal pieces.
  std::vector<torch::Tensor> mine;
  for (size_t i = 0; i < params_.size(); ++i)
    if (owner_[i] == rank_) mine.push_back(params_[i].second.detach().reshape({-1}));
  auto send = torch::empty({max_load_}, opts);
  send.narrow(0, 0, owned_numel()).copy_(torch::cat(mine));
  auto all = torch::empty({size_ * max_load_}, opts);
  group_->all_gather(send, all);
  std::vector<int64_t> offset(static_cast<size_t>(size_));
  for (int r = 0; r < size_; ++r) offset[static_cast<size_t>(r)] = r * max_load_;
  std::vector<torch::Tensor> dst, src;
  for (size_t i = 0; i < params_.size(); ++i) {
    auto& at = offset[static_cast<size_t>(owner_[i])];
    const auto& p = params_[i].second;
    if (owner_[i] != rank_) {
      dst.push_back(p.detach());
      src.push_back(all.narrow(0, at, p.numel()).view(p.sizes()));
    }
    at += p.numel();
  }
  // One multi-tensor copy instead of a kernel per parameter.
  if (!dst.empty()) at::_foreach_copy_(dst, src);
}

nlohmann::json OptimizerSharding::all_steps(torch::optim::AdamW& opt) const {
  const auto device = params_.front().second.device();
  auto steps = torch::zeros({static_cast<int64_t>(params_.size())}, torch::kFloat64);
  auto* s = steps.data_ptr<double>();
  for (size_t i = 0; i < params_.size(); ++i) {
    if (owner_[i] != rank_) continue;
    const auto it = opt.state().find(params_[i].second.unsafeGetTensorImpl());
    if (it != opt.state().end())
      s[i] = static_cast<double>(static_cast<torch::optim::AdamWParamState&>(*it->second).step());
  }
  // Exactly one owner writes a non-zero count: the sum is that count (exact in float64).
  auto reduced = steps.to(device);
  if (size_ > 1) group_->all_reduce(reduced);
  const auto host = reduced.cpu();
  const auto* h = host.data_ptr<double>();
  nlohmann::json out = nlohmann::json::object();
  for (size_t i = 0; i < params_.size(); ++i)
    if (h[i] > 0) out[params_[i].first] = static_cast<int64_t>(h[i]);
  return out;
}

}  // namespace seller::train
