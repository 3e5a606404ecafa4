// The SELLER model's forward passes and multi-task losses (seller_model.h).
#include "trainer/model/seller_model.h"

#include <torch/torch.h>

#include "trainer/core/error.h"

namespace seller::model {

SellerBatch SellerBatch::to(torch::Device device, bool non_blocking) const {
  SellerBatch b;
  auto move = [&](const torch::Tensor& t) { return t.defined() ? t.to(device, non_blocking) : t; };
  b.history = move(history);
  b.next_targets = move(next_targets);
  b.candidates = move(candidates);
  b.input_ids = move(input_ids);
  b.text_mask = move(text_mask);
  b.labels = move(labels);
  b.ratings = move(ratings);
  b.label_index = move(label_index);
  b.rated_rows = move(rated_rows);
  b.text_tokens = text_tokens;
  b.item_target_index = move(item_target_index);
  return b;
}

SellerModelImpl::SellerModelImpl(const SellerModelOptions& options, Decoder llm_in,
                                 const torch::Tensor& item_text_in, int64_t num_items)
    : options_(options), num_items_(num_items) {
  SELLER_THROW_IF_NOT(num_items >= 1, ConfigError, "the dataset has no items");
  options_.sasrec.num_items = num_items;
  int64_t item_dim = options.learned_item_dim;
  if (item_dim > 0) {
    learned_items = register_module(
        "learned_items", torch::nn::Embedding(torch::nn::EmbeddingOptions(num_items, item_dim)));
    torch::NoGradGuard g;
    learned_items->weight.normal_(0.0, 0.02);
  } else {
    SELLER_THROW_IF_NOT(
        item_text_in.defined() && item_text_in.dim() == 2 && item_text_in.size(0) == num_items,
        ConfigError, "item text embeddings must be [num_items = ", num_items, ", D], got ",
        item_text_in.defined() ? item_text_in.sizes() : at::IntArrayRef{});
    item_dim = item_text_in.size(1);
    item_text = register_buffer("item_text", item_text_in.to(torch::kFloat32).contiguous());
  }
  sasrec = register_module("sasrec", Sasrec(options_.sasrec));
  options_.adapter.user_dim = options_.sasrec.hidden;
  options_.adapter.item_dim = item_dim;
  options_.adapter.out_dim = llm_in->config().hidden_size;
  // Soft prompts start at the scale of the LLM's own token embeddings, so that neither the
  // prompts nor the text drown the other at the first step.
  options_.adapter.prompt_scale =
      llm_in->embed_tokens->weight.detach().to(torch::kFloat32).pow(2).mean().sqrt().item<double>();
  adapter = register_module("adapter", SoftPromptAdapter(options_.adapter));
  llm = register_module("llm", std::move(llm_in));
  rating_head = register_module("rating_head", torch::nn::Linear(options_.adapter.model_dim, 1));
}

torch::Tensor SellerModelImpl::item_semantics(const torch::Tensor& items) {
  if (learned_items) return learned_items(items);
  return item_text.index_select(0, items.reshape({-1})).view([&] {
    auto s = items.sizes().vec();
    s.push_back(item_text.size(1));
    return s;
  }());
}

SellerEncoding SellerModelImpl::encode(const torch::Tensor& history,
                                       const torch::Tensor& candidates) {
  SellerEncoding e;
  e.seq_hidden = sasrec->forward(history);  // [B, T, Hb]
  const auto user_state = e.seq_hidden.select(1, -1);
  const auto cand = item_semantics(candidates);
  // Mean text vector of the real history items (padding token 0 excluded; an empty history
  // gives zeros).
  const auto real = history.gt(0);
  const auto hist = item_semantics((history - 1).clamp_min(0));
  const auto w = real.unsqueeze(-1).to(hist.scalar_type());
  const auto history_mean = (hist * w).sum(1) / w.sum(1).clamp_min(1.0);
  auto out = adapter->forward(user_state, cand, history_mean);
  e.prompts = out.prompts;
  e.fused = out.fused;
  e.aux_loss = out.aux_loss;
  e.z_loss = out.z_loss;
  e.stats = std::move(out.stats);
  return e;
}

torch::Tensor SellerModelImpl::predict_rating(const torch::Tensor& fused) {
  return rating_head(fused).squeeze(-1);
}

SellerLosses SellerModelImpl::losses(const SellerBatch& b, const SellerLossWeights& w) {
  SellerLosses out;
  auto enc = encode(b.history, b.candidates);
  const auto dev = enc.prompts.device();
  const auto zero = torch::zeros({}, torch::TensorOptions().device(dev));

  // Next-item loss on every history column with a target: softmax over all items, or a sampled
  // softmax with shared uniform negatives for catalogs too large for it (sasrec.loss = sampled).
  const bool item_targets = b.item_target_index.defined() ? b.item_target_index.size(0) > 0
                                                          : b.next_targets.gt(0).any().item<bool>();
  if (w.item > 0 && item_targets) {
    out.item = sasrec->loss_from_hidden(enc.seq_hidden.to(torch::kFloat32), b.next_targets,
                                        options_.item_negatives, {}, b.item_target_index);
  } else {
    out.item = zero;
  }

  // Explanation loss: [soft prompts][text]; the hidden state before each text position
  // predicts it, so logits of positions K-1 .. K+L-2 line up with labels 0 .. L-1.
  if (w.explanation > 0) {
    const int64_t k = enc.prompts.size(1);
    const int64_t l = b.input_ids.size(1);
    const bool replaced = llm_replaced();
    const auto dtype = replaced ? llm_path_.dtype : llm->embed_tokens->weight.scalar_type();
    auto text = replaced ? llm_path_.embed(b.input_ids) : llm->embed(b.input_ids);
    auto embeds = torch::cat({enc.prompts.to(dtype), text}, 1);
    auto mask =
        torch::cat({torch::ones({b.input_ids.size(0), k}, b.text_mask.options()), b.text_mask}, 1);
    DecoderInput in;
    in.inputs_embeds = embeds;
    in.attention_mask = mask;
    auto hidden = replaced ? llm_path_.hidden_states(in) : llm->hidden_states(in);  // [B, K+L, H]
    // Labelled text positions as flat indices (row-major, the order of a boolean mask), then the
    // hidden rows that predict them: text column j of row i is predicted at i*(K+L) + K-1 + j.
    const auto index = b.label_index.defined()
                           ? b.label_index
                           : b.labels.ne(-100).reshape({-1}).nonzero().squeeze(1);
    out.explanation_tokens = index.size(0);  // a size: known on the host, no synchronisation
    if (out.explanation_tokens > 0) {
      const auto rows = index.div(l, "floor");
      const auto at = rows * (k + l) + (k - 1) + (index - rows * l);
      const auto h = hidden.reshape({-1, hidden.size(-1)}).index_select(0, at);
      const auto labels = b.labels.reshape({-1}).index_select(0, index);
      out.explanation = replaced ? llm_path_.token_loss(h, labels)
                                 : torch::nn::functional::cross_entropy(
                                       llm->logits(h).to(torch::kFloat32), labels);
    } else {
      out.explanation = zero;
    }
  } else {
    out.explanation = zero;
  }

  // Rating regression on the rows that have a rating.
  const auto rated =
      b.rated_rows.defined() ? b.rated_rows : b.ratings.isnan().logical_not().nonzero().squeeze(1);
  if (w.rating > 0 && rated.size(0) > 0) {
    const auto pred = predict_rating(enc.fused).to(torch::kFloat32);
    out.rating = torch::mse_loss(pred.index_select(0, rated), b.ratings.index_select(0, rated));
  } else {
    out.rating = zero;
  }

  out.moe =
      (enc.aux_loss.defined() ? enc.aux_loss : zero) + (enc.z_loss.defined() ? enc.z_loss : zero);
  out.total =
      w.explanation * out.explanation + w.item * out.item + w.rating * out.rating + w.moe * out.moe;
  out.stats = std::move(enc.stats);
  return out;
}

void SellerModelImpl::replace_llm(std::shared_ptr<torch::nn::Module> layer, LlmPath path) {
  SELLER_CHECK(path.embed && path.hidden_states && path.token_loss,
               "replace_llm needs all three LLM operations");
  replace_module("llm", std::move(layer));
  llm_path_ = std::move(path);
}

void SellerModelImpl::restore_llm() {
  if (!llm_replaced()) return;
  replace_module("llm", llm.ptr());
  llm_path_ = LlmPath{};
}

std::vector<std::pair<std::string, torch::Tensor>> SellerModelImpl::non_llm_parameters() {
  std::vector<std::pair<std::string, torch::Tensor>> out;
  for (const auto& p : named_parameters(true))
    if (p.key().rfind("llm.", 0) != 0) out.emplace_back(p.key(), p.value());
  return out;
}

}  // namespace seller::model
