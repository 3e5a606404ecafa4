// Expert parallelism of the SELLER adapter inside `seller train` (train.expert_parallel = P):
// the world of R ranks is laid out as dp x (ep = P) x tp (model_parallel.h, rank =
// (d * P + e) * tp + t), every data shard (d, e) trains on its own share of the global
// micro-batch (train_dist.h), and the adapter's MoE layer is replaced by dist::EpMoeLayer: the
// ranks with expert index e hold experts [e * E / P, (e + 1) * E / P), and tokens travel to their
// experts' owners and back by all-to-all within the ep group (same d and t).
//
// Gradient groups, clipping and the checkpoint plan are model_parallel.h's (they combine this
// with the LLM's tensor parallelism): experts are averaged over the dp ranks holding the same
// experts; with a dropless MoE and no aux/z loss R ranks then equal one process with grad_accum
// R (with them the statistics cover the union of an ep group's tokens, as in EpMoeLayer).
//
// Invariants: built after the model (identical on every rank) and before the optimizer;
// unshard() is collective over the ep group; with P = 1 nothing is replaced.
#pragma once

#include <torch/torch.h>

#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "dist/ep/ep_moe_layer.h"
#include "dist/topology/process_groups.h"
#include "trainer/core/config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/train_state.h"

namespace seller::train {

class AdapterExpertParallel {
 public:
  // ConfigError naming train.expert_parallel when P does not divide adapter.experts or the
  // adapter is dense. `groups` (ModelParallel's) must be set when P > 1.
  AdapterExpertParallel(model::SellerModel& model, const core::Config& cfg,
                        const dist::ProcessGroups* groups, torch::Device device,
                        std::ostream* progress);

  bool active() const { return static_cast<bool>(layer_); }
  static bool is_expert(const std::string& parameter_name);
  // The rows of a global expert tensor this rank holds (whole for any other name).
  TensorShard shard_of(const std::string& parameter_name) const;

  // The experts gathered back into the adapter's single-process MoE layer, which replaces the
  // expert-parallel one: afterwards every rank holds the whole adapter (evaluation, saving).
  void unshard();

 private:
  model::SellerModel model_;
  int64_t ep_ = 1, experts_ = 0;
  const dist::ProcessGroups* groups_ = nullptr;
  dist::EpMoeLayer layer_{nullptr};
};

}  // namespace seller::train
