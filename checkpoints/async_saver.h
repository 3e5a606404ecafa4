// Background checkpoint writes: the trainer snapshots its tensors to host memory (the only
// pause), hands the snapshot over, and training goes on while one background thread runs the
// commit protocol. At most one save is in flight: submitting a second waits for the first.
// An error of a background save is kept and rethrown on the training thread at the next
// check() (called once per step), submit() or wait() (called before exit), so a failed save is
// never silent and never kills the process from another thread. Torch-free.
#pragma once

#include <functional>
#include <future>

namespace seller::ckpt {

class AsyncSaver {
 public:
  AsyncSaver() = default;
  ~AsyncSaver();  // waits for a save in flight; its error, if any, is dropped (use wait())
  AsyncSaver(const AsyncSaver&) = delete;
  AsyncSaver& operator=(const AsyncSaver&) = delete;

  // Waits for the previous save (rethrowing its error), then starts `job` on a new thread.
  void submit(std::function<void()> job);
  // Rethrows the error of a finished save; never blocks.
  void check();
  // Blocks until no save is in flight; rethrows its error.
  void wait();
  bool busy() const;

 private:
  std::future<void> pending_;
};

}  // namespace seller::ckpt
