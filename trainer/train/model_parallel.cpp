// The model-parallel layout of one seller train rank (model_parallel.h).
#include "trainer/train/model_parallel.h"

#include <vector>

#include "dist/ddp/grad_clip.h"
#include "trainer/core/error.h"

namespace seller::train {
namespace {

// The default generators' states (CPU and every CUDA device), put back when it goes out of scope:
// building the expert- and tensor-parallel layers draws their throw-away initial weights, which
// must not move the dropout stream away from the single process's (test_train_tp.cpp).
class KeepGenerators {
 public:
  KeepGenerators() : gens_(default_generators()) {
    for (const auto& g : gens_) states_.push_back(generator_state(g));
  }
  ~KeepGenerators() {
    for (size_t i = 0; i < gens_.size(); ++i) set_generator_state(gens_[i], states_[i]);
  }
  KeepGenerators(const KeepGenerators&) = delete;
  KeepGenerators& operator=(const KeepGenerators&) = delete;

 private:
  std::vector<at::Generator> gens_;
  std::vector<torch::Tensor> states_;
};

}  // namespace

ModelParallel::ModelParallel(model::SellerModel& model, const core::Config& cfg,
                             const TrainDist& dist, torch::Device device, std::ostream* progress)
    : dist_(dist), tp_size_(cfg.train.tensor_parallel), ep_size_(cfg.train.expert_parallel) {
  const int64_t block = tp_size_ * ep_size_;
  if (dist.size() % block != 0) {
    const std::string what =
        tp_size_ > 1 && ep_size_ > 1
            ? detail::concat("train.tensor_parallel x train.expert_parallel = ", tp_size_, " x ",
                             ep_size_, " = ", block)
            : detail::concat(tp_size_ > 1 ? "train.tensor_parallel = " : "train.expert_parallel = ",
                             block);
    throw ConfigError(detail::concat(what, " does not divide the ", dist.size(),
                                     " ranks (start a multiple of it with mpirun/srun/seller "
                                     "launch)"));
  }
  if (split())
    groups_ = dist::make_groups(
        dist.world(), dist::ParallelDims{static_cast<int>(dist.size() / block),
                                         static_cast<int>(tp_size_), static_cast<int>(ep_size_)});
  const dist::ProcessGroups* groups = groups_ ? &*groups_ : nullptr;
  KeepGenerators keep;
  tp_ = std::make_unique<LlmTensorParallel>(model, cfg, groups, device, progress);
  ep_ = std::make_unique<AdapterExpertParallel>(model, cfg, groups, device, progress);
}

std::unique_ptr<dist::DistributedDataParallel> ModelParallel::make_ddp(
    const dist::DistributedDataParallel::NamedParams& named) const {
  if (!dist_.enabled()) return nullptr;
  if (!split()) return std::make_unique<dist::DistributedDataParallel>(named, dist_.world());
  const double scale = 1.0 / static_cast<double>(data_shards());
  std::vector<dist::GradGroup> groups = {{groups_->edp, scale}, {groups_->dp, scale}};
  return std::make_unique<dist::DistributedDataParallel>(
      named, groups,
      [](const std::string& n) -> size_t { return AdapterExpertParallel::is_expert(n) ? 1 : 0; });
}

void ModelParallel::clip(const dist::DistributedDataParallel::NamedParams& named,
                         double max_norm) const {
  // Never synchronises with the device (grad_clip.h): torch's clip_grad_norm_ reads the norm
  // back, which left the GPU idle while the host launched the optimizer step.
  std::vector<dist::NormEntry> entries;
  if (!split()) {
    for (const auto& [n, p] : named) entries.push_back({p, 1});
    dist::clip_grad_norm_async(entries, nullptr, max_norm);
    return;
  }
  // Ranks of the tp x ep block holding the same tensor: an expert row block lives on the tp
  // ranks of its ep rank, a slice on the ep ranks of its tp rank, the rest on all of them
  // (with ep = 1 the first and the last rule agree).
  for (const auto& [n, p] : named) {
    int64_t replicas = tp_size_ * ep_size_;
    if (AdapterExpertParallel::is_expert(n))
      replicas = tp_size_;
    else if (tp_->is_sliced(n))
      replicas = ep_size_;
    entries.push_back({p, replicas});
  }
  dist::clip_grad_norm_async(entries, groups_->mp.get(), max_norm);
}

ckpt::Layout ModelParallel::layout() const {
  return ckpt::Layout{dist_.size() / (tp_size_ * ep_size_), tp_size_, ep_size_};
}

ShardPlan ModelParallel::plan() const {
  ShardPlan plan;
  if (!split()) return plan;
  // The lambdas point at the parts: the plan must not outlive this object (the checkpointer that
  // holds it is made after it and destroyed before it).
  const auto* tp = tp_.get();
  const auto* ep = ep_.get();
  const auto coord = groups_->coord;
  const bool main = dist_.is_main();
  plan.shard = [tp, ep](const std::string& n) {
    return AdapterExpertParallel::is_expert(n) ? ep->shard_of(n) : tp->shard_of(n);
  };
  plan.writes = [tp, ep, coord, main](const std::string& n) {
    if (ep->active() && AdapterExpertParallel::is_expert(n)) return coord.d == 0 && coord.t == 0;
    if (tp->is_sliced(n)) return coord.d == 0 && coord.e == 0;
    return main;
  };
  return plan;
}

void ModelParallel::unshard() {
  tp_->unshard();
  ep_->unshard();
}

}  // namespace seller::train
