// Tokenised SELLER examples and the tensors of one batch (model::SellerBatch).
//
// Text layout of one example (ids of the run's tokenizer):
//   prompt      = encode(prompt_template with {title}/{category}/{user} filled, specials on),
//                 cut to max_prompt_tokens (keeping the start, so BOS survives);
//   explanation = encode(review, specials off) cut to max_explanation_tokens, then EOS.
// Training input is prompt ++ explanation (right-padded with the pad id), labels are the
// explanation and EOS ids, -100 elsewhere. Generation gives the prompt alone and lets the model
// write the explanation.
// History controls for evaluation: kReal (as recorded), kShuffled (the same items in a seeded
// random order per example: does order matter?), kNone (no history at all).
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "trainer/core/config.h"
#include "trainer/data/dataset.h"
#include "trainer/data/explain_examples.h"
#include "trainer/model/seller_model.h"
#include "trainer/text/tokenizer.h"

namespace seller::train {

struct TokenizedExample {
  std::vector<int64_t> prompt;       // text prompt ids (with the tokenizer's specials)
  std::vector<int64_t> explanation;  // target ids, EOS last
};

enum class HistoryControl { kReal, kShuffled, kNone };
HistoryControl parse_history_control(const std::string& name);  // real | shuffled | none
const char* history_control_name(HistoryControl c);

// The prompt text of an example ({title}, {category}, {user} replaced).
std::string render_prompt(const std::string& tmpl, const data::Dataset& ds,
                          const data::ExplainExample& e);

std::vector<TokenizedExample> tokenize_examples(const std::vector<data::ExplainExample>& examples,
                                                const data::Dataset& ds,
                                                const text::Tokenizer& tokenizer,
                                                const core::SellerConfig& cfg);

// The id the LLM pads with: the tokenizer's pad, else EOS, else 0 (padding is masked anyway).
int64_t pad_id_of(const text::Tokenizer& tokenizer);
// The id that ends an explanation: the tokenizer's EOS (required).
int64_t eos_id_of(const text::Tokenizer& tokenizer);

// History tokens [B, T] (left-padded, item + 1; T = longest history, at least 1) and their
// next-item targets (history shifted left with the candidate last) for the rows `rows`.
// `seed` keys the shuffled control per example index.
void history_tensors(const std::vector<data::ExplainExample>& examples,
                     std::span<const size_t> rows, HistoryControl control, uint64_t seed,
                     torch::Tensor& history, torch::Tensor& next_targets, bool pinned = false);

// `pinned` allocates the host tensors in page-locked memory, for non-blocking copies to a GPU.
model::SellerBatch make_batch(const std::vector<data::ExplainExample>& examples,
                              const std::vector<TokenizedExample>& tokens,
                              std::span<const size_t> rows, int64_t pad_id,
                              HistoryControl control = HistoryControl::kReal, uint64_t seed = 0,
                              bool pinned = false);

}  // namespace seller::train
