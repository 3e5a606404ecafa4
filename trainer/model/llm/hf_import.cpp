// Hugging Face import/export of the decoder (see hf_import.h).
#include "trainer/model/llm/hf_import.h"

#include <torch/torch.h>

#include <map>

#include "trainer/core/error.h"
#include "trainer/io/safetensors_sharded.h"
#include "trainer/io/safetensors_writer.h"

namespace seller::model {
namespace {

torch::ScalarType to_torch(io::DType d, const std::string& name) {
  switch (d) {
    case io::DType::kBool: return torch::kBool;
    case io::DType::kU8: return torch::kUInt8;
    case io::DType::kI8: return torch::kInt8;
    case io::DType::kI16: return torch::kInt16;
    case io::DType::kF16: return torch::kHalf;
    case io::DType::kBF16: return torch::kBFloat16;
    case io::DType::kI32: return torch::kInt32;
    case io::DType::kF32: return torch::kFloat32;
    case io::DType::kF64: return torch::kFloat64;
    case io::DType::kI64: return torch::kInt64;
    default:
      throw FormatError("tensor '" + name + "' has dtype " + std::string(io::dtype_name(d)) +
                        ", which the decoder cannot load");
  }
}

io::DType from_torch(torch::ScalarType t) {
  switch (t) {
    case torch::kFloat32: return io::DType::kF32;
    case torch::kBFloat16: return io::DType::kBF16;
    case torch::kHalf: return io::DType::kF16;
    case torch::kFloat64: return io::DType::kF64;
    default: throw Error("cannot export a parameter of dtype " + std::string(c10::toString(t)));
  }
}

}  // namespace

DecoderConfig decoder_config_from_hf(const io::HfConfig& hf) {
  SELLER_THROW_IF_NOT(hf.hidden_act == "silu", ConfigError, "config.json: hidden_act '",
                      hf.hidden_act, "' is not supported (only silu)");
  SELLER_THROW_IF_NOT(hf.sliding_layers.empty(), ConfigError,
                      "config.json: sliding-window attention layers are not supported");
  DecoderConfig c;
  c.vocab_size = hf.vocab_size;
  c.hidden_size = hf.hidden_size;
  c.intermediate_size = hf.intermediate_size;
  c.num_layers = hf.num_hidden_layers;
  c.num_heads = hf.num_attention_heads;
  c.num_kv_heads = hf.num_key_value_heads;
  c.head_dim = hf.head_dim;
  c.max_positions = hf.max_position_embeddings;
  c.rms_norm_eps = hf.rms_norm_eps;
  c.tie_word_embeddings = hf.tie_word_embeddings;
  c.qkv_bias = hf.qkv_bias;
  c.o_proj_bias = hf.o_proj_bias;
  c.qk_norm = hf.qk_norm;
  c.mlp_bias = hf.mlp_bias;
  c.rope.type = std::string(io::rope_type_name(hf.rope.type));
  c.rope.theta = hf.rope.theta;
  c.rope.factor = hf.rope.factor;
  c.rope.low_freq_factor = hf.rope.low_freq_factor;
  c.rope.high_freq_factor = hf.rope.high_freq_factor;
  c.rope.original_max_positions = hf.rope.original_max_position_embeddings.value_or(0);
  c.rope.beta_fast = hf.rope.beta_fast.value_or(32.0);
  c.rope.beta_slow = hf.rope.beta_slow.value_or(1.0);
  c.rope.attention_factor = hf.rope.attention_factor.value_or(0.0);
  SELLER_THROW_IF_NOT(!hf.rope.mscale && !hf.rope.mscale_all_dim, ConfigError,
                      "config.json: yarn mscale/mscale_all_dim are not supported");
  SELLER_THROW_IF_NOT(hf.rope.truncate.value_or(true), ConfigError,
                      "config.json: yarn truncate=false is not supported");
  c.validate();
  return c;
}

io::HfConfig hf_config_from_decoder(const DecoderConfig& c) {
  io::HfConfig hf;
  hf.model_type = c.qk_norm ? io::HfModelType::kQwen3
                            : (c.qkv_bias && !c.o_proj_bias ? io::HfModelType::kQwen2
                                                            : io::HfModelType::kLlama);
  hf.architectures = {c.qk_norm ? "Qwen3ForCausalLM"
                                : (hf.model_type == io::HfModelType::kQwen2 ? "Qwen2ForCausalLM"
                                                                            : "LlamaForCausalLM")};
  hf.vocab_size = c.vocab_size;
  hf.hidden_size = c.hidden_size;
  hf.intermediate_size = c.intermediate_size;
  hf.num_hidden_layers = c.num_layers;
  hf.num_attention_heads = c.num_heads;
  hf.num_key_value_heads = c.num_kv_heads;
  hf.head_dim = c.head_dim;
  hf.head_dim_explicit = true;
  hf.rms_norm_eps = c.rms_norm_eps;
  hf.max_position_embeddings = c.max_positions;
  hf.tie_word_embeddings = c.tie_word_embeddings;
  hf.qkv_bias = c.qkv_bias;
  hf.o_proj_bias = c.o_proj_bias;
  if (hf.model_type != io::HfModelType::kQwen2) hf.attention_bias = c.qkv_bias;
  hf.qk_norm = c.qk_norm;
  hf.mlp_bias = c.mlp_bias;
  hf.rope.theta = c.rope.theta;
  SELLER_THROW_IF_NOT(c.rope.type == "default", Error,
                      "export of rope type '", c.rope.type, "' is not implemented");
  hf.dtype = "float32";
  return hf;
}

torch::Tensor tensor_from_view(const io::TensorView& view) {
  const auto type = to_torch(view.dtype, view.name);
  std::vector<int64_t> shape(view.shape.begin(), view.shape.end());
  auto opts = torch::TensorOptions().dtype(type);
  if (view.numel() == 0) return torch::empty(shape, opts);
  if (view.aligned()) return torch::from_blob(const_cast<void*>(view.ptr()), shape, opts);
  auto out = torch::empty(shape, opts);
  std::memcpy(out.data_ptr(), view.ptr(), view.nbytes());
  return out;
}

Decoder load_hf_decoder(const std::filesystem::path& dir, torch::Device device,
                        torch::ScalarType dtype) {
  const io::HfConfig hf = io::load_hf_config(dir);
  Decoder decoder(decoder_config_from_hf(hf));
  auto weights = io::ShardedSafetensors::open(dir);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& name : weights.names()) tensors[name] = tensor_from_view(weights.tensor(name));
  decoder->to(device, dtype);
  decoder->load_hf_state_dict(tensors);  // copies while the mapping is alive
  return decoder;
}

void save_hf_decoder(Decoder& decoder, const io::HfConfig& base, const std::filesystem::path& dir,
                     uint64_t max_shard_bytes) {
  io::HfConfig hf = hf_config_from_decoder(decoder->config());
  hf.bos_token_id = base.bos_token_id;
  hf.eos_token_ids = base.eos_token_ids;
  hf.eos_is_list = base.eos_is_list;
  hf.pad_token_id = base.pad_token_id;
  std::vector<torch::Tensor> keep;
  std::vector<io::TensorView> views;
  for (auto& [name, t] : decoder->hf_state_dict()) {
    auto cpu = t.detach().to(torch::kCPU).contiguous();
    keep.push_back(cpu);
    io::TensorView v;
    v.name = name;
    v.dtype = from_torch(cpu.scalar_type());
    v.shape.assign(cpu.sizes().begin(), cpu.sizes().end());
    v.data = {static_cast<const std::byte*>(cpu.data_ptr()), cpu.nbytes()};
    views.push_back(std::move(v));
  }
  hf.dtype = std::string(io::dtype_name(views.front().dtype)) == "BF16" ? "bfloat16" : "float32";
  std::filesystem::create_directories(dir);
  io::write_sharded_safetensors(dir, views, max_shard_bytes, {{"format", "pt"}});
  io::save_hf_config(hf, dir / "config.json");
}

}  // namespace seller::model
