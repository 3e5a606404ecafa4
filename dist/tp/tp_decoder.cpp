// Tensor-parallel decoder and its sliced Hugging Face import (contract in tp_decoder.h). The
// mask and position rules repeat DecoderImpl::hidden_states without the KV cache, so both
// models see the same attention pattern for the same input.
#include "dist/tp/tp_decoder.h"

#include <torch/torch.h>

#include <set>
#include <vector>

#include "dist/tp/tp_ops.h"
#include "dist/tp/vocab_parallel_ce.h"
#include "trainer/core/error.h"
#include "trainer/model/llm/attention.h"

namespace seller::dist {
namespace {

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}
bool contains(const std::string& s, const char* part) { return s.find(part) != std::string::npos; }
std::string strip_model_prefix(const std::string& n) {
  return n.rfind("model.", 0) == 0 ? n.substr(6) : n;
}

}  // namespace

TpSplit tp_split_of(const std::string& raw) {
  const std::string name = strip_model_prefix(raw);
  if (name == "embed_tokens.weight" || name == "lm_head.weight") return TpSplit::kRows;
  for (const char* p : {".q_proj.", ".k_proj.", ".v_proj.", ".gate_proj.", ".up_proj."})
    if (contains(name, p)) return TpSplit::kRows;
  for (const char* p : {".o_proj.", ".down_proj."})
    if (contains(name, p))
      return ends_with(name, ".weight") ? TpSplit::kColumns : TpSplit::kReplicated;
  return TpSplit::kReplicated;  // norms (input/post-attention/final, q_norm, k_norm)
}

torch::Tensor slice_hf_tensor(const std::string& name, const torch::Tensor& full, int tp_rank,
                              int tp_size) {
  switch (tp_split_of(name)) {
    case TpSplit::kRows:
      return rank_slice(full, 0, tp_rank, tp_size);
    case TpSplit::kColumns:
      return rank_slice(full, 1, tp_rank, tp_size);
    case TpSplit::kReplicated:
      return full;
  }
  return full;
}

TpDecoderImpl::TpDecoderImpl(const model::DecoderConfig& config, CommunicatorPtr tp)
    : config_(config), tp_(std::move(tp)) {
  config_.validate();
  SELLER_CHECK(tp_ != nullptr);
  validate_tp_config(config_, tp_->size());
  embed_tokens = register_module(
      "embed_tokens", VocabParallelEmbedding(config_.vocab_size, config_.hidden_size, tp_));
  layers = register_module("layers", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.num_layers; ++i) layers->push_back(TpDecoderLayer(config_, tp_));
  norm = register_module("norm", model::RMSNorm(config_.hidden_size, config_.rms_norm_eps));
  if (!config_.tie_word_embeddings) {
    lm_head = register_module(
        "lm_head", ColumnParallelLinear(config_.hidden_size, config_.vocab_size, false, tp_));
  }
  rotary_ = std::make_unique<model::RotaryEmbedding>(config_.rope, config_.head_dim,
                                                     config_.max_positions);
}

torch::Tensor TpDecoderImpl::hidden_states(const model::DecoderInput& in) {
  SELLER_THROW_IF_NOT(in.cache == nullptr, Error, "the tensor-parallel decoder has no KV cache");
  SELLER_THROW_IF_NOT(in.input_ids.defined() != in.inputs_embeds.defined(), Error,
                      "give exactly one of input_ids and inputs_embeds");
  torch::Tensor h = in.input_ids.defined() ? embed_tokens(in.input_ids) : in.inputs_embeds;
  const int64_t b = h.size(0), t = h.size(1);
  torch::Tensor mask, key_valid;
  if (in.attention_mask.defined()) {
    SELLER_THROW_IF_NOT(in.attention_mask.size(1) == t, Error, "attention_mask has ",
                        in.attention_mask.size(1), " columns, expected T = ", t);
    key_valid = in.attention_mask.to(h.device()).to(torch::kBool);
    mask = model::build_attention_mask(key_valid, 0, t);
  }
  torch::Tensor positions = in.positions;
  if (!positions.defined()) {
    if (key_valid.defined()) {
      positions = (key_valid.to(torch::kLong).cumsum(1) - 1).clamp_min(0);
    } else {
      auto opts = torch::TensorOptions().dtype(torch::kLong).device(h.device());
      positions = torch::arange(0, t, opts).unsqueeze(0).expand({b, t});
    }
  }
  auto [cos, sin] = rotary_->cos_sin(positions.to(h.device()), h.scalar_type());
  for (const auto& layer : *layers) h = layer->as<TpDecoderLayer>()->forward(h, cos, sin, mask);
  return norm(h);
}

torch::Tensor TpDecoderImpl::logits(const torch::Tensor& hidden) {
  if (lm_head) return lm_head(hidden);
  // Tied: the local embedding rows are this rank's slice of the output projection.
  return torch::nn::functional::linear(copy_to_tp(hidden, *tp_), embed_tokens->weight);
}

torch::Tensor TpDecoderImpl::loss(const torch::Tensor& local_logits, const torch::Tensor& targets) {
  return vocab_parallel_cross_entropy(local_logits, targets, *tp_, vocab_start());
}

torch::Tensor TpDecoderImpl::gather_logits(const torch::Tensor& local_logits) {
  return gather_from_tp(local_logits, *tp_);
}

void TpDecoderImpl::load_hf_state_dict_sliced(const std::map<std::string, torch::Tensor>& tensors,
                                              int tp_rank, int tp_size) {
  SELLER_THROW_IF_NOT(tp_rank == tp_->rank() && tp_size == tp_->size(), Error,
                      "load_hf_state_dict_sliced for rank ", tp_rank, " of ", tp_size,
                      " on a tensor-parallel group where this is rank ", tp_->rank(), " of ",
                      tp_->size());
  auto params = named_parameters(/*recurse=*/true);
  std::set<std::string> loaded;
  std::vector<std::string> unexpected, mismatched;
  torch::NoGradGuard no_grad;
  for (const auto& [raw_name, full] : tensors) {
    const std::string name = strip_model_prefix(raw_name);
    if (name == "lm_head.weight" && config_.tie_word_embeddings) continue;
    if (contains(name, "rotary_emb.inv_freq")) continue;
    auto* p = params.find(name);
    if (!p) {
      unexpected.push_back(raw_name);
      continue;
    }
    const auto split = tp_split_of(name);
    const int64_t dim = split == TpSplit::kColumns ? 1 : 0;
    if (split != TpSplit::kReplicated &&
        (full.dim() <= dim || full.size(dim) != p->size(dim) * tp_size)) {
      mismatched.push_back(detail::concat(raw_name, " (file ", full.sizes(), ", slice ", p->sizes(),
                                          " x tp=", tp_size, ")"));
      continue;
    }
    auto slice = slice_hf_tensor(name, full, tp_rank, tp_size);
    if (slice.sizes() != p->sizes()) {
      mismatched.push_back(
          detail::concat(raw_name, " (file ", full.sizes(), ", slice ", p->sizes(), ")"));
      continue;
    }
    p->copy_(slice.to(p->device(), p->scalar_type()));
    loaded.insert(name);
  }
  std::vector<std::string> missing;
  for (const auto& item : params.items())
    if (!loaded.count(item.key())) missing.push_back(item.key());
  if (missing.empty() && unexpected.empty() && mismatched.empty()) return;
  auto join = [](const std::vector<std::string>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
    if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
    return s;
  };
  std::string msg = "checkpoint does not match the tensor-parallel model:";
  if (!missing.empty()) msg += "\n  missing: " + join(missing);
  if (!unexpected.empty()) msg += "\n  unexpected: " + join(unexpected);
  if (!mismatched.empty()) msg += "\n  shape mismatch: " + join(mismatched);
  throw Error(msg);
}

}  // namespace seller::dist
