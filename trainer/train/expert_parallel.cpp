// Expert parallelism of the SELLER adapter inside seller train (expert_parallel.h).
#include "trainer/train/expert_parallel.h"

#include <map>

#include "trainer/core/error.h"

namespace seller::train {

bool AdapterExpertParallel::is_expert(const std::string& name) {
  return name.rfind("adapter.moe.experts.", 0) == 0;
}

AdapterExpertParallel::AdapterExpertParallel(model::SellerModel& model, const core::Config& cfg,
                                             const dist::ProcessGroups* groups,
                                             torch::Device device, std::ostream* progress)
    : model_(model),
      ep_(cfg.train.expert_parallel),
      experts_(cfg.adapter.experts),
      groups_(groups) {
  if (ep_ == 1) return;
  SELLER_THROW_IF_NOT(cfg.adapter.kind == "moe", ConfigError, "train.expert_parallel = ", ep_,
                      " needs adapter.kind = moe (got '", cfg.adapter.kind, "')");
  SELLER_THROW_IF_NOT(experts_ % ep_ == 0, ConfigError, "train.expert_parallel = ", ep_,
                      " does not divide adapter.experts = ", experts_);
  SELLER_CHECK(groups_ != nullptr && groups_->dims.ep == ep_, "expert parallel without its groups");
  auto& adapter = model->adapter;
  const auto& o = adapter->options();
  layer_ = dist::EpMoeLayer(o.model_dim, o.expert_hidden, o.out_dim, o.moe, groups_->ep);
  // The single-process layer was initialised identically on every rank: each takes its rows.
  std::map<std::string, torch::Tensor> full;
  for (const auto& p : adapter->moe->named_parameters()) full[p.key()] = p.value().detach();
  layer_->load_full_state(full);
  layer_->to(device);
  layer_->train(adapter->is_training());
  auto layer = layer_;
  adapter->replace_moe(layer_.ptr(),
                       [layer](const torch::Tensor& x) mutable { return layer->forward(x); });
  if (progress)
    *progress << "expert parallel: " << experts_ << " experts over groups of " << ep_ << " ranks ("
              << experts_ / ep_ << " each), " << groups_->dims.dp
              << " data replica(s) of each expert\n";
}

TensorShard AdapterExpertParallel::shard_of(const std::string& name) const {
  if (!active() || !is_expert(name)) return TensorShard{};
  const int64_t rows = experts_ / ep_;
  return TensorShard{groups_->coord.e * rows, experts_, 0};
}

void AdapterExpertParallel::unshard() {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  auto& adapter = model_->adapter;
  auto full = adapter->moe->named_parameters();
  for (const auto& p : layer_->named_parameters()) {
    auto local = p.value().detach().contiguous();
    auto& dst = full[p.key()];
    if (dist::EpMoeLayerImpl::is_expert_parameter(p.key())) {
      auto sizes = local.sizes().vec();
      sizes[0] *= ep_;
      auto gathered = torch::empty(sizes, local.options());
      groups_->ep->all_gather(local, gathered);  // rank order = expert order
      dst.copy_(gathered);
    } else {
      dst.copy_(local);  // the router is replicated
    }
  }
  adapter->restore_moe();
  layer_ = nullptr;
}

}  // namespace seller::train
