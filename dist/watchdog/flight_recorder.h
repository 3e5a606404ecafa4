// FlightRecorder: a per-rank ring buffer of the last communication operations (op, group, seq,
// bytes, start time, done), written by every Communicator of the rank and read by the Watchdog
// when it fires, so a hang names the collective that never finished.
//
// Invariants: ids are handed out in issue order and never reused; end() of an id that has left
// the ring is ignored; begin()/end()/snapshot() are safe from any thread. A record may carry a
// poll function (NCCL: query the completion event) that snapshot() uses to refresh `done`.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <vector>

namespace seller::dist {

struct CollectiveRecord {
  uint64_t id = 0;
  std::string op;     // "all_reduce.sum", "all_to_all_v", "send", ...
  std::string group;  // the communicator's name: "world", "tp", ...
  uint64_t seq = 0;   // the operation's number within its communicator (1, 2, ...)
  int64_t bytes = 0;  // bytes this rank contributes (input size)
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point end;  // valid when done
  bool done = false;
};

class FlightRecorder {
 public:
  explicit FlightRecorder(int rank, size_t capacity = 512);

  int rank() const { return rank_; }
  size_t capacity() const { return capacity_; }

  // Records an issued operation; returns its id for end().
  uint64_t begin(std::string op, std::string group, uint64_t seq, int64_t bytes,
                 std::function<bool()> poll = {});
  void end(uint64_t id);

  // The records still in the ring, oldest first (polls unfinished ones first).
  std::vector<CollectiveRecord> snapshot();
  // The newest `last` records, one per line: "[rank R] group=tp op=all_reduce.sum seq=12
  // bytes=4096 age=1.532s state=pending". Pending ones are what a hang waits on.
  std::string format(size_t last = 32);
  // Number of recorded operations that are not done (after polling).
  size_t pending();

 private:
  struct Slot {
    CollectiveRecord record;
    std::function<bool()> poll;
  };
  Slot* find_locked(uint64_t id);

  int rank_;
  size_t capacity_;
  std::mutex mu_;
  std::vector<Slot> ring_;
  uint64_t next_id_ = 1;
};

}  // namespace seller::dist
