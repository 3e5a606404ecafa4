// KV cache allocation and row selection (see kv_cache.h).
#include "trainer/model/llm/kv_cache.h"

#include <torch/torch.h>

#include "trainer/core/error.h"

namespace seller::model {

KvCache KvCache::allocate(const DecoderConfig& config, int64_t batch, int64_t capacity,
                          torch::ScalarType dtype, torch::Device device) {
  SELLER_CHECK(batch > 0 && capacity > 0, "batch ", batch, " capacity ", capacity);
  KvCache cache;
  auto opts = torch::TensorOptions().dtype(dtype).device(device);
  for (int64_t l = 0; l < config.num_layers; ++l) {
    cache.keys.push_back(torch::zeros({batch, config.num_kv_heads, capacity, config.head_dim}, opts));
    cache.values.push_back(
        torch::zeros({batch, config.num_kv_heads, capacity, config.head_dim}, opts));
  }
  cache.slot_valid = torch::zeros({batch, capacity}, torch::TensorOptions()
                                                         .dtype(torch::kBool)
                                                         .device(device));
  return cache;
}

void KvCache::select_rows(const torch::Tensor& index) {
  auto idx = index.to(slot_valid.device(), torch::kLong);
  for (auto& k : keys) k = k.index_select(0, idx);
  for (auto& v : values) v = v.index_select(0, idx);
  slot_valid = slot_valid.index_select(0, idx);
}

}  // namespace seller::model
