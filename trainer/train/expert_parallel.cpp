// Expert parallelism of the SELLER adapter inside seller train (expert_parallel.h).
#include "trainer/train/expert_parallel.h"

#include <map>

#include "dist/ddp/grad_clip.h"
#include "trainer/core/error.h"

namespace seller::train {

bool AdapterExpertParallel::is_expert(const std::string& name) {
  return name.rfind("adapter.moe.experts.", 0) == 0;
}

AdapterExpertParallel::AdapterExpertParallel(model::SellerModel& model, const core::Config& cfg,
                                             const TrainDist& dist, torch::Device device,
                                             std::ostream* progress)
    : model_(model), dist_(dist), ep_(cfg.train.expert_parallel), experts_(cfg.adapter.experts) {
  if (ep_ == 1) return;
  SELLER_THROW_IF_NOT(cfg.adapter.kind == "moe", ConfigError, "train.expert_parallel = ", ep_,
                      " needs adapter.kind = moe (got '", cfg.adapter.kind, "')");
  SELLER_THROW_IF_NOT(dist.size() % ep_ == 0, ConfigError, "train.expert_parallel = ", ep_,
                      " does not divide the ", dist.size(),
                      " ranks (start a multiple of it with mpirun/srun/seller launch)");
  SELLER_THROW_IF_NOT(experts_ % ep_ == 0, ConfigError, "train.expert_parallel = ", ep_,
                      " does not divide adapter.experts = ", experts_);
  groups_ = dist::make_groups(dist.world(), dist::ParallelDims{static_cast<int>(dist.size() / ep_),
                                                               1, static_cast<int>(ep_)});
  auto& adapter = model->adapter;
  const auto& o = adapter->options();
  layer_ = dist::EpMoeLayer(o.model_dim, o.expert_hidden, o.out_dim, o.moe, groups_.ep);
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
              << experts_ / ep_ << " each), " << dist.size() / ep_
              << " data replica(s) of each expert\n";
}

std::unique_ptr<dist::DistributedDataParallel> AdapterExpertParallel::make_ddp(
    const dist::DistributedDataParallel::NamedParams& named) const {
  if (!dist_.enabled()) return nullptr;
  if (!active()) return std::make_unique<dist::DistributedDataParallel>(named, dist_.world());
  // Every rank's loss is the mean over its own rows: averaging over all ranks gives the mean
  // loss, for the experts too (their owners already hold the sum over the ep group's tokens).
  const double scale = 1.0 / static_cast<double>(dist_.size());
  std::vector<dist::GradGroup> groups = {{groups_.edp, scale}, {groups_.dp, scale}};
  return std::make_unique<dist::DistributedDataParallel>(
      named, groups, [](const std::string& n) -> size_t { return is_expert(n) ? 1 : 0; });
}

void AdapterExpertParallel::clip(const dist::DistributedDataParallel::NamedParams& named,
                                 double max_norm) const {
  if (!active()) {
    std::vector<torch::Tensor> params;
    for (const auto& [n, p] : named) params.push_back(p);
    torch::nn::utils::clip_grad_norm_(params, max_norm);
    return;
  }
  std::vector<dist::NormEntry> entries;
  for (const auto& [n, p] : named) entries.push_back({p, is_expert(n) ? 1 : ep_});
  dist::clip_grad_norm_distributed(entries, groups_.ep.get(), max_norm);
}

ckpt::Layout AdapterExpertParallel::layout() const {
  return ckpt::Layout{dist_.size() / ep_, 1, ep_};
}

ShardPlan AdapterExpertParallel::plan() const {
  ShardPlan plan;
  if (!active()) return plan;
  const int64_t rows = experts_ / ep_, row0 = groups_.coord.e * rows, global = experts_;
  const bool writes_experts = groups_.coord.d == 0, writes_dense = dist_.is_main();
  plan.shard = [row0, global](const std::string& n) {
    return is_expert(n) ? TensorShard{row0, global} : TensorShard{};
  };
  plan.writes = [writes_experts, writes_dense](const std::string& n) {
    return is_expert(n) ? writes_experts : writes_dense;
  };
  return plan;
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
      groups_.ep->all_gather(local, gathered);  // rank order = expert order
      dst.copy_(gathered);
    } else {
      dst.copy_(local);  // the router is replicated
    }
  }
  adapter->restore_moe();
  layer_ = nullptr;
}

}  // namespace seller::train
