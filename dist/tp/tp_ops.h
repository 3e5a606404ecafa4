// The conjugate communication steps of Megatron-style tensor parallelism, as autograd functions
// around a Communicator (the tensor-parallel group):
//
//   copy_to_tp      "f": identity forward, all-reduce (sum) of the gradient backward. Put in front
//                   of a column-parallel layer: each rank's partial input-gradient is summed.
//   reduce_from_tp  "g": all-reduce (sum) forward, identity backward. Put after a row-parallel
//                   layer: the partial outputs are summed; every rank already holds the full
//                   output-gradient.
//   gather_from_tp  all-gather along the last dimension forward, keep this rank's slice backward.
//   scatter_to_tp   keep this rank's slice of the last dimension forward, all-gather backward.
//
// Invariants: every rank of the group calls the same functions in the same order with tensors of
// the same shape (the collectives pair up), in forward and in backward. The communicator must
// outlive the autograd graph that references it (the graph stores a raw pointer).
#pragma once

#include <torch/types.h>

#include "dist/comm/communicator.h"

namespace seller::dist {

torch::Tensor copy_to_tp(const torch::Tensor& x, Communicator& tp);
torch::Tensor reduce_from_tp(const torch::Tensor& x, Communicator& tp);
torch::Tensor gather_from_tp(const torch::Tensor& x, Communicator& tp);
torch::Tensor scatter_to_tp(const torch::Tensor& x, Communicator& tp);

// Plain (non-autograd) helpers shared by the layers.
// Sum in place over the group; returns `x` for chaining.
torch::Tensor all_reduce_sum(torch::Tensor x, Communicator& comm);
// Concatenates each rank's x along the last dimension, in rank order.
torch::Tensor all_gather_last_dim(const torch::Tensor& x, Communicator& comm);
// This rank's contiguous block of `size` equal blocks along `dim` (dim must divide evenly).
torch::Tensor rank_slice(const torch::Tensor& x, int64_t dim, int rank, int size);

}  // namespace seller::dist
