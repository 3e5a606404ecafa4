// Shared state of the in-process backend (internal to inproc_communicator.cpp and its tests):
// WorldState (the abort flag every wait polls) and GroupState (one per communicator group: the
// ranks' posted arguments, a reusable generation barrier, point-to-point mailboxes).
//
// Invariants: posts[r] is written only by rank r's worker, before the first meet() of a
// collective, and read by every rank only between that meet() and the next; every blocking wait
// polls WorldState::aborted, so an aborted world never hangs.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::dist::inproc {

class WorldState {
 public:
  void abort(const std::string& reason);
  bool aborted() const { return aborted_.load(); }
  // Throws seller::Error naming the group, the operation and the abort reason.
  void throw_if_aborted(const std::string& group, const std::string& op) const;

 private:
  std::atomic<bool> aborted_{false};
  mutable std::mutex mu_;
  std::string reason_;
};

// One rank's arguments to the current collective.
struct Post {
  std::string op;  // "all_reduce.sum", "all_gather", ...
  uint64_t seq = 0;
  torch::Tensor a;
  ReduceOp reduce = ReduceOp::kSum;
  std::vector<int64_t> counts;   // all_to_all_v: send counts
  std::vector<int64_t> counts2;  // all_to_all_v: recv counts
  int root = 0;
  std::vector<int> ranks;  // split
  std::string name;        // split
};

class GroupState {
 public:
  GroupState(std::shared_ptr<WorldState> world_state, size_t n, std::string group_name);

  // Blocks until every rank of the group has called meet() the same number of times.
  void meet(int rank);
  // Throws the same error on every rank when the posts of the ranks disagree.
  void check_agreement(int rank) const;
  // Elements [offset, offset + n) of the flattened posted tensors, reduced in rank order.
  torch::Tensor reduce_rows(int rank, int64_t offset, int64_t n) const;
  // The rows every rank's posted all_to_all_v input sends to `rank`, in rank order, shaped like
  // `output`.
  torch::Tensor gather_all_to_all(int rank, const torch::Tensor& output) const;

  void deliver(int src, int dst, int tag, torch::Tensor message);
  torch::Tensor take(int src, int dst, int tag, const std::string& group);

  const std::shared_ptr<WorldState> world;
  const int size;
  const std::string name;
  std::vector<Post> posts;
  std::shared_ptr<GroupState> split_child;  // written by rank 0 during split

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int arrived_ = 0;
  uint64_t generation_ = 0;
  std::map<std::tuple<int, int, int>, std::deque<torch::Tensor>> mail_;
};

}  // namespace seller::dist::inproc
