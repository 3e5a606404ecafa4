// The optimizer of `seller train` (contract in seller_optimizer.h).
#include "trainer/train/seller_optimizer.h"

#include <torch/torch.h>

#include <vector>

#include "trainer/core/error.h"
#include "trainer/train/fused_adamw.h"

namespace seller::train {

SellerOptimizer::SellerOptimizer(model::SellerModel& model, const core::TrainConfig& tc,
                                 const TrainDist& dist, std::ostream* progress) {
  std::vector<torch::Tensor> decay, no_decay;
  for (const auto& p : model->named_parameters(true)) {
    total_ += p.value().numel();
    if (!p.value().requires_grad()) continue;
    trainable_ += p.value().numel();
    named_.emplace_back(p.key(), p.value());
  }
  if (tc.zero_stage == 1 && dist.size() > 1) {
    SELLER_THROW_IF_NOT(tc.expert_parallel == 1 && tc.tensor_parallel == 1, ConfigError,
                        "train.zero_stage = 1 shards the optimizer over data-parallel ranks only: "
                        "it needs train.expert_parallel = 1 and train.tensor_parallel = 1 (got ",
                        tc.expert_parallel, " and ", tc.tensor_parallel, ")");
    sharding_ = std::make_unique<OptimizerSharding>(named_, dist.world());
    if (progress)
      *progress << "ZeRO-1: rank 0 holds the AdamW state of " << sharding_->owned_numel() << " of "
                << sharding_->total_numel() << " parameter elements (" << dist.size()
                << " ranks)\n";
  }
  // Weight decay on matrices only; under ZeRO-1 this rank's optimizer gets what it owns.
  for (const auto& [n, p] : named_)
    if (!sharding_ || sharding_->owns(n)) (p.dim() >= 2 ? decay : no_decay).push_back(p);
  std::vector<torch::optim::OptimizerParamGroup> groups;
  // An empty group is left out (a ZeRO rank may own no matrix or no vector); the groups differ
  // by weight decay only and set_lr() gives each the same learning rate.
  if (!decay.empty())
    groups.emplace_back(decay,
                        std::make_unique<torch::optim::AdamWOptions>(
                            torch::optim::AdamWOptions(tc.lr).weight_decay(tc.weight_decay)));
  if (!no_decay.empty())
    groups.emplace_back(no_decay, std::make_unique<torch::optim::AdamWOptions>(
                                      torch::optim::AdamWOptions(tc.lr).weight_decay(0.0)));
  opt_ = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(tc.lr));
}

void SellerOptimizer::set_lr(double lr) {
  for (auto& g : opt_->param_groups()) static_cast<torch::optim::AdamWOptions&>(g.options()).lr(lr);
}

void SellerOptimizer::step(bool fused) {
  // On a GPU one fused kernel per group (fused_adamw.h): LibTorch's per-tensor loop costs more
  // host time than the GPU spends on the update.
  if (fused)
    fused_adamw_step(*opt_);
  else
    opt_->step();
  if (!sharding_) {
    opt_->zero_grad();
    return;
  }
  // The optimizer saw only the owned parameters: the others take their owners' values, and
  // every gradient is cleared, not only the owned ones.
  sharding_->gather_parameters();
  for (auto& named_param : named_) named_param.second.mutable_grad() = torch::Tensor();
}

}  // namespace seller::train
