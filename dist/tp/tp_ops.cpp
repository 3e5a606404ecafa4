// Tensor-parallel communication steps as autograd functions (see tp_ops.h). The communicator
// travels through the autograd context as an integer (saved_data holds IValues only); the group
// must outlive the graph, which the layers guarantee by holding the shared_ptr.
#include "dist/tp/tp_ops.h"

#include <torch/torch.h>

#include "trainer/core/error.h"

namespace seller::dist {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

void save_comm(AutogradContext* ctx, Communicator* comm) {
  ctx->saved_data["comm"] = static_cast<int64_t>(reinterpret_cast<intptr_t>(comm));
}
Communicator& load_comm(AutogradContext* ctx) {
  return *reinterpret_cast<Communicator*>(static_cast<intptr_t>(ctx->saved_data["comm"].toInt()));
}

struct CopyToTp : torch::autograd::Function<CopyToTp> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, Communicator* comm) {
    save_comm(ctx, comm);
    return x;
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {all_reduce_sum(grads[0].contiguous().clone(), load_comm(ctx)), torch::Tensor()};
  }
};

struct ReduceFromTp : torch::autograd::Function<ReduceFromTp> {
  static torch::Tensor forward(AutogradContext*, const torch::Tensor& x, Communicator* comm) {
    return all_reduce_sum(x.contiguous().clone(), *comm);
  }
  static variable_list backward(AutogradContext*, variable_list grads) {
    return {grads[0], torch::Tensor()};
  }
};

struct GatherFromTp : torch::autograd::Function<GatherFromTp> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, Communicator* comm) {
    save_comm(ctx, comm);
    return all_gather_last_dim(x, *comm);
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    auto& comm = load_comm(ctx);
    return {rank_slice(grads[0], -1, comm.rank(), comm.size()).contiguous(), torch::Tensor()};
  }
};

struct ScatterToTp : torch::autograd::Function<ScatterToTp> {
  static torch::Tensor forward(AutogradContext* ctx, const torch::Tensor& x, Communicator* comm) {
    save_comm(ctx, comm);
    return rank_slice(x, -1, comm->rank(), comm->size()).contiguous();
  }
  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    return {all_gather_last_dim(grads[0], load_comm(ctx)), torch::Tensor()};
  }
};

}  // namespace

torch::Tensor copy_to_tp(const torch::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return CopyToTp::apply(x, &tp);
}

torch::Tensor reduce_from_tp(const torch::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return ReduceFromTp::apply(x, &tp);
}

torch::Tensor gather_from_tp(const torch::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return GatherFromTp::apply(x, &tp);
}

torch::Tensor scatter_to_tp(const torch::Tensor& x, Communicator& tp) {
  if (tp.size() == 1) return x;
  return ScatterToTp::apply(x, &tp);
}

torch::Tensor all_reduce_sum(torch::Tensor x, Communicator& comm) {
  SELLER_CHECK(x.is_contiguous(), "all_reduce_sum needs a contiguous tensor");
  comm.all_reduce(x, ReduceOp::kSum, /*async=*/false);
  return x;
}

torch::Tensor all_gather_last_dim(const torch::Tensor& x, Communicator& comm) {
  const int64_t n = comm.size();
  if (n == 1) return x;
  // all_gather concatenates along dim 0; move the last dim first so that each rank's block is
  // contiguous, then move it back.
  auto moved = x.movedim(-1, 0).contiguous();
  auto sizes = moved.sizes().vec();
  sizes[0] *= n;
  auto out = torch::empty(sizes, moved.options());
  comm.all_gather(moved, out, /*async=*/false);
  return out.movedim(0, -1).contiguous();
}

torch::Tensor rank_slice(const torch::Tensor& x, int64_t dim, int rank, int size) {
  const int64_t d = dim < 0 ? dim + x.dim() : dim;
  SELLER_CHECK(d >= 0 && d < x.dim());
  const int64_t full = x.size(d);
  SELLER_CHECK(full % size == 0, "dimension ", d, " of size ", full, " does not split into ", size,
               " equal parts");
  const int64_t part = full / size;
  return x.narrow(d, rank * part, part);
}

}  // namespace seller::dist
