// Checkpoint to Hugging Face folder (checkpoint_export.h).
#include "trainer/train/checkpoint_export.h"

#include <torch/torch.h>

#include "checkpoints/manifest.h"
#include "checkpoints/verify.h"
#include "trainer/core/config_loader.h"
#include "trainer/core/error.h"
#include "trainer/io/atomic_file.h"
#include "trainer/io/hf_config.h"
#include "trainer/model/llm/from_config.h"
#include "trainer/model/llm/hf_import.h"
#include "trainer/model/llm/lora.h"
#include "trainer/model/state_io.h"
#include "trainer/train/train_state.h"

namespace seller::train {
namespace fs = std::filesystem;

ExportResult export_checkpoint_hf(const fs::path& checkpoint, const fs::path& out) {
  const auto report = ckpt::verify_checkpoint(checkpoint);
  SELLER_THROW_IF_NOT(report.ok(), FormatError, "cannot export ", checkpoint.string(), ": ",
                      ckpt::summarize(report));
  SELLER_THROW_IF_NOT(!fs::exists(out), DataError, out.string(),
                      ": already exists (export never overwrites)");
  CheckpointSource src(checkpoint);
  const auto& m = src.manifest();
  core::Config cfg;
  {
    core::ConfigLoader loader(cfg);
    loader.apply_text(m.config_yaml, (checkpoint / ckpt::kManifestName).string());
    loader.validate();
  }
  SELLER_THROW_IF_NOT(cfg.task == "seller", FormatError, checkpoint.string(),
                      ": not a SELLER checkpoint (task = ", cfg.task, ")");
  const std::string prefix = "model/llm.";
  io::HfConfig base;
  model::DecoderConfig dc;
  const bool from_hf = cfg.llm.init == "hf";
  if (from_hf) {
    base = io::load_hf_config(fs::path(cfg.llm.hf_dir) / "config.json");
    dc = model::decoder_config_from_hf(base);
  } else {
    core::LlmConfig llm = cfg.llm;
    const auto* embed = m.find(prefix + "embed_tokens.weight");
    SELLER_THROW_IF_NOT(embed != nullptr, FormatError, (checkpoint / ckpt::kManifestName).string(),
                        ": has no ", prefix, "embed_tokens.weight");
    llm.vocab_size = embed->shape[0];  // the word vocabulary's size, fixed when training began
    dc = model::decoder_config_from(llm);
  }
  torch::NoGradGuard no_grad;
  model::Decoder decoder(dc);
  if (cfg.seller.llm_mode == "lora") {
    model::LoraOptions o;
    o.rank = cfg.lora.rank;
    o.alpha = cfg.lora.alpha;
    o.dropout = cfg.lora.dropout;
    o.targets = cfg.lora.targets;
    model::apply_lora(decoder, o, static_cast<uint64_t>(cfg.seed));
  }
  NamedTensors llm;
  for (const auto& p : decoder->named_parameters(true)) llm.emplace_back(p.key(), p.value());
  src.load_into(prefix, llm);
  if (model::has_lora(decoder)) model::merge_lora(decoder);
  if (!from_hf) base = model::hf_config_from_decoder(decoder->config());

  io::AtomicDir dir(out);
  model::save_hf_decoder(decoder, base, dir.path());
  std::map<std::string, torch::Tensor> adapter;
  for (const auto& t : m.tensors)
    if (t.name.rfind("model/", 0) == 0 && t.name.rfind(prefix, 0) != 0)
      adapter.emplace(t.name.substr(6), src.tensor(t.name));
  model::save_tensors(dir.path() / "seller_adapter.safetensors", adapter,
                      {{"format", "pt"}, {"step", std::to_string(m.step)}});
  io::write_file_atomically(dir.path() / "seller_config.yaml", m.config_yaml);
  ExportResult r;
  r.llm_tensors = static_cast<int64_t>(llm.size());
  r.adapter_tensors = static_cast<int64_t>(adapter.size());
  if (from_hf)
    for (const char* f : {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                          "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json"})
      if (fs::exists(fs::path(cfg.llm.hf_dir) / f)) {
        fs::copy_file(fs::path(cfg.llm.hf_dir) / f, dir.path() / f);
        r.copied.push_back(f);
      }
  dir.commit();
  return r;
}

}  // namespace seller::train
