// DecoderConfig validation: impossible shapes fail at construction with the field named,
// long before a matmul would fail with an opaque size error.
#include "trainer/model/llm/decoder_config.h"

#include "trainer/core/error.h"

namespace seller::model {

void DecoderConfig::validate() const {
  auto positive = [](int64_t v, const char* name) {
    SELLER_THROW_IF_NOT(v > 0, ConfigError, "decoder: ", name, " must be > 0, got ", v);
  };
  positive(vocab_size, "vocab_size");
  positive(hidden_size, "hidden_size");
  positive(intermediate_size, "intermediate_size");
  positive(num_layers, "num_layers");
  positive(num_heads, "num_heads");
  positive(num_kv_heads, "num_kv_heads");
  positive(head_dim, "head_dim");
  positive(max_positions, "max_positions");
  SELLER_THROW_IF_NOT(num_heads % num_kv_heads == 0, ConfigError, "decoder: num_kv_heads=",
                      num_kv_heads, " does not divide num_heads=", num_heads);
  SELLER_THROW_IF_NOT(head_dim % 2 == 0, ConfigError, "decoder: head_dim=", head_dim,
                      " must be even for rotary embeddings");
  SELLER_THROW_IF_NOT(rms_norm_eps > 0, ConfigError, "decoder: rms_norm_eps must be > 0, got ",
                      rms_norm_eps);
  SELLER_THROW_IF_NOT(attention_impl == "sdpa" || attention_impl == "eager", ConfigError,
                      "decoder: attention_impl must be sdpa or eager, got '", attention_impl, "'");
}

}  // namespace seller::model
