// Decoder construction from the typed config (see from_config.h).
#include "trainer/model/llm/from_config.h"

#include <torch/torch.h>

#include "trainer/model/llm/hf_import.h"

namespace seller::model {

DecoderConfig decoder_config_from(const core::LlmConfig& llm) {
  DecoderConfig c;
  c.vocab_size = llm.vocab_size;
  c.hidden_size = llm.hidden_size;
  c.intermediate_size = llm.intermediate_size;
  c.num_layers = llm.layers;
  c.num_heads = llm.heads;
  c.num_kv_heads = llm.kv_heads;
  c.head_dim = llm.head_dim;
  c.max_positions = llm.max_positions;
  c.rope.theta = llm.rope_theta;
  c.rms_norm_eps = llm.rms_norm_eps;
  c.tie_word_embeddings = llm.tie_embeddings;
  c.qk_norm = llm.qk_norm;
  c.qkv_bias = llm.qkv_bias;
  c.attention_impl = llm.attention;
  c.validate();
  return c;
}

Decoder build_decoder(const core::LlmConfig& llm, uint64_t seed, torch::Device device,
                      torch::ScalarType dtype) {
  if (llm.init == "hf") return load_hf_decoder(llm.hf_dir, device, dtype);
  Decoder d(decoder_config_from(llm));
  init_decoder_weights(d, llm.init_std, seed);
  d->to(device, dtype);
  return d;
}

}  // namespace seller::model
