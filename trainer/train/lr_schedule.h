// The learning-rate schedule of seller's training loops: constant when train.warmup_steps = 0,
// else a linear warmup over warmup_steps then a cosine decay that reaches 0 at the last step.
// Pure function of (config, step, total), so a resumed run gets the same rate at the same step.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <numbers>

#include "trainer/core/config.h"

namespace seller::train {

inline double scheduled_lr(const core::TrainConfig& c, int64_t step, int64_t total) {
  if (c.warmup_steps <= 0) return c.lr;
  if (step < c.warmup_steps) return c.lr * static_cast<double>(step + 1) / c.warmup_steps;
  const double span = static_cast<double>(std::max<int64_t>(1, total - c.warmup_steps));
  const double progress = std::min(1.0, static_cast<double>(step - c.warmup_steps) / span);
  return c.lr * 0.5 * (1.0 + std::cos(std::numbers::pi * progress));
}

}  // namespace seller::train
