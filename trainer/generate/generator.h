// Batched generation with a KV cache: left-pad the prompts (optionally preceded by soft-prompt
// embeddings), prefill once, then decode one token per step for the sequences still running,
// dropping each from the batch when it emits an EOS id or reaches max_new_tokens.
#pragma once

#include <torch/types.h>

#include <cstdint>
#include <vector>

#include "trainer/generate/sampling.h"
#include "trainer/model/llm/decoder.h"

namespace seller::generate {

struct GenerationRequest {
  std::vector<int64_t> prompt_ids;  // may be empty when soft_prompt is given
  torch::Tensor soft_prompt;        // optional [K, hidden] embeddings placed before the prompt
  // Sampling stream of this request: its generator is seeded by (options.seed, stream), so the
  // same stream gives the same tokens in any batch. -1: the request's index in the batch.
  int64_t stream = -1;
};

struct GenerationResult {
  std::vector<int64_t> tokens;  // generated ids (without the prompt); includes the EOS if hit
  bool stopped_by_eos = false;
};

// Runs the requests as one batch on the decoder's device, under NoGradGuard.
std::vector<GenerationResult> generate(model::Decoder& decoder,
                                       const std::vector<GenerationRequest>& requests,
                                       const SamplingOptions& options);

}  // namespace seller::generate
