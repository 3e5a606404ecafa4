// SASRec; the layout, id shift and masking rules are in sasrec.h.
#include "trainer/model/seq/sasrec.h"

#include <torch/torch.h>

#include <cmath>
#include <limits>

#include "trainer/core/error.h"

namespace seller::model {

SasrecBlockImpl::SasrecBlockImpl(const SasrecOptions& o) : heads_(o.heads), dropout_(o.dropout) {
  attn_norm = register_module(
      "attn_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(1e-8)));
  ffn_norm = register_module(
      "ffn_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(1e-8)));
  qkv = register_module("qkv", torch::nn::Linear(o.hidden, 3 * o.hidden));
  out = register_module("out", torch::nn::Linear(o.hidden, o.hidden));
  // Point-wise feed-forward of width `hidden`, as in the paper.
  fc1 = register_module("fc1", torch::nn::Linear(o.hidden, o.hidden));
  fc2 = register_module("fc2", torch::nn::Linear(o.hidden, o.hidden));
  drop = register_module("drop", torch::nn::Dropout(o.dropout));
}

torch::Tensor SasrecBlockImpl::forward(const torch::Tensor& x, const torch::Tensor& allowed) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), hd = h / heads_;
  auto parts = qkv(attn_norm(x)).view({b, t, 3, heads_, hd}).permute({2, 0, 3, 1, 4});
  auto a = at::scaled_dot_product_attention(parts[0], parts[1], parts[2], allowed,
                                            is_training() ? dropout_ : 0.0, false);
  a = a.transpose(1, 2).reshape({b, t, h});
  auto y = x + drop(out(a));
  return y + drop(fc2(drop(torch::relu(fc1(ffn_norm(y))))));
}

SasrecImpl::SasrecImpl(const SasrecOptions& o) : options_(o) {
  SELLER_CHECK(o.num_items >= 1 && o.hidden >= 1 && o.heads >= 1 && o.hidden % o.heads == 0 &&
               o.max_len >= 1 && o.layers >= 1);
  item_emb = register_module(
      "item_emb",
      torch::nn::Embedding(torch::nn::EmbeddingOptions(o.num_items + 1, o.hidden).padding_idx(0)));
  pos_emb = register_module("pos_emb", torch::nn::Embedding(o.max_len, o.hidden));
  emb_drop = register_module("emb_drop", torch::nn::Dropout(o.dropout));
  blocks = register_module("blocks", torch::nn::ModuleList());
  for (int64_t i = 0; i < o.layers; ++i) blocks->push_back(SasrecBlock(o));
  final_norm = register_module(
      "final_norm", torch::nn::LayerNorm(torch::nn::LayerNormOptions({o.hidden}).eps(1e-8)));
  // Small normal init for the (tied) item table keeps early logits near uniform over the items.
  torch::NoGradGuard no_grad;
  item_emb->weight.normal_(0.0, 0.02);
  item_emb->weight[0].zero_();
  pos_emb->weight.normal_(0.0, 0.02);
}

torch::Tensor SasrecImpl::forward(const torch::Tensor& tokens) {
  SELLER_CHECK(tokens.dim() == 2 && tokens.size(1) <= options_.max_len);
  const int64_t t = tokens.size(1);
  const auto dev = tokens.device();
  auto real = tokens.ne(0);  // [B, T]
  auto pos = torch::arange(options_.max_len - t, options_.max_len,
                           torch::TensorOptions().dtype(torch::kLong).device(dev));
  auto x = item_emb(tokens) * std::sqrt(static_cast<double>(options_.hidden)) + pos_emb(pos);
  x = emb_drop(x) * real.unsqueeze(-1);
  auto causal = torch::ones({t, t}, torch::TensorOptions().dtype(torch::kBool).device(dev)).tril();
  auto eye = torch::eye(t, torch::TensorOptions().dtype(torch::kBool).device(dev));
  // [B, 1, T, T]: causal, no padding keys, but always the diagonal (no fully masked row).
  auto allowed = (causal.unsqueeze(0) & real.unsqueeze(1)) | eye.unsqueeze(0);
  allowed = allowed.unsqueeze(1);
  for (const auto& m : *blocks) x = m->as<SasrecBlock>()->forward(x, allowed) * real.unsqueeze(-1);
  return final_norm(x);
}

torch::Tensor SasrecImpl::score_all(const torch::Tensor& hidden) {
  return torch::matmul(hidden, item_emb->weight.slice(0, 1).t());
}

torch::Tensor SasrecImpl::next_item_scores(const torch::Tensor& tokens) {
  auto h = forward(tokens);
  return score_all(h.select(1, h.size(1) - 1));
}

torch::Tensor SasrecImpl::loss(const torch::Tensor& tokens, const torch::Tensor& targets,
                               int64_t negatives, std::optional<at::Generator> generator) {
  SELLER_CHECK(targets.sizes() == tokens.sizes());
  return loss_from_hidden(forward(tokens), targets, negatives, std::move(generator));
}

torch::Tensor SasrecImpl::loss_from_hidden(const torch::Tensor& h, const torch::Tensor& targets,
                                           int64_t negatives,
                                           std::optional<at::Generator> generator,
                                           const torch::Tensor& target_index) {
  SELLER_CHECK(targets.sizes() == h.sizes().slice(0, 2));
  // Positions with a target, row-major (a boolean mask's order); without target_index they are
  // found here, at one host read of their count on a GPU.
  const auto index =
      target_index.defined() ? target_index : targets.reshape({-1}).ne(0).nonzero().squeeze(1);
  const auto hs = h.reshape({-1, h.size(-1)}).index_select(0, index);  // [M, H]
  const auto tgt = targets.reshape({-1}).index_select(0, index) - 1;   // [M] dataset item ids
  if (negatives <= 0) return torch::nn::functional::cross_entropy(score_all(hs), tgt);
  // Sampled softmax with uniform negatives: the log-proposal is constant, so no correction.
  auto neg = torch::randint(1, options_.num_items + 1, {negatives}, generator,
                            torch::TensorOptions().dtype(torch::kLong).device(targets.device()));
  auto pos_logit = (hs * item_emb(tgt + 1)).sum(-1, true);  // [M, 1]
  auto neg_logit = torch::matmul(hs, item_emb(neg).t());    // [M, K]
  neg_logit = neg_logit.masked_fill(neg.unsqueeze(0).eq((tgt + 1).unsqueeze(1)),
                                    -std::numeric_limits<float>::infinity());
  auto logits = torch::cat({pos_logit, neg_logit}, 1);
  return torch::nn::functional::cross_entropy(logits,
                                              torch::zeros({logits.size(0)}, tgt.options()));
}

}  // namespace seller::model
