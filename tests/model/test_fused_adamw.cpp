// The fused AdamW step (trainer/train/fused_adamw.h) against LibTorch's own AdamW::step() on the
// same parameters, gradients and options: two groups (with and without weight decay), several
// steps, a parameter without a gradient, and the two step functions taking turns on one state.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include "trainer/core/error.h"
#include "trainer/train/fused_adamw.h"

namespace seller::train {
namespace {

struct Setup {
  std::vector<torch::Tensor> decay, plain;
  std::unique_ptr<torch::optim::AdamW> opt;
};

Setup make(uint64_t seed) {
  torch::manual_seed(seed);
  Setup s;
  s.decay = {torch::randn({7, 5}).requires_grad_(), torch::randn({3, 4, 2}).requires_grad_()};
  s.plain = {torch::randn({5}).requires_grad_(), torch::randn({1}).requires_grad_()};
  std::vector<torch::optim::OptimizerParamGroup> groups;
  groups.emplace_back(s.decay, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(3e-2).weight_decay(0.1)));
  groups.emplace_back(s.plain, std::make_unique<torch::optim::AdamWOptions>(
                                   torch::optim::AdamWOptions(3e-2).weight_decay(0.0)));
  s.opt = std::make_unique<torch::optim::AdamW>(groups, torch::optim::AdamWOptions(3e-2));
  return s;
}

void set_grads(Setup& s, int step, bool skip_last) {
  torch::manual_seed(100 + static_cast<uint64_t>(step));
  for (auto* list : {&s.decay, &s.plain})
    for (auto& p : *list) p.mutable_grad() = torch::randn_like(p) * (1.0 + step);
  if (skip_last) s.plain.back().mutable_grad() = torch::Tensor();
}

void expect_close(const Setup& a, const Setup& b) {
  for (size_t g = 0; g < 2; ++g) {
    const auto& pa = g == 0 ? a.decay : a.plain;
    const auto& pb = g == 0 ? b.decay : b.plain;
    for (size_t i = 0; i < pa.size(); ++i) {
      const double diff = (pa[i] - pb[i]).abs().max().item<double>();
      EXPECT_LT(diff, 1e-6) << "group " << g << " tensor " << i;
      const auto& sa = static_cast<torch::optim::AdamWParamState&>(
          *a.opt->state().at(pa[i].unsafeGetTensorImpl()));
      const auto& sb = static_cast<torch::optim::AdamWParamState&>(
          *b.opt->state().at(pb[i].unsafeGetTensorImpl()));
      EXPECT_EQ(sa.step(), sb.step());
      EXPECT_LT((sa.exp_avg() - sb.exp_avg()).abs().max().item<double>(), 1e-6);
      EXPECT_LT((sa.exp_avg_sq() - sb.exp_avg_sq()).abs().max().item<double>(), 1e-6);
    }
  }
}

TEST(FusedAdamW, EqualsLibTorchAdamWOverSteps) {
  auto ref = make(1), fused = make(1);
  for (int step = 0; step < 6; ++step) {
    // The last parameter has no gradient in steps 2 and 3: it must be left alone, step count
    // included, by both.
    const bool skip = step == 2 || step == 3;
    set_grads(ref, step, skip);
    set_grads(fused, step, skip);
    ref.opt->step();
    fused_adamw_step(*fused.opt);
  }
  expect_close(ref, fused);
  const auto& s = static_cast<torch::optim::AdamWParamState&>(
      *fused.opt->state().at(fused.plain.back().unsafeGetTensorImpl()));
  EXPECT_EQ(s.step(), 4);
  // The update moved the parameters (the comparison is not between two untouched copies).
  auto start = make(1);
  EXPECT_GT((start.decay[0] - fused.decay[0]).abs().max().item<double>(), 1e-2);
}

TEST(FusedAdamW, TakesTurnsWithAdamWOnOneState) {
  auto ref = make(2), mixed = make(2);
  for (int step = 0; step < 6; ++step) {
    set_grads(ref, step, false);
    set_grads(mixed, step, false);
    ref.opt->step();
    if (step % 2)
      mixed.opt->step();
    else
      fused_adamw_step(*mixed.opt);
  }
  expect_close(ref, mixed);
}

TEST(FusedAdamW, AmsgradIsRefused) {
  auto p = torch::randn({3}).requires_grad_();
  p.mutable_grad() = torch::ones({3});
  torch::optim::AdamW opt({p}, torch::optim::AdamWOptions(1e-3).amsgrad(true));
  EXPECT_THROW(fused_adamw_step(opt), ConfigError);
}

}  // namespace
}  // namespace seller::train
