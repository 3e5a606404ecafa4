// The model-parallel layout of one `seller train` rank: the adapter's experts split over
// train.expert_parallel ranks (expert_parallel.h) or the LLM split over train.tensor_parallel
// ranks (tensor_parallel.h), data parallel over the rest. This class picks the one in use for
// the training loop's few questions (data shard, gradient reduction, clipping, checkpoint plan).
//
// Invariants: at most one of the two is larger than 1 (the config's validation refuses both:
// expert and tensor parallelism together inside seller train need a clipping group over the
// tp x ep block that is not built yet; dist/ has both layers and their dp x tp x ep tests); with
// both 1 every method is plain data parallelism over all ranks.
#pragma once

#include <memory>
#include <ostream>

#include "trainer/train/expert_parallel.h"
#include "trainer/train/tensor_parallel.h"

namespace seller::train {

class ModelParallel {
 public:
  ModelParallel(model::SellerModel& model, const core::Config& cfg, const TrainDist& dist,
                torch::Device device, std::ostream* progress)
      : tp_(model, cfg, dist, device, progress), ep_(model, cfg, dist, device, progress) {}

  // Data shards of the job (rows of a global micro-batch = batch_size x shards) and this rank's.
  int64_t data_shards() const { return tp_.data_shards(); }
  int64_t data_shard() const { return tp_.data_shard(); }
  // False on the ranks whose rows another rank of their tensor-parallel group already counts.
  bool counts_rows() const { return tp_.counts_rows(); }

  std::unique_ptr<dist::DistributedDataParallel> make_ddp(
      const dist::DistributedDataParallel::NamedParams& named) const {
    return tp_.active() ? tp_.make_ddp(named) : ep_.make_ddp(named);
  }
  void clip(const dist::DistributedDataParallel::NamedParams& named, double max_norm) const {
    tp_.active() ? tp_.clip(named, max_norm) : ep_.clip(named, max_norm);
  }
  ckpt::Layout layout() const { return tp_.active() ? tp_.layout() : ep_.layout(); }
  ShardPlan plan() const { return tp_.active() ? tp_.plan() : ep_.plan(); }
  // Every rank holds the whole model afterwards.
  void unshard() {
    tp_.unshard();
    ep_.unshard();
  }

 private:
  LlmTensorParallel tp_;
  AdapterExpertParallel ep_;
};

}  // namespace seller::train
