// Tensor parallelism of the SELLER model's LLM inside `seller train` (train.tensor_parallel = P):
// the world of R ranks is laid out as D = R / P data shards times P tensor ranks
// (dist/topology/process_groups.h, rank = (d * ep + e) * P + t), and the decoder is replaced by
// dist::TpDecoder: rank t holds query/kv heads, MLP columns and vocabulary rows [t/P, (t+1)/P)
// of every layer (docs/parallel.md, "Tensor parallel"), and the explanation loss is the
// vocabulary-parallel cross-entropy, so no rank ever holds the full logits.
//
// Data: the P ranks of a tensor-parallel group read the same rows (data shard = rank / P); the
// encoders and the adapter are replicated over them and compute the same values. Gradient
// groups, clipping and the checkpoint plan are model_parallel.h's: every parameter, slice or
// replica, is averaged over the ranks with the same tensor rank, so D data shards equal one
// process with grad_accum D; checkpoints hold the slices as row or column boxes, so they move
// between tensor-parallel sizes.
//
// Invariants: built after the model (identical on every rank) and before the optimizer; the
// single-process decoder's weights are released while the TpDecoder trains (so a rank holds 1/P
// of the LLM) and gathered back by unshard() (collective over the tp group); with P = 1 nothing
// is replaced. LoRA has no tensor-parallel form: the config refuses llm_mode = lora with P > 1.
#pragma once

#include <torch/torch.h>

#include <map>
#include <ostream>
#include <string>
#include <vector>

#include "dist/topology/process_groups.h"
#include "dist/tp/tp_decoder.h"
#include "trainer/core/config.h"
#include "trainer/model/seller_model.h"
#include "trainer/train/train_state.h"

namespace seller::train {

class LlmTensorParallel {
 public:
  // ConfigError naming train.tensor_parallel when P does not divide the LLM's heads, kv_heads,
  // intermediate_size or vocab_size. `groups` (ModelParallel's) must be set when P > 1.
  LlmTensorParallel(model::SellerModel& model, const core::Config& cfg,
                    const dist::ProcessGroups* groups, torch::Device device,
                    std::ostream* progress);

  bool active() const { return static_cast<bool>(tp_decoder_); }
  // Whether a SELLER parameter name ("llm.layers.0.mlp.down_proj.weight") is a slice, and which
  // part of the global tensor this rank holds (whole for a replicated tensor).
  bool is_sliced(const std::string& name) const;
  TensorShard shard_of(const std::string& name) const;

  // The slices gathered back into the single-process decoder, which replaces the TpDecoder:
  // afterwards every rank holds the whole LLM (test evaluation, generation, saving).
  void unshard();

 private:
  struct Slice {
    int64_t dim = -1;  // -1: replicated
    int64_t global = 0;
  };
  model::SellerModel model_;
  int64_t tp_ = 1;
  const dist::ProcessGroups* groups_ = nullptr;
  dist::TpDecoder tp_decoder_{nullptr};
  std::map<std::string, Slice> slices_;                      // by name under "llm."
  std::map<std::string, std::vector<int64_t>> full_shapes_;  // the released decoder's shapes
};

}  // namespace seller::train
