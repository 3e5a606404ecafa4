// Config sections of the SELLER model (task = seller): the model's glue (`seller:`), the
// semantic path (`semantic:`), the MoE adapter (`adapter:`) and LoRA (`lora:`). Torch-free, like
// every config struct: the model code (trainer/model, trainer/train) maps them onto its options.
// Invariants as in config.h: defaults in the initialisers, fields listed once in visit(), value
// constraints in validate() naming the key, the value and where it was set.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "trainer/core/config_schema.h"

namespace seller::core {

// `seller:` how the dual-path encoder, the adapter and the LLM are put together and trained.
struct SellerConfig : ConfigSection {
  // Text prompt after the soft prompts; {title}, {category} and {user} are replaced.
  std::string prompt_template = "item : {title} . why :";
  int64_t max_explanation_tokens = 32;  // the target review is cut to this many tokens
  int64_t max_prompt_tokens = 32;       // the text prompt is cut to this many tokens
  int64_t max_train_examples = 0;       // 0 = every train-tagged interaction with a review
  std::string llm_mode = "full";        // full | frozen | lora
  double explanation_loss_weight = 1.0;
  double item_loss_weight = 1.0;     // next-item cross-entropy of the behaviour path
  double rating_loss_weight = 0.1;   // rating regression from the fused user-item state (0 = off)
  double moe_loss_weight = 1.0;      // multiplies the adapter's (already weighted) aux + z losses
  int64_t word_vocab_min_count = 2;  // llm.init = scratch: words seen fewer times become <unk>

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `semantic:` the item-text path.
struct SemanticConfig : ConfigSection {
  std::string encoder = "learned";  // bert (a sentence-transformers folder) | learned
  std::string encoder_dir;          // encoder = bert: e.g. all-MiniLM-L6-v2
  int64_t dim = 64;                 // encoder = learned: size of the learned item vectors
  std::string cache_dir;            // item-embedding cache (default <train.data>/cache)
  int64_t batch_size = 64;          // texts per encoder batch

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `adapter:` behaviour state + item semantics -> K soft-prompt vectors.
struct AdapterConfig : ConfigSection {
  std::string kind = "moe";  // moe | dense (one MLP: the ablation)
  int64_t num_prompts = 4;
  int64_t model_dim = 256;
  int64_t expert_hidden = 512;
  double dropout = 0.1;
  int64_t experts = 8;
  int64_t top_k = 2;
  std::string gating = "softmax";  // softmax | sigmoid
  double capacity_factor = 1.25;
  bool dropless = false;
  std::string dispatch = "auto";  // auto | sorted | dense (model/moe/dense_dispatch.h)
  double aux_loss_weight = 0.01;
  double z_loss_weight = 0.001;

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

// `lora:` low-rank adapters on the LLM's projections (seller.llm_mode = lora).
struct LoraConfig : ConfigSection {
  int64_t rank = 8;
  double alpha = 16.0;
  double dropout = 0.0;
  std::vector<std::string> targets = {"q_proj", "v_proj"};

  void visit(FieldVisitor& v) override;
  void validate(Validator& check) const override;
};

}  // namespace seller::core
