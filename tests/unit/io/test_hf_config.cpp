// Hugging Face config.json: the real stories260K-hf config, hand-written Qwen2 / Qwen3 /
// Llama-3.1 (llama3 rope scaling) / Mistral configs, the defaults transformers applies, every
// rejection as a ConfigError naming the file and key, and written configs that transformers
// loads back into the same values.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tests/support/test_support.h"
#include "tests/unit/io/io_test_util.h"
#include "trainer/core/error.h"
#include "trainer/io/hf_config.h"

namespace seller::io {
namespace {
using nlohmann::json;
using seller::testing::TempDir;

HfConfig parse(const json& j) { return parse_hf_config(j.dump(), "cfg/config.json"); }

json qwen2_7b() {
  return json::parse(R"({
    "architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "vocab_size": 152064,
    "hidden_size": 3584, "intermediate_size": 18944, "num_hidden_layers": 28,
    "num_attention_heads": 28, "num_key_value_heads": 4, "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 131072,
    "use_sliding_window": false, "max_window_layers": 28, "tie_word_embeddings": false,
    "torch_dtype": "bfloat16", "bos_token_id": 151643, "eos_token_id": 151643,
    "hidden_act": "silu", "use_cache": true, "attention_dropout": 0.0})");
}

json qwen3_06b() {
  return json::parse(R"({
    "architectures": ["Qwen3ForCausalLM"], "model_type": "qwen3", "vocab_size": 151936,
    "hidden_size": 1024, "intermediate_size": 3072, "num_hidden_layers": 28,
    "num_attention_heads": 16, "num_key_value_heads": 8, "head_dim": 128,
    "max_position_embeddings": 40960, "rms_norm_eps": 1e-06, "rope_theta": 1000000,
    "rope_scaling": null, "attention_bias": false, "tie_word_embeddings": true,
    "torch_dtype": "bfloat16", "bos_token_id": 151643, "eos_token_id": 151645,
    "use_sliding_window": false, "sliding_window": null, "max_window_layers": 28})");
}

json llama31_8b() {
  return json::parse(R"({
    "architectures": ["LlamaForCausalLM"], "model_type": "llama", "vocab_size": 128256,
    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 131072,
    "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "attention_bias": false, "mlp_bias": false,
    "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                     "original_max_position_embeddings": 8192, "rope_type": "llama3"},
    "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009],
    "tie_word_embeddings": false, "torch_dtype": "bfloat16", "pretraining_tp": 1})");
}

json mistral_7b() {
  return json::parse(R"({
    "architectures": ["MistralForCausalLM"], "model_type": "mistral", "vocab_size": 32000,
    "hidden_size": 4096, "intermediate_size": 14336, "num_hidden_layers": 32,
    "num_attention_heads": 32, "num_key_value_heads": 8, "max_position_embeddings": 32768,
    "rms_norm_eps": 1e-05, "rope_theta": 10000.0, "sliding_window": 4096,
    "bos_token_id": 1, "eos_token_id": 2, "torch_dtype": "bfloat16"})");
}

TEST(HfConfig, StoriesRealConfig) {
  SELLER_SHARED_OR_SKIP(path, "models/stories260K-hf");
  const auto c = load_hf_config(path);
  EXPECT_EQ(c.model_type, HfModelType::kLlama);
  EXPECT_EQ(c.architectures, std::vector<std::string>{"LlamaForCausalLM"});
  EXPECT_EQ(c.vocab_size, 512);
  EXPECT_EQ(c.hidden_size, 64);
  EXPECT_EQ(c.intermediate_size, 172);
  EXPECT_EQ(c.num_hidden_layers, 5);
  EXPECT_EQ(c.num_attention_heads, 8);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_EQ(c.head_dim, 8);
  EXPECT_DOUBLE_EQ(c.rms_norm_eps, 9.999999747378752e-06);
  EXPECT_EQ(c.rope.type, RopeType::kDefault);
  EXPECT_EQ(c.rope.theta, 10000.0);  // from rope_parameters (transformers 5 layout)
  EXPECT_EQ(c.max_position_embeddings, 512);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.mlp_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.bos_token_id, 1);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_FALSE(c.pad_token_id.has_value());
  EXPECT_EQ(c.dtype, "float32");
  EXPECT_FALSE(c.sliding_window.has_value());
  EXPECT_TRUE(c.extra_json.count("transformers_version"));
}

TEST(HfConfig, Qwen2HasQkvBiasAndNoWindow) {
  const auto c = parse(qwen2_7b());
  EXPECT_EQ(c.model_type, HfModelType::kQwen2);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.num_key_value_heads, 4);
  EXPECT_TRUE(c.qkv_bias);
  EXPECT_FALSE(c.o_proj_bias);
  EXPECT_FALSE(c.qk_norm);
  EXPECT_EQ(c.rope.theta, 1e6);
  EXPECT_FALSE(c.sliding_window.has_value());  // use_sliding_window is false
  EXPECT_TRUE(c.sliding_layers.empty());
  EXPECT_FALSE(c.pad_token_id.has_value());
  EXPECT_EQ(c.dtype, "bfloat16");
  // With the window on, layers from max_window_layers on use it.
  auto j = qwen2_7b();
  j["use_sliding_window"] = true;
  j["max_window_layers"] = 20;
  const auto w = parse(j);
  EXPECT_EQ(w.sliding_window, 131072);
  ASSERT_EQ(w.sliding_layers.size(), 28u);
  EXPECT_FALSE(w.sliding_layers[19]);
  EXPECT_TRUE(w.sliding_layers[20]);
}

TEST(HfConfig, Qwen3HasQkNormAndExplicitHeadDim) {
  const auto c = parse(qwen3_06b());
  EXPECT_EQ(c.model_type, HfModelType::kQwen3);
  EXPECT_EQ(c.head_dim, 128);  // != hidden / heads = 64
  EXPECT_TRUE(c.qk_norm);
  EXPECT_FALSE(c.qkv_bias);
  EXPECT_TRUE(c.tie_word_embeddings);
  EXPECT_EQ(c.eos_token_ids, std::vector<int64_t>{151645});
  // transformers' Qwen3 defaults: head_dim 128 and 32 KV heads when the keys are absent.
  auto j = qwen3_06b();
  j.erase("head_dim");
  j.erase("num_key_value_heads");
  j["num_attention_heads"] = 32;
  const auto d = parse(j);
  EXPECT_EQ(d.head_dim, 128);
  EXPECT_EQ(d.num_key_value_heads, 32);
}

TEST(HfConfig, Llama31RopeScalingAndEosList) {
  const auto c = parse(llama31_8b());
  EXPECT_EQ(c.rope.type, RopeType::kLlama3);
  EXPECT_EQ(c.rope.theta, 500000.0);
  EXPECT_EQ(c.rope.factor, 8.0);
  EXPECT_EQ(c.rope.low_freq_factor, 1.0);
  EXPECT_EQ(c.rope.high_freq_factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 8192);
  EXPECT_EQ(c.eos_token_ids, (std::vector<int64_t>{128001, 128008, 128009}));
  EXPECT_TRUE(c.eos_is_list);
  EXPECT_EQ(c.head_dim, 128);
  EXPECT_EQ(c.num_key_value_heads, 8);
  // The same in transformers 5 layout.
  auto j = llama31_8b();
  json params = j["rope_scaling"];
  params["rope_theta"] = 500000.0;
  j.erase("rope_scaling");
  j.erase("rope_theta");
  j["rope_parameters"] = params;
  const auto v5 = parse(j);
  EXPECT_EQ(v5.rope.type, RopeType::kLlama3);
  EXPECT_EQ(v5.rope.theta, 500000.0);
  EXPECT_EQ(v5.rope.factor, 8.0);
}

TEST(HfConfig, OtherRopeTypesKeepTheirParameters) {
  auto j = qwen3_06b();
  j["rope_scaling"] = {
      {"type", "yarn"},  {"factor", 4.0},  {"original_max_position_embeddings", 32768},
      {"beta_fast", 32}, {"beta_slow", 1}, {"attention_factor", 1.2}};
  auto c = parse(j);
  EXPECT_EQ(c.rope.type, RopeType::kYarn);
  EXPECT_EQ(c.rope.factor, 4.0);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 32768);
  EXPECT_EQ(c.rope.attention_factor, 1.2);
  EXPECT_EQ(c.rope.beta_fast, 32.0);
  j["rope_scaling"] = {{"rope_type", "linear"}, {"factor", 2.0}};
  c = parse(j);
  EXPECT_EQ(c.rope.type, RopeType::kLinear);
  EXPECT_EQ(c.rope.factor, 2.0);
  j["rope_scaling"] = {{"rope_type", "dynamic"}, {"factor", 2.0}};
  c = parse(j);
  EXPECT_EQ(c.rope.type, RopeType::kDynamic);
  EXPECT_EQ(c.rope.original_max_position_embeddings, 40960);  // = max_position_embeddings
}

TEST(HfConfig, MistralSlidingWindowAndDefaults) {
  const auto c = parse(mistral_7b());
  EXPECT_EQ(c.sliding_window, 4096);
  EXPECT_EQ(c.sliding_layers.size(), 32u);
  EXPECT_FALSE(c.qkv_bias);
  auto j = mistral_7b();
  j["sliding_window"] = nullptr;
  EXPECT_FALSE(parse(j).sliding_window.has_value());
  // Llama defaults: KV heads = heads, head_dim = hidden / heads, theta 10000, bos 1, eos 2.
  const auto l = parse(json{{"model_type", "llama"},
                            {"vocab_size", 100},
                            {"hidden_size", 64},
                            {"intermediate_size", 128},
                            {"num_hidden_layers", 2},
                            {"num_attention_heads", 4}});
  EXPECT_EQ(l.num_key_value_heads, 4);
  EXPECT_EQ(l.head_dim, 16);
  EXPECT_EQ(l.rope.theta, 10000.0);
  EXPECT_EQ(l.max_position_embeddings, 2048);
  EXPECT_EQ(l.bos_token_id, 1);
  EXPECT_EQ(l.eos_token_ids, std::vector<int64_t>{2});
  EXPECT_DOUBLE_EQ(l.rms_norm_eps, 1e-6);
}

struct Rejection {
  std::string name;
  json config;
  std::string key;
  std::string reason;
};

std::vector<Rejection> rejections() {
  std::vector<Rejection> out;
  auto with = [&](std::string name, json base, const std::string& key, json value,
                  std::string expect_key, std::string reason) {
    if (value.is_discarded()) {
      base.erase(key);
    } else {
      base[key] = std::move(value);
    }
    out.push_back({std::move(name), std::move(base), std::move(expect_key), std::move(reason)});
  };
  const json gone = json(json::value_t::discarded);
  with("missing vocab", llama31_8b(), "vocab_size", gone, "vocab_size", "required");
  with("missing hidden", llama31_8b(), "hidden_size", gone, "hidden_size", "required");
  with("missing layers", qwen2_7b(), "num_hidden_layers", gone, "num_hidden_layers", "required");
  with("missing model_type", llama31_8b(), "model_type", gone, "model_type", "required");
  with("null heads", llama31_8b(), "num_attention_heads", nullptr, "num_attention_heads",
       "not null");
  with("string size", llama31_8b(), "hidden_size", "4096", "hidden_size", "integer");
  with("float size", llama31_8b(), "hidden_size", 4096.0, "hidden_size", "integer");
  with("bool size", llama31_8b(), "vocab_size", true, "vocab_size", "integer");
  with("zero layers", llama31_8b(), "num_hidden_layers", 0, "num_hidden_layers", "positive");
  with("negative", llama31_8b(), "intermediate_size", -1, "intermediate_size", "positive");
  with("model type", llama31_8b(), "model_type", "gpt2", "model_type",
       "unsupported model type 'gpt2'");
  with("heads vs hidden", mistral_7b(), "hidden_size", 4095, "num_attention_heads",
       "does not divide hidden_size");
  with("kv vs heads", llama31_8b(), "num_key_value_heads", 6, "num_key_value_heads",
       "does not divide");
  with("odd head_dim", qwen3_06b(), "head_dim", 63, "head_dim", "odd");
  with("eps", llama31_8b(), "rms_norm_eps", -1e-5, "rms_norm_eps", "positive");
  with("eps type", llama31_8b(), "rms_norm_eps", "1e-5", "rms_norm_eps", "number");
  with("theta", qwen2_7b(), "rope_theta", 0, "rope_theta", "positive");
  with("tie type", qwen2_7b(), "tie_word_embeddings", "yes", "tie_word_embeddings",
       "true or false");
  with("bias type", qwen3_06b(), "attention_bias", 1, "attention_bias", "true or false");
  with("act", llama31_8b(), "hidden_act", "gelu", "hidden_act", "unsupported activation");
  with("rope type", llama31_8b(), "rope_scaling", {{"rope_type", "longrope"}, {"factor", 2.0}},
       "rope_scaling.rope_type", "unsupported rope type 'longrope'");
  with("rope factor", llama31_8b(), "rope_scaling", {{"rope_type", "linear"}},
       "rope_scaling.factor", "required");
  with("rope factor < 1", llama31_8b(), "rope_scaling", {{"rope_type", "linear"}, {"factor", 0.5}},
       "rope_scaling.factor", ">= 1");
  with("llama3 missing", llama31_8b(), "rope_scaling",
       {{"rope_type", "llama3"},
        {"factor", 8.0},
        {"low_freq_factor", 1.0},
        {"high_freq_factor", 4.0}},
       "rope_scaling.original_max_position_embeddings", "required");
  with("llama3 freq", llama31_8b(), "rope_scaling",
       {{"rope_type", "llama3"},
        {"factor", 8.0},
        {"low_freq_factor", 4.0},
        {"high_freq_factor", 1.0},
        {"original_max_position_embeddings", 8192}},
       "rope_scaling.high_freq_factor", "larger");
  with("rope unknown key", llama31_8b(), "rope_scaling",
       {{"rope_type", "linear"}, {"factor", 2.0}, {"beta_fast", 3}}, "rope_scaling.beta_fast",
       "not a parameter");
  with("rope not object", llama31_8b(), "rope_parameters", 3, "rope_parameters", "object");
  with("rope theta clash", qwen2_7b(), "rope_parameters",
       {{"rope_type", "default"}, {"rope_theta", 10000.0}}, "rope_theta", "disagrees");
  with("type vs rope_type", llama31_8b(), "rope_scaling",
       {{"rope_type", "linear"}, {"type", "dynamic"}, {"factor", 2.0}}, "rope_scaling.type",
       "disagrees");
  with("eos range", llama31_8b(), "eos_token_id", json::array({128001, 999999}), "eos_token_id",
       "vocab_size=128256");
  with("eos type", llama31_8b(), "eos_token_id", "</s>", "eos_token_id", "token id");
  with("bos negative", llama31_8b(), "bos_token_id", -1, "bos_token_id", "[0, vocab_size");
  with("pad range", qwen2_7b(), "pad_token_id", 152064, "pad_token_id", "vocab_size");
  with("dtype", qwen2_7b(), "torch_dtype", "int8", "torch_dtype", "unsupported dtype");
  with("dtype clash", qwen2_7b(), "dtype", "float32", "torch_dtype", "disagrees");
  with("architectures", qwen2_7b(), "architectures", "Qwen2ForCausalLM", "architectures",
       "list of strings");
  with("layer types", qwen3_06b(), "layer_types", json::array({"full_attention"}), "layer_types",
       "one type per hidden layer");
  with("partial rotary", llama31_8b(), "partial_rotary_factor", 0.5, "partial_rotary_factor",
       "only 1.0");
  with("window", mistral_7b(), "sliding_window", 0, "sliding_window", "positive");
  with("huge", llama31_8b(), "vocab_size", json(18446744073709551615ULL), "vocab_size",
       "out of range");
  return out;
}

TEST(HfConfig, RejectionsNameFileAndKey) {
  for (const auto& r : rejections()) {
    SCOPED_TRACE(r.name);
    EXPECT_CONFIG_ERROR((void)parse(r.config), "cfg/config.json", "key '" + r.key + "'", r.reason);
  }
  EXPECT_CONFIG_ERROR((void)parse_hf_config("[1]", "x.json"), "x.json", "not a JSON object");
  EXPECT_CONFIG_ERROR((void)parse_hf_config("{\"a\":", "x.json"), "x.json", "not valid JSON");
  EXPECT_CONFIG_ERROR(
      (void)parse_hf_config("{\"model_type\":\"llama\",\"model_type\":\"qwen2\"}", "x.json"),
      "repeats the key");
  EXPECT_CONFIG_ERROR((void)load_hf_config("/nonexistent/dir/config.json"), "cannot open");
}

TEST(HfConfig, WriteParseRoundTrip) {
  for (const json& j : {qwen2_7b(), qwen3_06b(), llama31_8b(), mistral_7b()}) {
    const auto c = parse(j);
    const auto text = hf_config_to_json(c);
    const auto back = parse_hf_config(text, "written");
    EXPECT_EQ(hf_config_to_json(back), text);
    EXPECT_EQ(back.head_dim, c.head_dim);
    EXPECT_EQ(back.num_key_value_heads, c.num_key_value_heads);
    EXPECT_EQ(back.rope.type, c.rope.type);
    EXPECT_EQ(back.rope.theta, c.rope.theta);
    EXPECT_EQ(back.eos_token_ids, c.eos_token_ids);
    EXPECT_EQ(back.sliding_window, c.sliding_window);
    EXPECT_EQ(back.qkv_bias, c.qkv_bias);
    EXPECT_EQ(back.extra_json, c.extra_json);
  }
  TempDir tmp;
  auto c = parse(llama31_8b());
  save_hf_config(c, tmp / "config.json");
  EXPECT_EQ(load_hf_config(tmp.path()).rope.factor, 8.0);
}

// Loads each written config with transformers.AutoConfig and compares the fields.
TEST(HfConfig, TransformersLoadsWrittenConfigs) {
  SELLER_PYTHON_OR_SKIP(python, "transformers");
  std::vector<json> configs = {qwen2_7b(), qwen3_06b(), llama31_8b(), mistral_7b()};
  if (auto stories = testing::shared_path("models/stories260K-hf/config.json")) {
    configs.push_back(json::parse(testing::read_file(*stories)));
  }
  auto yarn = qwen3_06b();
  yarn["rope_scaling"] = {
      {"rope_type", "yarn"}, {"factor", 4.0}, {"original_max_position_embeddings", 32768}};
  configs.push_back(yarn);
  auto windowed = qwen2_7b();
  windowed["use_sliding_window"] = true;
  windowed["max_window_layers"] = 20;
  configs.push_back(windowed);
  TempDir tmp;
  std::string dirs;
  std::vector<HfConfig> parsed;
  for (size_t i = 0; i < configs.size(); ++i) {
    parsed.push_back(parse(configs[i]));
    const auto dir = tmp / std::to_string(i);
    std::filesystem::create_directories(dir);
    save_hf_config(parsed.back(), dir / "config.json");
    dirs += " " + test::quote(dir);
  }
  const json all = test::run_oracle(python, "hfconfig" + dirs);  // one Python start for all
  ASSERT_TRUE(all.is_array());
  ASSERT_EQ(all.size(), parsed.size());
  for (size_t i = 0; i < parsed.size(); ++i) {
    const HfConfig& c = parsed[i];
    const json& t = all[i];
    SCOPED_TRACE(std::to_string(i) + ": " + std::string(hf_model_type_name(c.model_type)));
    EXPECT_EQ(t["model_type"], hf_model_type_name(c.model_type));
    EXPECT_EQ(t["vocab_size"], c.vocab_size);
    EXPECT_EQ(t["hidden_size"], c.hidden_size);
    EXPECT_EQ(t["intermediate_size"], c.intermediate_size);
    EXPECT_EQ(t["num_hidden_layers"], c.num_hidden_layers);
    EXPECT_EQ(t["num_attention_heads"], c.num_attention_heads);
    EXPECT_EQ(t["num_key_value_heads"], c.num_key_value_heads);
    EXPECT_EQ(t["head_dim"], c.head_dim);
    EXPECT_EQ(t["rms_norm_eps"].get<double>(), c.rms_norm_eps);
    EXPECT_EQ(t["max_position_embeddings"], c.max_position_embeddings);
    EXPECT_EQ(t["tie_word_embeddings"], c.tie_word_embeddings);
    const json& rope = t["rope_parameters"];
    EXPECT_EQ(rope["rope_type"], rope_type_name(c.rope.type));
    EXPECT_EQ(rope["rope_theta"].get<double>(), c.rope.theta);
    if (c.rope.type != RopeType::kDefault) {
      EXPECT_EQ(rope["factor"].get<double>(), c.rope.factor);
    }
    if (c.rope.original_max_position_embeddings) {
      EXPECT_EQ(rope["original_max_position_embeddings"], *c.rope.original_max_position_embeddings);
    }
    if (c.sliding_window) {
      EXPECT_EQ(t["sliding_window"], *c.sliding_window);
    } else {
      EXPECT_TRUE(t["sliding_window"].is_null());
    }
    if (c.eos_is_list) {
      EXPECT_EQ(t["eos_token_id"], c.eos_token_ids);
    } else if (!c.eos_token_ids.empty()) {
      EXPECT_EQ(t["eos_token_id"], c.eos_token_ids[0]);
    }
    EXPECT_EQ(t["dtype"], c.dtype);
    if (c.model_type == HfModelType::kLlama || c.model_type == HfModelType::kQwen3) {
      EXPECT_EQ(t["attention_bias"], c.qkv_bias);
    }
  }
}

}  // namespace
}  // namespace seller::io
