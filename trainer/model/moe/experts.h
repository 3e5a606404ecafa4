// The expert side of the MoE layer: the dispatch layout (phase 2, permute), the stacked expert
// MLPs (phase 3, run_experts) and the weighted scatter back to tokens (phase 4, combine).
//
// Dispatch layout: the kept (token, slot) assignments as rows grouped by global expert id in
// increasing order, and within one expert in token order (the order an expert-parallel
// all-to-all sends them). counts[e] rows belong to expert e, so the rows of the expert range
// [a, b) are one contiguous block starting at sum(counts[0:a]).
//
// Capacity rule (first come in token order): expert e keeps an assignment (n, s) iff fewer than
// `capacity` tokens with a smaller index n' < n also chose e. Because a token's k experts are
// distinct, this is the same as ordering assignments token-major. A dropped assignment has no
// row, keeps its routing weight out of the sum (it contributes 0; the remaining weights are NOT
// renormalised), and a token whose every assignment is dropped gets a zero output.
//
// Experts: expert g (global id) is x -> GELU(x W1[g] + b1[g]) W2[g] + b2[g]. Weights are stored
// stacked along dim 0 over the experts this module owns, [first_expert, first_expert +
// local_experts): local row j is global expert first_expert + j. expert_named_parameters() gives
// per-expert views named by global id ("<g>.w1", ...) that a checkpoint or an expert-parallel
// resharding can slice and address independently of the layout.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "trainer/model/moe/router.h"

namespace seller::model {

struct Dispatch {
  torch::Tensor tokens;       // [M, d_in]: kept assignments, grouped by expert then token order
  torch::Tensor counts;       // [E] int64 (device of x): kept rows per global expert
  torch::Tensor token_index;  // [M] int64: source token of each row
  torch::Tensor slot_index;   // [M] int64: which of the token's k choices (column of Routing)
  torch::Tensor kept;         // [N, k] bool: assignment kept (not dropped by capacity)
  std::vector<int64_t> counts_host;  // counts on the host (the expert loop and all-to-all splits)
  int64_t routed = 0;                // N * k assignments before capacity
};

// Every assignment's place in its expert's queue (the capacity rule above): assignments a = n * k
// + s sorted stably by expert (`order`, `sorted_expert`), the routed count per expert
// (`routed`, [E]) and the place of each sorted assignment in its expert's queue (`position`,
// 0-based; kept iff position < capacity). Computed on the device without a host read; shared by
// permute() and the dense dispatch (dense_dispatch.h).
// Routed assignments per expert, [E] int64 on the device of expert_index ([N, k]), no host read.
torch::Tensor routed_counts(const torch::Tensor& expert_index, int64_t num_experts);

struct ExpertQueue {
  torch::Tensor order, sorted_expert, routed, position;
};
ExpertQueue expert_queue(const torch::Tensor& expert_index, int64_t num_experts);

// Phase 2: groups the kept assignments of `routing` by expert. capacity < 0: no limit.
Dispatch permute(const torch::Tensor& x, const Routing& routing, int64_t capacity);

// Phase 4: out[n] = sum over kept slots s of weight[n, s] * expert_out[row of (n, s)], [N, d_out].
// expert_out has one row per dispatch row, in dispatch order.
torch::Tensor combine(const torch::Tensor& expert_out, const Dispatch& dispatch,
                      const Routing& routing, int64_t num_tokens);

class ExpertsImpl : public torch::nn::Module {
 public:
  // local_experts < 0: all experts from first_expert to num_experts.
  ExpertsImpl(int64_t d_in, int64_t d_hidden, int64_t d_out, int64_t num_experts,
              int64_t first_expert = 0, int64_t local_experts = -1);

  // Phase 3 on rows grouped by LOCAL expert: counts[j] rows for local expert j, in order;
  // sum(counts) == rows.size(0). Returns [M, d_out]. An expert with no rows is skipped (its
  // weights get a zero gradient through the other experts' use of the stacked tensor).
  torch::Tensor forward(const torch::Tensor& rows, const std::vector<int64_t>& counts);

  // Phase 3 on a dispatch over all num_experts experts: runs this module's block of rows
  // (all rows when it owns every expert) and returns their outputs [M_local, d_out].
  torch::Tensor run_experts(const Dispatch& dispatch);

  // Per-expert views of the stacked parameters, named "<global id>.w1|b1|w2|b2".
  std::vector<std::pair<std::string, torch::Tensor>> expert_named_parameters() const;

  int64_t num_experts() const { return num_experts_; }
  int64_t first_expert() const { return first_expert_; }
  int64_t local_experts() const { return local_experts_; }

  torch::Tensor w1, b1, w2,
      b2;  // [L, d_in, d_hidden], [L, d_hidden], [L, d_hidden, d_out], [L, d_out]

 private:
  int64_t num_experts_, first_expert_, local_experts_;
};
TORCH_MODULE(Experts);

}  // namespace seller::model
