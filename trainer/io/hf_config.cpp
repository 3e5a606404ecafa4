// Parsing and validation of Hugging Face config.json (see hf_config.h; the writer is in
// hf_config_writer.cpp). Defaults per
// model_type are those of transformers 5.17 (LlamaConfig, MistralConfig, Qwen2Config,
// Qwen3Config); docs/safetensors.md lists them.
#include "trainer/io/hf_config.h"

#include <cmath>
#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/io/json_strict.h"

namespace seller::io {
namespace {
using nlohmann::json;

struct ModelDefaults {
  std::optional<int64_t> num_key_value_heads;  // nullopt: = num_attention_heads
  std::optional<int64_t> head_dim;             // nullopt: = hidden_size / num_attention_heads
  int64_t max_position_embeddings;
  std::optional<int64_t> bos, eos;
};

ModelDefaults defaults_for(HfModelType type) {
  switch (type) {
    case HfModelType::kLlama:
      return {std::nullopt, std::nullopt, 2048, 1, 2};
    case HfModelType::kMistral:
      return {8, std::nullopt, 131072, 1, 2};
    case HfModelType::kQwen2:
      return {32, std::nullopt, 32768, std::nullopt, std::nullopt};
    case HfModelType::kQwen3:
      return {32, 128, 32768, std::nullopt, std::nullopt};
  }
  return {};
}

// Reads keys of one JSON object, remembering which ones were interpreted.
class Reader {
 public:
  Reader(const json& object, std::string source, std::string prefix)
      : object_(object), source_(std::move(source)), prefix_(std::move(prefix)) {}

  [[noreturn]] void fail(std::string_view key, const std::string& what) const {
    throw ConfigError(detail::concat(source_, ": key '", prefix_, key, "': ", what));
  }
  [[noreturn]] void fail_value(std::string_view key, const json& value,
                               const std::string& what) const {
    std::string text = value.dump();
    if (text.size() > 80) text = text.substr(0, 80) + "...";
    fail(key, what + " (got " + text + ")");
  }

  // The value, or nullptr when the key is absent. JSON null counts as present.
  const json* get(const std::string& key) {
    used_.insert(key);
    const auto it = object_.find(key);
    return it == object_.end() ? nullptr : &*it;
  }
  bool has(const std::string& key) const { return object_.contains(key); }

  std::optional<int64_t> opt_int(const std::string& key) {
    const json* v = get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number_integer()) fail_value(key, *v, "must be an integer");
    if (v->is_number_unsigned() && v->get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
      fail_value(key, *v, "is out of range");
    }
    return v->get<int64_t>();
  }
  int64_t required_int(const std::string& key) {
    if (!has(key)) fail(key, "is required but missing");
    auto v = opt_int(key);
    if (!v) fail(key, "must be an integer, not null");
    return *v;
  }
  int64_t positive_int(const std::string& key, std::optional<int64_t> value) {
    if (value && *value <= 0) fail(key, "must be positive (got " + std::to_string(*value) + ")");
    return value.value_or(0);
  }
  std::optional<double> opt_number(const std::string& key) {
    const json* v = get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_number()) fail_value(key, *v, "must be a number");
    const double d = v->get<double>();
    if (!std::isfinite(d)) fail_value(key, *v, "must be finite");
    return d;
  }
  std::optional<bool> opt_bool(const std::string& key) {
    const json* v = get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_boolean()) fail_value(key, *v, "must be true or false");
    return v->get<bool>();
  }
  std::optional<std::string> opt_string(const std::string& key) {
    const json* v = get(key);
    if (!v || v->is_null()) return std::nullopt;
    if (!v->is_string()) fail_value(key, *v, "must be a string");
    return v->get<std::string>();
  }

  std::vector<std::string> unused() const {
    std::vector<std::string> out;
    for (const auto& [key, _] : object_.items()) {
      if (!used_.count(key)) out.push_back(key);
    }
    return out;
  }
  const std::string& source() const { return source_; }

 private:
  const json& object_;
  std::string source_;
  std::string prefix_;
  std::set<std::string> used_;
};

std::optional<RopeType> parse_rope_type(std::string_view name) {
  if (name == "default") return RopeType::kDefault;
  if (name == "linear") return RopeType::kLinear;
  if (name == "dynamic") return RopeType::kDynamic;
  if (name == "llama3") return RopeType::kLlama3;
  if (name == "yarn") return RopeType::kYarn;
  return std::nullopt;
}

// Reads a rope dict (rope_parameters or legacy rope_scaling) into `rope`.
void read_rope_dict(const json& dict, const std::string& source, const std::string& key,
                    RopeParameters& rope, std::optional<double>& theta_in_dict) {
  if (!dict.is_object()) {
    throw ConfigError(detail::concat(source, ": key '", key, "': must be an object or null"));
  }
  Reader r(dict, source, key + ".");
  auto type_name = r.opt_string("rope_type");
  if (const auto legacy = r.opt_string("type")) {
    if (type_name && *type_name != *legacy) {
      r.fail("type", "disagrees with rope_type '" + *type_name + "'");
    }
    type_name = legacy;
  }
  const std::string type_text = type_name.value_or("default");
  const auto type = parse_rope_type(type_text);
  if (!type) {
    r.fail(r.has("rope_type") ? "rope_type" : "type",
           "unsupported rope type '" + type_text +
               "' (supported: default, linear, dynamic, llama3, yarn)");
  }
  rope.type = *type;
  theta_in_dict = r.opt_number("rope_theta");
  const auto factor = r.opt_number("factor");
  if (rope.type != RopeType::kDefault) {
    if (!factor) r.fail("factor", "is required for rope type '" + type_text + "'");
    if (*factor < 1.0) r.fail("factor", "must be >= 1 (got " + std::to_string(*factor) + ")");
    rope.factor = *factor;
  }
  if (rope.type == RopeType::kLlama3 || rope.type == RopeType::kYarn ||
      rope.type == RopeType::kDynamic) {
    rope.original_max_position_embeddings = r.opt_int("original_max_position_embeddings");
    if (rope.original_max_position_embeddings) {
      r.positive_int("original_max_position_embeddings", rope.original_max_position_embeddings);
    } else if (rope.type == RopeType::kLlama3) {
      r.fail("original_max_position_embeddings", "is required for rope type 'llama3'");
    }
  }
  if (rope.type == RopeType::kLlama3) {
    const auto low = r.opt_number("low_freq_factor");
    const auto high = r.opt_number("high_freq_factor");
    if (!low) r.fail("low_freq_factor", "is required for rope type 'llama3'");
    if (!high) r.fail("high_freq_factor", "is required for rope type 'llama3'");
    if (*low <= 0) r.fail("low_freq_factor", "must be positive");
    if (*high <= *low) r.fail("high_freq_factor", "must be larger than low_freq_factor");
    rope.low_freq_factor = *low;
    rope.high_freq_factor = *high;
  }
  if (rope.type == RopeType::kYarn) {
    rope.attention_factor = r.opt_number("attention_factor");
    rope.beta_fast = r.opt_number("beta_fast");
    rope.beta_slow = r.opt_number("beta_slow");
    rope.mscale = r.opt_number("mscale");
    rope.mscale_all_dim = r.opt_number("mscale_all_dim");
    rope.truncate = r.opt_bool("truncate");
    if (rope.attention_factor && *rope.attention_factor <= 0) {
      r.fail("attention_factor", "must be positive");
    }
    if (rope.beta_fast.value_or(32.0) < rope.beta_slow.value_or(1.0)) {
      r.fail("beta_fast", "must not be smaller than beta_slow");
    }
  }
  for (const auto& unknown : r.unused()) {
    r.fail(unknown, "is not a parameter of rope type '" + type_text + "'");
  }
}

int64_t token_id(Reader& r, const std::string& key, const json& value, int64_t vocab_size) {
  if (!value.is_number_integer()) r.fail_value(key, value, "must be a token id (integer)");
  if (value.is_number_unsigned() && value.get<uint64_t>() > static_cast<uint64_t>(INT64_MAX)) {
    r.fail_value(key, value, "is out of range");
  }
  const auto id = value.get<int64_t>();
  if (id < 0 || id >= vocab_size) {
    r.fail_value(key, value, "must be in [0, vocab_size=" + std::to_string(vocab_size) + ")");
  }
  return id;
}

}  // namespace

std::string_view hf_model_type_name(HfModelType type) {
  switch (type) {
    case HfModelType::kLlama:
      return "llama";
    case HfModelType::kMistral:
      return "mistral";
    case HfModelType::kQwen2:
      return "qwen2";
    case HfModelType::kQwen3:
      return "qwen3";
  }
  return "";
}

std::string_view rope_type_name(RopeType type) {
  switch (type) {
    case RopeType::kDefault:
      return "default";
    case RopeType::kLinear:
      return "linear";
    case RopeType::kDynamic:
      return "dynamic";
    case RopeType::kLlama3:
      return "llama3";
    case RopeType::kYarn:
      return "yarn";
  }
  return "";
}

HfConfig parse_hf_config(std::string_view json_text, std::string_view source_name) {
  const std::string source(source_name);
  std::string error;
  const auto parsed = parse_json_strict(json_text, &error);
  if (!parsed) throw ConfigError(detail::concat(source, ": not valid JSON: ", error));
  if (!parsed->is_object()) throw ConfigError(detail::concat(source, ": not a JSON object"));
  Reader r(*parsed, source, "");
  HfConfig c;

  const auto model_type = r.opt_string("model_type");
  if (!model_type) r.fail("model_type", "is required (llama, mistral, qwen2 or qwen3)");
  if (*model_type == "llama") {
    c.model_type = HfModelType::kLlama;
  } else if (*model_type == "mistral") {
    c.model_type = HfModelType::kMistral;
  } else if (*model_type == "qwen2") {
    c.model_type = HfModelType::kQwen2;
  } else if (*model_type == "qwen3") {
    c.model_type = HfModelType::kQwen3;
  } else {
    r.fail("model_type", "unsupported model type '" + *model_type +
                             "' (supported: llama, mistral, qwen2, qwen3)");
  }
  const ModelDefaults defaults = defaults_for(c.model_type);
  const bool is_qwen = c.model_type == HfModelType::kQwen2 || c.model_type == HfModelType::kQwen3;

  if (const json* arch = r.get("architectures"); arch && !arch->is_null()) {
    if (!arch->is_array()) r.fail_value("architectures", *arch, "must be a list of strings");
    for (const auto& a : *arch) {
      if (!a.is_string()) r.fail_value("architectures", *arch, "must be a list of strings");
      c.architectures.push_back(a.get<std::string>());
    }
  }

  c.vocab_size = r.positive_int("vocab_size", r.required_int("vocab_size"));
  c.hidden_size = r.positive_int("hidden_size", r.required_int("hidden_size"));
  c.intermediate_size = r.positive_int("intermediate_size", r.required_int("intermediate_size"));
  c.num_hidden_layers = r.positive_int("num_hidden_layers", r.required_int("num_hidden_layers"));
  c.num_attention_heads =
      r.positive_int("num_attention_heads", r.required_int("num_attention_heads"));

  // JSON null means "same as the heads" in every family; a missing key takes the class default.
  const bool kv_present = r.has("num_key_value_heads");
  const auto kv = r.opt_int("num_key_value_heads");
  c.num_key_value_heads =
      kv ? *kv
         : (kv_present ? c.num_attention_heads
                       : defaults.num_key_value_heads.value_or(c.num_attention_heads));
  r.positive_int("num_key_value_heads", c.num_key_value_heads);
  if (c.num_attention_heads % c.num_key_value_heads != 0) {
    r.fail(
        "num_key_value_heads",
        detail::concat(c.num_key_value_heads,
                       " does not divide num_attention_heads=", c.num_attention_heads,
                       kv_present ? "" : " (the key is missing; this is transformers' default)"));
  }

  const bool head_dim_present = r.has("head_dim");
  const auto head_dim = r.opt_int("head_dim");
  c.head_dim_explicit = head_dim.has_value();
  if (head_dim) {
    c.head_dim = r.positive_int("head_dim", head_dim);
  } else if (!head_dim_present && defaults.head_dim) {
    c.head_dim = *defaults.head_dim;
  } else {
    if (c.hidden_size % c.num_attention_heads != 0) {
      r.fail("num_attention_heads",
             detail::concat(c.num_attention_heads, " does not divide hidden_size=", c.hidden_size,
                            " and head_dim is not given"));
    }
    c.head_dim = c.hidden_size / c.num_attention_heads;
  }
  if (c.head_dim % 2 != 0) {
    r.fail(head_dim ? "head_dim" : "num_attention_heads",
           detail::concat("head_dim=", c.head_dim, " is odd; rotary embeddings need it even"));
  }

  c.rms_norm_eps = r.opt_number("rms_norm_eps").value_or(1e-6);
  if (c.rms_norm_eps <= 0) r.fail("rms_norm_eps", "must be positive");
  c.max_position_embeddings = r.positive_int(
      "max_position_embeddings",
      r.opt_int("max_position_embeddings").value_or(defaults.max_position_embeddings));
  c.tie_word_embeddings = r.opt_bool("tie_word_embeddings").value_or(false);
  if (const auto act = r.opt_string("hidden_act")) c.hidden_act = *act;
  if (c.hidden_act != "silu" && c.hidden_act != "swish") {
    r.fail("hidden_act", "unsupported activation '" + c.hidden_act + "' (SwiGLU needs silu)");
  }
  if (const auto prf = r.opt_number("partial_rotary_factor"); prf && *prf != 1.0) {
    r.fail("partial_rotary_factor", "only 1.0 (rotary over the whole head) is supported");
  }

  // RoPE: rope_parameters (5.x) or rope_theta + rope_scaling (4.x).
  const auto top_theta = r.opt_number("rope_theta");
  std::optional<double> dict_theta;
  const json* params = r.get("rope_parameters");
  const json* scaling = r.get("rope_scaling");
  if (params && !params->is_null()) {
    read_rope_dict(*params, source, "rope_parameters", c.rope, dict_theta);
    if (scaling && !scaling->is_null()) {
      RopeParameters legacy;
      std::optional<double> legacy_theta;
      read_rope_dict(*scaling, source, "rope_scaling", legacy, legacy_theta);
      if (legacy.type != c.rope.type || legacy.factor != c.rope.factor) {
        r.fail("rope_scaling", "disagrees with rope_parameters");
      }
    }
  } else if (scaling && !scaling->is_null()) {
    read_rope_dict(*scaling, source, "rope_scaling", c.rope, dict_theta);
  }
  if (top_theta && dict_theta && *top_theta != *dict_theta) {
    r.fail("rope_theta", detail::concat(*top_theta, " disagrees with rope_theta=", *dict_theta,
                                        " inside the rope dict"));
  }
  c.rope.theta = dict_theta ? *dict_theta : top_theta.value_or(10000.0);
  if (c.rope.theta <= 0) r.fail("rope_theta", "must be positive");
  if ((c.rope.type == RopeType::kYarn || c.rope.type == RopeType::kDynamic) &&
      !c.rope.original_max_position_embeddings) {
    c.rope.original_max_position_embeddings = c.max_position_embeddings;
  }

  // Biases and norms: what the weights of each family hold.
  if (c.model_type == HfModelType::kLlama || c.model_type == HfModelType::kQwen3 ||
      r.has("attention_bias")) {
    c.attention_bias = r.opt_bool("attention_bias");
  }
  switch (c.model_type) {
    case HfModelType::kLlama:
      c.mlp_bias = r.opt_bool("mlp_bias").value_or(false);
      c.qkv_bias = c.o_proj_bias = c.attention_bias.value_or(false);
      break;
    case HfModelType::kQwen3:
      c.qkv_bias = c.o_proj_bias = c.attention_bias.value_or(false);
      c.qk_norm = true;
      break;
    case HfModelType::kQwen2:
      c.qkv_bias = true;  // hard-wired in transformers' Qwen2Attention; o_proj has none
      break;
    case HfModelType::kMistral:
      break;
  }

  // Sliding windows.
  if (c.model_type == HfModelType::kMistral) {
    const bool present = r.has("sliding_window");
    const auto window = r.opt_int("sliding_window");
    c.sliding_window = window ? window : (present ? std::nullopt : std::optional<int64_t>(4096));
    if (c.sliding_window) {
      r.positive_int("sliding_window", c.sliding_window);
      c.sliding_layers.assign(static_cast<size_t>(c.num_hidden_layers), true);
    }
  } else if (is_qwen) {
    const bool use = r.opt_bool("use_sliding_window").value_or(false);
    const bool present = r.has("sliding_window");
    const auto window = r.opt_int("sliding_window");
    const auto max_window_layers = r.opt_int("max_window_layers").value_or(28);
    if (window) r.positive_int("sliding_window", window);
    if (use)
      c.sliding_window = window ? window : (present ? std::nullopt : std::optional<int64_t>(4096));
    std::vector<bool> layers;
    if (const json* types = r.get("layer_types"); types && !types->is_null()) {
      if (!types->is_array() || types->size() != static_cast<size_t>(c.num_hidden_layers)) {
        r.fail_value("layer_types", *types, "must list one type per hidden layer");
      }
      for (const auto& t : *types) {
        if (t == "sliding_attention") {
          layers.push_back(true);
        } else if (t == "full_attention") {
          layers.push_back(false);
        } else {
          r.fail_value("layer_types", t, "must be full_attention or sliding_attention");
        }
      }
    } else {
      for (int64_t i = 0; i < c.num_hidden_layers; ++i) {
        layers.push_back(c.sliding_window.has_value() && i >= max_window_layers);
      }
    }
    bool any = false;
    for (bool b : layers) any = any || b;
    if (any && !c.sliding_window) {
      r.fail("layer_types", "lists sliding_attention layers but no sliding_window is in use");
    }
    if (any) c.sliding_layers = std::move(layers);
    if (!any) c.sliding_window.reset();
  }

  // Token ids.
  const auto read_id = [&](const std::string& key, std::optional<int64_t> fallback) {
    const json* v = r.get(key);
    if (!v) return fallback;
    if (v->is_null()) return std::optional<int64_t>();
    return std::optional<int64_t>(token_id(r, key, *v, c.vocab_size));
  };
  c.bos_token_id = read_id("bos_token_id", defaults.bos);
  c.pad_token_id = read_id("pad_token_id", std::nullopt);
  if (const json* eos = r.get("eos_token_id"); eos && eos->is_array()) {
    c.eos_is_list = true;
    for (const auto& id : *eos)
      c.eos_token_ids.push_back(token_id(r, "eos_token_id", id, c.vocab_size));
  } else if (!eos) {
    if (defaults.eos) c.eos_token_ids.push_back(*defaults.eos);
  } else if (!eos->is_null()) {
    c.eos_token_ids.push_back(token_id(r, "eos_token_id", *eos, c.vocab_size));
  }
  for (const auto* id : {&c.bos_token_id, &c.pad_token_id}) {
    if (*id && *id >= c.vocab_size) {
      r.fail(id == &c.bos_token_id ? "bos_token_id" : "pad_token_id",
             "default id is outside the vocabulary");
    }
  }
  for (int64_t id : c.eos_token_ids) {
    if (id >= c.vocab_size) r.fail("eos_token_id", "default id is outside the vocabulary");
  }

  // dtype (5.x) or torch_dtype (4.x).
  const auto dtype = r.opt_string("dtype");
  const auto torch_dtype = r.opt_string("torch_dtype");
  if (dtype && torch_dtype && *dtype != *torch_dtype) {
    r.fail("torch_dtype", "'" + *torch_dtype + "' disagrees with dtype '" + *dtype + "'");
  }
  c.dtype = dtype ? *dtype : torch_dtype.value_or("");
  if (!c.dtype.empty() && c.dtype != "float32" && c.dtype != "bfloat16" && c.dtype != "float16" &&
      c.dtype != "float64") {
    r.fail(dtype ? "dtype" : "torch_dtype",
           "unsupported dtype '" + c.dtype + "' (float32, bfloat16, float16, float64)");
  }

  for (const auto& key : r.unused()) c.extra_json.emplace(key, (*parsed)[key].dump());
  return c;
}

HfConfig load_hf_config(const std::filesystem::path& path) {
  std::error_code ec;
  const auto file = std::filesystem::is_directory(path, ec) ? path / "config.json" : path;
  std::ifstream in(file, std::ios::binary);
  if (!in) throw ConfigError(detail::concat(file.string(), ": cannot open config.json"));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_hf_config(text.str(), file.string());
}

}  // namespace seller::io
