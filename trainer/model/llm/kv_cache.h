// Key/value cache for batched generation: per layer a preallocated [B, kv_heads, capacity,
// head_dim] buffer filled left to right, plus which slots hold real tokens (left-padded prompts
// leave padding slots that no query may attend to).
// Invariant: every layer holds `length` valid slots; the decoder advances `length` once per
// forward after all layers have written.
#pragma once

#include <torch/types.h>

#include <vector>

#include "trainer/model/llm/decoder_config.h"

namespace seller::model {

struct KvCache {
  std::vector<torch::Tensor> keys, values;  // per layer [B, kv_heads, capacity, head_dim]
  torch::Tensor slot_valid;                 // [B, capacity] bool
  int64_t length = 0;
  // Static mode (CUDA graphs): when defined, a device int64 [1] holding the slot the next
  // single-token step writes. Attention then writes with index_copy_ and attends over the whole
  // capacity under the slot_valid mask, so every step has the same shapes and no host values;
  // the caller advances write_index and tracks `length` itself.
  torch::Tensor write_index;

  static KvCache allocate(const DecoderConfig& config, int64_t batch, int64_t capacity,
                          torch::ScalarType dtype, torch::Device device);
  int64_t capacity() const { return slot_valid.defined() ? slot_valid.size(1) : 0; }
  int64_t batch() const { return slot_valid.defined() ? slot_valid.size(0) : 0; }
  // Keeps only the rows in `index` (sequences still generating), in that order.
  void select_rows(const torch::Tensor& index);
};

}  // namespace seller::model
