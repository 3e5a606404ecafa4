// RMSNorm (see rms_norm.h). The fp32 upcast matches transformers' LlamaRMSNorm bit for bit in
// fp32 and keeps bf16 training stable.
#include "trainer/model/llm/rms_norm.h"

#include <torch/torch.h>

namespace seller::model {

RMSNormImpl::RMSNormImpl(int64_t dim, double eps) : eps_(eps) {
  weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor& x) const {
  // On the GPU one fused kernel (LibTorch's rms_norm) instead of eight: it normalises in fp32 and
  // rounds once at the end, which differs from the CPU path below by at most one bf16 rounding.
  if (x.is_cuda()) return at::rms_norm(x, {weight.size(0)}, weight, eps_);
  auto dtype = x.scalar_type();
  auto h = x.to(torch::kFloat32);
  auto variance = h.pow(2).mean(-1, /*keepdim=*/true);
  h = h * torch::rsqrt(variance + eps_);
  return weight * h.to(dtype);
}

}  // namespace seller::model
