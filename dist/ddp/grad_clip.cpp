// Global gradient-norm clipping (rule in grad_clip.h).
#include "dist/ddp/grad_clip.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>

#include "trainer/core/error.h"

namespace seller::dist {

double global_grad_norm(const std::vector<NormEntry>& entries, Communicator* model_parallel) {
  torch::NoGradGuard no_grad;
  double local = 0.0;
  torch::Device device = torch::kCPU;
  for (const auto& e : entries) {
    SELLER_CHECK(e.replicas >= 1, "replicas must be >= 1");
    const auto& g = e.param.grad();
    if (!g.defined()) continue;
    device = g.device();
    const double sq = g.detach().to(torch::kDouble).pow(2).sum().item<double>();
    local += sq / static_cast<double>(e.replicas);
  }
  if (model_parallel && model_parallel->size() > 1) {
    auto t = torch::full({1}, local, torch::TensorOptions().dtype(torch::kDouble).device(device));
    model_parallel->all_reduce(t, ReduceOp::kSum);
    local = t.cpu().item<double>();
  }
  return std::sqrt(local);
}

double clip_grad_norm_distributed(const std::vector<NormEntry>& entries,
                                  Communicator* model_parallel, double max_norm) {
  SELLER_THROW_IF_NOT(max_norm > 0.0, ConfigError, "max gradient norm must be > 0, got ", max_norm);
  const double norm = global_grad_norm(entries, model_parallel);
  const double coef = std::min(1.0, max_norm / (norm + 1e-6));
  if (coef < 1.0) {
    torch::NoGradGuard no_grad;
    for (const auto& e : entries)
      if (e.param.grad().defined()) e.param.mutable_grad().mul_(coef);
  }
  return norm;
}

}  // namespace seller::dist
