// A sentence-transformers model run in LibTorch: WordPiece tokenizer -> BertModel -> pooling
// (mean over real tokens, CLS or max, from 1_Pooling/config.json) -> L2 normalisation when
// modules.json lists Normalize. Reads the folder layout sentence-transformers saves (modules.json,
// sentence_bert_config.json, the Transformer module's config.json/model.safetensors/tokenizer).
// Invariants:
//   - a text's embedding does not depend on its batch or position in the input (padding is masked
//     out of attention and pooling; batches are formed from length-sorted texts);
//   - texts are truncated to max_seq_length tokens, [CLS] and [SEP] included, as
//     sentence-transformers truncates;
//   - fingerprint() changes whenever the weights bytes or any pooling/truncation setting does.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

namespace seller::model {

enum class PoolingMode { kMean, kCls, kMax };

class SentenceEncoder {
 public:
  // dir: a sentence-transformers folder (config.json, model.safetensors, vocab.txt or
  // tokenizer.json, modules.json, 1_Pooling/config.json, sentence_bert_config.json). Throws
  // seller::DataError naming the file (FormatError for weights that do not fit the config).
  static SentenceEncoder load(const std::filesystem::path& dir, torch::Device device = torch::kCPU);

  SentenceEncoder(SentenceEncoder&&) noexcept;
  SentenceEncoder& operator=(SentenceEncoder&&) noexcept;
  ~SentenceEncoder();

  // [N, dim] float32 on CPU, pooled over real tokens and L2-normalised when modules.json has
  // Normalize; texts truncated to max_seq_length tokens. Batches sorted by length internally.
  torch::Tensor encode(const std::vector<std::string>& texts, int64_t batch_size = 64);

  int64_t dim() const;
  // e.g. "all-MiniLM-L6-v2": the model card's title, else the folder name; for printing.
  const std::string& name() const;
  // 16 hex digits over the weights file's bytes and the pooling/normalize/truncation settings.
  const std::string& fingerprint() const;

  int64_t max_seq_length() const;
  PoolingMode pooling() const;
  bool normalize() const;
  // How many texts encode() has run through the model since load (for tests of caches).
  int64_t texts_encoded() const;

 private:
  struct Impl;
  explicit SentenceEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace seller::model
