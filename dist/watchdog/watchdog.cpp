// Watchdog thread: a timed wait on a condition variable (so disarm/destruction wake it at once),
// and the report built from the FlightRecorder. The handler runs on the watchdog thread, outside
// the lock, so it may call back into disarm() or a communicator's abort().
#include "dist/watchdog/watchdog.h"

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>

#if SELLER_HAVE_MPI
#include <mpi.h>
#endif

#include "trainer/core/error.h"

namespace seller::dist {

AbortHandler default_abort_handler() {
  return [](const std::string&) {
    std::fflush(stderr);
#if SELLER_HAVE_MPI
    int initialized = 0, finalized = 0;
    MPI_Initialized(&initialized);
    MPI_Finalized(&finalized);
    if (initialized && !finalized) MPI_Abort(MPI_COMM_WORLD, 1);
#endif
    std::abort();
  };
}

namespace {
// Checked before the thread starts: a throwing constructor must not leave a joinable thread.
WatchdogOptions validated(const WatchdogOptions& options, const FlightRecorder* recorder) {
  SELLER_CHECK(recorder != nullptr);
  SELLER_THROW_IF_NOT(options.startup_timeout.count() > 0 && options.step_timeout.count() > 0 &&
                          options.poll.count() > 0,
                      ConfigError, "watchdog: timeouts must be > 0 (start-up ",
                      options.startup_timeout.count(), " ms, step ", options.step_timeout.count(),
                      " ms, poll ", options.poll.count(), " ms)");
  return options;
}
}  // namespace

Watchdog::Watchdog(std::shared_ptr<FlightRecorder> recorder, WatchdogOptions options,
                   AbortHandler on_timeout)
    : recorder_(std::move(recorder)),
      options_(validated(options, recorder_.get())),
      on_timeout_(std::move(on_timeout)),
      timeout_(options.startup_timeout),
      since_(std::chrono::steady_clock::now()),
      thread_([this] { run(); }) {}

Watchdog::~Watchdog() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  thread_.join();
}

void Watchdog::arm_step() { arm(options_.step_timeout, "step"); }

void Watchdog::arm(std::chrono::milliseconds timeout, std::string phase) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = true;
    timeout_ = timeout;
    phase_ = std::move(phase);
    since_ = std::chrono::steady_clock::now();
  }
  cv_.notify_all();
}

void Watchdog::disarm() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    armed_ = false;
  }
  cv_.notify_all();
}

bool Watchdog::fired() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fired_;
}

std::string Watchdog::report(const std::string& phase, std::chrono::milliseconds timeout) {
  std::ostringstream os;
  os << "[rank " << recorder_->rank() << "] watchdog: " << phase << " exceeded its timeout of "
     << timeout.count() / 1000.0 << "s; " << recorder_->pending()
     << " operation(s) pending; last operations (oldest first):\n"
     << recorder_->format(options_.report_records);
  return os.str();
}

void Watchdog::run() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_ && !fired_) {
    cv_.wait_for(lock, options_.poll);
    if (stop_ || !armed_) continue;
    if (std::chrono::steady_clock::now() - since_ < timeout_) continue;
    fired_ = true;
    std::string phase = phase_;
    auto timeout = timeout_;
    lock.unlock();
    std::string text = report(phase, timeout);
    std::cerr << text << std::flush;
    on_timeout_(text);
    lock.lock();
  }
}

}  // namespace seller::dist
