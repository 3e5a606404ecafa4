// Tensor parallelism of the SELLER model's LLM inside `seller train` (train.tensor_parallel = P):
// the world of R ranks is laid out as D = R / P data shards times P tensor ranks
// (dist/topology/process_groups.h, rank = d * P + t), and the decoder is replaced by
// dist::TpDecoder: rank t holds query/kv heads, MLP columns and vocabulary rows [t/P, (t+1)/P)
// of every layer (docs/parallel.md, "Tensor parallel"), and the explanation loss is the
// vocabulary-parallel cross-entropy, so no rank ever holds the full logits.
//
// Data: the P ranks of a tensor-parallel group read the same rows (data shard = rank / P); the
// encoders and the adapter are replicated over them and compute the same values.
// Gradients: every parameter, sliced or replicated, is averaged over the D ranks with the same
// tensor rank (group edp, scale 1 / D): a rank's loss is the mean over its shard's rows, so D
// shards equal one process with grad_accum D. Clipping uses the global norm over the tp group
// (a slice counts once, a replicated tensor once per group).
// Checkpoints: ranks with d = 0 write their slices (rows or columns of the global tensors), rank 0
// the replicated rest; loading reads only a rank's slice, so a checkpoint moves between tp sizes.
//
// Invariants: built after the model (identical on every rank) and before the optimizer; the
// single-process decoder's weights are released while the TpDecoder trains (so a rank holds 1/P
// of the LLM) and gathered back by unshard(); with P = 1 nothing is replaced. LoRA has no
// tensor-parallel form: llm_mode = lora with P > 1 is a ConfigError.
#pragma once

#include <torch/torch.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "checkpoints/manifest.h"
#include "dist/ddp/ddp.h"
#include "dist/topology/process_groups.h"
#include "dist/tp/tp_decoder.h"
#include "trainer/core/config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/train_dist.h"
#include "trainer/train/train_state.h"

namespace seller::train {

class LlmTensorParallel {
 public:
  // ConfigError naming train.tensor_parallel when P does not divide the ranks or the LLM's heads,
  // kv_heads, intermediate_size or vocab_size, or llm_mode is lora.
  LlmTensorParallel(model::SellerModel& model, const core::Config& cfg, const TrainDist& dist,
                    torch::Device device, std::ostream* progress);

  bool active() const { return static_cast<bool>(tp_decoder_); }
  int64_t size() const { return tp_; }
  // Data shards of the job and this rank's (ranks / P and rank / P).
  int64_t data_shards() const;
  int64_t data_shard() const;
  // Whether this rank speaks for its tensor-parallel group in job-wide counts (t = 0).
  bool counts_rows() const { return !active() || groups_.coord.t == 0; }
  // Whether a SELLER parameter name ("llm.layers.0.mlp.down_proj.weight") is a slice.
  bool is_sliced(const std::string& name) const;

  std::unique_ptr<dist::DistributedDataParallel> make_ddp(
      const dist::DistributedDataParallel::NamedParams& named) const;
  void clip(const dist::DistributedDataParallel::NamedParams& named, double max_norm) const;
  ckpt::Layout layout() const;
  ShardPlan plan() const;

  // The slices gathered back into the single-process decoder, which replaces the TpDecoder:
  // afterwards every rank holds the whole model (test evaluation, generation, saving).
  void unshard();

 private:
  struct Slice {
    int64_t dim = -1;  // -1: replicated
    int64_t global = 0;
  };
  model::SellerModel model_;
  const TrainDist& dist_;
  int64_t tp_ = 1;
  dist::ProcessGroups groups_;
  dist::TpDecoder tp_decoder_{nullptr};
  std::map<std::string, Slice> slices_;                      // by name under "llm."
  std::map<std::string, std::vector<int64_t>> full_shapes_;  // the released decoder's shapes
};

}  // namespace seller::train
