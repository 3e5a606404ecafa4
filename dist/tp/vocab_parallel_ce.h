// Cross-entropy over logits split on the vocabulary across a tensor-parallel group, without ever
// materialising the full [.., V] logits on one rank (Megatron's vocab-parallel cross-entropy):
//
//   m      = all-reduce max over ranks of the local row max          (numerical stability)
//   s      = all-reduce sum over ranks of sum_j exp(z_j - m)
//   z_t    = all-reduce sum of the target's shifted logit, contributed by the owning rank only
//   loss_i = log(s) - z_t    ;  mean over the rows whose target != ignore_index
//
// Backward (each rank, its own vocabulary slice): softmax_j - [j == target], times grad / count;
// ignored rows get zero gradient. No collective in backward: every rank's slice is independent.
//
// Invariants: logits [..., V/P] (float, any leading shape) with rank r owning vocabulary ids
// [vocab_start, vocab_start + V/P); target has the leading shape, int64; every rank returns the
// same scalar. Like torch's cross_entropy with reduction "mean", zero non-ignored rows give NaN.
#pragma once

#include <torch/types.h>

#include <cstdint>

#include "dist/comm/communicator.h"

namespace seller::dist {

torch::Tensor vocab_parallel_cross_entropy(const torch::Tensor& local_logits,
                                           const torch::Tensor& target, Communicator& tp,
                                           int64_t vocab_start, int64_t ignore_index = -100);

}  // namespace seller::dist
