// Next-token selection: greedy, or sampling with temperature, top-k, top-p and a repetition
// penalty, in the order transformers applies its logits processors (penalty, temperature,
// top-k, top-p). Sampling draws from a per-sequence generator seeded by (seed, sequence index),
// so a sequence's output does not depend on which other sequences share its batch.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace seller::generate {

struct SamplingOptions {
  int64_t max_new_tokens = 64;
  bool greedy = true;
  double temperature = 1.0;         // > 0; sampling only
  int64_t top_k = 0;                // 0 = off
  double top_p = 1.0;               // (0, 1]; 1 = off
  double repetition_penalty = 1.0;  // 1 = off; > 1 discourages tokens already present
  uint64_t seed = 0;
  std::vector<int64_t> eos_ids;     // generation of a sequence stops at any of these
  // The EOS ids are masked until this many tokens were generated (transformers'
  // MinNewTokensLengthLogitsProcessor): no empty or cut-short outputs. > 0 uses the dynamic
  // decoding path (the fixed-shape steps have no per-step masking).
  int64_t min_new_tokens = 0;
  // Greedy decoding without penalty runs fixed-shape steps (static KV cache, no host values per
  // step); on CUDA those steps replay a captured CUDA graph. Both only change speed.
  bool static_decode = true;
  bool cuda_graph = true;

  // Throws seller::ConfigError naming the bad option.
  void validate() const;
};

// Applies the repetition penalty in place: logits [V] (fp32), seen = token ids present so far.
void apply_repetition_penalty(torch::Tensor& logits, const std::vector<int64_t>& seen,
                              double penalty);

// Masks (to -inf) all but the k largest logits; k <= 0 or k >= V leaves them.
torch::Tensor top_k_filter(const torch::Tensor& logits, int64_t k);

// Masks the tokens outside the smallest set whose probability reaches p (keeping at least one).
torch::Tensor top_p_filter(const torch::Tensor& logits, double p);

// Picks the next token from logits [V] (fp32) under the options; `gen` is this sequence's
// generator (unused when greedy).
int64_t select_token(torch::Tensor logits, const std::vector<int64_t>& seen,
                     const SamplingOptions& options, at::Generator& gen);

}  // namespace seller::generate
