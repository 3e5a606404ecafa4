// Field lists and value checks of the SELLER config sections (config_seller.h).
#include "trainer/core/config_seller.h"

#include <algorithm>
#include <array>
#include <string_view>

namespace seller::core {

void SellerConfig::visit(FieldVisitor& v) {
  v.field("prompt_template", prompt_template,
          "text prompt after the soft prompts; {title}, {category}, {user} are replaced");
  v.field("max_explanation_tokens", max_explanation_tokens,
          "target explanations are cut to this many tokens");
  v.field("max_prompt_tokens", max_prompt_tokens, "text prompts are cut to this many tokens");
  v.field("max_train_examples", max_train_examples,
          "most training examples (0 = every train interaction with a review)");
  v.choice("llm_mode", llm_mode, {"full", "frozen", "lora"},
           "full: train the whole LLM; frozen: train encoders and adapter only; lora: low-rank "
           "adapters on lora.targets");
  v.field("explanation_loss_weight", explanation_loss_weight, "weight of the explanation loss");
  v.field("item_loss_weight", item_loss_weight, "weight of the next-item loss (behaviour path)");
  v.field("rating_loss_weight", rating_loss_weight, "weight of the rating regression (0 = off)");
  v.field("moe_loss_weight", moe_loss_weight, "multiplier of the adapter's aux + z losses");
  v.field("word_vocab_min_count", word_vocab_min_count,
          "llm.init = scratch: words seen fewer times in training reviews become <unk>");
}

void SellerConfig::validate(Validator& check) const {
  check.require(prompt_template.find("{title}") != std::string::npos ||
                    prompt_template.find("{category}") != std::string::npos ||
                    prompt_template.find("{user}") != std::string::npos || prompt_template.empty(),
                "prompt_template", prompt_template,
                "must be empty or name {title}, {category} or {user}");
  check.require(max_explanation_tokens >= 1, "max_explanation_tokens", max_explanation_tokens,
                "must be >= 1");
  check.require(max_prompt_tokens >= 1, "max_prompt_tokens", max_prompt_tokens, "must be >= 1");
  check.require(max_train_examples >= 0, "max_train_examples", max_train_examples,
                "must be >= 0 (0 = all)");
  for (auto [name, value] :
       {std::pair<const char*, double>{"explanation_loss_weight", explanation_loss_weight},
        {"item_loss_weight", item_loss_weight},
        {"rating_loss_weight", rating_loss_weight},
        {"moe_loss_weight", moe_loss_weight}})
    check.require(value >= 0, name, value, "must be >= 0");
  check.require(explanation_loss_weight > 0 || item_loss_weight > 0, "explanation_loss_weight",
                explanation_loss_weight, "and seller.item_loss_weight must not both be 0");
  check.require(word_vocab_min_count >= 1, "word_vocab_min_count", word_vocab_min_count,
                "must be >= 1");
}

void SemanticConfig::visit(FieldVisitor& v) {
  v.choice("encoder", encoder, {"bert", "learned"},
           "bert: a sentence-transformers folder (encoder_dir), embeddings cached; learned: a "
           "learned vector per item (no text encoder)");
  v.field("encoder_dir", encoder_dir, "encoder = bert: the sentence-transformers model folder");
  v.field("dim", dim, "encoder = learned: size of the learned item vectors");
  v.field("cache_dir", cache_dir, "item-embedding cache folder (empty: <train.data>/cache)");
  v.field("batch_size", batch_size, "texts per encoder batch");
}

void SemanticConfig::validate(Validator& check) const {
  check.require(encoder != "bert" || !encoder_dir.empty(), "encoder_dir", encoder_dir,
                "must name a sentence-transformers folder when semantic.encoder = bert");
  check.require(dim >= 1, "dim", dim, "must be >= 1");
  check.require(batch_size >= 1, "batch_size", batch_size, "must be >= 1");
}

void AdapterConfig::visit(FieldVisitor& v) {
  v.choice("kind", kind, {"moe", "dense"}, "moe: mixture of experts; dense: one MLP (ablation)");
  v.field("num_prompts", num_prompts, "soft-prompt vectors given to the LLM");
  v.field("model_dim", model_dim, "adapter width");
  v.field("expert_hidden", expert_hidden, "hidden size of each expert MLP");
  v.field("dropout", dropout, "dropout in the adapter");
  v.field("experts", experts, "kind = moe: number of experts");
  v.field("top_k", top_k, "kind = moe: experts per token");
  v.choice("gating", gating, {"softmax", "sigmoid"}, "kind = moe: router gate");
  v.field("capacity_factor", capacity_factor,
          "kind = moe: expert capacity = factor * tokens * top_k / experts (extra are dropped)");
  v.field("dropless", dropless, "kind = moe: no capacity limit, nothing dropped");
  v.choice("dispatch", dispatch, {"auto", "sorted", "dense"},
           "kind = moe: sorted runs each expert on its tokens (reads the counts on the host); "
           "dense runs every expert on every token (no host read); auto: dense on a GPU while "
           "experts / top_k <= 8");
  v.field("aux_loss_weight", aux_loss_weight, "kind = moe: load-balancing loss weight");
  v.field("z_loss_weight", z_loss_weight, "kind = moe: router z-loss weight");
}

void AdapterConfig::validate(Validator& check) const {
  for (auto [name, value] : {std::pair<const char*, int64_t>{"num_prompts", num_prompts},
                             {"model_dim", model_dim},
                             {"expert_hidden", expert_hidden},
                             {"experts", experts}})
    check.require(value >= 1, name, value, "must be >= 1");
  check.require(top_k >= 1 && top_k <= experts, "top_k", top_k, "must be in [1, adapter.experts]");
  check.require(dropout >= 0 && dropout < 1, "dropout", dropout, "must be in [0, 1)");
  check.require(capacity_factor > 0, "capacity_factor", capacity_factor, "must be > 0");
  check.require(aux_loss_weight >= 0, "aux_loss_weight", aux_loss_weight, "must be >= 0");
  check.require(z_loss_weight >= 0, "z_loss_weight", z_loss_weight, "must be >= 0");
}

void LoraConfig::visit(FieldVisitor& v) {
  v.field("rank", rank, "rank r of each low-rank update");
  v.field("alpha", alpha, "scale = alpha / rank");
  v.field("dropout", dropout, "dropout on the LoRA input path");
  v.field("targets", targets,
          "projections that get LoRA: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj");
}

void LoraConfig::validate(Validator& check) const {
  check.require(rank >= 1, "rank", rank, "must be >= 1");
  check.require(alpha > 0, "alpha", alpha, "must be > 0");
  check.require(dropout >= 0 && dropout < 1, "dropout", dropout, "must be in [0, 1)");
  check.require(!targets.empty(), "targets", std::string("[]"), "must name a projection");
  constexpr std::array<std::string_view, 7> kKnown = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                      "gate_proj", "up_proj", "down_proj"};
  for (const auto& t : targets)
    check.require(std::find(kKnown.begin(), kKnown.end(), t) != kKnown.end(), "targets", t,
                  "is not a projection (q_proj k_proj v_proj o_proj gate_proj up_proj down_proj)");
}

}  // namespace seller::core
