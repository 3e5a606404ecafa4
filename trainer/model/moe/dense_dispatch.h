// Dense dispatch of the MoE layer: the same result as route -> permute -> run_experts ->
// combine (moe_layer.h) without any device-to-host transfer, for a layer that holds all its
// experts on a GPU.
//
// The sorted dispatch needs each expert's row count on the host to cut its rows out of the
// permuted block, so every forward waits there for the GPU to finish everything queued before
// it (on a data-parallel job: the previous step's gradient all-reduce, i.e. the slowest rank).
// Here every expert instead runs on every token ([E, N, d] batched matmuls) and each token then
// gathers the outputs of its kept top-k slots, weighted as combine() weights them. A token's
// output is the same sum as the sorted path's (summation order aside); an expert's unrouted
// tokens enter with weight 0, so they add nothing to the output and exactly zero to its
// gradients. Capacity drops are decided by the same rule (experts.h: first come in token order)
// as a device-side mask. The price is num_experts / top_k times the routed expert FLOPs, small
// for the adapter's few tokens (batch x num_prompts) and narrow experts; MoeOptions::dispatch
// "auto" takes this path only on CUDA and only while that factor is at most 8.
//
// Invariants: expert_index [N, k] distinct per row; the experts module owns every expert
// (first_expert 0, local_experts == num_experts); counts are the kept rows per expert, exactly
// those of permute() on the same routing and capacity, left on the device.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "trainer/model/moe/experts.h"
#include "trainer/model/moe/router.h"

namespace seller::model {

struct DenseDispatch {
  torch::Tensor kept;    // [N, k] bool: assignment kept (not dropped by capacity)
  torch::Tensor counts;  // [E] int64 kept assignments per expert, on the device of the routing
  int64_t routed = 0;    // N * k assignments before capacity
};

// The kept mask and counts of `routing` under `capacity` (< 0: no limit), without a host sync.
DenseDispatch dense_dispatch(const Routing& routing, int64_t num_experts, int64_t capacity);

// Every expert of `experts` on every row of x [N, d_in]: [E, N, d_out].
torch::Tensor run_all_experts(const Experts& experts, const torch::Tensor& x);

// out[n] = sum over kept slots s of weight[n, s] * all_out[expert_index[n, s], n]: [N, d_out].
torch::Tensor combine_dense(const torch::Tensor& all_out, const DenseDispatch& dispatch,
                            const Routing& routing);

}  // namespace seller::model
