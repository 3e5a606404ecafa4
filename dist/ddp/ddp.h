// Data-parallel gradient reduction for LibTorch modules (LibTorch has no C++ DDP): gradients are
// packed into buckets and all-reduced asynchronously while backward is still running.
//
// Readiness: every parameter gets a post-accumulate-grad hook (the C++ slot behind PyTorch's
// register_post_accumulate_grad_hook). The autograd engine runs it after the parameter's
// AccumulateGrad node has written .grad, which happens once per backward pass with the sum of
// all uses of the parameter (tied weights included). When the last parameter of a bucket has
// fired, the bucket is ready.
//
// Buckets: parameters are taken in REVERSE registration order (backward produces the last
// layers' gradients first) and packed per (reduction group, dtype, device) until a bucket holds
// at least bucket_bytes. Buckets are LAUNCHED strictly in index order: a ready bucket waits until
// every earlier bucket has been launched. All ranks thereby issue the same collectives in the same
// order even if their autograd engines finish parameters in a different order, and buckets of
// different groups (dense vs expert) never cross on the wire.
//
// finish() (after backward): launches the buckets that never became ready (parameters unused in
// this backward, e.g. experts that got no tokens on this rank: their gradient counts as zero),
// waits for all, and writes grad = scale * sum over the group back into every parameter's .grad
// (defined afterwards even where backward left it undefined).
//
// Groups: a parameter is reduced over the communicator its group names, multiplied by that
// group's scale. The convention of seller (docs/parallel.md): every rank's loss is its share of
// its model replica's loss, and scale = 1 / dp for every group, so the result is the gradient of
// the mean loss over the dp replicas. Dense-only data parallelism: one group, scale 1 / size.
//
// Invariants: every rank registers the same parameter list (same names, shapes and dtypes, in
// the same order; expert parameters: same local shapes); every rank runs backward and finish()
// for every step (or none, with set_sync(false) for gradient accumulation). The reducer must
// outlive the hooks' use: its destructor removes them.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "dist/comm/communicator.h"

namespace seller::dist {

struct GradGroup {
  CommunicatorPtr comm;  // the ranks holding replicas of these parameters
  double scale = 1.0;    // multiplies the summed gradient (1 / dp in seller's convention)
};

struct DdpOptions {
  int64_t bucket_bytes = 25 << 20;  // as torch's DDP (bucket_cap_mb = 25)
};

class DistributedDataParallel {
 public:
  using NamedParams = std::vector<std::pair<std::string, torch::Tensor>>;
  // group_of(name) is an index into groups. Parameters that do not require grad are skipped.
  DistributedDataParallel(NamedParams params, std::vector<GradGroup> groups,
                          const std::function<size_t(const std::string&)>& group_of,
                          DdpOptions options = {});
  // One group for all parameters, averaging over it.
  DistributedDataParallel(NamedParams params, CommunicatorPtr group, DdpOptions options = {});
  ~DistributedDataParallel();
  DistributedDataParallel(const DistributedDataParallel&) = delete;
  DistributedDataParallel& operator=(const DistributedDataParallel&) = delete;

  // Completes this step's reduction (see the header comment). Call after backward.
  void finish();
  // false: the hooks do nothing (local gradient accumulation); finish() must not be called until
  // sync is true again and one more backward ran.
  void set_sync(bool sync) { sync_ = sync; }

  struct BucketInfo {
    size_t group;
    std::vector<std::string> names;
    int64_t numel;
  };
  std::vector<BucketInfo> buckets() const;
  // How many buckets were launched from inside the last backward (overlap evidence for tests).
  int64_t launched_during_backward() const { return last_launched_in_backward_; }

 private:
  struct Bucket {
    size_t group;
    std::vector<size_t> params;  // indices into params_
    int64_t numel = 0;
    int64_t pending = 0;
    torch::Tensor flat;
    WorkPtr work;
  };
  void build_buckets(int64_t bucket_bytes);
  void on_grad_ready(size_t param);
  void launch_ready_locked();
  void launch_locked(size_t bucket);
  void reset_locked();

  NamedParams params_;
  std::vector<size_t> group_of_;
  std::vector<GradGroup> groups_;
  std::vector<Bucket> buckets_;
  std::vector<size_t> bucket_of_;
  std::vector<bool> ready_;
  size_t next_launch_ = 0;
  int64_t launched_in_backward_ = 0, last_launched_in_backward_ = 0;
  bool sync_ = true;
  bool in_finish_ = false;
  std::mutex mu_;  // hooks may run on autograd's device threads
};

}  // namespace seller::dist
