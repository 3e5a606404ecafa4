// BertModel forward and loading. Nested plain torch::nn::Module containers give the parameters
// transformers' dotted names without any renaming table (attention.self.query, output.dense...).
// Attention runs through scaled_dot_product_attention with a boolean key mask; GELU is the erf
// form ("gelu" in config.json), the only activation accepted.
#include "trainer/model/text_encoder/bert.h"

#include <fstream>
#include <set>
#include <sstream>

#include "trainer/core/error.h"
#include "trainer/io/json_strict.h"
#include "trainer/io/safetensors_reader.h"
#include "trainer/model/llm/hf_import.h"

namespace seller::model {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

std::shared_ptr<torch::nn::Module> container(torch::nn::Module& parent, const std::string& name) {
  return parent.register_module(name, std::make_shared<torch::nn::Module>());
}

int64_t int_field(const json& j, const char* key, int64_t fallback, const fs::path& file,
                  bool required) {
  if (!j.contains(key)) {
    if (required) throw DataError(detail::concat(file.string(), ": missing key '", key, "'"));
    return fallback;
  }
  if (!j[key].is_number_integer() || j[key].get<int64_t>() < 0)
    throw DataError(detail::concat(file.string(), ": key '", key,
                                   "' must be a non-negative integer, got ", j[key].dump()));
  return j[key].get<int64_t>();
}

}  // namespace

json read_json_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DataError(detail::concat("cannot open ", path.string()));
  std::ostringstream ss;
  ss << in.rdbuf();
  std::string error;
  auto parsed = io::parse_json_strict(ss.str(), &error);
  if (!parsed) throw DataError(detail::concat(path.string(), ": invalid JSON: ", error));
  return std::move(*parsed);
}

BertConfig BertConfig::from_json_file(const fs::path& path) {
  const json j = read_json_file(path);
  BertConfig c;
  const std::string type = j.value("model_type", "");
  if (type != "bert")
    throw DataError(
        detail::concat(path.string(), ": model_type must be \"bert\", got \"", type, "\""));
  c.vocab_size = int_field(j, "vocab_size", c.vocab_size, path, true);
  c.hidden_size = int_field(j, "hidden_size", c.hidden_size, path, true);
  c.num_hidden_layers = int_field(j, "num_hidden_layers", c.num_hidden_layers, path, true);
  c.num_attention_heads = int_field(j, "num_attention_heads", c.num_attention_heads, path, true);
  c.intermediate_size = int_field(j, "intermediate_size", c.intermediate_size, path, true);
  c.max_position_embeddings =
      int_field(j, "max_position_embeddings", c.max_position_embeddings, path, false);
  c.type_vocab_size = int_field(j, "type_vocab_size", c.type_vocab_size, path, false);
  c.pad_token_id = int_field(j, "pad_token_id", c.pad_token_id, path, false);
  if (j.contains("layer_norm_eps")) {
    if (!j["layer_norm_eps"].is_number() || j["layer_norm_eps"].get<double>() <= 0)
      throw DataError(detail::concat(path.string(), ": key 'layer_norm_eps' must be a positive ",
                                     "number, got ", j["layer_norm_eps"].dump()));
    c.layer_norm_eps = j["layer_norm_eps"].get<double>();
  }
  const std::string act = j.value("hidden_act", "gelu");
  if (act != "gelu")
    throw DataError(detail::concat(path.string(), ": key 'hidden_act' = \"", act,
                                   "\" is not supported (only \"gelu\")"));
  const std::string pos = j.value("position_embedding_type", "absolute");
  if (pos != "absolute")
    throw DataError(detail::concat(path.string(), ": key 'position_embedding_type' = \"", pos,
                                   "\" is not supported (only \"absolute\")"));
  if (c.hidden_size == 0 || c.num_attention_heads == 0 ||
      c.hidden_size % c.num_attention_heads != 0)
    throw DataError(detail::concat(path.string(), ": hidden_size ", c.hidden_size,
                                   " is not a multiple of num_attention_heads ",
                                   c.num_attention_heads));
  return c;
}

BertEmbeddingsImpl::BertEmbeddingsImpl(const BertConfig& c) {
  word_embeddings =
      register_module("word_embeddings", torch::nn::Embedding(c.vocab_size, c.hidden_size));
  position_embeddings = register_module(
      "position_embeddings", torch::nn::Embedding(c.max_position_embeddings, c.hidden_size));
  token_type_embeddings = register_module("token_type_embeddings",
                                          torch::nn::Embedding(c.type_vocab_size, c.hidden_size));
  LayerNorm = register_module(
      "LayerNorm",
      torch::nn::LayerNorm(torch::nn::LayerNormOptions({c.hidden_size}).eps(c.layer_norm_eps)));
}

torch::Tensor BertEmbeddingsImpl::forward(const torch::Tensor& input_ids,
                                          const torch::Tensor& token_type_ids) {
  const int64_t t = input_ids.size(1);
  const int64_t max_t = position_embeddings->weight.size(0);
  SELLER_THROW_IF_NOT(t <= max_t, DataError, "sequence of ", t,
                      " tokens exceeds max_position_embeddings ", max_t);
  auto positions = torch::arange(t, input_ids.options().dtype(torch::kLong)).unsqueeze(0);
  auto x = word_embeddings(input_ids) + position_embeddings(positions) +
           token_type_embeddings(token_type_ids);
  return LayerNorm(x);
}

BertLayerImpl::BertLayerImpl(const BertConfig& c) : heads_(c.num_attention_heads) {
  const int64_t h = c.hidden_size;
  const auto norm = [&] {
    return torch::nn::LayerNorm(torch::nn::LayerNormOptions({h}).eps(c.layer_norm_eps));
  };
  auto attention = container(*this, "attention");
  auto self = container(*attention, "self");
  query_ = self->register_module("query", torch::nn::Linear(h, h));
  key_ = self->register_module("key", torch::nn::Linear(h, h));
  value_ = self->register_module("value", torch::nn::Linear(h, h));
  auto attn_output = container(*attention, "output");
  attn_out_ = attn_output->register_module("dense", torch::nn::Linear(h, h));
  attn_norm_ = attn_output->register_module("LayerNorm", norm());
  intermediate_ = container(*this, "intermediate")
                      ->register_module("dense", torch::nn::Linear(h, c.intermediate_size));
  auto output = container(*this, "output");
  out_ = output->register_module("dense", torch::nn::Linear(c.intermediate_size, h));
  out_norm_ = output->register_module("LayerNorm", norm());
}

torch::Tensor BertLayerImpl::forward(const torch::Tensor& x, const torch::Tensor& key_mask) {
  const int64_t b = x.size(0), t = x.size(1), h = x.size(2), d = h / heads_;
  const auto split = [&](const torch::Tensor& y) {
    return y.view({b, t, heads_, d}).transpose(1, 2);
  };
  auto ctx = at::scaled_dot_product_attention(split(query_(x)), split(key_(x)), split(value_(x)),
                                              key_mask);
  ctx = ctx.transpose(1, 2).reshape({b, t, h});
  auto y = attn_norm_(attn_out_(ctx) + x);
  auto f = out_(torch::gelu(intermediate_(y)));  // erf GELU (approximate = "none")
  return out_norm_(f + y);
}

BertModelImpl::BertModelImpl(BertConfig config, bool with_pooler) : config_(config) {
  embeddings = register_module("embeddings", BertEmbeddings(config_));
  layers = container(*this, "encoder")->register_module("layer", torch::nn::ModuleList());
  for (int64_t i = 0; i < config_.num_hidden_layers; ++i) layers->push_back(BertLayer(config_));
  if (with_pooler)
    pooler =
        container(*this, "pooler")
            ->register_module("dense", torch::nn::Linear(config_.hidden_size, config_.hidden_size));
}

torch::Tensor BertModelImpl::forward(const torch::Tensor& input_ids,
                                     const torch::Tensor& attention_mask,
                                     const torch::Tensor& token_type_ids) {
  auto types = token_type_ids.defined() ? token_type_ids : torch::zeros_like(input_ids);
  auto x = embeddings(input_ids, types);
  const auto key_mask = attention_mask.to(torch::kBool).unsqueeze(1).unsqueeze(1);
  for (const auto& layer : *layers) x = layer->as<BertLayer>()->forward(x, key_mask);
  return x;
}

void BertModelImpl::load_hf_state_dict(const std::map<std::string, torch::Tensor>& tensors,
                                       const std::string& source) {
  static const std::set<std::string> kIgnored = {"embeddings.position_ids"};
  std::vector<std::string> problems;
  torch::NoGradGuard no_grad;
  const auto params = named_parameters(/*recurse=*/true);
  for (const auto& p : params) {
    const auto it = tensors.find(p.key());
    if (it == tensors.end()) {
      problems.push_back("missing tensor '" + p.key() + "'");
      continue;
    }
    if (it->second.sizes() != p.value().sizes()) {
      std::ostringstream os;
      os << "tensor '" << p.key() << "' has shape " << it->second.sizes() << ", expected "
         << p.value().sizes();
      problems.push_back(os.str());
      continue;
    }
    p.value().copy_(it->second.to(p.value().dtype()));
  }
  for (const auto& [name, t] : tensors)
    if (!params.contains(name) && !kIgnored.contains(name))
      problems.push_back("unexpected tensor '" + name + "'");
  if (!problems.empty()) {
    std::string msg = source + ": weights do not match BertModel:";
    for (size_t i = 0; i < problems.size() && i < 20; ++i) msg += "\n  " + problems[i];
    if (problems.size() > 20) msg += "\n  ... (" + std::to_string(problems.size()) + " in all)";
    throw FormatError(msg);
  }
}

BertModel load_bert_model(const fs::path& dir, torch::Device device) {
  const BertConfig config = BertConfig::from_json_file(dir / "config.json");
  const auto weights = io::SafetensorsFile::open(dir / "model.safetensors");
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& name : weights.names()) tensors[name] = tensor_from_view(weights.tensor(name));
  BertModel model(config, /*with_pooler=*/weights.contains("pooler.dense.weight"));
  model->load_hf_state_dict(tensors, (dir / "model.safetensors").string());
  model->to(device);
  model->eval();
  return model;
}

}  // namespace seller::model
