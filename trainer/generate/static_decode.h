// Greedy decoding with fixed-shape steps: after the prefill, every step feeds one token per row
// through the decoder's static mode (KvCache::write_index), picks the argmax on the device and
// advances positions and the write slot in place, so a step has no host values and identical
// shapes. On CUDA the step is captured once in a CUDA graph and replayed, which removes the
// per-operation launch cost that dominates small-batch decoding. Results equal the dynamic path.
#pragma once

#include <torch/types.h>

#include <memory>
#include <vector>

#include "trainer/generate/generator.h"

namespace seller::generate {

// The buffers of fixed-shape decoding for one (decoder, batch, capacity, dtype, device) and the
// CUDA graph captured over them. Sessions are pooled, so repeated generate() calls of the same
// shape (every full batch of `seller generate`) replay the graph captured by the first one
// instead of paying the capture again. A pooled session assumes the decoder's parameters keep
// their storage (no .to() between calls); release_static_sessions() drops them all.
struct StaticDecodeSession;

std::shared_ptr<StaticDecodeSession> acquire_static_session(model::Decoder& decoder, int64_t batch,
                                                            int64_t capacity,
                                                            torch::ScalarType dtype,
                                                            torch::Device device);
// The session's KV cache, emptied (length 0, no valid slot) for a new prefill.
model::KvCache& session_cache(StaticDecodeSession& session);
void release_static_sessions();

// session_cache(session) holds the prefilled prompt (cache.length slots); first_tokens are the
// tokens picked from the prefill logits; positions [B, 1] is each row's next position.
// Appends to results[i].tokens until EOS or max_new_tokens.
void run_static_greedy(model::Decoder& decoder, StaticDecodeSession& session,
                       const std::vector<int64_t>& first_tokens, const torch::Tensor& positions,
                       const SamplingOptions& options, std::vector<GenerationResult>& results);

}  // namespace seller::generate
