// A SELLER run: everything needed to build the model from a resolved config, and the run
// folder that `seller train` leaves behind for `seller generate --run`.
//
// Run folder (<run.output_dir>/<run.name>/):
//   config.yaml        the resolved config (seller train --dump-config of the run)
//   model.safetensors  every trained parameter under its module name ("sasrec.*", "adapter.*",
//                      "llm.*", ...); LoRA is merged into the LLM weights before saving; the
//                      frozen item-text table is not saved (it is rebuilt from the cache)
//   vocab.words        llm.init = scratch: the word vocabulary (text/word_tokenizer.h)
//   metrics.jsonl      the training log
// The LLM's tokenizer is vocab.words for a scratch LLM and llm.hf_dir's tokenizer otherwise.
// Writes go through temporary names, so an interrupted save leaves the previous files intact.
#pragma once

#include <torch/types.h>

#include <filesystem>
#include <memory>
#include <ostream>

#include "trainer/core/config.h"
#include "trainer/data/dataset.h"
#include "trainer/data/explain_examples.h"
#include "trainer/model/seller_model.h"
#include "trainer/text/tokenizer.h"

namespace seller::train {

struct SellerRun {
  std::unique_ptr<text::Tokenizer> tokenizer;
  model::SellerModel model{nullptr};
  std::string semantic_name;  // "all-MiniLM-L6-v2", or "learned"
};

// The [num_items, D] item-text table of semantic.encoder = bert (cached, see
// model/text_encoder/item_embeddings.h); undefined for encoder = learned.
torch::Tensor load_item_text(const core::Config& cfg, const data::Dataset& ds,
                             std::string& encoder_name, std::ostream* log);

// A fresh model for training: tokenizer (built from the training reviews for a scratch LLM),
// LLM (scratch or Hugging Face), item texts, LoRA and the training mode applied.
SellerRun build_seller_run(const core::Config& cfg, const data::Dataset& ds,
                           const data::ExplainSplits& examples, torch::Device device,
                           std::ostream* log);

// Saves config.yaml, model.safetensors (LoRA merged) and vocab.words into run_dir.
void save_seller_run(SellerRun& run, const std::string& config_yaml,
                     const std::filesystem::path& run_dir);

// Loads a run folder written by save_seller_run (reads run_dir/config.yaml into cfg).
SellerRun load_seller_run(const std::filesystem::path& run_dir, core::Config& cfg,
                          const data::Dataset& ds, torch::Device device, std::ostream* log);

model::SellerLossWeights loss_weights(const core::SellerConfig& s);

}  // namespace seller::train
