// GroupState and WorldState of the in-process backend: the barrier, the agreement checks that
// turn a mismatched collective into an error on every rank, and the rank-ordered reductions.
#include "dist/comm/inproc_group.h"

#include <chrono>

#include <torch/torch.h>

#include "dist/comm/comm_checks.h"
#include "trainer/core/error.h"

namespace seller::dist::inproc {
namespace {
// How often a blocked wait looks at the abort flag.
constexpr auto kPoll = std::chrono::milliseconds(20);
}  // namespace

void WorldState::abort(const std::string& reason) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!aborted_.load()) reason_ = reason;
  aborted_ = true;
}

void WorldState::throw_if_aborted(const std::string& group, const std::string& op) const {
  if (!aborted_.load()) return;
  std::lock_guard<std::mutex> lock(mu_);
  throw Error(::seller::detail::concat("backend inproc: ", op, " on group ", group,
                                       " failed: the world was aborted (", reason_, ")"));
}

GroupState::GroupState(std::shared_ptr<WorldState> world_state, size_t n, std::string group_name)
    : world(std::move(world_state)),
      size(static_cast<int>(n)),
      name(std::move(group_name)),
      posts(n) {}

void GroupState::meet(int rank) {
  std::unique_lock<std::mutex> lock(mu_);
  uint64_t generation = generation_;
  if (++arrived_ == size) {
    arrived_ = 0;
    ++generation_;
    cv_.notify_all();
    return;
  }
  while (generation_ == generation) {
    if (world->aborted()) {
      lock.unlock();
      world->throw_if_aborted(name, posts[rank].op);
    }
    cv_.wait_for(lock, kPoll);
  }
}

void GroupState::check_agreement(int rank) const {
  (void)rank;
  const Post& p0 = posts[0];
  auto where = [&](int r) {
    return ::seller::detail::concat("backend inproc: group ", name, ": rank 0 issued ", p0.op,
                                    " (seq ", p0.seq, ") but rank ", r, " issued ", posts[r].op,
                                    " (seq ", posts[r].seq, ")");
  };
  for (int r = 1; r < size; ++r) {
    const Post& p = posts[r];
    SELLER_THROW_IF_NOT(p.op == p0.op, Error, where(r));
    if (p0.a.defined()) {
      SELLER_THROW_IF_NOT(p.a.scalar_type() == p0.a.scalar_type(), Error, where(r), " with dtype ",
                          p.a.scalar_type(), " instead of ", p0.a.scalar_type());
      if (p0.op != "all_to_all_v") {
        SELLER_THROW_IF_NOT(p.a.numel() == p0.a.numel(), Error, where(r), " with ", p.a.numel(),
                            " elements instead of ", p0.a.numel());
      } else {
        SELLER_THROW_IF_NOT(detail::row_numel(p.a) == detail::row_numel(p0.a), Error, where(r),
                            " with rows of ", detail::row_numel(p.a), " elements instead of ",
                            detail::row_numel(p0.a));
      }
    }
    SELLER_THROW_IF_NOT(p.root == p0.root, Error, where(r), " with root ", p.root, " instead of ",
                        p0.root);
    SELLER_THROW_IF_NOT(p.ranks == p0.ranks && p.name == p0.name, Error, where(r),
                        " with a different rank list or name ('", p.name, "' vs '", p0.name, "')");
  }
  if (p0.op == "all_to_all_v") {
    for (int src = 0; src < size; ++src) {
      for (int dst = 0; dst < size; ++dst) {
        int64_t sent = posts[src].counts[dst];
        int64_t expected = posts[dst].counts2[src];
        SELLER_THROW_IF_NOT(sent == expected, Error, "backend inproc: group ", name,
                            ": all_to_all_v (seq ", posts[dst].seq, "): rank ", src, " sends ",
                            sent, " rows to rank ", dst, " but rank ", dst, " expects ", expected);
      }
    }
  }
}

torch::Tensor GroupState::reduce_rows(int rank, int64_t offset, int64_t n) const {
  ReduceOp op = posts[rank].reduce;
  torch::Tensor acc = posts[0].a.reshape(-1).narrow(0, offset, n).clone();
  for (int r = 1; r < size; ++r) {
    torch::Tensor x = posts[r].a.reshape(-1).narrow(0, offset, n);
    switch (op) {
      case ReduceOp::kSum:
      case ReduceOp::kAvg:
        acc.add_(x);
        break;
      case ReduceOp::kMax:
        acc = torch::maximum(acc, x);
        break;
      case ReduceOp::kMin:
        acc = torch::minimum(acc, x);
        break;
    }
  }
  if (op == ReduceOp::kAvg) detail::finish_avg(acc, size);
  return acc;
}

torch::Tensor GroupState::gather_all_to_all(int rank, const torch::Tensor& output) const {
  int64_t row = detail::row_numel(output);
  std::vector<torch::Tensor> pieces;
  for (int src = 0; src < size; ++src) {
    const Post& p = posts[src];
    int64_t offset = 0;
    for (int d = 0; d < rank; ++d) offset += p.counts[d];
    int64_t count = p.counts[rank];
    pieces.push_back(p.a.narrow(0, offset, count).reshape({count, row}));
  }
  return torch::cat(pieces).view(output.sizes());
}

void GroupState::deliver(int src, int dst, int tag, torch::Tensor message) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    mail_[{src, dst, tag}].push_back(std::move(message));
  }
  cv_.notify_all();
}

torch::Tensor GroupState::take(int src, int dst, int tag, const std::string& group) {
  std::unique_lock<std::mutex> lock(mu_);
  for (;;) {
    auto it = mail_.find({src, dst, tag});
    if (it != mail_.end() && !it->second.empty()) {
      torch::Tensor message = std::move(it->second.front());
      it->second.pop_front();
      return message;
    }
    if (world->aborted()) {
      lock.unlock();
      world->throw_if_aborted(group, "recv");
    }
    cv_.wait_for(lock, kPoll);
  }
}

}  // namespace seller::dist::inproc
