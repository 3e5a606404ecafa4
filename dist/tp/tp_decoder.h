// Tensor-parallel decoder: the Llama/Qwen decoder of trainer/model/llm/decoder.h with attention
// heads, MLP and vocabulary split across a tensor-parallel group of size P (tp_blocks.h).
//
//   embed_tokens  VocabParallelEmbedding (rank r owns ids [r*V/P, (r+1)*V/P))
//   layers.i      TpDecoderLayer (column-parallel q/k/v, gate/up; row-parallel o/down)
//   norm          replicated RMSNorm
//   lm_head       column-parallel over the vocabulary (untied), or the local embedding slice
//                 (tied): logits stay split, [B, T, V/P], and feed vocab_parallel_cross_entropy.
//
// Invariants: parameter names equal the unsharded Decoder's (and hence transformers' without
// "model."); each parameter holds the slice that slice_hf_tensor() cuts for this rank, so
// load_hf_state_dict_sliced(full) puts every rank's slice in place and a gradient can be checked
// against slice_hf_tensor(full gradient). Inputs (ids or embeddings, masks, positions) are
// replicated over the group; every rank computes the same hidden states and the same loss.
// Training only: no KV cache, no LoRA.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>

#include <map>
#include <memory>
#include <string>

#include "dist/comm/communicator.h"
#include "dist/tp/tp_blocks.h"
#include "dist/tp/tp_linear.h"
#include "trainer/model/llm/decoder.h"
#include "trainer/model/llm/rotary.h"

namespace seller::dist {

// How a full Hugging Face tensor of the decoder is split for tensor parallelism.
enum class TpSplit { kReplicated, kRows, kColumns };
// By parameter name (with or without "model."): vocab tables, q/k/v and gate/up (weights and
// biases) split on rows; o_proj and down_proj weights on columns; norms and row-parallel biases
// replicated.
TpSplit tp_split_of(const std::string& name);
// This rank's slice of a full tensor named `name` (a view; replicated tensors come back whole).
torch::Tensor slice_hf_tensor(const std::string& name, const torch::Tensor& full, int tp_rank,
                              int tp_size);

class TpDecoderImpl : public torch::nn::Module {
 public:
  TpDecoderImpl(const model::DecoderConfig& config, CommunicatorPtr tp);

  // Final hidden states [B, T, hidden]; `in.cache` must be null.
  torch::Tensor hidden_states(const model::DecoderInput& in);
  // This rank's vocabulary slice of the logits, [B, T, V/P].
  torch::Tensor logits(const torch::Tensor& hidden);
  torch::Tensor forward(const model::DecoderInput& in) { return logits(hidden_states(in)); }
  // Mean next-token cross-entropy over targets [B, T] (ignore_index -100), same on every rank.
  torch::Tensor loss(const torch::Tensor& local_logits, const torch::Tensor& targets);
  // The full logits [B, T, V] (an all-gather; for checks and generation, not for training).
  torch::Tensor gather_logits(const torch::Tensor& local_logits);

  // Copies this rank's slice of every parameter from a FULL state dict (names as in
  // Decoder::hf_state_dict, with or without "model."). tp_rank/tp_size must match the group.
  // Missing, unexpected or mis-shaped tensors throw seller::Error listing them.
  void load_hf_state_dict_sliced(const std::map<std::string, torch::Tensor>& tensors, int tp_rank,
                                 int tp_size);

  const model::DecoderConfig& config() const { return config_; }
  int64_t vocab_start() const { return embed_tokens->vocab_start(); }
  const CommunicatorPtr& group() const { return tp_; }

  VocabParallelEmbedding embed_tokens{nullptr};
  torch::nn::ModuleList layers{nullptr};
  model::RMSNorm norm{nullptr};
  ColumnParallelLinear lm_head{nullptr};  // null when tied

 private:
  model::DecoderConfig config_;
  CommunicatorPtr tp_;
  std::unique_ptr<model::RotaryEmbedding> rotary_;
};
TORCH_MODULE(TpDecoder);

}  // namespace seller::dist
