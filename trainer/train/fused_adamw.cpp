// One fused AdamW step (fused_adamw.h).
#include "trainer/train/fused_adamw.h"

#include <torch/torch.h>

#include <map>
#include <tuple>
#include <vector>

#include "trainer/core/error.h"

namespace seller::train {

void fused_adamw_step(torch::optim::AdamW& opt) {
  torch::NoGradGuard no_grad;
  for (auto& group : opt.param_groups()) {
    const auto& o = static_cast<const torch::optim::AdamWOptions&>(group.options());
    SELLER_THROW_IF_NOT(!o.amsgrad(), ConfigError,
                        "the fused AdamW step does not implement amsgrad");
    // One kernel call per (step count, device, dtype): the kernel reads each tensor's step from
    // its state_steps entry, and tensors of one call share a device and a dtype.
    struct Lists {
      std::vector<torch::Tensor> params, grads, exp_avgs, exp_avg_sqs;
    };
    std::map<std::tuple<int64_t, int, int, int>, Lists> calls;  // step, device, dtype
    for (auto& p : group.params()) {
      if (!p.grad().defined()) continue;
      auto& slot = opt.state()[p.unsafeGetTensorImpl()];
      if (!slot) {  // first step: the state AdamW::step() would create
        auto s = std::make_unique<torch::optim::AdamWParamState>();
        s->step(0);
        s->exp_avg(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        s->exp_avg_sq(torch::zeros_like(p, torch::MemoryFormat::Preserve));
        slot = std::move(s);
      }
      auto& s = static_cast<torch::optim::AdamWParamState&>(*slot);
      s.step(s.step() + 1);
      auto& l = calls[{s.step(), static_cast<int>(p.device().type()), p.device().index(),
                       static_cast<int>(p.scalar_type())}];
      l.params.push_back(p);
      l.grads.push_back(p.grad());
      l.exp_avgs.push_back(s.exp_avg());
      l.exp_avg_sqs.push_back(s.exp_avg_sq());
    }
    const auto [beta1, beta2] = o.betas();
    for (auto& [key, l] : calls) {
      // The kernel reads (and never writes) the step count: one float tensor serves them all.
      const auto step =
          torch::full({}, static_cast<double>(std::get<0>(key)),
                      torch::TensorOptions(torch::kFloat32).device(l.params.front().device()));
      const std::vector<torch::Tensor> steps(l.params.size(), step);
      at::_fused_adamw_(l.params, l.grads, l.exp_avgs, l.exp_avg_sqs, {}, steps, o.lr(), beta1,
                        beta2, o.weight_decay(), o.eps(), /*amsgrad=*/false, /*maximize=*/false);
    }
  }
}

}  // namespace seller::train
