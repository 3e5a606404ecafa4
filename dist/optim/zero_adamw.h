// ZeRO stage 1: AdamW whose optimizer state (exp_avg, exp_avg_sq) is sharded across the ranks of
// a data-parallel group. The parameters, viewed as one flat vector of T elements (in the order
// given, padded to a multiple of the group size P), are cut into P equal shards; rank r keeps
// the state of shard r only (2T/P floats instead of 2T), updates those parameter elements, and
// an all-gather of the updated shards puts the full parameters back on every rank.
//
// The update is torch::optim::AdamW's, operation for operation (decoupled weight decay
// p *= 1 - lr*wd; m, v moments; bias corrections; p -= lr/bc1 * m / (sqrt(v)/sqrt(bc2) + eps)),
// so on the same gradients the parameters equal plain AdamW's bit for bit on CPU.
//
// Invariants: step() expects gradients already reduced over the group (DistributedDataParallel
// ::finish()); every rank passes the same parameter list (same shapes, one floating dtype,
// one device); step() is collective over the group. Parameters with an undefined gradient are
// treated as having a zero gradient (they still decay and move with their moments, as AdamW
// would not: keep every parameter in the graph, or give them a zero grad, to match exactly).
// Expert parameters (replicated over the expert-data-parallel group only) get their own
// ZeroAdamW over that group.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::dist {

struct ZeroAdamWOptions {
  double lr = 1e-3;
  double beta1 = 0.9, beta2 = 0.999;
  double eps = 1e-8;
  double weight_decay = 1e-2;
};

class ZeroAdamW {
 public:
  ZeroAdamW(std::vector<torch::Tensor> params, CommunicatorPtr group, ZeroAdamWOptions options);

  void step();
  void zero_grad();
  void set_lr(double lr) { options_.lr = lr; }

  // This rank's shard [begin, end) of the flat parameter vector and its state (for checkpoints).
  int64_t shard_begin() const { return shard_begin_; }
  int64_t shard_size() const { return shard_size_; }
  const torch::Tensor& exp_avg() const { return exp_avg_; }
  const torch::Tensor& exp_avg_sq() const { return exp_avg_sq_; }
  int64_t step_count() const { return step_; }

 private:
  torch::Tensor flat_grads() const;
  torch::Tensor flat_params() const;

  std::vector<torch::Tensor> params_;
  CommunicatorPtr group_;
  ZeroAdamWOptions options_;
  int64_t total_ = 0, padded_ = 0, shard_begin_ = 0, shard_size_ = 0, step_ = 0;
  torch::Tensor exp_avg_, exp_avg_sq_;
};

}  // namespace seller::dist
