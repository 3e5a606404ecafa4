// Progress bookkeeping of the SELLER training loop: the running sums between two progress lines
// (Window), their JSON form (checkpoints carry them, so that a run resumed mid-window logs the
// same means), the data-parallel reduction of a window, the progress line itself, and the bf16
// autocast scope. Split from seller_trainer.cpp, which keeps the loop.
#pragma once

#include <ATen/autocast_mode.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>

#include "trainer/model/seller_model.h"
#include "trainer/train/metrics_log.h"
#include "trainer/train/train_dist.h"

namespace seller::train {

using Clock = std::chrono::steady_clock;

inline double since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// bf16 autocast on CUDA for the scope (LibTorch's C++ equivalent of torch.autocast).
class AutocastScope {
 public:
  explicit AutocastScope(bool on) : on_(on) {
    if (!on_) return;
    at::autocast::set_autocast_dtype(at::kCUDA, at::kBFloat16);
    at::autocast::set_autocast_enabled(at::kCUDA, true);
    at::autocast::increment_nesting();
  }
  ~AutocastScope() {
    if (!on_) return;
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_autocast_enabled(at::kCUDA, false);
  }
  AutocastScope(const AutocastScope&) = delete;
  AutocastScope& operator=(const AutocastScope&) = delete;

 private:
  bool on_;
};

// "12m05s", "3h07m".
std::string format_seconds(double s);

struct Window {  // running sums between two progress lines
  double total = 0, expl = 0, item = 0, rating = 0, moe = 0;
  int64_t micro = 0, tokens = 0, examples = 0;
  model::MoeStats moe_stats;
  Clock::time_point start = Clock::now();
};

nlohmann::json window_json(const Window& w);
Window window_from(const nlohmann::json& j);  // an empty object gives an empty window
// The window summed over the data-parallel ranks (losses are then means over every rank's
// micro-batches, throughput is the job's); the start time stays this rank's. Collective;
// `experts` is the adapter's expert count (0 for the dense adapter).
Window reduce_window(const Window& w, const TrainDist& dist, size_t experts);

// One progress line: metrics.jsonl (when `log`) and the console (when `progress`).
void log_progress(JsonlLog* log, std::ostream* progress, const Window& win, int64_t step,
                  int64_t total_steps, int64_t epoch, double lr, double eta);

}  // namespace seller::train
