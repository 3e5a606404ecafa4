// LoRA (Hu et al. 2021) on the decoder's projections, numerically as Hugging Face peft does it:
// y = W x + b + scale * B (A dropout(x)), scale = alpha / rank, A [rank, in] kaiming-uniform,
// B [out, rank] zero, so a fresh adapter leaves the model's output exactly unchanged.
//
// Each adapted projection `p` of a layer gets a sibling submodule `p_lora` holding the
// parameters `lora_A` and `lora_B`, so named_parameters() shows e.g.
//   layers.3.self_attn.q_proj_lora.lora_A   (peft: base_model.model.model.layers.3.self_attn.
//   layers.3.mlp.down_proj_lora.lora_B       q_proj.lora_A.weight; see lora_name_to_peft)
// A projection without an adapter costs nothing: the call sites only test a null holder.
// hf_state_dict() / load_hf_state_dict() / init_decoder_weights() skip LoRA parameters.
//
// Adapters of a half-precision (bf16/fp16) base are kept in float32 and computed in float32, as
// peft's autocast_adapter_dtype does; the delta is cast back to the input's dtype.
//
// Generation: generate() runs the adapters unmerged (the static/CUDA-graph step goes through the
// same forward). apply_lora() and merge_lora() change which operations a step runs, so both
// drop every captured CUDA-graph session (generate::release_static_sessions()).
// LoRA dropout is only active in training mode with grad enabled, so generation under
// NoGradGuard is deterministic even when the decoder was left in train().
#pragma once

#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace seller::model {

class Decoder;  // decoder.h

// The `lora:` options; error messages name the YAML keys (lora.rank, ...).
struct LoraOptions {
  int64_t rank = 8;
  double alpha = 16.0;   // scale = alpha / rank (as peft without rslora)
  double dropout = 0.0;  // on the LoRA input path only
  std::vector<std::string> targets = {"q_proj", "v_proj"};

  // ConfigError for rank < 1, alpha <= 0, dropout outside [0, 1), an empty, unknown
  // ("lora.targets: unknown projection \"x\" ...") or repeated target.
  void validate() const;
  double scale() const { return alpha / static_cast<double>(rank); }
};

// The projections that may carry an adapter, in module order.
const std::vector<std::string>& lora_projection_names();

// The low-rank delta of one projection: scale * B (A dropout(x)).
class LoraDeltaImpl : public torch::nn::Module {
 public:
  // A, B created on `device`; dtype float32 when `base_dtype` is half precision, else base_dtype.
  LoraDeltaImpl(int64_t in_features, int64_t out_features, int64_t rank, double scale,
                double dropout, torch::Device device, torch::ScalarType base_dtype);
  torch::Tensor forward(const torch::Tensor& x);
  // scale * B @ A as a float32 [out, in] matrix (what merge_lora adds to the base weight).
  torch::Tensor delta_weight() const;
  double scale() const { return scale_; }

  torch::Tensor lora_A, lora_B;

 private:
  double scale_, dropout_;
};
TORCH_MODULE(LoraDelta);

// base(x), plus the adapter's delta when there is one.
inline torch::Tensor lora_linear(torch::nn::Linear& base, LoraDelta& lora, const torch::Tensor& x) {
  auto y = base(x);
  return lora ? y + lora(x) : y;
}

// Adds adapters to options.targets of every layer (validates options first). A is drawn from a
// CPU generator seeded by `seed`, layer by layer in module order, so it does not depend on the
// device. Throws seller::Error when the decoder already has adapters (merge_lora first).
void apply_lora(Decoder& decoder, const LoraOptions& options, uint64_t seed);

// "full": every parameter trains (adapters too, if any); "frozen": none; "lora": only the
// adapters (ConfigError when there are none). Sets requires_grad and returns the number of
// trainable scalars (sum of numel). ConfigError naming seller.llm_mode for another mode.
int64_t set_llm_training_mode(Decoder& decoder, const std::string& mode);

// W += scale * B @ A for every adapter (computed in float32, stored in W's dtype), then removes
// the adapters: has_lora() is false and hf_state_dict() holds the plain weights. No-op without
// adapters. Leaves requires_grad of the base weights as it was.
void merge_lora(Decoder& decoder);

bool has_lora(const Decoder& decoder);

// True for a parameter name of an adapter (…_lora.lora_A / …_lora.lora_B).
bool is_lora_parameter(const std::string& name);

// The adapter parameters (detached, sharing storage) under our names.
std::map<std::string, torch::Tensor> lora_state_dict(Decoder& decoder);
// Copies adapter tensors (our names or peft's) into the adapters; seller::Error listing missing,
// unexpected or mis-shaped tensors.
void load_lora_state_dict(Decoder& decoder, const std::map<std::string, torch::Tensor>& tensors);

// "layers.3.self_attn.q_proj_lora.lora_A" -> "base_model.model.model.layers.3.self_attn.q_proj.
// lora_A.weight" (the keys of peft's adapter_model.safetensors); and back. seller::Error for a
// name that is not an adapter parameter.
std::string lora_name_to_peft(const std::string& name);
std::string lora_name_from_peft(const std::string& peft_name);

}  // namespace seller::model
