// Kineto trace of a window of optimizer steps (step_profiler.h).
#include "trainer/train/step_profiler.h"

#include <torch/csrc/autograd/profiler_kineto.h>

#include <set>

#include "trainer/core/error.h"

namespace seller::train {
namespace {
namespace prof = torch::profiler::impl;
}

StepProfiler::StepProfiler(int64_t from, int64_t count, bool cuda, std::filesystem::path out_file,
                           std::ostream* progress)
    : from_(from), count_(count), cuda_(cuda), out_(std::move(out_file)), progress_(progress) {}

StepProfiler::~StepProfiler() {
  try {
    finish();
  } catch (const std::exception&) {
    // Unwinding from another error already: a lost trace is not worth a second one.
  }
}

void StepProfiler::at_step(int64_t step) {
  if (count_ <= 0 || done_) return;
  if (!active_ && step >= from_ && step < from_ + count_) start();
  if (active_ && step >= from_ + count_) stop();
}

void StepProfiler::finish() {
  if (active_) stop();
}

void StepProfiler::start() {
  std::set<prof::ActivityType> activities = {prof::ActivityType::CPU};
  if (cuda_) activities.insert(prof::ActivityType::CUDA);
  // KINETO_GPU_FALLBACK is not wanted: without CUPTI the host side alone is still worth having.
  torch::autograd::profiler::prepareProfiler(prof::ProfilerConfig(prof::ProfilerState::KINETO),
                                             activities);
  torch::autograd::profiler::enableProfiler(prof::ProfilerConfig(prof::ProfilerState::KINETO),
                                            activities);
  active_ = true;
}

void StepProfiler::stop() {
  active_ = false;
  done_ = true;
  auto result = torch::autograd::profiler::disableProfiler();
  std::filesystem::create_directories(out_.parent_path());
  // Kineto writes the file itself: a temporary name first, so a reader never sees half a trace.
  const auto tmp = out_.string() + ".tmp";
  result->save(tmp);
  std::filesystem::rename(tmp, out_);
  if (progress_) *progress_ << "profile: wrote " << out_.string() << "\n";
}

}  // namespace seller::train
