// Megatron-style tensor-parallel layers over one tensor-parallel group of size P (rank r):
//
//   ColumnParallelLinear  y = x W^T + b with W [out, in] split on the OUTPUT dim: rank r holds
//                         rows [r*out/P, (r+1)*out/P) of W and b. Input through copy_to_tp ("f"),
//                         output stays split (the next row-parallel layer consumes it) unless
//                         gather_output.
//   RowParallelLinear     W split on the INPUT dim: rank r holds columns [r*in/P, (r+1)*in/P).
//                         Each rank's partial product is summed by reduce_from_tp ("g"); the bias
//                         is replicated and added once, after the sum.
//   VocabParallelEmbedding  table [V, d] split on the vocabulary: rank r holds rows
//                         [r*V/P, (r+1)*V/P); an id outside that range gives a zero row, and the
//                         all-reduce ("g") fills in the owner's row.
//
// Invariants: out, in and V are divisible by P (ConfigError otherwise, naming the sizes);
// parameter names and shapes are those of torch::nn::Linear / Embedding on the local slice
// ("weight", "bias"), so a sharded state dict addresses them like the unsharded layer.
// Replicated parameters (the row-parallel bias) receive the same gradient on every rank.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <memory>

#include "dist/comm/communicator.h"

namespace seller::dist {

class ColumnParallelLinearImpl : public torch::nn::Module {
 public:
  ColumnParallelLinearImpl(int64_t in, int64_t out, bool bias, CommunicatorPtr tp,
                           bool gather_output = false);
  torch::Tensor forward(const torch::Tensor& x);
  // The local product only, for an input that already went through copy_to_tp (several
  // column-parallel layers reading one input share one "f", hence one backward all-reduce).
  torch::Tensor forward_local(const torch::Tensor& x_parallel);
  // Copies this rank's rows of the full [out, in] weight and [out] bias (bias may be undefined
  // when the layer has none).
  void load_full(const torch::Tensor& weight, const torch::Tensor& bias = {});

  torch::Tensor weight, bias;  // [out/P, in], [out/P] or undefined

 private:
  CommunicatorPtr tp_;
  bool gather_output_;
};
TORCH_MODULE(ColumnParallelLinear);

class RowParallelLinearImpl : public torch::nn::Module {
 public:
  // input_is_parallel = false: the input is the full [.., in] tensor and is split here.
  RowParallelLinearImpl(int64_t in, int64_t out, bool bias, CommunicatorPtr tp,
                        bool input_is_parallel = true);
  torch::Tensor forward(const torch::Tensor& x);
  void load_full(const torch::Tensor& weight, const torch::Tensor& bias = {});

  torch::Tensor weight, bias;  // [out, in/P], [out] (replicated) or undefined

 private:
  CommunicatorPtr tp_;
  bool input_is_parallel_;
};
TORCH_MODULE(RowParallelLinear);

class VocabParallelEmbeddingImpl : public torch::nn::Module {
 public:
  VocabParallelEmbeddingImpl(int64_t vocab, int64_t dim, CommunicatorPtr tp);
  torch::Tensor forward(const torch::Tensor& ids);  // any shape of int64 ids -> [..., dim]
  void load_full(const torch::Tensor& weight);

  int64_t vocab_start() const { return start_; }
  int64_t vocab_end() const { return start_ + weight.size(0); }

  torch::Tensor weight;  // [V/P, dim]

 private:
  CommunicatorPtr tp_;
  int64_t start_;
};
TORCH_MODULE(VocabParallelEmbedding);

// Throws ConfigError "<what>=<n> is not divisible by tp=<p>" unless p divides n.
void check_divisible(int64_t n, int64_t p, const char* what);

}  // namespace seller::dist
