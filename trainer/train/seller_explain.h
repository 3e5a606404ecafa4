// Explanation generation with a trained SELLER model: for each (user, history, item) example,
// the adapter's soft prompts and the text prompt go to the LLM, which writes the explanation
// (generate/generator.h: batched, KV cache, greedy or sampled, per-example sampling streams so
// that the text of an example does not depend on the batch it fell into).
#pragma once

#include <string>
#include <vector>

#include "trainer/core/config.h"
#include "trainer/data/explain_examples.h"
#include "trainer/model/seller_model.h"
#include "trainer/text/tokenizer.h"
#include "trainer/train/seller_batch.h"

namespace seller::train {

struct ExplainOptions {
  HistoryControl history = HistoryControl::kReal;
  uint64_t history_seed = 0;  // the shuffled control's seed
  int64_t batch_size = 16;
};

// One explanation per example, in order (decoded without special tokens, EOS removed).
std::vector<std::string> explain(model::SellerModel& model, const text::Tokenizer& tokenizer,
                                 const std::vector<data::ExplainExample>& examples,
                                 const std::vector<TokenizedExample>& tokens,
                                 const core::GenerateConfig& generate,
                                 const ExplainOptions& options);

}  // namespace seller::train
