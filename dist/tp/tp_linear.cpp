// Column/row-parallel linear layers and the vocab-parallel embedding (contract in tp_linear.h).
// Initialisation draws the FULL matrix from torch.nn.Linear's distribution with the global
// fan-in, so a sharded layer starts at the same scale as the unsharded one; loading a full
// checkpoint (load_full) is how equal weights are obtained.
#include "dist/tp/tp_linear.h"

#include <torch/torch.h>

#include <cmath>

#include "dist/tp/tp_ops.h"
#include "trainer/core/error.h"

namespace seller::dist {

void check_divisible(int64_t n, int64_t p, const char* what) {
  SELLER_THROW_IF_NOT(p >= 1 && n % p == 0, ConfigError, what, "=", n,
                      " is not divisible by tp=", p);
}

namespace {
void init_uniform(torch::Tensor& t, int64_t fan_in) {
  torch::NoGradGuard no_grad;
  const double bound = 1.0 / std::sqrt(static_cast<double>(fan_in));
  t.uniform_(-bound, bound);
}
void copy_checked(torch::Tensor& dst, const torch::Tensor& src, const char* what) {
  SELLER_THROW_IF_NOT(dst.sizes() == src.sizes(), Error, what, ": slice of shape ", src.sizes(),
                      " does not fit the parameter ", dst.sizes());
  torch::NoGradGuard no_grad;
  dst.copy_(src.to(dst.device(), dst.scalar_type()));
}
}  // namespace

ColumnParallelLinearImpl::ColumnParallelLinearImpl(int64_t in, int64_t out, bool with_bias,
                                                   CommunicatorPtr tp, bool gather_output)
    : tp_(std::move(tp)), gather_output_(gather_output) {
  SELLER_CHECK(tp_ != nullptr);
  check_divisible(out, tp_->size(), "output features");
  weight = register_parameter("weight", torch::empty({out / tp_->size(), in}));
  init_uniform(weight, in);
  if (with_bias) {
    bias = register_parameter("bias", torch::empty({out / tp_->size()}));
    init_uniform(bias, in);
  }
}

torch::Tensor ColumnParallelLinearImpl::forward(const torch::Tensor& x) {
  auto y = forward_local(copy_to_tp(x, *tp_));
  return gather_output_ ? gather_from_tp(y, *tp_) : y;
}

torch::Tensor ColumnParallelLinearImpl::forward_local(const torch::Tensor& x_parallel) {
  return torch::nn::functional::linear(x_parallel, weight, bias);
}

void ColumnParallelLinearImpl::load_full(const torch::Tensor& w, const torch::Tensor& b) {
  copy_checked(weight, rank_slice(w, 0, tp_->rank(), tp_->size()), "column-parallel weight");
  SELLER_THROW_IF_NOT(b.defined() == bias.defined(), Error,
                      "column-parallel bias: checkpoint and layer disagree on having one");
  if (bias.defined()) copy_checked(bias, rank_slice(b, 0, tp_->rank(), tp_->size()), "bias");
}

RowParallelLinearImpl::RowParallelLinearImpl(int64_t in, int64_t out, bool with_bias,
                                             CommunicatorPtr tp, bool input_is_parallel)
    : tp_(std::move(tp)), input_is_parallel_(input_is_parallel) {
  SELLER_CHECK(tp_ != nullptr);
  check_divisible(in, tp_->size(), "input features");
  weight = register_parameter("weight", torch::empty({out, in / tp_->size()}));
  init_uniform(weight, in);
  if (with_bias) {
    bias = register_parameter("bias", torch::empty({out}));
    init_uniform(bias, in);
  }
}

torch::Tensor RowParallelLinearImpl::forward(const torch::Tensor& x) {
  auto in = input_is_parallel_ ? x : scatter_to_tp(x, *tp_);
  auto y = reduce_from_tp(torch::nn::functional::linear(in, weight), *tp_);
  // Added after the sum: adding it on every rank before would count it P times.
  return bias.defined() ? y + bias : y;
}

void RowParallelLinearImpl::load_full(const torch::Tensor& w, const torch::Tensor& b) {
  copy_checked(weight, rank_slice(w, 1, tp_->rank(), tp_->size()), "row-parallel weight");
  SELLER_THROW_IF_NOT(b.defined() == bias.defined(), Error,
                      "row-parallel bias: checkpoint and layer disagree on having one");
  if (bias.defined()) copy_checked(bias, b, "bias");
}

VocabParallelEmbeddingImpl::VocabParallelEmbeddingImpl(int64_t vocab, int64_t dim,
                                                       CommunicatorPtr tp)
    : tp_(std::move(tp)) {
  SELLER_CHECK(tp_ != nullptr);
  check_divisible(vocab, tp_->size(), "vocab_size");
  const int64_t part = vocab / tp_->size();
  start_ = part * tp_->rank();
  weight = register_parameter("weight", torch::empty({part, dim}));
  torch::NoGradGuard no_grad;
  weight.normal_(0.0, 1.0);  // torch.nn.Embedding's default
}

torch::Tensor VocabParallelEmbeddingImpl::forward(const torch::Tensor& ids) {
  auto outside = (ids < start_).logical_or(ids >= vocab_end());
  auto local = (ids - start_).masked_fill(outside, 0);
  auto rows = torch::embedding(weight, local);
  // Zero rows for ids another rank owns; the sum over the group then holds each id's row once.
  rows = rows.masked_fill(outside.unsqueeze(-1), 0.0);
  return reduce_from_tp(rows, *tp_);
}

void VocabParallelEmbeddingImpl::load_full(const torch::Tensor& w) {
  copy_checked(weight, rank_slice(w, 0, tp_->rank(), tp_->size()), "vocab-parallel embedding");
}

}  // namespace seller::dist
