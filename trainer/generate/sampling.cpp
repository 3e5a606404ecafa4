// Logit processors and token selection (see sampling.h). Semantics follow transformers'
// RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper and
// TopPLogitsWarper so that users get the behaviour they know from `generate`.
#include "trainer/generate/sampling.h"

#include <torch/torch.h>

#include <limits>

#include "trainer/core/error.h"

namespace seller::generate {

void SamplingOptions::validate() const {
  SELLER_THROW_IF_NOT(min_new_tokens >= 0, ConfigError,
                      "generation: min_new_tokens must be >= 0, got ", min_new_tokens);
  SELLER_THROW_IF_NOT(max_new_tokens >= 0, ConfigError,
                      "generation: max_new_tokens must be >= 0, got ", max_new_tokens);
  SELLER_THROW_IF_NOT(temperature > 0, ConfigError, "generation: temperature must be > 0, got ",
                      temperature);
  SELLER_THROW_IF_NOT(top_k >= 0, ConfigError, "generation: top_k must be >= 0, got ", top_k);
  SELLER_THROW_IF_NOT(top_p > 0 && top_p <= 1, ConfigError,
                      "generation: top_p must be in (0, 1], got ", top_p);
  SELLER_THROW_IF_NOT(repetition_penalty > 0, ConfigError,
                      "generation: repetition_penalty must be > 0, got ", repetition_penalty);
}

void apply_repetition_penalty(torch::Tensor& logits, const std::vector<int64_t>& seen,
                              double penalty) {
  if (penalty == 1.0 || seen.empty()) return;
  auto idx = torch::tensor(seen, torch::kLong).to(logits.device());
  auto score = logits.index_select(0, idx);
  score = torch::where(score < 0, score * penalty, score / penalty);
  logits.index_put_({idx}, score);  // repeated ids write the same value
}

torch::Tensor top_k_filter(const torch::Tensor& logits, int64_t k) {
  if (k <= 0 || k >= logits.size(-1)) return logits;
  auto kth = std::get<0>(logits.topk(k)).select(-1, k - 1);
  return logits.masked_fill(logits < kth, -std::numeric_limits<float>::infinity());
}

torch::Tensor top_p_filter(const torch::Tensor& logits, double p) {
  if (p >= 1.0) return logits;
  auto [sorted, order] = logits.sort(/*dim=*/-1, /*descending=*/false);
  auto cumulative = sorted.softmax(-1).cumsum(-1);
  auto remove_sorted = cumulative <= (1 - p);
  remove_sorted.index_put_({-1}, false);  // the most likely token always stays
  auto remove = remove_sorted.scatter(-1, order, remove_sorted);
  return logits.masked_fill(remove, -std::numeric_limits<float>::infinity());
}

int64_t select_token(torch::Tensor logits, const std::vector<int64_t>& seen,
                     const SamplingOptions& options, at::Generator& gen) {
  logits = logits.to(torch::kFloat32).clone();
  apply_repetition_penalty(logits, seen, options.repetition_penalty);
  if (options.greedy) return logits.argmax().item<int64_t>();
  logits = logits / options.temperature;
  logits = top_k_filter(logits, options.top_k);
  logits = top_p_filter(logits, options.top_p);
  auto probs = logits.softmax(-1).cpu();
  return torch::multinomial(probs, 1, /*replacement=*/false, gen).item<int64_t>();
}

}  // namespace seller::generate
