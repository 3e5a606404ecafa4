// The model-parallel layout of one `seller train` rank (docs/parallel.md): R ranks form
// dp x ep x tp with rank = (d * ep + e) * tp + t (dist/topology/process_groups.h). The LLM is
// split over the tp ranks of a group (train.tensor_parallel; tensor_parallel.h), the adapter's
// experts over the ep ranks (train.expert_parallel; expert_parallel.h), and every rank with its
// own (d, e) reads its own rows: D = dp x ep data shards, shard = rank / tp.
//
// Gradients (every rank's loss is the mean over its shard's rows, scale 1 / D everywhere):
//   experts                  averaged over dp (same e and t: the replicas of those experts);
//   everything else          averaged over edp (same t: slices of the same part, or replicas).
// So D shards equal one process with grad_accum D (dropless MoE without aux/z losses when
// ep > 1). Clipping takes the global norm over the tp x ep block of one replica (mp group),
// each tensor's square divided by the block ranks that hold the same tensor.
// Checkpoints: experts as row boxes written by (d = 0, t = 0), LLM slices as row/column boxes
// written by (d = 0, e = 0), the rest by rank 0; loading reads a rank's boxes, so a checkpoint
// moves between layouts.
//
// Invariants: built after the model (identical on every rank, parameters broadcast) and before
// the optimizer; the constructor and unshard() are collective over the world; with tp = ep = 1
// everything is plain data parallelism over all ranks (one DDP group, local clipping).
#pragma once

#include <memory>
#include <optional>
#include <ostream>
#include <string>

#include "checkpoints/manifest.h"
#include "dist/ddp/ddp.h"
#include "dist/topology/process_groups.h"
#include "trainer/train/expert_parallel.h"
#include "trainer/train/tensor_parallel.h"
#include "trainer/train/train_dist.h"

namespace seller::train {

class ModelParallel {
 public:
  // ConfigError naming train.tensor_parallel / train.expert_parallel when their product does not
  // divide the ranks (or a part's own check fails).
  ModelParallel(model::SellerModel& model, const core::Config& cfg, const TrainDist& dist,
                torch::Device device, std::ostream* progress);

  // Data shards of the job (rows of a global micro-batch = batch_size x shards) and this rank's.
  int64_t data_shards() const { return dist_.size() / tp_size_; }
  int64_t data_shard() const { return dist_.rank() / tp_size_; }
  // False on the ranks whose rows another rank of their tensor-parallel group already counts.
  bool counts_rows() const { return dist_.rank() % tp_size_ == 0; }

  std::unique_ptr<dist::DistributedDataParallel> make_ddp(
      const dist::DistributedDataParallel::NamedParams& named) const;
  void clip(const dist::DistributedDataParallel::NamedParams& named, double max_norm) const;
  ckpt::Layout layout() const;
  ShardPlan plan() const;
  // Every rank holds the whole model afterwards (experts and slices gathered).
  void unshard();

 private:
  bool split() const { return tp_size_ > 1 || ep_size_ > 1; }

  const TrainDist& dist_;
  int64_t tp_size_ = 1, ep_size_ = 1;
  std::optional<dist::ProcessGroups> groups_;  // set when split()
  std::unique_ptr<LlmTensorParallel> tp_;
  std::unique_ptr<AdapterExpertParallel> ep_;
};

}  // namespace seller::train
