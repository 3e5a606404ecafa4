// Tensor parallelism of the SELLER model's LLM inside seller train (tensor_parallel.h).
#include "trainer/train/tensor_parallel.h"

#include "trainer/core/error.h"

namespace seller::train {
namespace {

const std::string kPrefix = "llm.";

}  // namespace

LlmTensorParallel::LlmTensorParallel(model::SellerModel& model, const core::Config& cfg,
                                     const dist::ProcessGroups* groups, torch::Device device,
                                     std::ostream* progress)
    : model_(model), tp_(cfg.train.tensor_parallel), groups_(groups) {
  if (tp_ == 1) return;
  SELLER_CHECK(groups_ != nullptr && groups_->dims.tp == tp_, "tensor parallel without its groups");
  // llm_mode = lora with P > 1 is refused by the config's validation (trainer/core/config.cpp).
  auto& decoder = model->llm;
  const auto& dc = decoder->config();
  // The TpDecoder's own check names its argument ("tp=4 does not divide num_kv_heads=2"): say
  // which key set it.
  try {
    tp_decoder_ = dist::TpDecoder(dc, groups_->tp);
  } catch (const ConfigError& e) {
    const bool vocab = std::string(e.what()).find("vocab_size") != std::string::npos;
    throw ConfigError(detail::concat(
        "train.tensor_parallel = ", tp_, ": ", e.what(),
        vocab && cfg.llm.init == "scratch"
            ? " (the scratch vocabulary follows the tokenizer: set llm.vocab_multiple to a "
              "multiple of train.tensor_parallel)"
            : ""));
  }
  const auto dtype = decoder->embed_tokens->weight.scalar_type();
  tp_decoder_->to(device, dtype);
  std::map<std::string, torch::Tensor> full;
  std::map<std::string, bool> trains;
  for (const auto& p : decoder->named_parameters()) {
    full[p.key()] = p.value().detach();
    trains[p.key()] = p.value().requires_grad();
    full_shapes_[p.key()] = p.value().sizes().vec();
  }
  tp_decoder_->load_hf_state_dict_sliced(full, groups_->coord.t, static_cast<int>(tp_));
  for (auto& p : tp_decoder_->named_parameters()) {
    p.value().set_requires_grad(trains.at(p.key()));
    Slice s;
    switch (dist::tp_split_of(p.key())) {
      case dist::TpSplit::kRows:
        s = {0, full_shapes_.at(p.key())[0]};
        break;
      case dist::TpSplit::kColumns:
        s = {1, full_shapes_.at(p.key())[1]};
        break;
      case dist::TpSplit::kReplicated:
        break;
    }
    slices_[kPrefix + p.key()] = s;
  }
  tp_decoder_->train(decoder->is_training());
  // This rank keeps only its slices: the full weights are released until unshard().
  {
    torch::NoGradGuard no_grad;
    full.clear();
    for (auto& p : decoder->parameters()) p.set_data(torch::empty({0}, p.options()));
  }
  model::LlmPath path;
  auto tpd = tp_decoder_;
  path.embed = [tpd](const torch::Tensor& ids) mutable { return tpd->embed_tokens(ids); };
  path.hidden_states = [tpd](const model::DecoderInput& in) mutable {
    return tpd->hidden_states(in);
  };
  path.token_loss = [tpd](const torch::Tensor& hidden, const torch::Tensor& labels) mutable {
    return tpd->loss(tpd->logits(hidden).to(torch::kFloat32), labels);
  };
  path.dtype = dtype;
  model->replace_llm(tp_decoder_.ptr(), std::move(path));
  if (progress)
    *progress << "tensor parallel: the LLM over groups of " << tp_ << " ranks ("
              << dc.num_heads / tp_ << " of " << dc.num_heads << " heads each), "
              << groups_->dims.dp * groups_->dims.ep << " data shard(s)\n";
}

bool LlmTensorParallel::is_sliced(const std::string& name) const {
  if (!active()) return false;
  const auto it = slices_.find(name);
  return it != slices_.end() && it->second.dim >= 0;
}

TensorShard LlmTensorParallel::shard_of(const std::string& name) const {
  if (!active()) return TensorShard{};
  const auto it = slices_.find(name);
  if (it == slices_.end() || it->second.dim < 0) return TensorShard{};
  const int64_t local = it->second.global / tp_;
  return TensorShard{groups_->coord.t * local, it->second.global, it->second.dim};
}

void LlmTensorParallel::unshard() {
  if (!active()) return;
  torch::NoGradGuard no_grad;
  auto full = model_->llm->named_parameters();
  for (const auto& p : tp_decoder_->named_parameters()) {
    const auto& s = slices_.at(kPrefix + p.key());
    auto local = p.value().detach();
    torch::Tensor whole;
    if (s.dim < 0) {
      whole = local.clone();
    } else {
      // all_gather concatenates rank blocks along dim 0: gather a column slice transposed.
      auto block = (s.dim == 0 ? local : local.t()).contiguous();
      auto sizes = block.sizes().vec();
      sizes[0] *= tp_;
      auto gathered = torch::empty(sizes, block.options());
      groups_->tp->all_gather(block, gathered);
      whole = s.dim == 0 ? gathered : gathered.t().contiguous();
    }
    SELLER_CHECK(whole.sizes().vec() == full_shapes_.at(p.key()), "unshard of llm.", p.key(),
                 ": gathered ", whole.sizes(), ", expected ",
                 torch::IntArrayRef(full_shapes_.at(p.key())));
    full[p.key()].set_data(whole);
  }
  model_->restore_llm();
  tp_decoder_ = nullptr;
}

}  // namespace seller::train
