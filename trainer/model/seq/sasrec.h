// SASRec (Kang & McAuley 2018) in the LibTorch C++ frontend: a causal transformer over a user's
// item ids that predicts the next item at every position, with the CE loss of "SASRec-CE"
// (softmax over ALL items) or a sampled softmax for catalogs too large for a full softmax.
//
// Ids: item i of the dataset (dense, [0, num_items)) is token i + 1; token 0 is padding.
// Sequences are LEFT-padded to a fixed length T <= max_len, so the last column is always the
// most recent item and position embeddings index the column. Blocks are pre-norm
// (x + Drop(Attn(LN(x))), x + Drop(FFN(LN(x)))) with a final LayerNorm; attention is causal and
// never looks at padding keys (each position may always attend to itself, so no row is empty).
// Scores are hidden · E[1:]ᵀ with the item embedding E tied to the input: one score per real
// item, index = dataset item id (the padding token is never scored).
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/embedding.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/normalization.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <optional>

namespace seller::model {

struct SasrecOptions {
  int64_t num_items = 0;  // real items; the embedding has num_items + 1 rows (0 = padding)
  int64_t hidden = 64;
  int64_t layers = 2;
  int64_t heads = 2;
  int64_t max_len = 50;
  double dropout = 0.2;
};

class SasrecBlockImpl : public torch::nn::Module {
 public:
  SasrecBlockImpl(const SasrecOptions& o);
  // x [B, T, H]; allowed [B, 1, T, T] bool (true = may attend).
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& allowed);

  torch::nn::LayerNorm attn_norm{nullptr}, ffn_norm{nullptr};
  torch::nn::Linear qkv{nullptr}, out{nullptr}, fc1{nullptr}, fc2{nullptr};
  torch::nn::Dropout drop{nullptr};

 private:
  int64_t heads_;
  double dropout_;
};
TORCH_MODULE(SasrecBlock);

class SasrecImpl : public torch::nn::Module {
 public:
  explicit SasrecImpl(const SasrecOptions& options);

  // Hidden states [B, T, H] of token ids [B, T] (int64, left-padded with 0, T <= max_len).
  torch::Tensor forward(const torch::Tensor& tokens);
  // Scores [N, num_items] of hidden states [N, H] against every real item (tied embeddings).
  torch::Tensor score_all(const torch::Tensor& hidden);
  // Scores [B, num_items] for the next item after each sequence (its last column).
  torch::Tensor next_item_scores(const torch::Tensor& tokens);

  // Mean next-item loss over the positions whose target token is not padding. targets [B, T] are
  // tokens (item + 1; 0 = no target). negatives = 0: cross-entropy over all items; > 0: sampled
  // softmax over the target and `negatives` uniform items shared by the batch (a negative equal
  // to a row's target is masked out), drawn with `generator` when given.
  torch::Tensor loss(const torch::Tensor& tokens, const torch::Tensor& targets,
                     int64_t negatives = 0, std::optional<at::Generator> generator = {});
  // The same loss from hidden states [B, T, H] already computed by forward() (the SELLER model
  // reuses one forward for this loss and for the user state). target_index, when given, lists
  // the flat positions (row * T + column) whose target is not padding, in increasing order, as
  // a batch builder knows them on the host: the loss then needs no boolean mask, whose size the
  // host would have to wait for on a GPU. The result is the same either way.
  torch::Tensor loss_from_hidden(const torch::Tensor& hidden, const torch::Tensor& targets,
                                 int64_t negatives = 0, std::optional<at::Generator> generator = {},
                                 const torch::Tensor& target_index = {});

  const SasrecOptions& options() const { return options_; }

  torch::nn::Embedding item_emb{nullptr}, pos_emb{nullptr};
  torch::nn::Dropout emb_drop{nullptr};
  torch::nn::ModuleList blocks{nullptr};
  torch::nn::LayerNorm final_norm{nullptr};

 private:
  SasrecOptions options_;
};
TORCH_MODULE(Sasrec);

}  // namespace seller::model
