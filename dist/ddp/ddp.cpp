// Bucketed, overlapped data-parallel gradient reduction (contract in ddp.h).
#include "dist/ddp/ddp.h"

#include <ATen/ops/_foreach_copy.h>

#include <torch/csrc/autograd/function_hook.h>
#include <torch/csrc/autograd/variable.h>
#include <torch/torch.h>

#include <map>
#include <tuple>

#include "trainer/core/error.h"

namespace seller::dist {
namespace {

// Forwards "this parameter's .grad is final for this backward" to the reducer.
struct ReadyHook : torch::autograd::PostAccumulateGradHook {
  ReadyHook(std::function<void()> fn) : fn_(std::move(fn)) {}
  void operator()(const torch::autograd::Variable&) override { fn_(); }
  std::function<void()> fn_;
};

}  // namespace

DistributedDataParallel::DistributedDataParallel(
    NamedParams params, std::vector<GradGroup> groups,
    const std::function<size_t(const std::string&)>& group_of, DdpOptions options)
    : groups_(std::move(groups)) {
  SELLER_THROW_IF_NOT(!groups_.empty(), ConfigError, "data parallel needs at least one group");
  for (auto& [name, p] : params) {
    if (!p.requires_grad()) continue;
    const size_t g = group_of(name);
    SELLER_THROW_IF_NOT(g < groups_.size() && groups_[g].comm, ConfigError, "parameter ", name,
                        " maps to reduction group ", g, ", which does not exist");
    params_.emplace_back(name, p);
    group_of_.push_back(g);
  }
  SELLER_THROW_IF_NOT(options.bucket_bytes > 0, ConfigError, "bucket_bytes must be > 0");
  build_buckets(options.bucket_bytes);
  for (size_t i = 0; i < params_.size(); ++i) {
    torch::autograd::impl::set_post_acc_grad_hooks(
        params_[i].second, std::make_unique<ReadyHook>([this, i] { on_grad_ready(i); }));
  }
  reset_locked();
}

DistributedDataParallel::DistributedDataParallel(NamedParams params, CommunicatorPtr group,
                                                 DdpOptions options)
    : DistributedDataParallel(
          std::move(params), {GradGroup{group, 1.0 / group->size()}},
          [](const std::string&) { return size_t{0}; }, options) {}

DistributedDataParallel::~DistributedDataParallel() {
  for (auto& [name, p] : params_) torch::autograd::impl::set_post_acc_grad_hooks(p, nullptr);
  for (auto& b : buckets_)
    if (b.work) {
      try {
        b.work->wait();  // never leave a collective writing into a freed buffer
      } catch (...) {
      }
    }
}

void DistributedDataParallel::build_buckets(int64_t bucket_bytes) {
  // One open bucket per (group, dtype, device); parameters in reverse registration order.
  std::map<std::tuple<size_t, int, std::string>, size_t> open;
  bucket_of_.assign(params_.size(), 0);
  for (size_t k = params_.size(); k-- > 0;) {
    const auto& p = params_[k].second;
    auto key = std::make_tuple(group_of_[k], static_cast<int>(p.scalar_type()), p.device().str());
    auto it = open.find(key);
    if (it == open.end()) {
      buckets_.push_back(Bucket{group_of_[k], {}, 0, 0, {}, nullptr});
      it = open.emplace(key, buckets_.size() - 1).first;
    }
    Bucket& b = buckets_[it->second];
    b.params.push_back(k);
    b.numel += p.numel();
    bucket_of_[k] = it->second;
    if (b.numel * static_cast<int64_t>(p.element_size()) >= bucket_bytes) open.erase(it);
  }
}

std::vector<DistributedDataParallel::BucketInfo> DistributedDataParallel::buckets() const {
  std::vector<BucketInfo> out;
  for (const auto& b : buckets_) {
    BucketInfo info{b.group, {}, b.numel};
    for (size_t k : b.params) info.names.push_back(params_[k].first);
    out.push_back(std::move(info));
  }
  return out;
}

void DistributedDataParallel::reset_locked() {
  ready_.assign(buckets_.size(), false);
  for (auto& b : buckets_) {
    b.pending = static_cast<int64_t>(b.params.size());
    b.work = nullptr;
  }
  next_launch_ = 0;
  launched_in_backward_ = 0;
}

void DistributedDataParallel::on_grad_ready(size_t param) {
  std::lock_guard<std::mutex> lock(mu_);
  if (!sync_ || in_finish_) return;
  Bucket& b = buckets_[bucket_of_[param]];
  // A parameter reached twice in one backward (retain_graph re-entry) must not count twice.
  if (b.pending <= 0) return;
  if (--b.pending == 0) ready_[bucket_of_[param]] = true;
  const size_t before = next_launch_;
  launch_ready_locked();
  launched_in_backward_ += static_cast<int64_t>(next_launch_ - before);
}

void DistributedDataParallel::launch_ready_locked() {
  while (next_launch_ < buckets_.size() && ready_[next_launch_]) launch_locked(next_launch_++);
}

void DistributedDataParallel::launch_locked(size_t index) {
  Bucket& b = buckets_[index];
  std::vector<torch::Tensor> parts;
  parts.reserve(b.params.size());
  for (size_t k : b.params) {
    const auto& p = params_[k].second;
    const auto& g = p.grad();
    // An unused parameter contributes zeros: the other ranks may have used it.
    parts.push_back(g.defined() ? g.detach().reshape(-1) : torch::zeros({p.numel()}, p.options()));
  }
  b.flat = torch::cat(parts).contiguous();
  b.work = groups_[b.group].comm->all_reduce(b.flat, ReduceOp::kSum, /*async=*/true);
}

void DistributedDataParallel::finish() {
  std::lock_guard<std::mutex> lock(mu_);
  SELLER_THROW_IF_NOT(sync_, Error, "finish() called while gradient sync is off");
  in_finish_ = true;
  last_launched_in_backward_ = launched_in_backward_;
  // Buckets that never became ready hold parameters unused in this backward; launching them in
  // index order keeps the collective sequence identical on every rank.
  while (next_launch_ < buckets_.size()) launch_locked(next_launch_++);
  torch::NoGradGuard no_grad;
  for (auto& b : buckets_) {
    b.work->wait();
    b.flat.mul_(groups_[b.group].scale);
    // One multi-tensor copy kernel per bucket back into the gradients, instead of a narrow, a
    // view and a copy kernel per parameter (milliseconds of host time per step for a few hundred
    // parameters). Gradients stay tensors of their own: LibTorch's zero_grad detach_()es them in
    // place, which a view of the bucket (torch DDP's gradient_as_bucket_view) would refuse.
    std::vector<int64_t> numels;
    numels.reserve(b.params.size());
    for (size_t k : b.params) numels.push_back(params_[k].second.numel());
    const auto pieces = b.flat.split_with_sizes(numels);
    std::vector<torch::Tensor> dst, src;
    for (size_t i = 0; i < b.params.size(); ++i) {
      auto& p = params_[b.params[i]].second;
      auto piece = pieces[i].view(p.sizes());
      if (p.grad().defined()) {
        dst.push_back(p.mutable_grad());
        src.push_back(std::move(piece));
      } else {
        p.mutable_grad() = piece.clone();
      }
    }
    if (!dst.empty()) at::_foreach_copy_(dst, src);
    b.flat = torch::Tensor();
  }
  in_finish_ = false;
  reset_locked();
}

}  // namespace seller::dist
