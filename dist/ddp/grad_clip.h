// Global gradient-norm clipping across data, tensor and expert parallelism.
//
// The norm is that of the single-process model's full gradient, so it is the same number on
// every rank and equals torch's clip_grad_norm_ on one process. Rule (no double counting):
//   - after the data-parallel reduction every dp replica holds the same gradients, so nothing is
//     summed over the data-parallel dimension;
//   - inside one model replica (the tp x ep block of ranks with the same dp index), each entry
//     says on how many ranks of the block the SAME tensor lives (`replicas`): 1 for a shard
//     (a tp slice, a rank's experts), the block's tp size for a parameter replicated across tp
//     (norms, row-parallel biases), ep for one replicated across ep (the router), tp*ep for one
//     replicated over the whole block. Its squared norm is divided by `replicas`, and the sum is
//     all-reduced over the block (`model_parallel`; null or size 1 for pure data parallelism).
// Squares are accumulated in float64. Clipping then multiplies every gradient by
// min(1, max_norm / (norm + 1e-6)), as torch.nn.utils.clip_grad_norm_ does.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::dist {

struct NormEntry {
  torch::Tensor param;   // its .grad is read (undefined grad counts as zero)
  int64_t replicas = 1;  // ranks of the model-parallel block holding the same tensor
};

// The global L2 norm of all gradients (collective over model_parallel): as a float64 scalar on
// the gradients' device, computed without a host synchronisation; and read back as a double.
torch::Tensor global_grad_norm_tensor(const std::vector<NormEntry>& entries,
                                      Communicator* model_parallel);
double global_grad_norm(const std::vector<NormEntry>& entries, Communicator* model_parallel);

// Scales the gradients in place when the global norm exceeds max_norm; returns the norm before
// clipping, on the device and without waiting for it (the training loop's form) ...
torch::Tensor clip_grad_norm_async(const std::vector<NormEntry>& entries,
                                   Communicator* model_parallel, double max_norm);
// ... or read back (waits for the gradients).
double clip_grad_norm_distributed(const std::vector<NormEntry>& entries,
                                  Communicator* model_parallel, double max_norm);

}  // namespace seller::dist
