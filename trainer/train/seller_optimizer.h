// The optimizer of `seller train`: AdamW with weight decay on matrices only, over the model's
// trainable parameters; one fused kernel per group on a GPU (fused_adamw.h); with
// train.zero_stage = 1 on several data-parallel ranks, each rank's AdamW holds the parameters
// it owns only and step() gathers the others from their owners (optimizer_sharding.h).
// Invariants: `named` lists every trainable parameter in the model's order on every rank (DDP,
// clipping and checkpoints use it); after step() every gradient is cleared.
#pragma once

#include <torch/optim/adamw.h>

#include <cstdint>
#include <memory>
#include <ostream>

#include "dist/ddp/ddp.h"
#include "trainer/core/config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/optimizer_sharding.h"
#include "trainer/train/train_dist.h"

namespace seller::train {

class SellerOptimizer {
 public:
  // Throws ConfigError for train.zero_stage = 1 with expert or tensor parallelism.
  SellerOptimizer(model::SellerModel& model, const core::TrainConfig& tc, const TrainDist& dist,
                  std::ostream* progress);

  void set_lr(double lr);
  // One update from the (reduced, clipped) gradients; `fused`: the GPU kernel.
  void step(bool fused);

  torch::optim::AdamW& adamw() { return *opt_; }
  const OptimizerSharding* sharding() const { return sharding_.get(); }
  const dist::DistributedDataParallel::NamedParams& named() const { return named_; }
  int64_t trainable() const { return trainable_; }
  int64_t total() const { return total_; }

 private:
  dist::DistributedDataParallel::NamedParams named_;
  int64_t trainable_ = 0, total_ = 0;
  std::unique_ptr<OptimizerSharding> sharding_;
  std::unique_ptr<torch::optim::AdamW> opt_;
};

}  // namespace seller::train
