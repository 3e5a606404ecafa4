// Token-wise Mixture-of-Experts layer (top-k routing, capacity or dropless, Switch/GShard
// load-balancing loss and router z-loss), written as four phases that can be called one by one:
//
//   Routing  r = layer->route(x);                       // router.h: logits, probs, top-k, weights
//   Dispatch d = permute(x, r, layer->capacity(N));     // experts.h: rows grouped by expert
//   Tensor   y = layer->run_experts(d);                 // stacked expert MLPs, [M, d_out]
//   Tensor out = combine(y, d, r, N);                   // weighted sum per token, [N, d_out]
//
// forward() is exactly this sequence plus the losses and statistics, so the phases and forward
// agree bit for bit, unless MoeOptions::dispatch picks the dense dispatch (dense_dispatch.h:
// every expert on every token, no host read; equal up to summation order). An expert-parallel layer
// later inserts an all-to-all of d.tokens (split by d.counts_host) before run_experts and its
// inverse before combine; nothing else changes.
//
// Invariants: x is [N, d_in] (any N >= 0); output [N, d_out]; aux_loss and z_loss are scalars
// already multiplied by their weights; stats count kept and dropped assignments of this call.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <vector>

#include "trainer/model/moe/experts.h"
#include "trainer/model/moe/router.h"

namespace seller::model {

// Per forward call; summable across calls (and, later, across ranks).
struct MoeStats {
  std::vector<int64_t> tokens_per_expert;  // kept assignments per expert
  int64_t assignments = 0;                 // routed assignments (tokens * top_k)
  int64_t dropped = 0;                     // assignments dropped by capacity
  // The dense dispatch leaves its kept counts on the device ([E] int64) so that no forward
  // waits for the GPU: they and their routed assignments are not in the fields above until
  // settle() reads them (one synchronisation, e.g. once per progress window).
  torch::Tensor pending_counts;
  int64_t pending_assignments = 0;
  // Element-wise sum; an empty side takes the other's size. Pending counts add on the device.
  void add(const MoeStats& other);
  // Moves the pending counts into tokens_per_expert, assignments and dropped.
  void settle();
  bool settled() const { return !pending_counts.defined(); }
  double drop_fraction() const {
    return assignments == 0 ? 0.0 : static_cast<double>(dropped) / assignments;
  }
};

struct MoeOutput {
  torch::Tensor output;    // [N, d_out]
  torch::Tensor aux_loss;  // scalar, already multiplied by aux_loss_weight
  torch::Tensor z_loss;    // scalar, already multiplied by z_loss_weight
  MoeStats stats;
};

// True when forward() takes the dense dispatch for input x (MoeOptions::dispatch).
bool uses_dense_dispatch(const MoeOptions& options, const torch::Tensor& x);

class MoeLayerImpl : public torch::nn::Module {
 public:
  // All options.num_experts experts live in this module (no expert parallelism yet).
  MoeLayerImpl(int64_t d_in, int64_t d_hidden, int64_t d_out, const MoeOptions& options);

  MoeOutput forward(const torch::Tensor& x);  // x [N, d_in]

  // The phases (see the header comment); permute and combine are the free functions of
  // experts.h, wrapped here for symmetry.
  Routing route(const torch::Tensor& x) { return router->route(x); }
  int64_t capacity(int64_t tokens) const { return expert_capacity(options_, tokens); }
  Dispatch permute(const torch::Tensor& x, const Routing& routing) const;
  torch::Tensor run_experts(const Dispatch& dispatch) { return experts->run_experts(dispatch); }
  torch::Tensor combine(const torch::Tensor& expert_out, const Dispatch& dispatch,
                        const Routing& routing, int64_t num_tokens) const;
  MoeStats stats(const Dispatch& dispatch) const;

  const MoeOptions& options() const { return options_; }

  Router router{nullptr};
  Experts experts{nullptr};

 private:
  MoeOptions options_;
};
TORCH_MODULE(MoeLayer);

}  // namespace seller::model
