// Watchdog and FlightRecorder: in an in-process world where one rank never joins an all_reduce,
// the other ranks' watchdogs fire within the step timeout, and the report names the pending
// operation, its group and its sequence number; an armed watchdog whose steps finish in time,
// or a disarmed one, never fires; the ring keeps only the newest records.
#include <gtest/gtest.h>
#include <torch/torch.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "dist/comm/inproc_communicator.h"
#include "dist/watchdog/watchdog.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

TEST(FlightRecorder, RingKeepsNewestAndFormatsThem) {
  FlightRecorder rec(3, /*capacity=*/4);
  std::vector<uint64_t> ids;
  for (int i = 1; i <= 6; ++i) ids.push_back(rec.begin("all_reduce.sum", "tp", i, 64 * i));
  rec.end(ids[0]);  // left the ring already: ignored
  rec.end(ids[4]);
  auto records = rec.snapshot();
  ASSERT_EQ(records.size(), 4u);
  EXPECT_EQ(records.front().seq, 3u);
  EXPECT_EQ(records.back().seq, 6u);
  EXPECT_TRUE(records[2].done);
  EXPECT_FALSE(records[3].done);
  EXPECT_EQ(rec.pending(), 3u);
  std::string text = rec.format(2);
  EXPECT_NE(text.find("[rank 3] group=tp op=all_reduce.sum seq=5 bytes=320"), std::string::npos)
      << text;
  EXPECT_NE(text.find("seq=6 bytes=384 age="), std::string::npos) << text;
  EXPECT_EQ(text.find("seq=4"), std::string::npos) << text;  // only the newest 2
  bool polled_done = true;
  rec.begin("send", "world", 7, 8, [&] { return polled_done; });
  EXPECT_TRUE(rec.snapshot().back().done);  // the poll function completes it
}

class WatchdogHang : public ::testing::TestWithParam<int> {};

TEST_P(WatchdogHang, RankThatNeverJoinsIsReportedByTheOthers) {
  const int n = GetParam();
  const int missing = n - 1;
  const auto step_timeout = 300ms;
  std::mutex mu;
  std::vector<std::string> reports(n);
  std::vector<double> fired_after(n, -1);
  std::atomic<bool> aborted{false};
  try {
    run_world(n, [&](const CommunicatorPtr& world) {
      const int me = world->rank();
      auto recorder = std::make_shared<FlightRecorder>(me);
      world->set_recorder(recorder);
      auto pair = world->split({0, 1}, "pair");  // seq 1 on world
      torch::Tensor t = torch::ones({256});
      world->all_reduce(t);  // seq 2: everybody joins
      WatchdogOptions options;
      options.startup_timeout = 10s;
      options.step_timeout = step_timeout;
      options.poll = 10ms;
      Clock::time_point armed = Clock::now();
      Watchdog watchdog(recorder, options, [&, me](const std::string& report) {
        std::lock_guard<std::mutex> lock(mu);
        reports[me] = report;
        fired_after[me] = std::chrono::duration<double>(Clock::now() - armed).count();
        aborted = true;
        world->abort("watchdog of rank " + std::to_string(me));
      });
      watchdog.arm_step();
      if (me == missing) {
        watchdog.disarm();
        // Never joins seq 3; waits until a watchdog elsewhere aborts the world.
        auto deadline = Clock::now() + 10s;
        while (!aborted.load() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
        return;
      }
      world->all_reduce(t);  // seq 3: hangs until the abort
      ADD_FAILURE() << "rank " << me << ": the hanging all_reduce returned";
    });
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("aborted"), std::string::npos) << e.what();
  }
  int fired = 0;
  for (int r = 0; r < n; ++r) {
    if (reports[r].empty()) continue;
    ++fired;
    SCOPED_TRACE(reports[r]);
    EXPECT_NE(r, missing);
    EXPECT_NE(reports[r].find("[rank " + std::to_string(r) + "] watchdog: step exceeded"),
              std::string::npos);
    EXPECT_NE(reports[r].find("[rank " + std::to_string(r) +
                              "] group=world op=all_reduce.sum seq=3 bytes=1024"),
              std::string::npos);
    EXPECT_NE(reports[r].find("seq=3 bytes=1024 age="), std::string::npos);
    EXPECT_NE(reports[r].find("state=pending"), std::string::npos);
    EXPECT_NE(reports[r].find("op=split seq=1"), std::string::npos);
    EXPECT_GE(fired_after[r], 0.3);
    EXPECT_LT(fired_after[r], 3.0);
  }
  // Every rank that waited fired, unless the first abort released it before its own timeout.
  EXPECT_GE(fired, 1);
}

INSTANTIATE_TEST_SUITE_P(Ranks, WatchdogHang, ::testing::Values(2, 4));

TEST(Watchdog, StepsThatFinishInTimeAndDisarmedPhasesNeverFire) {
  std::atomic<int> fired{0};
  run_ranks(2, [&](Communicator& comm) {
    auto recorder = std::make_shared<FlightRecorder>(comm.rank());
    comm.set_recorder(recorder);
    WatchdogOptions options;
    options.startup_timeout = 5s;
    options.step_timeout = 200ms;
    options.poll = 5ms;
    Watchdog watchdog(recorder, options, [&](const std::string&) { ++fired; });
    for (int step = 0; step < 10; ++step) {
      watchdog.arm_step();
      torch::Tensor t = torch::ones({16});
      comm.all_reduce(t);
      std::this_thread::sleep_for(50ms);
    }
    watchdog.disarm();
    std::this_thread::sleep_for(400ms);  // longer than a step: disarmed, so silent
    EXPECT_FALSE(watchdog.fired());
  });
  EXPECT_EQ(fired.load(), 0);
}

TEST(Watchdog, StartUpTimeoutFiresWithoutAnyStep) {
  auto recorder = std::make_shared<FlightRecorder>(0);
  recorder->begin("broadcast", "world", 1, 128);  // e.g. the NCCL unique id never arrived
  std::atomic<int> fired{0};
  std::string report;
  std::mutex mu;
  WatchdogOptions options;
  options.startup_timeout = 100ms;
  options.step_timeout = 10s;
  options.poll = 5ms;
  Watchdog watchdog(recorder, options, [&](const std::string& text) {
    std::lock_guard<std::mutex> lock(mu);
    report = text;
    ++fired;
  });
  auto deadline = Clock::now() + 3s;
  while (!watchdog.fired() && Clock::now() < deadline) std::this_thread::sleep_for(5ms);
  std::this_thread::sleep_for(50ms);  // fires once only
  EXPECT_EQ(fired.load(), 1);
  std::lock_guard<std::mutex> lock(mu);
  EXPECT_NE(report.find("start-up exceeded its timeout of 0.1s"), std::string::npos) << report;
  EXPECT_NE(report.find("op=broadcast seq=1 bytes=128"), std::string::npos) << report;
}

TEST(Watchdog, BadOptionsAreConfigErrors) {
  WatchdogOptions options;
  options.step_timeout = 0ms;
  EXPECT_THROW(Watchdog(std::make_shared<FlightRecorder>(0), options, [](const std::string&) {}),
               ConfigError);
}

}  // namespace
}  // namespace seller::dist
