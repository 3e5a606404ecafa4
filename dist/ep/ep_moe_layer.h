// Expert-parallel MoE layer: the four phases of trainer/model/moe/moe_layer.h with the experts
// spread over an expert-parallel group of size P (rank r owns global experts
// [r*E/P, (r+1)*E/P)) and two all-to-alls between them:
//
//   1 route          every rank routes its own tokens with the replicated router
//   2 count          exchange_counts: all-gather of routed assignments per expert [P, E]
//   3 permute        rows grouped by global expert (capacity shared in union order)
//   4 all-to-all-v   rows to the ranks owning their experts
//   5 experts        received rows regrouped by local expert, Experts::forward
//   6 all-to-all-v   outputs back to the ranks that own the tokens (reverse counts)
//   7 combine        weighted sum per token
//
// Equivalence: on the union of all ranks' tokens (rank 0's first, then rank 1's, ...) the outputs
// equal model::MoeLayer on the same weights, including which assignments capacity drops. The
// returned aux_loss and z_loss have the single-process value over the union on every rank; their
// backward on rank r carries only rank r's tokens' share (the global sums go through an
// all-reduce whose backward is the identity), so summing the router gradient over the group gives
// the single-process gradient. Expert gradients need no reduction inside the group: the reverse
// all-to-all brings every token's contribution to the owning rank.
//
// Invariants: E divisible by P (ConfigError); every rank calls forward and later backward through
// it, also with zero tokens (x of shape [0, d_in]) or when its experts receive none (the expert
// output is then still tied to the expert parameters, so the backward all-to-alls happen on
// every rank); x.requires_grad() is the same on every rank. Parameter names equal MoeLayer's
// ("router.gate.weight", "experts.w1", ...); expert parameters hold the local rows.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <string>

#include "dist/comm/communicator.h"
#include "trainer/model/moe/moe_layer.h"

namespace seller::dist {

class EpMoeLayerImpl : public torch::nn::Module {
 public:
  EpMoeLayerImpl(int64_t d_in, int64_t d_hidden, int64_t d_out, const model::MoeOptions& options,
                 CommunicatorPtr ep);

  // x [N_r, d_in] (this rank's tokens) -> output [N_r, d_out]; stats cover this rank's tokens
  // (MoeStats::add over the group gives the global ones).
  model::MoeOutput forward(const torch::Tensor& x);

  // Copies the router and this rank's rows of the stacked expert tensors from a single-process
  // MoeLayer state (names as in MoeLayer::named_parameters()).
  void load_full_state(const std::map<std::string, torch::Tensor>& full);

  // True for the parameters sharded over the group ("experts.*"): their data-parallel reduction
  // runs over the expert-data-parallel group, the router's over all ranks holding replicas.
  static bool is_expert_parameter(const std::string& name);

  const model::MoeOptions& options() const { return options_; }
  const CommunicatorPtr& group() const { return ep_; }

  model::Router router{nullptr};
  model::Experts experts{nullptr};

 private:
  model::MoeOptions options_;
  CommunicatorPtr ep_;
};
TORCH_MODULE(EpMoeLayer);

}  // namespace seller::dist
