// BertModel (the encoder of BERT-family sentence encoders such as all-MiniLM-L6-v2) in the
// LibTorch C++ frontend: word + position + token-type embeddings and LayerNorm, then post-norm
// encoder layers (self-attention with a padding mask, GELU(erf) feed-forward), and an optional
// pooler. Invariants:
//   - parameter names are transformers' BertModel names (embeddings.word_embeddings.weight,
//     encoder.layer.0.attention.self.query.weight, ...), so a state dict loads by name;
//   - loading requires the file's tensors to match the parameters one to one (names and shapes);
//     only the embeddings.position_ids buffer (which transformers also regenerates) is ignored;
//   - padded positions never influence real positions (keys are masked); their own outputs are
//     unspecified and must be masked by the caller (sentence pooling does).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>

namespace seller::model {

struct BertConfig {
  int64_t vocab_size = 30522;
  int64_t hidden_size = 768;
  int64_t num_hidden_layers = 12;
  int64_t num_attention_heads = 12;
  int64_t intermediate_size = 3072;
  int64_t max_position_embeddings = 512;
  int64_t type_vocab_size = 2;
  double layer_norm_eps = 1e-12;
  int64_t pad_token_id = 0;

  // Reads a transformers config.json of model_type "bert"; DataError naming the file and key for
  // a missing or mistyped field, an unsupported hidden_act or position_embedding_type.
  static BertConfig from_json_file(const std::filesystem::path& path);
};

// A JSON file parsed strictly (io::parse_json_strict); DataError naming the file otherwise.
nlohmann::json read_json_file(const std::filesystem::path& path);

class BertEmbeddingsImpl : public torch::nn::Module {
 public:
  explicit BertEmbeddingsImpl(const BertConfig& c);
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& token_type_ids);

  torch::nn::Embedding word_embeddings{nullptr}, position_embeddings{nullptr},
      token_type_embeddings{nullptr};
  torch::nn::LayerNorm LayerNorm{nullptr};  // NOLINT: transformers' name
};
TORCH_MODULE(BertEmbeddings);

class BertLayerImpl : public torch::nn::Module {
 public:
  explicit BertLayerImpl(const BertConfig& c);
  // x [B, T, H]; key_mask [B, 1, 1, T] bool, true where the key is a real token.
  torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& key_mask);

 private:
  int64_t heads_;
  torch::nn::Linear query_{nullptr}, key_{nullptr}, value_{nullptr}, attn_out_{nullptr};
  torch::nn::LayerNorm attn_norm_{nullptr};
  torch::nn::Linear intermediate_{nullptr}, out_{nullptr};
  torch::nn::LayerNorm out_norm_{nullptr};
};
TORCH_MODULE(BertLayer);

class BertModelImpl : public torch::nn::Module {
 public:
  BertModelImpl(BertConfig config, bool with_pooler);
  // input_ids [B, T] int64; attention_mask [B, T] (nonzero = real token); token_type_ids [B, T]
  // or undefined (zeros). Returns the last hidden state [B, T, H].
  torch::Tensor forward(const torch::Tensor& input_ids, const torch::Tensor& attention_mask,
                        const torch::Tensor& token_type_ids = {});

  // Copies tensors into the parameters; FormatError naming `source` and every missing,
  // unexpected or mis-shaped tensor.
  void load_hf_state_dict(const std::map<std::string, torch::Tensor>& tensors,
                          const std::string& source);
  const BertConfig& config() const { return config_; }

  BertEmbeddings embeddings{nullptr};
  torch::nn::ModuleList layers{nullptr};
  torch::nn::Linear pooler{nullptr};  // pooler.dense; null without a pooler

 private:
  BertConfig config_;
};
TORCH_MODULE(BertModel);

// config.json + model.safetensors of `dir`, in float32 on `device`, in eval mode. The pooler is
// built when the file has one.
BertModel load_bert_model(const std::filesystem::path& dir, torch::Device device = torch::kCPU);

}  // namespace seller::model
