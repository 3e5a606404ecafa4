// Kineto trace of a window of optimizer steps (train.profile_steps / train.profile_from).
//
// The trainer calls at_step(step) before each optimizer step's first micro-batch; the profiler
// starts when `step` reaches `from` and stops after `count` steps, then writes a Chrome trace
// (chrome://tracing, ui.perfetto.dev; scripts/bench/trace_summary.py sums it up) to
// <run>/profile/rank-R.json on every rank, first under a temporary name, then renamed.
// Host operators are recorded on every device; CUDA kernels and memory copies too on a GPU.
// The trainer's own phases (batch, forward, backward, ...) appear as user scopes named
// "seller.<phase>" (phase_scope below), so a trace reads as the loop reads.
// Invariant: at most one trace per process is active; finish() (or the destructor) closes an
// open one so that a run shorter than the window still leaves its trace.
#pragma once

#include <cstdint>
#include <filesystem>
#include <ostream>

namespace seller::train {

class StepProfiler {
 public:
  StepProfiler(int64_t from, int64_t count, bool cuda, std::filesystem::path out_file,
               std::ostream* progress);
  ~StepProfiler();
  StepProfiler(const StepProfiler&) = delete;
  StepProfiler& operator=(const StepProfiler&) = delete;

  // Before the optimizer step numbered `step` (0-based: the number of steps already taken).
  void at_step(int64_t step);
  // Closes an open trace and writes it.
  void finish();

 private:
  void start();
  void stop();

  int64_t from_, count_;
  bool cuda_, active_ = false, done_ = false;
  std::filesystem::path out_;
  std::ostream* progress_;
};

}  // namespace seller::train
