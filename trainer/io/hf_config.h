// Typed view of a Hugging Face `config.json` for the decoder families seller implements:
// model_type llama, mistral, qwen2, qwen3. Optional keys take the defaults transformers (5.x)
// gives them for that model_type, so that our model computes what transformers computes for the
// same file; the five structural sizes (vocab_size, hidden_size, intermediate_size,
// num_hidden_layers, num_attention_heads) are required instead of falling back to a 7B shape.
// RoPE settings are read from `rope_parameters` (transformers 5) or from top-level `rope_theta`
// plus `rope_scaling` (transformers 4; legacy `type` for `rope_type`), and must agree where both
// appear. Checked: types of every known key, positive sizes, num_attention_heads divides
// hidden_size when head_dim is not given, num_key_value_heads divides num_attention_heads,
// even head_dim, rope parameters per rope type, token ids inside the vocabulary. Every violation
// is a seller::ConfigError naming the file and the key. Unknown keys are kept verbatim in
// `extra_json`, so parse + write keeps them.
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace seller::io {

enum class HfModelType { kLlama, kMistral, kQwen2, kQwen3 };
enum class RopeType { kDefault, kLinear, kDynamic, kLlama3, kYarn };

std::string_view hf_model_type_name(HfModelType type);  // "llama", ...
std::string_view rope_type_name(RopeType type);         // "default", "linear", ...

struct RopeParameters {
  RopeType type = RopeType::kDefault;
  double theta = 10000.0;
  double factor = 1.0;  // linear, dynamic, llama3, yarn (>= 1)
  // llama3 (required), yarn and dynamic (optional; transformers then uses
  // max_position_embeddings).
  std::optional<int64_t> original_max_position_embeddings;
  double low_freq_factor = 1.0;   // llama3
  double high_freq_factor = 4.0;  // llama3
  // yarn; unset values take transformers' defaults at use (attention_factor from mscale).
  std::optional<double> attention_factor;
  std::optional<double> beta_fast;  // default 32
  std::optional<double> beta_slow;  // default 1
  std::optional<double> mscale;
  std::optional<double> mscale_all_dim;
  std::optional<bool> truncate;  // default true
};

struct HfConfig {
  HfModelType model_type = HfModelType::kLlama;
  std::vector<std::string> architectures;  // e.g. {"LlamaForCausalLM"}
  int64_t vocab_size = 0;
  int64_t hidden_size = 0;
  int64_t intermediate_size = 0;
  int64_t num_hidden_layers = 0;
  int64_t num_attention_heads = 0;
  int64_t num_key_value_heads = 0;  // resolved (never 0 after parsing)
  int64_t head_dim = 0;             // resolved
  bool head_dim_explicit = false;   // written back only when the file had it
  double rms_norm_eps = 1e-6;
  RopeParameters rope;
  int64_t max_position_embeddings = 0;
  bool tie_word_embeddings = false;
  std::string hidden_act = "silu";
  // As written in the file (llama/qwen3: attention_bias; mistral/qwen2 ignore the key).
  std::optional<bool> attention_bias;
  bool mlp_bias = false;  // llama only
  // Effective layout of the weights the checkpoint holds:
  bool qkv_bias = false;     // q/k/v projections have biases (qwen2 always; llama/qwen3 if set)
  bool o_proj_bias = false;  // o_proj has a bias (llama/qwen3 when attention_bias)
  bool qk_norm = false;      // RMSNorm over head_dim on q and k before RoPE (qwen3)
  // Sliding-window attention: the window for the layers that use it (nullopt: none), and per
  // layer whether it does (empty when no layer does).
  std::optional<int64_t> sliding_window;
  std::vector<bool> sliding_layers;
  std::optional<int64_t> bos_token_id;
  std::vector<int64_t> eos_token_ids;  // `eos_token_id` may be one id or a list
  bool eos_is_list = false;
  std::optional<int64_t> pad_token_id;
  std::string
      dtype;  // "float32", "bfloat16", "float16", "float64" or empty (from dtype/torch_dtype)
  // Every key not interpreted above, as its JSON text (written back unchanged).
  std::map<std::string, std::string> extra_json;
};

// Parses config.json text; `source` names it in messages. Throws seller::ConfigError.
HfConfig parse_hf_config(std::string_view json_text, std::string_view source);
// Reads `path` (a config.json, or a folder holding one).
HfConfig load_hf_config(const std::filesystem::path& path);

// A config.json that transformers 5 loads into the same model (also accepted by 4.x, which
// reads top-level rope_theta): rope_parameters plus top-level rope_theta, and for non-default
// rope also rope_scaling.
std::string hf_config_to_json(const HfConfig& config);
// Writes hf_config_to_json(config) to `path` atomically.
void save_hf_config(const HfConfig& config, const std::filesystem::path& path);

}  // namespace seller::io
