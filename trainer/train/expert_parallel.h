// Expert parallelism of the SELLER adapter inside `seller train` (train.expert_parallel = P):
// the world of R ranks is laid out as dp = R / P data replicas times ep = P expert ranks
// (dist/topology/process_groups.h, rank = d * P + e), every rank trains on its own share of the
// global micro-batch (train_dist.h), and the adapter's MoE layer is replaced by
// dist::EpMoeLayer: rank (d, e) holds experts [e * E / P, (e + 1) * E / P), and tokens travel to
// their experts' owners and back by all-to-all.
//
// Gradients (docs/parallel.md): dense parameters and the router are averaged over all R ranks,
// expert parameters over the dp ranks holding the same experts, both with scale 1 / R because
// every rank's loss is the mean over its own rows (so R ranks equal one process with grad_accum
// R when the MoE is dropless and has no aux/z loss; with them the statistics cover the union of
// an ep group's tokens, as in EpMoeLayer). Clipping uses the global norm over the ep block.
// Checkpoints: ranks with d = 0 write their expert rows as chunks of the global tensors, rank 0
// the rest; loading reads only a rank's rows, so a checkpoint moves between layouts.
//
// Invariants: built after the model (identical on every rank) and before the optimizer; every
// method is collective over the world (or the ep group) except layout/plan/is_expert; with P = 1
// nothing is replaced and every method falls back to the data-parallel behaviour.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "checkpoints/manifest.h"
#include "dist/ddp/ddp.h"
#include "dist/ep/ep_moe_layer.h"
#include "dist/topology/process_groups.h"
#include "trainer/core/config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/train_dist.h"
#include "trainer/train/train_state.h"

namespace seller::train {

class AdapterExpertParallel {
 public:
  // ConfigError naming train.expert_parallel when P does not divide the ranks or
  // adapter.experts, or the adapter is dense.
  AdapterExpertParallel(model::SellerModel& model, const core::Config& cfg, const TrainDist& dist,
                        torch::Device device, std::ostream* progress);

  bool active() const { return static_cast<bool>(layer_); }
  static bool is_expert(const std::string& parameter_name);

  // Gradient averaging over the right groups (null with a single rank).
  std::unique_ptr<dist::DistributedDataParallel> make_ddp(
      const dist::DistributedDataParallel::NamedParams& named) const;
  // Gradient-norm clipping to max_norm (torch's rule; global over the ep block when active).
  void clip(const dist::DistributedDataParallel::NamedParams& named, double max_norm) const;

  ckpt::Layout layout() const;
  ShardPlan plan() const;

  // The experts gathered back into the adapter's single-process MoE layer, which replaces the
  // expert-parallel one: afterwards every rank holds the whole model (evaluation, saving).
  void unshard();

 private:
  model::SellerModel model_;
  const TrainDist& dist_;
  int64_t ep_ = 1, experts_ = 0;
  dist::ProcessGroups groups_;
  dist::EpMoeLayer layer_{nullptr};
};

}  // namespace seller::train
