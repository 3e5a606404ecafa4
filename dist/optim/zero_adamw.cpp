// ZeRO-1 sharded AdamW (contract in zero_adamw.h).
#include "dist/optim/zero_adamw.h"

#include <torch/torch.h>

#include <cmath>

#include "trainer/core/error.h"

namespace seller::dist {

ZeroAdamW::ZeroAdamW(std::vector<torch::Tensor> params, CommunicatorPtr group,
                     ZeroAdamWOptions options)
    : params_(std::move(params)), group_(std::move(group)), options_(options) {
  SELLER_CHECK(group_ != nullptr);
  SELLER_THROW_IF_NOT(!params_.empty(), ConfigError, "ZeRO-1 AdamW got no parameters");
  for (const auto& p : params_) {
    SELLER_THROW_IF_NOT(
        p.scalar_type() == params_[0].scalar_type() && p.device() == params_[0].device(),
        ConfigError, "ZeRO-1 AdamW needs parameters of one dtype and device");
    total_ += p.numel();
  }
  const int64_t n = group_->size();
  padded_ = (total_ + n - 1) / n * n;
  shard_size_ = padded_ / n;
  shard_begin_ = shard_size_ * group_->rank();
  exp_avg_ = torch::zeros({shard_size_}, params_[0].options());
  exp_avg_sq_ = torch::zeros({shard_size_}, params_[0].options());
}

torch::Tensor ZeroAdamW::flat_grads() const {
  std::vector<torch::Tensor> parts;
  for (const auto& p : params_) {
    const auto& g = p.grad();
    parts.push_back(g.defined() ? g.detach().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  }
  if (padded_ > total_) parts.push_back(torch::zeros({padded_ - total_}, params_[0].options()));
  return torch::cat(parts);
}

torch::Tensor ZeroAdamW::flat_params() const {
  std::vector<torch::Tensor> parts;
  for (const auto& p : params_) parts.push_back(p.detach().reshape(-1));
  if (padded_ > total_) parts.push_back(torch::zeros({padded_ - total_}, params_[0].options()));
  return torch::cat(parts);
}

void ZeroAdamW::step() {
  torch::NoGradGuard no_grad;
  ++step_;
  const auto& o = options_;
  // Only this rank's shard is updated; the full flat vectors are cheap views' concatenations
  // (a production version would keep the parameters in one flat buffer to avoid the copies).
  auto grad = flat_grads().narrow(0, shard_begin_, shard_size_);
  auto param = flat_params().narrow(0, shard_begin_, shard_size_).clone();
  // torch::optim::AdamW::step, operation for operation.
  param.mul_(1 - o.lr * o.weight_decay);
  exp_avg_.mul_(o.beta1).add_(grad, 1 - o.beta1);
  exp_avg_sq_.mul_(o.beta2).addcmul_(grad, grad, 1 - o.beta2);
  const double bias_correction1 = 1 - std::pow(o.beta1, static_cast<double>(step_));
  const double bias_correction2 = 1 - std::pow(o.beta2, static_cast<double>(step_));
  auto denom = (exp_avg_sq_.sqrt() / std::sqrt(bias_correction2)).add_(o.eps);
  param.addcdiv_(exp_avg_, denom, -o.lr / bias_correction1);

  auto full = torch::empty({padded_}, param.options());
  group_->all_gather(param.contiguous(), full, /*async=*/false);
  int64_t offset = 0;
  for (auto& p : params_) {
    p.copy_(full.narrow(0, offset, p.numel()).view(p.sizes()));
    offset += p.numel();
  }
}

void ZeroAdamW::zero_grad() {
  for (auto& p : params_)
    if (p.grad().defined()) p.mutable_grad().zero_();
}

}  // namespace seller::dist
