// Writing of Hugging Face config.json (see hf_config.h): every field transformers 5 needs to
// build the same model, rope in both the 5.x (rope_parameters) and 4.x (rope_theta +
// rope_scaling) layouts, and the unknown keys kept from parsing.
#include <nlohmann/json.hpp>

#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"
#include "trainer/io/hf_config.h"
#include "trainer/io/json_strict.h"

namespace seller::io {
namespace {
using nlohmann::json;

std::string_view architecture_for(HfModelType type) {
  switch (type) {
    case HfModelType::kLlama:
      return "LlamaForCausalLM";
    case HfModelType::kMistral:
      return "MistralForCausalLM";
    case HfModelType::kQwen2:
      return "Qwen2ForCausalLM";
    case HfModelType::kQwen3:
      return "Qwen3ForCausalLM";
  }
  return "";
}

}  // namespace

std::string hf_config_to_json(const HfConfig& c) {
  json out = json::object();
  for (const auto& [key, text] : c.extra_json) {
    std::string error;
    auto value = parse_json_strict(text, &error);
    if (!value) {
      throw ConfigError(
          detail::concat("config.json key '", key, "': extra value is not JSON: ", error));
    }
    out[key] = std::move(*value);
  }
  const bool is_qwen = c.model_type == HfModelType::kQwen2 || c.model_type == HfModelType::kQwen3;
  out["model_type"] = hf_model_type_name(c.model_type);
  out["architectures"] = c.architectures.empty()
                             ? std::vector<std::string>{std::string(architecture_for(c.model_type))}
                             : c.architectures;
  out["vocab_size"] = c.vocab_size;
  out["hidden_size"] = c.hidden_size;
  out["intermediate_size"] = c.intermediate_size;
  out["num_hidden_layers"] = c.num_hidden_layers;
  out["num_attention_heads"] = c.num_attention_heads;
  out["num_key_value_heads"] = c.num_key_value_heads;
  // Qwen3's class default (128) is not hidden/heads, so its head_dim is always written.
  if (c.head_dim_explicit || c.model_type == HfModelType::kQwen3 ||
      c.head_dim * c.num_attention_heads != c.hidden_size) {
    out["head_dim"] = c.head_dim;
  }
  out["rms_norm_eps"] = c.rms_norm_eps;
  out["max_position_embeddings"] = c.max_position_embeddings;
  out["tie_word_embeddings"] = c.tie_word_embeddings;
  out["hidden_act"] = c.hidden_act;
  if (c.attention_bias) {
    out["attention_bias"] = *c.attention_bias;
  } else if (c.model_type == HfModelType::kLlama || c.model_type == HfModelType::kQwen3) {
    out["attention_bias"] = c.qkv_bias;
  }
  if (c.model_type == HfModelType::kLlama) out["mlp_bias"] = c.mlp_bias;

  json rope = json::object();
  rope["rope_type"] = rope_type_name(c.rope.type);
  rope["rope_theta"] = c.rope.theta;
  if (c.rope.type != RopeType::kDefault) rope["factor"] = c.rope.factor;
  if (c.rope.original_max_position_embeddings) {
    rope["original_max_position_embeddings"] = *c.rope.original_max_position_embeddings;
  }
  if (c.rope.type == RopeType::kLlama3) {
    rope["low_freq_factor"] = c.rope.low_freq_factor;
    rope["high_freq_factor"] = c.rope.high_freq_factor;
  }
  if (c.rope.type == RopeType::kYarn) {
    if (c.rope.attention_factor) rope["attention_factor"] = *c.rope.attention_factor;
    if (c.rope.beta_fast) rope["beta_fast"] = *c.rope.beta_fast;
    if (c.rope.beta_slow) rope["beta_slow"] = *c.rope.beta_slow;
    if (c.rope.mscale) rope["mscale"] = *c.rope.mscale;
    if (c.rope.mscale_all_dim) rope["mscale_all_dim"] = *c.rope.mscale_all_dim;
    if (c.rope.truncate) rope["truncate"] = *c.rope.truncate;
  }
  out["rope_theta"] = c.rope.theta;  // read by transformers 4.x
  if (c.rope.type != RopeType::kDefault) {
    json legacy = rope;
    legacy.erase("rope_theta");
    out["rope_scaling"] = std::move(legacy);
  }
  out["rope_parameters"] = std::move(rope);

  if (c.model_type == HfModelType::kMistral) {
    out["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
  } else if (is_qwen) {
    out["use_sliding_window"] = c.sliding_window.has_value();
    out["sliding_window"] = c.sliding_window ? json(*c.sliding_window) : json(nullptr);
    json types = json::array();
    for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
      const bool sliding = i < static_cast<int64_t>(c.sliding_layers.size()) &&
                           c.sliding_layers[static_cast<size_t>(i)];
      types.push_back(sliding ? "sliding_attention" : "full_attention");
    }
    out["layer_types"] = std::move(types);
  }
  out["bos_token_id"] = c.bos_token_id ? json(*c.bos_token_id) : json(nullptr);
  out["pad_token_id"] = c.pad_token_id ? json(*c.pad_token_id) : json(nullptr);
  if (c.eos_is_list || c.eos_token_ids.size() > 1) {
    out["eos_token_id"] = c.eos_token_ids;
  } else {
    out["eos_token_id"] = c.eos_token_ids.empty() ? json(nullptr) : json(c.eos_token_ids[0]);
  }
  if (!c.dtype.empty()) out["dtype"] = c.dtype;
  return out.dump(2) + "\n";
}

void save_hf_config(const HfConfig& config, const std::filesystem::path& path) {
  write_file_atomically(path, hf_config_to_json(config));
}

}  // namespace seller::io
