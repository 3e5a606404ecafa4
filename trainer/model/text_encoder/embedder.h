// The project's text encoder (a sentence-transformers BERT folder such as all-MiniLM-L6-v2) as
// the embedders of eval/: a sentence embedder (eval::TextEmbedder) for the utility metrics
// (identification, recommendation lift) and a token embedder (eval::TokenTextEmbedder) for the
// BERTScore-style embedding score. Invariants:
//   - the embedder's name is the encoder's name (model card title), printed beside every figure;
//   - sentence rows equal SentenceEncoder::encode (the same folder, pooling, normalisation and
//     max_seq_length truncation); token rows are the BertModel's last hidden state at the real
//     tokens with [CLS] and [SEP] removed, one forward pass for both;
//   - a text's rows do not depend on its batch (padding is masked out of attention).
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "eval/utility/embedding_score.h"
#include "eval/utility/text_embedding.h"
#include "trainer/model/text_encoder/sentence_encoder.h"

namespace seller::model {

// A [N, D] float tensor as an eval::FloatMatrix (copied, CPU, float32).
eval::FloatMatrix to_float_matrix(const torch::Tensor& t);

// eval::TextEmbedder over a loaded encoder (shared: the embedder may outlive the caller's scope).
eval::TextEmbedder make_sentence_embedder(std::shared_ptr<SentenceEncoder> encoder,
                                          int64_t batch_size = 64);

// Contextual token embeddings and sentence embeddings from one BertModel pass.
class TokenEncoder {
 public:
  // dir: a sentence-transformers folder (as SentenceEncoder::load). Throws DataError naming the
  // file on a bad folder.
  static std::shared_ptr<TokenEncoder> load(const std::filesystem::path& dir,
                                            torch::Device device = torch::kCPU);
  ~TokenEncoder();

  eval::TextEmbeddings embed(const std::vector<std::string>& texts, int64_t batch_size = 64);
  const std::string& name() const;
  int64_t dim() const;

 private:
  struct Impl;
  explicit TokenEncoder(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

eval::TokenTextEmbedder make_token_embedder(std::shared_ptr<TokenEncoder> encoder,
                                            int64_t batch_size = 64);

}  // namespace seller::model
