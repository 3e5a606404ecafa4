// Vocab-parallel cross-entropy (contract in vocab_parallel_ce.h). Statistics are computed in
// fp32 whatever the logits' dtype; the gradient is returned in the logits' dtype.
#include "dist/tp/vocab_parallel_ce.h"

#include <torch/torch.h>

#include "dist/tp/tp_ops.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

struct VocabParallelCe : torch::autograd::Function<VocabParallelCe> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& logits,
                               const torch::Tensor& target, Communicator* tp, int64_t start,
                               int64_t ignore_index) {
    const int64_t part = logits.size(-1);
    auto z = logits.reshape({-1, part}).to(torch::kFloat32);
    auto t = target.reshape({-1}).to(torch::kLong);
    SELLER_CHECK(z.size(0) == t.size(0), "logits rows ", z.size(0), " vs targets ", t.size(0));

    auto m = std::get<0>(z.max(-1)).contiguous();  // an empty batch gives [0]: fine for all ranks
    tp->all_reduce(m, ReduceOp::kMax);
    auto shifted = z - m.unsqueeze(1);
    auto e = shifted.exp();
    auto s = e.sum(-1).contiguous();
    tp->all_reduce(s, ReduceOp::kSum);

    auto owned = (t >= start).logical_and(t < start + part);
    auto local_t = (t - start).masked_fill(owned.logical_not(), 0);
    auto zt =
        shifted.gather(1, local_t.unsqueeze(1)).squeeze(1).masked_fill(owned.logical_not(), 0);
    zt = zt.contiguous();
    tp->all_reduce(zt, ReduceOp::kSum);

    auto valid = t.ne(ignore_index);
    auto count = valid.sum().to(torch::kFloat32);
    auto loss = (s.log() - zt).masked_fill(valid.logical_not(), 0.0).sum() / count;

    ctx->save_for_backward({e / s.unsqueeze(1), local_t, owned, valid, count});
    ctx->saved_data["shape"] = logits.sizes().vec();
    ctx->saved_data["dtype"] = static_cast<int64_t>(logits.scalar_type());
    return loss.to(logits.scalar_type());
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto saved = ctx->get_saved_variables();
    auto grad = saved[0].clone();  // softmax of this rank's slice
    const auto& local_t = saved[1];
    const auto& owned = saved[2];
    grad.scatter_add_(1, local_t.unsqueeze(1), -owned.to(grad.scalar_type()).unsqueeze(1));
    grad = grad * (saved[3].to(grad.scalar_type()) / saved[4]).unsqueeze(1);
    grad = grad * grads[0].to(torch::kFloat32);
    auto shape = ctx->saved_data["shape"].toIntVector();
    auto dtype = static_cast<torch::ScalarType>(ctx->saved_data["dtype"].toInt());
    return {grad.to(dtype).view(shape), torch::Tensor(), torch::Tensor(), torch::Tensor(),
            torch::Tensor()};
  }
};

}  // namespace

torch::Tensor vocab_parallel_cross_entropy(const torch::Tensor& local_logits,
                                           const torch::Tensor& target, Communicator& tp,
                                           int64_t vocab_start, int64_t ignore_index) {
  SELLER_CHECK(local_logits.dim() >= 1 && target.dim() == local_logits.dim() - 1, "logits ",
               local_logits.sizes(), " and targets ", target.sizes(), " disagree");
  return VocabParallelCe::apply(local_logits, target, &tp, vocab_start, ignore_index);
}

}  // namespace seller::dist
