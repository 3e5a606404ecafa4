// The communication phases of the expert-parallel MoE layer (ep_moe_layer.h):
//
//   exchange_counts   all-gather of every rank's routed assignments per expert, [ep, E] (host).
//                     From it every rank derives the global token count, the capacity limits of
//                     its own assignments, and how many rows it will receive from each peer.
//   permute_limited   model::permute with a separate limit per expert: the kept rows grouped by
//                     global expert id, then token order (the layout an all-to-all sends).
//   all_to_all_rows   all_to_all_v as an autograd function; its backward is the reverse
//                     all_to_all_v (send and receive counts swapped) of the gradient.
//
// Capacity across ranks: the single-process layer drops "first come in token order" over all
// N tokens. With the tokens of rank 0 first, then rank 1, ... (the union order), expert e's
// capacity C is shared: rank r may keep min(routed[r][e], max(0, C - sum_{q<r} routed[q][e])).
// So the kept set equals the single-process run on the union, not a per-rank approximation.
//
// Invariants: every rank of the group calls these in the same order (a rank with zero tokens
// passes empty tensors and zero counts and still joins); all counts are host int64 vectors with
// one entry per rank (all_to_all) or per expert.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dist/comm/communicator.h"
#include "trainer/model/moe/experts.h"
#include "trainer/model/moe/router.h"

namespace seller::dist {

// routed[q][e] for every rank q of `ep` (collective). `device` is where the backend wants its
// tensors (NCCL: the current CUDA device); the result comes back to the host.
std::vector<std::vector<int64_t>> exchange_counts(const std::vector<int64_t>& local_routed,
                                                  Communicator& ep,
                                                  torch::Device device = torch::kCPU);

// Kept rows per (rank, expert) under the shared capacity rule above; capacity < 0: keep all.
std::vector<std::vector<int64_t>> kept_counts(const std::vector<std::vector<int64_t>>& routed,
                                              int64_t capacity);

// model::permute with limit[e] rows kept for expert e (first in token order); limits empty:
// no limit.
model::Dispatch permute_limited(const torch::Tensor& x, const model::Routing& routing,
                                const std::vector<int64_t>& limits);

// Sends input rows [sum(send_counts), ...] and returns the received [sum(recv_counts), ...].
torch::Tensor all_to_all_rows(const torch::Tensor& input, const std::vector<int64_t>& send_counts,
                              const std::vector<int64_t>& recv_counts, Communicator& ep);

}  // namespace seller::dist
