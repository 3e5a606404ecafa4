// Watchdog: turns a hang into a report and an abort. A thread checks, every `poll`, whether the
// current phase has outlived its timeout: the start-up phase (from construction until the first
// arm_step(); long, it covers rendezvous, NCCL init and checkpoint loading) or a step (from
// arm_step(); short). On timeout it prints this rank's last operations from the FlightRecorder
// to stderr, each line prefixed "[rank R]" (pending ones are what the rank waits on), and calls
// the abort handler once.
//
// Invariants: fires at most once; disarm() stops the clock until the next arm_step()/arm();
// the destructor stops the thread without firing.
#pragma once

#include <chrono>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "dist/watchdog/flight_recorder.h"

namespace seller::dist {

struct WatchdogOptions {
  std::chrono::milliseconds startup_timeout{std::chrono::minutes(15)};
  std::chrono::milliseconds step_timeout{std::chrono::minutes(5)};
  std::chrono::milliseconds poll{std::chrono::milliseconds(100)};
  size_t report_records = 32;  // newest records printed
};

// Receives the printed report. The default: MPI_Abort(MPI_COMM_WORLD, 1) when MPI is
// initialised (so every rank of the job dies, not just this one), std::abort() otherwise.
using AbortHandler = std::function<void(const std::string& report)>;
AbortHandler default_abort_handler();

class Watchdog {
 public:
  Watchdog(std::shared_ptr<FlightRecorder> recorder, WatchdogOptions options,
           AbortHandler on_timeout = default_abort_handler());
  ~Watchdog();
  Watchdog(const Watchdog&) = delete;
  Watchdog& operator=(const Watchdog&) = delete;

  // Starts (or restarts) a step: fires unless the next arm_step()/disarm() comes within
  // step_timeout. Ends the start-up phase.
  void arm_step();
  // A phase of its own length (e.g. "checkpoint save"); named in the report.
  void arm(std::chrono::milliseconds timeout, std::string phase);
  void disarm();

  bool fired() const;
  const WatchdogOptions& options() const { return options_; }

 private:
  void run();
  std::string report(const std::string& phase, std::chrono::milliseconds timeout);

  std::shared_ptr<FlightRecorder> recorder_;
  WatchdogOptions options_;
  AbortHandler on_timeout_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool armed_ = true;
  bool stop_ = false;
  bool fired_ = false;
  std::string phase_ = "start-up";
  std::chrono::milliseconds timeout_;
  std::chrono::steady_clock::time_point since_;
  std::thread thread_;  // last: starts after the state above exists
};

}  // namespace seller::dist
