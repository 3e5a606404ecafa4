// One AdamW step over a torch::optim::AdamW's parameters and state with ATen's fused
// multi-tensor kernel (at::_fused_adamw_, the kernel behind torch.optim.AdamW(fused=True)).
//
// Why: LibTorch's AdamW::step() runs about ten small operators per parameter, so a step of a
// model with ~150 tensors costs ~1,500 kernel launches and 15-25 ms of host time on a GPU
// (measured, docs/benchmarks.md), more than the GPU needs for the update itself. The fused
// kernel does the same update for all tensors of a group in a few launches.
// The optimizer object stays the owner of the options (lr, betas, eps, weight decay per group)
// and of the state (step, exp_avg, exp_avg_sq per parameter), created the way AdamW::step()
// creates it, so checkpoints save and restore it unchanged and either step function can follow
// the other. Numerics: the same update rule, evaluated in one fused expression (fp32 math), so
// results agree with AdamW::step() to rounding (tests/model/test_fused_adamw.cpp), not bit for bit.
// Invariants: amsgrad is not supported (refused with a clear error); parameters without a
// gradient are skipped and their step count is left alone, as AdamW::step() does.
#pragma once

#include <torch/optim/adamw.h>

namespace seller::train {

void fused_adamw_step(torch::optim::AdamW& opt);

}  // namespace seller::train
