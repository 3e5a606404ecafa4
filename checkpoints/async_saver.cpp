// One save at a time on a background thread (async_saver.h).
#include "checkpoints/async_saver.h"

#include <chrono>

namespace seller::ckpt {

AsyncSaver::~AsyncSaver() {
  if (pending_.valid()) pending_.wait();
}

void AsyncSaver::submit(std::function<void()> job) {
  wait();
  pending_ = std::async(std::launch::async, std::move(job));
}

void AsyncSaver::check() {
  if (pending_.valid() && pending_.wait_for(std::chrono::seconds(0)) == std::future_status::ready)
    pending_.get();  // rethrows; leaves pending_ invalid either way
}

void AsyncSaver::wait() {
  if (pending_.valid()) pending_.get();
}

bool AsyncSaver::busy() const {
  return pending_.valid() &&
         pending_.wait_for(std::chrono::seconds(0)) != std::future_status::ready;
}

}  // namespace seller::ckpt
