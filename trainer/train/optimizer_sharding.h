// ZeRO stage 1 for `seller train` (train.zero_stage = 1): the AdamW state of each trainable
// parameter lives on one data-parallel rank, its owner, instead of on every rank.
//
// Partition: whole parameters, not a flat vector cut into equal pieces (dist/optim/zero_adamw.h
// does that for the dist-level tests): each rank runs the unchanged LibTorch AdamW, or the fused
// kernel on a GPU, over the parameters it owns, so a step is the same arithmetic as the
// unsharded optimizer's (bit for bit on CPU) and a checkpoint keeps its per-parameter layout
// (optim/<name>/exp_avg ...), written by the owners: it resumes with or without ZeRO and on any
// number of ranks. Owners are chosen greedily, largest parameter first, to the least-loaded rank
// (lowest rank on ties), from the order and sizes alone, so every rank computes the same map.
// After the owners' step, gather_parameters() gives every rank every updated parameter (one
// all-gather of a padded buffer per step: the same bytes as the gradient all-reduce's second
// half). The gradients are reduced as before (DistributedDataParallel), so clipping still sees
// the whole gradient on every rank.
//
// Invariants: every rank passes the same parameters (names, shapes, one floating dtype, one
// device) in the same order; gather_parameters() and all_steps() are collective over the group;
// every rank owns at least one parameter (checked: a ConfigError otherwise).
#pragma once

#include <torch/optim/adamw.h>
#include <torch/types.h>
#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::train {

class OptimizerSharding {
 public:
  using NamedParams = std::vector<std::pair<std::string, torch::Tensor>>;

  OptimizerSharding(NamedParams params, dist::CommunicatorPtr group);

  bool owns(const std::string& name) const;
  // The parameters this rank owns, in the given order.
  NamedParams owned() const;
  int64_t owned_numel() const { return load_.at(static_cast<size_t>(rank_)); }
  int64_t total_numel() const { return total_; }

  // Every rank takes each parameter's value from its owner (after the owners' optimizer step).
  void gather_parameters();
  // Every parameter's AdamW step count, {name: step} for those with state on their owner (the
  // form of a checkpoint's train_state["optimizer_steps"]). Collective.
  nlohmann::json all_steps(torch::optim::AdamW& opt) const;

 private:
  NamedParams params_;
  dist::CommunicatorPtr group_;
  int rank_ = 0, size_ = 1;
  std::vector<int> owner_;     // by parameter index
  std::vector<int64_t> load_;  // elements owned, by rank
  std::unordered_map<std::string, int> owner_of_;
  int64_t total_ = 0, max_load_ = 0;
};

}  // namespace seller::train
