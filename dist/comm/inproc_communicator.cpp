// In-process Communicator: shared GroupState per group (posted tensors, a reusable barrier,
// mailboxes for send/recv) and one worker thread per (rank, group) that executes the rank's
// operations in order. A collective is three steps: post this rank's arguments and meet the
// others; compute this rank's result from everybody's posted tensors into a temporary; meet again
// (so nobody changes a tensor another rank still reads) and write the result.
#include "dist/comm/inproc_communicator.h"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <exception>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <torch/torch.h>

#include "dist/comm/comm_checks.h"
#include "dist/comm/inproc_group.h"
#include "trainer/core/error.h"

namespace seller::dist {
namespace {

using detail::check_tensor;
using detail::OpRecord;
using inproc::GroupState;
using inproc::Post;

const std::string kBackend = "inproc";

Post make_post(std::string op, torch::Tensor a = {}) {
  Post post;
  post.op = std::move(op);
  post.a = std::move(a);
  return post;
}

// Completion of one queued operation.
class TaskWork : public Work {
 public:
  void finish(std::exception_ptr error) {
    std::lock_guard<std::mutex> lock(mu_);
    error_ = std::move(error);
    done_ = true;
    cv_.notify_all();
  }
  void wait() override {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return done_; });
    if (error_) std::rethrow_exception(error_);
  }
  bool is_completed() override {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool done_ = false;
  std::exception_ptr error_;
};

class InprocCommunicator : public Communicator {
 public:
  InprocCommunicator(std::shared_ptr<GroupState> group, int rank)
      : group_(std::move(group)), rank_(rank), worker_([this] { run_worker(); }) {}

  ~InprocCommunicator() override {
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      stop_ = true;
    }
    queue_cv_.notify_all();
    worker_.join();  // drains the queue: pending operations finish (or fail on abort)
  }

  int rank() const override { return rank_; }
  int size() const override { return group_->size; }
  const std::string& backend() const override { return kBackend; }
  const std::string& name() const override { return group_->name; }

  WorkPtr all_reduce(torch::Tensor& tensor, ReduceOp op, bool async) override {
    check_tensor(kBackend, "all_reduce", tensor, "input");
    Post post = make_post(std::string("all_reduce.") + to_string(op), tensor);
    post.reduce = op;
    return submit(std::move(post), async, [this, tensor](GroupState& g) mutable {
      torch::Tensor result = g.reduce_rows(rank_, 0, tensor.numel());
      g.meet(rank_);
      tensor.view(-1).copy_(result);
    });
  }

  WorkPtr reduce_scatter(const torch::Tensor& input, torch::Tensor& output, ReduceOp op,
                         bool async) override {
    check_tensor(kBackend, "reduce_scatter", input, "input");
    check_tensor(kBackend, "reduce_scatter", output, "output");
    detail::check_scatter_gather(kBackend, "reduce_scatter", input, output, size());
    Post post = make_post(std::string("reduce_scatter.") + to_string(op), input);
    post.reduce = op;
    return submit(std::move(post), async, [this, output](GroupState& g) mutable {
      int64_t n = output.numel();
      torch::Tensor result = g.reduce_rows(rank_, rank_ * n, n);
      g.meet(rank_);
      output.view(-1).copy_(result);
    });
  }

  WorkPtr all_gather(const torch::Tensor& input, torch::Tensor& output, bool async) override {
    check_tensor(kBackend, "all_gather", input, "input");
    check_tensor(kBackend, "all_gather", output, "output");
    detail::check_scatter_gather(kBackend, "all_gather", output, input, size());
    Post post = make_post("all_gather", input);
    return submit(std::move(post), async, [this, output](GroupState& g) mutable {
      std::vector<torch::Tensor> parts;
      for (int r = 0; r < g.size; ++r) parts.push_back(g.posts[r].a.reshape(-1));
      torch::Tensor result = torch::cat(parts);
      g.meet(rank_);
      output.view(-1).copy_(result);
    });
  }

  WorkPtr all_to_all_v(const torch::Tensor& input, const std::vector<int64_t>& send_counts,
                       torch::Tensor& output, const std::vector<int64_t>& recv_counts,
                       bool async) override {
    detail::check_all_to_all(kBackend, input, send_counts, output, recv_counts, size());
    Post post = make_post("all_to_all_v", input);
    post.counts = send_counts;
    post.counts2 = recv_counts;
    return submit(std::move(post), async, [this, output](GroupState& g) mutable {
      torch::Tensor result = g.gather_all_to_all(rank_, output);
      g.meet(rank_);
      if (result.numel() > 0) output.copy_(result);
    });
  }

  WorkPtr broadcast(torch::Tensor& tensor, int root, bool async) override {
    check_tensor(kBackend, "broadcast", tensor, "input");
    detail::check_rank_arg(kBackend, "broadcast", "root", root, size());
    Post post = make_post("broadcast", tensor);
    post.root = root;
    return submit(std::move(post), async, [this, tensor, root](GroupState& g) mutable {
      torch::Tensor result = g.posts[root].a.clone();
      g.meet(rank_);
      if (rank_ != root) tensor.copy_(result.view_as(tensor));
    });
  }

  WorkPtr send(const torch::Tensor& tensor, int peer, int tag) override {
    check_tensor(kBackend, "send", tensor, "input");
    detail::check_rank_arg(kBackend, "send", "peer", peer, size());
    return enqueue("send", detail::tensor_bytes(tensor), [this, tensor, peer, tag] {
      group_->deliver(rank_, peer, tag, tensor.clone());
    });
  }

  WorkPtr recv(torch::Tensor& tensor, int peer, int tag) override {
    check_tensor(kBackend, "recv", tensor, "output");
    detail::check_rank_arg(kBackend, "recv", "peer", peer, size());
    return enqueue("recv", detail::tensor_bytes(tensor), [this, tensor, peer, tag]() mutable {
      torch::Tensor message = group_->take(peer, rank_, tag, name());
      SELLER_THROW_IF_NOT(
          message.numel() == tensor.numel() && message.scalar_type() == tensor.scalar_type(), Error,
          "backend inproc: recv on group ", name(), ": rank ", rank_, " expects ", tensor.numel(),
          " elements of ", tensor.scalar_type(), " from rank ", peer, " but got ", message.numel(),
          " of ", message.scalar_type());
      tensor.copy_(message.view_as(tensor));
    });
  }

  void barrier() override {
    submit(make_post("barrier"), false, [this](GroupState& g) { g.meet(rank_); });
  }

  CommunicatorPtr split(const std::vector<int>& ranks, const std::string& name) override {
    detail::check_split_ranks(kBackend, ranks, size());
    std::shared_ptr<GroupState> child;
    Post post = make_post("split");
    post.ranks = ranks;
    post.name = name;
    submit(std::move(post), false, [&](GroupState& g) {
      if (rank_ == 0) g.split_child = std::make_shared<GroupState>(g.world, ranks.size(), name);
      g.meet(rank_);
      child = g.split_child;
      g.meet(rank_);
    });
    for (size_t i = 0; i < ranks.size(); ++i) {
      if (ranks[i] != rank_) continue;
      auto comm = std::make_shared<InprocCommunicator>(child, static_cast<int>(i));
      comm->set_recorder(recorder_);
      return comm;
    }
    return nullptr;
  }

  void abort(const std::string& reason) override { group_->world->abort(reason); }

 private:
  // Queues a collective: post, meet, check agreement, then `body` (which meets once more).
  WorkPtr submit(Post post, bool async, std::function<void(GroupState&)> body) {
    std::string op = post.op;
    int64_t bytes = detail::tensor_bytes(post.a);
    auto shared_post = std::make_shared<Post>(std::move(post));
    return enqueue(
        op, bytes,
        [this, shared_post, body = std::move(body)] {
          GroupState& g = *group_;
          shared_post->seq = seq_of_current_;
          g.posts[rank_] = std::move(*shared_post);
          g.meet(rank_);
          g.check_agreement(rank_);
          body(g);
        },
        async);
  }

  WorkPtr enqueue(const std::string& op, int64_t bytes, std::function<void()> task,
                  bool async = true) {
    group_->world->throw_if_aborted(name(), op);
    auto work = std::make_shared<TaskWork>();
    uint64_t seq = ++seq_;
    auto record = std::make_shared<OpRecord>(recorder_, op, name(), seq, bytes);
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      queue_.push_back([this, work, record, seq, task = std::move(task)] {
        std::exception_ptr error = failed_;
        if (!error) {
          try {
            torch::NoGradGuard no_grad;  // results are written in place, as by NCCL
            seq_of_current_ = seq;
            task();
          } catch (...) {
            error = std::current_exception();
            failed_ = error;  // later operations of this communicator fail the same way
          }
        }
        record->end();
        work->finish(error);
      });
    }
    queue_cv_.notify_all();
    if (!async) work->wait();
    return work;
  }

  void run_worker() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::shared_ptr<GroupState> group_;
  int rank_;
  std::atomic<uint64_t> seq_{0};
  uint64_t seq_of_current_ = 0;  // worker thread only
  std::exception_ptr failed_;    // worker thread only
  std::mutex queue_mu_;
  std::condition_variable queue_cv_;
  std::deque<std::function<void()>> queue_;
  bool stop_ = false;
  std::thread worker_;  // last member: starts after the others are constructed
};

}  // namespace

std::vector<CommunicatorPtr> make_inproc_world(int n) {
  SELLER_THROW_IF_NOT(n >= 1, ConfigError, "inproc world size must be >= 1, got ", n);
  auto world = std::make_shared<inproc::WorldState>();
  auto group = std::make_shared<GroupState>(world, n, "world");
  std::vector<CommunicatorPtr> comms;
  for (int r = 0; r < n; ++r) comms.push_back(std::make_shared<InprocCommunicator>(group, r));
  return comms;
}

void run_world(int n, const std::function<void(const CommunicatorPtr&)>& body) {
  auto comms = make_inproc_world(n);
  std::mutex mu;
  std::exception_ptr first;
  std::vector<std::thread> threads;
  for (int r = 0; r < n; ++r) {
    threads.emplace_back([&, r] {
      try {
        body(comms[r]);
      } catch (const std::exception& e) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first) {
          first = std::current_exception();
          comms[r]->abort(::seller::detail::concat("rank ", r, " failed: ", e.what()));
        }
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first) {
          first = std::current_exception();
          comms[r]->abort(::seller::detail::concat("rank ", r, " failed"));
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  comms.clear();
  if (first) std::rethrow_exception(first);
}

void run_ranks(int n, const std::function<void(Communicator&)>& body) {
  run_world(n, [&](const CommunicatorPtr& comm) { body(*comm); });
}

}  // namespace seller::dist
