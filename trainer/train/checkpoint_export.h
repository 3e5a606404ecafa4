// `seller ckpt export`: a committed SELLER checkpoint to a Hugging Face folder. The LLM (LoRA
// merged into its projections) is written by model::save_hf_decoder (config.json +
// model.safetensors, loadable by transformers' AutoModelForCausalLM); everything else of the
// model (behaviour path, adapter, heads) goes to seller_adapter.safetensors under its module
// names, and the run's resolved config to seller_config.yaml. A Hugging Face LLM's tokenizer
// files are copied from llm.hf_dir when that folder exists; a scratch LLM's word vocabulary is
// not a transformers tokenizer and lives in the run folder (vocab.words).
// The output folder is built under a temporary name and renamed into place.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace seller::train {

struct ExportResult {
  int64_t llm_tensors = 0, adapter_tensors = 0;
  std::vector<std::string> copied;  // tokenizer files copied
};

ExportResult export_checkpoint_hf(const std::filesystem::path& checkpoint,
                                  const std::filesystem::path& out);

}  // namespace seller::train
