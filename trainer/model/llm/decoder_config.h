// Shape and numerics of a decoder-only LLM of the Llama / Qwen2 / Qwen3 family, independent of
// where it came from (a Hugging Face config.json, or our YAML for a model trained from scratch).
// Invariants (checked by validate()): num_heads % num_kv_heads == 0, head_dim even (RoPE pairs).
#pragma once

#include <cstdint>
#include <string>

namespace seller::model {

// Rotary position embedding and its context-extension variants, as transformers defines them.
struct RopeConfig {
  std::string type = "default";  // default | linear | dynamic | llama3 | yarn
  double theta = 10000.0;
  double factor = 1.0;                      // linear, dynamic, llama3, yarn
  double low_freq_factor = 1.0;             // llama3
  double high_freq_factor = 4.0;            // llama3
  int64_t original_max_positions = 0;       // llama3, yarn, dynamic (0 = max_positions)
  double beta_fast = 32.0, beta_slow = 1.0;  // yarn
  double attention_factor = 0.0;            // yarn (0 = derived from factor)
  double partial_rotary_factor = 1.0;       // share of head_dim that rotates
};

struct DecoderConfig {
  int64_t vocab_size = 512;
  int64_t hidden_size = 64;
  int64_t intermediate_size = 172;
  int64_t num_layers = 5;
  int64_t num_heads = 8;
  int64_t num_kv_heads = 4;
  int64_t head_dim = 8;
  int64_t max_positions = 512;
  double rms_norm_eps = 1e-5;
  RopeConfig rope;
  bool tie_word_embeddings = true;
  bool qkv_bias = false;     // Qwen2 (and Llama with attention_bias): q/k/v carry a bias
  bool o_proj_bias = false;  // Llama with attention_bias: o_proj carries a bias too
  bool qk_norm = false;         // Qwen3: RMSNorm over each head of q and k before RoPE
  bool mlp_bias = false;
  std::string attention_impl = "sdpa";  // sdpa (fused, LibTorch) | eager (plain reference)

  // Throws seller::ConfigError naming the offending field.
  void validate() const;
};

}  // namespace seller::model
