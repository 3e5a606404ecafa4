// LoRA adapters on the decoder's projections (see lora.h). The adapters live in the
// `<projection>_lora` holders of AttentionImpl and MlpImpl; this file creates, trains-selects,
// merges and names them. Initialisation follows peft's reset_lora_parameters: A ~ kaiming_uniform
// with a = sqrt(5), i.e. U(-1/sqrt(in), 1/sqrt(in)), and B = 0.
#include "trainer/model/llm/lora.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <set>

#include "trainer/core/error.h"
#include "trainer/generate/static_decode.h"
#include "trainer/model/llm/decoder.h"

namespace seller::model {
namespace {

const std::string kPeftPrefix = "base_model.model.model.";

// One projection that can carry an adapter: the module owning it, the base layer, its holder.
struct Slot {
  torch::nn::Module* parent;
  torch::nn::Linear* base;
  LoraDelta* lora;
  std::string name;
};

std::vector<Slot> slots(Decoder& decoder) {
  std::vector<Slot> out;
  for (const auto& m : *decoder->layers) {
    auto* layer = m->as<DecoderLayer>();
    auto& a = *layer->self_attn;
    auto& p = *layer->mlp;
    out.push_back({&a, &a.q_proj, &a.q_proj_lora, "q_proj"});
    out.push_back({&a, &a.k_proj, &a.k_proj_lora, "k_proj"});
    out.push_back({&a, &a.v_proj, &a.v_proj_lora, "v_proj"});
    out.push_back({&a, &a.o_proj, &a.o_proj_lora, "o_proj"});
    out.push_back({&p, &p.gate_proj, &p.gate_proj_lora, "gate_proj"});
    out.push_back({&p, &p.up_proj, &p.up_proj_lora, "up_proj"});
    out.push_back({&p, &p.down_proj, &p.down_proj_lora, "down_proj"});
  }
  return out;
}

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

std::string join(const std::vector<std::string>& v) {
  std::string s;
  for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + v[i];
  if (v.size() > 8) s += ", ... (" + std::to_string(v.size()) + " in all)";
  return s;
}

}  // namespace

const std::vector<std::string>& lora_projection_names() {
  static const std::vector<std::string> names = {"q_proj",    "k_proj",  "v_proj",   "o_proj",
                                                 "gate_proj", "up_proj", "down_proj"};
  return names;
}

void LoraOptions::validate() const {
  SELLER_THROW_IF_NOT(rank >= 1, ConfigError, "lora.rank: must be >= 1, got ", rank);
  SELLER_THROW_IF_NOT(alpha > 0 && std::isfinite(alpha), ConfigError,
                      "lora.alpha: must be > 0, got ", alpha);
  SELLER_THROW_IF_NOT(dropout >= 0.0 && dropout < 1.0, ConfigError,
                      "lora.dropout: must be in [0, 1), got ", dropout);
  SELLER_THROW_IF_NOT(!targets.empty(), ConfigError,
                      "lora.targets: empty; name at least one of q_proj k_proj v_proj o_proj "
                      "gate_proj up_proj down_proj");
  const auto& known = lora_projection_names();
  std::set<std::string> seen;
  for (const auto& t : targets) {
    SELLER_THROW_IF_NOT(std::find(known.begin(), known.end(), t) != known.end(), ConfigError,
                        "lora.targets: unknown projection \"", t,
                        "\" (expected q_proj k_proj v_proj o_proj gate_proj up_proj down_proj)");
    SELLER_THROW_IF_NOT(seen.insert(t).second, ConfigError, "lora.targets: projection \"", t,
                        "\" listed twice");
  }
}

LoraDeltaImpl::LoraDeltaImpl(int64_t in_features, int64_t out_features, int64_t rank, double scale,
                             double dropout, torch::Device device, torch::ScalarType base_dtype)
    : scale_(scale), dropout_(dropout) {
  // Half-precision bases train their adapters in float32 (peft autocast_adapter_dtype): the
  // updates of a rank-8 matrix are too small for bf16's 8-bit mantissa.
  const bool half = base_dtype == torch::kBFloat16 || base_dtype == torch::kFloat16;
  auto opts = torch::TensorOptions().device(device).dtype(half ? torch::kFloat32 : base_dtype);
  lora_A = register_parameter("lora_A", torch::zeros({rank, in_features}, opts));
  lora_B = register_parameter("lora_B", torch::zeros({out_features, rank}, opts));
}

torch::Tensor LoraDeltaImpl::forward(const torch::Tensor& x) {
  auto h = x.scalar_type() == lora_A.scalar_type() ? x : x.to(lora_A.scalar_type());
  // Dropout regularises training only; under NoGradGuard (generation, evaluation) it is off even
  // if the caller left the module in train().
  if (dropout_ > 0.0 && is_training() && torch::GradMode::is_enabled())
    h = torch::dropout(h, dropout_, /*train=*/true);
  namespace F = torch::nn::functional;
  auto y = F::linear(F::linear(h, lora_A), lora_B) * scale_;
  return y.scalar_type() == x.scalar_type() ? y : y.to(x.scalar_type());
}

torch::Tensor LoraDeltaImpl::delta_weight() const {
  torch::NoGradGuard no_grad;
  return torch::matmul(lora_B.to(torch::kFloat32), lora_A.to(torch::kFloat32)) * scale_;
}

void apply_lora(Decoder& decoder, const LoraOptions& options, uint64_t seed) {
  // Captured decode graphs are keyed by the decoder's address and replay its old module
  // structure: drop them whenever the structure changes.
  generate::release_static_sessions();
  options.validate();
  SELLER_THROW_IF_NOT(!has_lora(decoder), Error,
                      "apply_lora: the decoder already has LoRA adapters (merge_lora first)");
  const std::set<std::string> wanted(options.targets.begin(), options.targets.end());
  auto gen = at::make_generator<at::CPUGeneratorImpl>(seed);
  torch::NoGradGuard no_grad;
  for (auto& s : slots(decoder)) {
    if (!wanted.count(s.name)) continue;
    const auto& w = (*s.base)->weight;
    const int64_t out = w.size(0), in = w.size(1);
    LoraDelta delta(in, out, options.rank, options.scale(), options.dropout, w.device(),
                    w.scalar_type());
    const double bound = 1.0 / std::sqrt(static_cast<double>(in));
    auto a = torch::empty({options.rank, in}, torch::kFloat32);
    a.uniform_(-bound, bound, gen);
    delta->lora_A.copy_(a);
    if (!s.parent->is_training()) delta->eval();
    s.parent->register_module(s.name + "_lora", delta);
    *s.lora = delta;
  }
}

int64_t set_llm_training_mode(Decoder& decoder, const std::string& mode) {
  SELLER_THROW_IF_NOT(mode == "full" || mode == "frozen" || mode == "lora", ConfigError,
                      "seller.llm_mode: unknown mode \"", mode,
                      "\" (expected full, frozen or lora)");
  SELLER_THROW_IF_NOT(mode != "lora" || has_lora(decoder), ConfigError,
                      "seller.llm_mode = lora: the decoder has no LoRA adapters (apply_lora first; "
                      "lora.targets chooses the projections)");
  int64_t trainable = 0;
  for (auto& item : decoder->named_parameters(/*recurse=*/true)) {
    auto& p = item.value();
    const bool train = mode == "full" || (mode == "lora" && is_lora_parameter(item.key()));
    p.set_requires_grad(train);
    // A stale gradient of a now-frozen parameter would still be applied by the optimizer.
    if (!train && p.grad().defined()) p.mutable_grad().reset();
    if (train) trainable += p.numel();
  }
  return trainable;
}

void merge_lora(Decoder& decoder) {
  generate::release_static_sessions();  // see apply_lora
  torch::NoGradGuard no_grad;
  for (auto& s : slots(decoder)) {
    if (!*s.lora) continue;
    auto& w = (*s.base)->weight;
    w.copy_((w.to(torch::kFloat32) + (*s.lora)->delta_weight()).to(w.scalar_type()));
    s.parent->unregister_module(s.name + "_lora");
    *s.lora = LoraDelta(nullptr);
  }
}

bool has_lora(const Decoder& decoder) {
  for (const auto& item : decoder->named_parameters(/*recurse=*/true))
    if (is_lora_parameter(item.key())) return true;
  return false;
}

bool is_lora_parameter(const std::string& name) {
  return ends_with(name, "_lora.lora_A") || ends_with(name, "_lora.lora_B");
}

std::map<std::string, torch::Tensor> lora_state_dict(Decoder& decoder) {
  std::map<std::string, torch::Tensor> out;
  for (const auto& item : decoder->named_parameters(/*recurse=*/true))
    if (is_lora_parameter(item.key())) out[item.key()] = item.value().detach();
  return out;
}

void load_lora_state_dict(Decoder& decoder, const std::map<std::string, torch::Tensor>& tensors) {
  auto ours = lora_state_dict(decoder);
  std::set<std::string> loaded;
  std::vector<std::string> unexpected, mismatched, missing;
  torch::NoGradGuard no_grad;
  for (const auto& [raw, value] : tensors) {
    const std::string name = raw.rfind("base_model.", 0) == 0 ? lora_name_from_peft(raw) : raw;
    auto it = ours.find(name);
    if (it == ours.end()) {
      unexpected.push_back(raw);
    } else if (it->second.sizes() != value.sizes()) {
      mismatched.push_back(
          detail::concat(raw, " (file ", value.sizes(), ", model ", it->second.sizes(), ")"));
    } else {
      it->second.copy_(value.to(it->second.device(), it->second.scalar_type()));
      loaded.insert(name);
    }
  }
  for (const auto& [name, t] : ours)
    if (!loaded.count(name)) missing.push_back(name);
  if (missing.empty() && unexpected.empty() && mismatched.empty()) return;
  std::string msg = "LoRA adapter does not match the model:";
  if (!missing.empty()) msg += "\n  missing: " + join(missing);
  if (!unexpected.empty()) msg += "\n  unexpected: " + join(unexpected);
  if (!mismatched.empty()) msg += "\n  shape mismatch: " + join(mismatched);
  throw Error(msg);
}

std::string lora_name_to_peft(const std::string& name) {
  for (const char* ab : {"A", "B"}) {
    const std::string suffix = std::string("_lora.lora_") + ab;
    if (ends_with(name, suffix))
      return kPeftPrefix + name.substr(0, name.size() - suffix.size()) + ".lora_" + ab + ".weight";
  }
  throw Error(detail::concat("not a LoRA parameter name: \"", name, "\""));
}

std::string lora_name_from_peft(const std::string& peft_name) {
  if (peft_name.rfind(kPeftPrefix, 0) == 0) {
    const std::string rest = peft_name.substr(kPeftPrefix.size());
    for (const char* ab : {"A", "B"}) {
      const std::string suffix = std::string(".lora_") + ab + ".weight";
      if (ends_with(rest, suffix))
        return rest.substr(0, rest.size() - suffix.size()) + "_lora.lora_" + ab;
    }
  }
  throw Error(detail::concat("not a peft LoRA tensor name: \"", peft_name, "\""));
}

}  // namespace seller::model
