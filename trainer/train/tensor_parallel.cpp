// Tensor parallelism of the SELLER model's LLM inside seller train (tensor_parallel.h).
#include "trainer/train/tensor_parallel.h"

#include "dist/ddp/grad_clip.h"
#include "trainer/core/error.h"

namespace seller::train {
namespace {

const std::string kPrefix = "llm.";

}  // namespace

LlmTensorParallel::LlmTensorParallel(model::SellerModel& model, const core::Config& cfg,
                                     const TrainDist& dist, torch::Device device,
                                     std::ostream* progress)
    : model_(model), dist_(dist), tp_(cfg.train.tensor_parallel) {
  if (tp_ == 1) return;
  SELLER_THROW_IF_NOT(dist.size() % tp_ == 0, ConfigError, "train.tensor_parallel = ", tp_,
                      " does not divide the ", dist.size(),
                      " ranks (start a multiple of it with mpirun/srun/seller launch)");
  // llm_mode = lora with P > 1 is refused by the config's validation (trainer/core/config.cpp).
  auto& decoder = model->llm;
  const auto& dc = decoder->config();
  // The TpDecoder's own check names its argument ("tp=4 does not divide num_kv_heads=2"): say
  // which key set it.
  try {
    groups_ = dist::make_groups(
        dist.world(),
        dist::ParallelDims{static_cast<int>(dist.size() / tp_), static_cast<int>(tp_), 1});
    tp_decoder_ = dist::TpDecoder(dc, groups_.tp);
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
  tp_decoder_->load_hf_state_dict_sliced(full, groups_.coord.t, static_cast<int>(tp_));
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
              << dist.size() / tp_ << " data shard(s)\n";
}

int64_t LlmTensorParallel::data_shards() const { return dist_.size() / tp_; }

int64_t LlmTensorParallel::data_shard() const { return dist_.rank() / tp_; }

bool LlmTensorParallel::is_sliced(const std::string& name) const {
  const auto it = slices_.find(name);
  return it != slices_.end() && it->second.dim >= 0;
}

std::unique_ptr<dist::DistributedDataParallel> LlmTensorParallel::make_ddp(
    const dist::DistributedDataParallel::NamedParams& named) const {
  if (!dist_.enabled()) return nullptr;
  if (!active()) return std::make_unique<dist::DistributedDataParallel>(named, dist_.world());
  // A slice's replicas are the ranks with the same tensor rank; so are a replicated tensor's
  // (its copies inside a tp group already agree). Each loss is its shard's mean: scale 1 / D.
  const double scale = 1.0 / static_cast<double>(data_shards());
  return std::make_unique<dist::DistributedDataParallel>(
      named, std::vector<dist::GradGroup>{{groups_.edp, scale}},
      [](const std::string&) -> size_t { return 0; });
}

void LlmTensorParallel::clip(const dist::DistributedDataParallel::NamedParams& named,
                             double max_norm) const {
  std::vector<dist::NormEntry> entries;
  for (const auto& [n, p] : named) entries.push_back({p, is_sliced(n) ? 1 : tp_});
  dist::clip_grad_norm_distributed(entries, groups_.tp.get(), max_norm);
}

ckpt::Layout LlmTensorParallel::layout() const { return ckpt::Layout{dist_.size() / tp_, tp_, 1}; }

ShardPlan LlmTensorParallel::plan() const {
  ShardPlan plan;
  if (!active()) return plan;
  const int64_t t = groups_.coord.t, tp = tp_;
  const bool writes_slices = groups_.coord.d == 0, writes_rest = dist_.is_main();
  auto slices = slices_;
  plan.shard = [slices, t, tp](const std::string& n) {
    const auto it = slices.find(n);
    if (it == slices.end() || it->second.dim < 0) return TensorShard{};
    const int64_t local = it->second.global / tp;
    return TensorShard{t * local, it->second.global, it->second.dim};
  };
  plan.writes = [slices, writes_slices, writes_rest](const std::string& n) {
    const auto it = slices.find(n);
    return it != slices.end() && it->second.dim >= 0 ? writes_slices : writes_rest;
  };
  return plan;
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
      groups_.tp->all_gather(block, gathered);
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
