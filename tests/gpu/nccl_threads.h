// Runs a body on n threads of this process, thread r driving GPU r with its own NCCL world
// communicator (ids handed over by MemoryBootstrap), for the GPU tests. Only with
// SELLER_HAVE_NCCL.
//
// Guards, so that a bug fails the test instead of hanging it:
//  - the first exception on any rank aborts every rank's communicators (the world and every
//    group split from it), so the others leave their collectives, and is rethrown;
//  - each rank has a FlightRecorder (on its world communicator, passed on to its splits) and a
//    Watchdog armed for the whole case: when the case outlives `timeout`
//    (SELLER_NCCL_CASE_TIMEOUT_S, default 120 s), every rank still running prints its last
//    operations ("[rank R] group=... op=... seq=... state=pending"), all communicators are
//    aborted and the call throws "... exceeded the case timeout ...";
//  - if some thread still has not returned `grace` after that abort (a hang NCCL's abort cannot
//    release), the process prints which ranks are stuck and calls std::abort().
//
// Rule for bodies: rank r touches only GPU r. Every collective makes the caller's current stream
// wait for it, and the default (legacy) stream of a device is one stream shared by all threads,
// so a copy from GPU 0 issued by rank 1 (e.g. of a reference tensor living there) queues behind
// rank 0's unfinished collective; if rank 1 has not yet joined that collective, neither rank
// can proceed. Keep per-rank copies of shared data on each rank's own GPU (or on the CPU).
#pragma once

#if SELLER_HAVE_NCCL

#include <torch/torch.h>

#include <c10/cuda/CUDAFunctions.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "dist/comm/communicator.h"
#include "dist/comm/nccl_communicator.h"
#include "dist/watchdog/flight_recorder.h"
#include "dist/watchdog/watchdog.h"

namespace seller::dist::gpu_test {

inline int gpus() {
  return torch::cuda::is_available() ? static_cast<int>(torch::cuda::device_count()) : 0;
}

inline torch::Device gpu(int r) {
  return torch::Device(torch::kCUDA, static_cast<c10::DeviceIndex>(r));
}

// SELLER_NCCL_CASE_TIMEOUT_S (seconds, > 0) or 120 s.
inline std::chrono::milliseconds case_timeout() {
  if (const char* env = std::getenv("SELLER_NCCL_CASE_TIMEOUT_S")) {
    const double s = std::atof(env);
    if (s > 0) return std::chrono::milliseconds(static_cast<int64_t>(s * 1000));
  }
  return std::chrono::seconds(120);
}

using RankBody = std::function<void(const CommunicatorPtr& world, torch::Device device)>;

inline void run_nccl_threads(int n, const std::string& label, const RankBody& body,
                             std::chrono::milliseconds timeout = case_timeout(),
                             std::chrono::milliseconds grace = std::chrono::seconds(30)) {
  struct State {
    std::mutex mu;
    std::condition_variable cv;
    std::vector<CommunicatorPtr> comms;
    std::vector<bool> finished;
    int finished_count = 0;
    std::exception_ptr first;
    bool timed_out = false;

    void abort_all(const std::string& reason) {
      std::vector<CommunicatorPtr> copy;
      {
        std::lock_guard<std::mutex> lock(mu);
        copy = comms;
      }
      for (auto& c : copy)
        if (c) c->abort(reason);
    }
  };
  State st;
  st.comms.resize(n);
  st.finished.assign(n, false);

  // Watchdogs first (from this thread), so even a hang in NCCL's initialisation is reported.
  std::vector<std::shared_ptr<FlightRecorder>> recorders;
  std::vector<std::unique_ptr<Watchdog>> dogs;
  WatchdogOptions options;
  options.startup_timeout = timeout;
  options.step_timeout = timeout;
  options.poll = std::chrono::milliseconds(100);
  options.report_records = 16;
  const double timeout_s = static_cast<double>(timeout.count()) / 1000.0;
  for (int r = 0; r < n; ++r) {
    recorders.push_back(std::make_shared<FlightRecorder>(r));
    dogs.push_back(
        std::make_unique<Watchdog>(recorders.back(), options, [&st, r, label](const std::string&) {
          {
            std::lock_guard<std::mutex> lock(st.mu);
            st.timed_out = true;
          }
          st.cv.notify_all();
          st.abort_all(label + ": watchdog of rank " + std::to_string(r) + " fired");
        }));
    dogs.back()->arm(timeout, "case '" + label + "'");
  }

  MemoryBootstrap boot;
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        c10::cuda::set_device(static_cast<c10::DeviceIndex>(r));
        auto comm = make_nccl_world(r, n, boot.fn(), r);
        comm->set_recorder(recorders[r]);
        {
          std::lock_guard<std::mutex> lock(st.mu);
          st.comms[r] = comm;
        }
        body(comm, gpu(r));
        torch::cuda::synchronize(r);
      } catch (const std::exception& e) {
        {
          std::lock_guard<std::mutex> lock(st.mu);
          if (!st.first) st.first = std::current_exception();
        }
        st.abort_all(label + ": rank " + std::to_string(r) + " failed: " + e.what());
      } catch (...) {
        {
          std::lock_guard<std::mutex> lock(st.mu);
          if (!st.first) st.first = std::current_exception();
        }
        st.abort_all(label + ": rank " + std::to_string(r) + " failed");
      }
      dogs[r]->disarm();
      {
        std::lock_guard<std::mutex> lock(st.mu);
        st.finished[r] = true;
        ++st.finished_count;
      }
      st.cv.notify_all();
    });
  }

  {
    std::unique_lock<std::mutex> lock(st.mu);
    st.cv.wait(lock, [&] { return st.finished_count == n || st.timed_out; });
    if (!st.cv.wait_for(lock, grace, [&] { return st.finished_count == n; })) {
      std::string stuck;
      for (int r = 0; r < n; ++r)
        if (!st.finished[r]) stuck += " " + std::to_string(r);
      std::fprintf(stderr,
                   "%s: rank(s)%s still blocked %.0f s after the watchdog aborted the "
                   "communicators (case timeout %.0f s); aborting the process\n",
                   label.c_str(), stuck.c_str(), static_cast<double>(grace.count()) / 1000.0,
                   timeout_s);
      std::fflush(stderr);
      std::abort();
    }
  }
  for (auto& t : threads) t.join();
  dogs.clear();  // stops the watchdog threads before `st` goes away
  if (st.timed_out) {
    std::string first;
    if (st.first) {
      try {
        std::rethrow_exception(st.first);
      } catch (const std::exception& e) {
        first = std::string("; first error after the abort: ") + e.what();
      } catch (...) {
      }
    }
    throw std::runtime_error(label + ": exceeded the case timeout of " +
                             std::to_string(static_cast<int>(timeout_s)) +
                             " s (SELLER_NCCL_CASE_TIMEOUT_S); the watchdog printed every rank's "
                             "last operations to stderr and aborted the communicators" +
                             first);
  }
  if (st.first) std::rethrow_exception(st.first);
}

}  // namespace seller::dist::gpu_test

#endif  // SELLER_HAVE_NCCL
