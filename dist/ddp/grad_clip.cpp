// Global gradient-norm clipping (rule in grad_clip.h).
#include "dist/ddp/grad_clip.h"

#include <torch/torch.h>

#include <map>
#include <optional>

#include "trainer/core/error.h"

namespace seller::dist {

torch::Tensor global_grad_norm_tensor(const std::vector<NormEntry>& entries,
                                      Communicator* model_parallel) {
  torch::NoGradGuard no_grad;
  // Per-tensor norms by one multi-tensor kernel per replica count, squared and summed in
  // float64 on the device: no host synchronisation (a per-tensor .item() would stall the host
  // on the GPU once per parameter, and the optimizer's launches could not overlap backward).
  std::map<int64_t, std::vector<torch::Tensor>> by_replicas;
  std::optional<torch::Device> device;
  for (const auto& e : entries) {
    SELLER_CHECK(e.replicas >= 1, "replicas must be >= 1");
    const auto& g = e.param.grad();
    if (!g.defined()) continue;
    device = g.device();
    by_replicas[e.replicas].push_back(g.detach());
  }
  const auto dopts = torch::TensorOptions()
                         .dtype(torch::kDouble)
                         .device(device.value_or(entries.empty() ? torch::Device(torch::kCPU)
                                                                 : entries[0].param.device()));
  auto total = torch::zeros({1}, dopts);
  for (const auto& [replicas, grads] : by_replicas) {
    const auto norms = at::_foreach_norm(grads, 2, torch::kDouble);
    total += torch::stack(norms).pow(2).sum() / static_cast<double>(replicas);
  }
  if (model_parallel && model_parallel->size() > 1)
    model_parallel->all_reduce(total, ReduceOp::kSum);
  return total.sqrt().squeeze(0);
}

double global_grad_norm(const std::vector<NormEntry>& entries, Communicator* model_parallel) {
  return global_grad_norm_tensor(entries, model_parallel).item<double>();
}

torch::Tensor clip_grad_norm_async(const std::vector<NormEntry>& entries,
                                   Communicator* model_parallel, double max_norm) {
  SELLER_THROW_IF_NOT(max_norm > 0.0, ConfigError, "max gradient norm must be > 0, got ", max_norm);
  const auto norm = global_grad_norm_tensor(entries, model_parallel);
  // min(1, max_norm / (norm + 1e-6)) in float64, then applied in each gradient's dtype (as a
  // double scalar would be); a factor of exactly 1 leaves the gradients bit for bit.
  const auto coef = (max_norm / (norm + 1e-6)).clamp_max(1.0);
  torch::NoGradGuard no_grad;
  std::map<torch::ScalarType, std::vector<torch::Tensor>> by_dtype;
  for (const auto& e : entries)
    if (e.param.grad().defined()) by_dtype[e.param.grad().scalar_type()].push_back(e.param.grad());
  for (auto& [dtype, grads] : by_dtype) at::_foreach_mul_(grads, coef.to(dtype));
  return norm;
}

double clip_grad_norm_distributed(const std::vector<NormEntry>& entries,
                                  Communicator* model_parallel, double max_norm) {
  return clip_grad_norm_async(entries, model_parallel, max_norm).item<double>();
}

}  // namespace seller::dist
