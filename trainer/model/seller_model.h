// The SELLER model (arXiv 2603.24136) on one process: the dual-path encoder (SASRec over the
// user's ordered item history + the items' text embeddings), the MoE adapter that turns them
// into K soft-prompt vectors, and the decoder-only LLM that reads [soft prompts][text prompt]
// and writes the explanation.
//
// Invariants:
//   - items are dataset item ids [0, num_items); history tokens are item + 1 with 0 = padding,
//     left-padded (the last column is the most recent item), as in sasrec.h;
//   - the semantic path is either a frozen table of text embeddings (a buffer named
//     "item_text", never trained or saved: it is rebuilt from the embedding cache) or a learned
//     embedding per item ("learned_items");
//   - the user state is SASRec's hidden state at the last history column, so one SASRec forward
//     feeds both the next-item loss and the adapter;
//   - the explanation loss covers the explanation tokens and the closing EOS only: soft prompts,
//     the text prompt and padding are masked.
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "trainer/model/llm/decoder.h"
#include "trainer/model/moe/adapter.h"
#include "trainer/model/seq/sasrec.h"

namespace seller::model {

struct SellerModelOptions {
  SasrecOptions sasrec;
  AdapterOptions adapter;        // user_dim, item_dim and out_dim are set by the model
  int64_t learned_item_dim = 0;  // > 0: learned item vectors instead of the text table
  int64_t item_negatives = 0;    // next-item loss: 0 = softmax over all items, > 0 = sampled
};

// One training or evaluation batch (trainer/train/seller_batch.h builds it).
struct SellerBatch {
  torch::Tensor history;       // [B, T] int64 left-padded tokens (item + 1)
  torch::Tensor next_targets;  // [B, T] int64 next-item tokens per column (0 = none)
  torch::Tensor candidates;    // [B] int64 item ids
  torch::Tensor input_ids;     // [B, L] int64 text prompt + explanation + EOS, right-padded
  torch::Tensor text_mask;     // [B, L] int64, 1 = real token
  torch::Tensor labels;        // [B, L] int64: the token at explanation/EOS positions, -100 else
  torch::Tensor ratings;       // [B] float32, NaN when unknown
  // Facts that make_batch knows on the host, so that the losses take their shapes without a
  // device synchronisation (a batch built without them, -1 / undefined, has them derived on the
  // device instead, at one synchronisation each).
  torch::Tensor label_index;        // [N] int64 flat positions (row * L + column) with a label
  torch::Tensor rated_rows;         // [R] int64 rows with a rating
  int64_t text_tokens = -1;         // sum of text_mask
  torch::Tensor item_target_index;  // [M] int64 flat positions (row * T + column) of
                                    // next_targets > 0
  // The same batch on `device`; non_blocking copies need the host tensors in pinned memory.
  SellerBatch to(torch::Device device, bool non_blocking = false) const;
};

struct SellerEncoding {
  torch::Tensor prompts;     // [B, K, llm hidden]
  torch::Tensor fused;       // [B, adapter model_dim]
  torch::Tensor seq_hidden;  // [B, T, sasrec hidden]
  torch::Tensor aux_loss, z_loss;
  MoeStats stats;
};

struct SellerLosses {
  torch::Tensor total;        // weighted sum (what backward() is called on)
  torch::Tensor explanation;  // mean token cross-entropy of the explanation
  torch::Tensor item;         // next-item cross-entropy over all items
  torch::Tensor rating;       // MSE over the rows with a rating (0 when none)
  torch::Tensor moe;          // aux + z (already weighted by the adapter options)
  int64_t explanation_tokens = 0;
  MoeStats stats;
};

struct SellerLossWeights {
  double explanation = 1.0, item = 1.0, rating = 0.1, moe = 1.0;
};

// The three operations of the LLM that the SELLER model uses; a tensor-parallel run swaps in its
// own (SellerModelImpl::replace_llm), as the adapter swaps its MoE layer.
struct LlmPath {
  std::function<torch::Tensor(const torch::Tensor&)> embed;         // ids -> [..., hidden]
  std::function<torch::Tensor(const DecoderInput&)> hidden_states;  // -> [B, T, hidden]
  // hidden [N, hidden] of the labelled positions, labels [N] -> mean cross-entropy (float32)
  std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)> token_loss;
  torch::ScalarType dtype = torch::kFloat32;  // of the token embeddings (the prompts' dtype)
};

class SellerModelImpl : public torch::nn::Module {
 public:
  // item_text: [num_items, D] float text embeddings (ignored when learned_item_dim > 0).
  SellerModelImpl(const SellerModelOptions& options, Decoder llm, const torch::Tensor& item_text,
                  int64_t num_items);

  // [..., D] semantic vectors of item ids (any shape of int64 ids).
  torch::Tensor item_semantics(const torch::Tensor& items);
  // Behaviour state + semantics -> soft prompts. history [B, T], candidates [B].
  SellerEncoding encode(const torch::Tensor& history, const torch::Tensor& candidates);
  SellerLosses losses(const SellerBatch& batch, const SellerLossWeights& weights);
  // Predicted rating per row from the fused user-item state: [B].
  torch::Tensor predict_rating(const torch::Tensor& fused);

  // Parameters of the encoders, adapter and heads (everything but the LLM), with names.
  std::vector<std::pair<std::string, torch::Tensor>> non_llm_parameters();
  const SellerModelOptions& options() const { return options_; }
  int64_t num_items() const { return num_items_; }

  // Replaces the LLM by another implementation of the same operations (the tensor-parallel
  // dist::TpDecoder): `layer` is registered as "llm" in its place, so parameter names stay
  // "llm....", and `llm` keeps the single-process decoder. restore_llm() puts that one back.
  void replace_llm(std::shared_ptr<torch::nn::Module> layer, LlmPath path);
  void restore_llm();
  bool llm_replaced() const { return static_cast<bool>(llm_path_.embed); }

  Sasrec sasrec{nullptr};
  SoftPromptAdapter adapter{nullptr};
  Decoder llm{nullptr};
  torch::nn::Embedding learned_items{nullptr};
  torch::nn::Linear rating_head{nullptr};
  torch::Tensor item_text;  // buffer (frozen), undefined when learned

 private:
  SellerModelOptions options_;
  int64_t num_items_ = 0;
  LlmPath llm_path_;  // empty: the single-process `llm`
};
TORCH_MODULE(SellerModel);

}  // namespace seller::model
