// Greedy decoding with fixed-shape steps: after the prefill, every step feeds one token per row
// through the decoder's static mode (KvCache::write_index), picks the argmax on the device and
// advances positions and the write slot in place, so a step has no host values and identical
// shapes. On CUDA the step is captured once in a CUDA graph and replayed, which removes the
// per-operation launch cost that dominates small-batch decoding. Results equal the dynamic path.
#pragma once

#include <torch/types.h>

#include <vector>

#include "trainer/generate/generator.h"

namespace seller::generate {

// `cache` holds the prefilled prompt (cache.length slots); first_tokens are the tokens picked
// from the prefill logits; positions [B, 1] (device, int64) is each row's next position.
// Appends to results[i].tokens until EOS or max_new_tokens.
void run_static_greedy(model::Decoder& decoder, model::KvCache& cache,
                       const std::vector<int64_t>& first_tokens, torch::Tensor positions,
                       const SamplingOptions& options, std::vector<GenerationResult>& results);

}  // namespace seller::generate
