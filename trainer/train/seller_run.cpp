// Building, saving and loading SELLER runs (seller_run.h).
#include "trainer/train/seller_run.h"

#include <torch/torch.h>

#include <fstream>

#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"
#include "trainer/model/llm/from_config.h"
#include "trainer/model/llm/lora.h"
#include "trainer/model/state_io.h"
#include "trainer/model/text_encoder/item_embeddings.h"
#include "trainer/model/text_encoder/sentence_encoder.h"
#include "trainer/text/word_tokenizer.h"
#include "trainer/train/seller_batch.h"

namespace seller::train {
namespace {

model::SellerModelOptions model_options(const core::Config& cfg) {
  model::SellerModelOptions o;
  o.sasrec.hidden = cfg.sasrec.hidden;
  o.sasrec.layers = cfg.sasrec.layers;
  o.sasrec.heads = cfg.sasrec.heads;
  o.sasrec.max_len = cfg.sasrec.max_len;
  o.sasrec.dropout = cfg.sasrec.dropout;
  const auto& a = cfg.adapter;
  o.adapter.kind = a.kind;
  o.adapter.num_prompts = a.num_prompts;
  o.adapter.model_dim = a.model_dim;
  o.adapter.expert_hidden = a.expert_hidden;
  o.adapter.dropout = a.dropout;
  o.adapter.moe.num_experts = a.experts;
  o.adapter.moe.top_k = a.top_k;
  o.adapter.moe.gating = a.gating;
  o.adapter.moe.capacity_factor = a.capacity_factor;
  o.adapter.moe.dropless = a.dropless;
  o.adapter.moe.dispatch = a.dispatch;
  o.adapter.moe.aux_loss_weight = a.aux_loss_weight;
  o.adapter.moe.z_loss_weight = a.z_loss_weight;
  o.learned_item_dim = cfg.semantic.encoder == "learned" ? cfg.semantic.dim : 0;
  o.item_negatives = cfg.sasrec.loss == "sampled" ? cfg.sasrec.negatives : 0;
  return o;
}

model::LoraOptions lora_options(const core::LoraConfig& l) {
  model::LoraOptions o;
  o.rank = l.rank;
  o.alpha = l.alpha;
  o.dropout = l.dropout;
  o.targets = l.targets;
  return o;
}

std::unique_ptr<text::Tokenizer> load_hf_tokenizer(const core::Config& cfg) {
  auto tok = text::Tokenizer::load(cfg.llm.hf_dir);
  (void)eos_id_of(*tok);  // explanations must be able to end
  return tok;
}

}  // namespace

model::SellerLossWeights loss_weights(const core::SellerConfig& s) {
  model::SellerLossWeights w;
  w.explanation = s.explanation_loss_weight;
  w.item = s.item_loss_weight;
  w.rating = s.rating_loss_weight;
  w.moe = s.moe_loss_weight;
  return w;
}

torch::Tensor load_item_text(const core::Config& cfg, const data::Dataset& ds,
                             std::string& encoder_name, std::ostream* log) {
  if (cfg.semantic.encoder == "learned") {
    encoder_name = "learned";
    return {};
  }
  auto encoder = model::SentenceEncoder::load(cfg.semantic.encoder_dir, torch::kCPU);
  encoder_name = encoder.name();
  const std::filesystem::path cache = cfg.semantic.cache_dir.empty()
                                          ? ds.path() / "cache"
                                          : std::filesystem::path(cfg.semantic.cache_dir);
  return model::item_text_embeddings(ds, encoder, cache, log);
}

// A scratch decoder's vocabulary: the tokenizer's, rounded up to llm.vocab_multiple (the extra
// rows are never an input or a target; the word tokenizer skips such ids when decoding).
namespace {
int64_t padded_vocab(int64_t tokenizer_vocab, int64_t multiple) {
  return (tokenizer_vocab + multiple - 1) / multiple * multiple;
}
}  // namespace

SellerRun build_seller_run(const core::Config& cfg, const data::Dataset& ds,
                           const data::ExplainSplits& examples, torch::Device device,
                           std::ostream* log) {
  SellerRun run;
  core::LlmConfig llm = cfg.llm;
  if (llm.init == "scratch") {
    // The vocabulary of a scratch LLM: words of the training reviews and of the prompts.
    std::vector<std::string> texts;
    texts.reserve(examples.train.size() * 2);
    for (const auto& e : examples.train) {
      texts.push_back(e.explanation);
      texts.push_back(render_prompt(cfg.seller.prompt_template, ds, e));
    }
    auto words = text::WordTokenizer::build(texts, llm.vocab_size, cfg.seller.word_vocab_min_count);
    llm.vocab_size = padded_vocab(words.vocab_size(), llm.vocab_multiple);
    run.tokenizer = std::make_unique<text::WordTokenizer>(std::move(words));
  } else {
    run.tokenizer = load_hf_tokenizer(cfg);
  }
  auto item_text = load_item_text(cfg, ds, run.semantic_name, log);
  torch::manual_seed(static_cast<uint64_t>(cfg.seed));
  auto decoder =
      model::build_decoder(llm, static_cast<uint64_t>(cfg.seed), torch::kCPU, torch::kFloat32);
  if (cfg.seller.llm_mode == "lora")
    model::apply_lora(decoder, lora_options(cfg.lora), static_cast<uint64_t>(cfg.seed));
  run.model = model::SellerModel(model_options(cfg), decoder, item_text,
                                 static_cast<int64_t>(ds.num_items()));
  model::set_llm_training_mode(run.model->llm, cfg.seller.llm_mode);
  run.model->to(device);
  return run;
}

void save_seller_run(SellerRun& run, const std::string& config_yaml,
                     const std::filesystem::path& run_dir) {
  std::filesystem::create_directories(run_dir);
  if (model::has_lora(run.model->llm)) model::merge_lora(run.model->llm);
  std::map<std::string, torch::Tensor> tensors;
  for (const auto& p : run.model->named_parameters(true)) tensors.emplace(p.key(), p.value());
  model::save_tensors(run_dir / "model.safetensors", tensors,
                      {{"format", "seller-run"}, {"semantic", run.semantic_name}});
  if (auto* words = dynamic_cast<text::WordTokenizer*>(run.tokenizer.get()))
    words->save(run_dir / "vocab.words");
  io::write_file_atomically(run_dir / "config.yaml", config_yaml);
}

SellerRun load_seller_run(const std::filesystem::path& run_dir, core::Config& cfg,
                          const data::Dataset& ds, torch::Device device, std::ostream* log) {
  const auto config_file = run_dir / "config.yaml";
  const auto weights = run_dir / "model.safetensors";
  SELLER_THROW_IF_NOT(std::filesystem::exists(config_file) && std::filesystem::exists(weights),
                      DataError, run_dir.string(),
                      " is not a finished SELLER run (config.yaml and model.safetensors are "
                      "written when seller train ends)");
  cfg = core::load_config<core::Config>({config_file}, {});
  SellerRun run;
  core::LlmConfig llm = cfg.llm;
  if (llm.init == "scratch") {
    auto words = text::WordTokenizer::load(run_dir / "vocab.words");
    llm.vocab_size = padded_vocab(words.vocab_size(), llm.vocab_multiple);
    run.tokenizer = std::make_unique<text::WordTokenizer>(std::move(words));
  } else {
    run.tokenizer = load_hf_tokenizer(cfg);
  }
  auto item_text = load_item_text(cfg, ds, run.semantic_name, log);
  auto decoder =
      model::build_decoder(llm, static_cast<uint64_t>(cfg.seed), torch::kCPU, torch::kFloat32);
  run.model = model::SellerModel(model_options(cfg), decoder, item_text,
                                 static_cast<int64_t>(ds.num_items()));
  // item_text is a buffer rebuilt from the cache, not part of the saved weights.
  model::load_into(*run.model, model::load_tensors(weights), weights.string(), {"item_text"});
  run.model->to(device);
  run.model->eval();
  return run;
}

}  // namespace seller::train
